"""Residents who decide and judge: homes, building heads, 议事 matters put to a vote."""
