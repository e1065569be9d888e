"""Which updates must stay in order with each other: those of one chat, and those of one person."""

from __future__ import annotations

from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError


def lane_keys(update: Update) -> tuple[str, ...]:
    """What an update must stay in order with: its chat and its sender (a person's button in a group and their
    next line in private touch the same draft); an update with neither waits for nothing but itself."""
    try:
        event: object = update.event
    except UpdateTypeLookupError:
        return ()  # a kind of update this aiogram does not know yet
    keys: list[str] = []
    chat = getattr(event, "chat", None)
    if chat is None:
        message = getattr(event, "message", None)  # a callback query's message
        chat = getattr(message, "chat", None)
    if chat is not None:
        keys.append(f"c{chat.id}")
    person = getattr(event, "from_user", None) or getattr(event, "user", None)
    if person is not None and (chat is None or chat.id != person.id):
        keys.append(f"u{person.id}")
    return tuple(keys)
