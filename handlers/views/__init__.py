"""Telegram views: how notices and replies look on Telegram (HTML, buttons, keyboards, which chat)."""
