"""Feeding updates to the dispatcher until they are committed: the same path for polling, webhook and tests."""

from __future__ import annotations

import asyncio
import logging
import time

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.middlewares import TransientFailure
from domain.kernel.text import clean_tree

log = logging.getLogger(__name__)


def clean_update(update: Update, bot: Bot) -> Update:
    """The one door for Telegram's text: every string of the update cleaned (`domain.kernel.text.clean`) before
    any handler sees it — messages, captions, names, callback data alike."""
    data, changed = clean_tree(update.model_dump(mode="json", exclude_unset=True, by_alias=True))
    return Update.model_validate(data, context={"bot": bot}) if changed else update


class UpdateFeeder:
    """Handles one update at a time until its transaction commits, retrying while the database is away."""

    def __init__(self, dp: Dispatcher, bot: Bot, max_backoff_s: float = 30.0, first_backoff_s: float = 0.5) -> None:
        self.dp = dp
        self.bot = bot
        self.max_backoff_s = max_backoff_s
        self.first_backoff_s = first_backoff_s
        self.retries = 0

    async def feed(self, update: Update, give_up_after_s: float | None = None) -> bool:
        """True once the update was handled (committed, refused or recorded as failed); False if it gave up.

        A caller that gets False must not confirm the update to Telegram, so that it is delivered again.
        """
        update = clean_update(update, self.bot)
        attempt = 0
        started = time.monotonic()
        while True:
            try:
                await self.dp.feed_update(self.bot, update)
            except TransientFailure as e:
                attempt += 1
                self.retries += 1
                delay = min(self.max_backoff_s, self.first_backoff_s * 2 ** (attempt - 1))
                if give_up_after_s is not None and time.monotonic() - started + delay > give_up_after_s:
                    log.warning(
                        "database unavailable (%s): update %s left unconfirmed for Telegram to redeliver",
                        e,
                        update.update_id,
                    )
                    return False
                log.warning(
                    "database unavailable (%s): update %s waits, attempt %d, retrying in %.1fs",
                    e,
                    update.update_id,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            except Exception:
                # Not a handler (the middleware catches those): the framework itself failed on this update.
                log.exception("update %s could not be dispatched; skipped", update.update_id)
                return True
            if attempt:
                log.warning("database reachable again: update %s handled after %d retries", update.update_id, attempt)
            return True
