"""Who a notice reaches on Telegram: a recipient chat, and what a renderer may ask about the world."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.kernel.people import User
from domain.org.model import Unit
from domain.services import Services

TELEGRAM = "telegram"


@dataclass(frozen=True)
class Recipient:
    """A chat a notice goes to, and in what language."""

    chat_id: int
    locale: str
    unit: Unit | None = None  # the unit addressed (its group, or an ancestor's when `above`)
    above: bool = False
    fallback: bool = False  # said in a group because the person could not be reached privately


def private_chat(user: User) -> int | None:
    """A Telegram user's private chat with the bot, if they opened one (its id is the user's id)."""
    if user.ref.platform != TELEGRAM or not user.reachable:
        return None
    try:
        return int(user.ref.external_id)
    except ValueError:
        return None


class ViewContext(Protocol):
    """What rendering a notice may need besides the notice: the bot's name, the services of the update."""

    @property
    def bot_username(self) -> str | None: ...

    @property
    def svc(self) -> Services: ...
