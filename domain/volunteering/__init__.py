"""Volunteering: registration and teams, activities with seats and a waitlist, hours, residents' service orders."""
