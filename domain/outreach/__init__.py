"""Outreach: the street's fixed days with residents (民情日, 接待日, 三方联席会) and broadcast notices to groups."""
