"""Message classification (intent and report category); stands alone, imports nothing of the bot."""
