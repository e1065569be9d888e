"""Domain rules and services of gridbot: plain Python, no chat platform, no SQL."""
