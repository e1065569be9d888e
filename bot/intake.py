"""Feeding updates to the dispatcher until they are committed: the same path for polling, webhook and tests."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.lanes import lane_keys
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


async def _gave_up() -> bool:
    return False


class Lanes:
    """Updates of different chats handled at once, each chat's (and each person's) strictly in arrival order.

    An update waits only for the last earlier update that shares a lane key with it, so a slow update holds up its
    own chat and nobody else's. `confirmed` is the highest update id below which every update was handled: what a
    poller may confirm to Telegram (a crash then loses nothing; what was handled beyond it is skipped as a
    duplicate when Telegram delivers it again).

    An update that gave up (webhook: the database stayed away) shuts its lanes: a later update of the same chat or
    person gives up too, unhandled, until the first one is delivered again and handled (or `shut_s` passes), so
    Telegram's redeliveries keep the chat's order.
    """

    def __init__(self, feeder: UpdateFeeder, limit: int = 64, shut_s: float = 300.0) -> None:
        self.feeder = feeder
        self.shut_s = shut_s
        self._shut: dict[str, tuple[int, float]] = {}  # lane key → (the update that gave up, until when)
        self._tails: dict[str, asyncio.Task[bool]] = {}
        self._running: dict[int, asyncio.Task[bool]] = {}
        self._done: set[int] = set()
        self._pending: deque[int] = deque()  # ids in arrival order not yet confirmed
        self._room = asyncio.Semaphore(limit)
        self.confirmed: int | None = None  # update_id + 1 of the contiguous handled prefix

    def known(self, update_id: int) -> bool:
        """Whether this update is being handled or was handled (Telegram repeats what is not confirmed)."""
        return (
            update_id in self._running
            or update_id in self._done
            or (self.confirmed is not None and update_id < self.confirmed)
        )

    @property
    def busy(self) -> int:
        """Updates accepted and not finished."""
        return len(self._running)

    async def submit(self, update: Update, give_up_after_s: float | None = None) -> asyncio.Task[bool]:
        """Start handling an update behind the earlier updates of its lanes; waits while `limit` are running."""
        keys = lane_keys(update)
        if self._shut_for(update.update_id, keys):
            return asyncio.create_task(_gave_up())
        await self._room.acquire()
        before = [t for k in keys if (t := self._tails.get(k)) is not None]
        task = asyncio.create_task(self._run(update, keys, before, give_up_after_s))
        for key in keys:
            self._tails[key] = task
        self._running[update.update_id] = task
        self._pending.append(update.update_id)
        return task

    async def _run(
        self, update: Update, keys: tuple[str, ...], before: list[asyncio.Task[bool]], give_up_after_s: float | None
    ) -> bool:
        handled = False
        try:
            if before:
                await asyncio.wait(before)
            if any(not t.result() for t in before if not t.cancelled() and t.exception() is None):
                return False  # an earlier update of this lane gave up: this one waits for its redelivery
            handled = await self.feeder.feed(update, give_up_after_s)
            return handled
        finally:
            self._mark(update.update_id, keys, handled)
            self._running.pop(update.update_id, None)
            self._done.add(update.update_id)
            self._room.release()
            self._advance()
            # A lane whose last update this was is empty now (a later update would have replaced it as the tail).
            me = asyncio.current_task()
            for key in keys:
                if self._tails.get(key) is me:
                    del self._tails[key]

    def _shut_for(self, update_id: int, keys: tuple[str, ...]) -> bool:
        now = time.monotonic()
        return any((shut := self._shut.get(k)) is not None and shut[0] != update_id and now < shut[1] for k in keys)

    def _mark(self, update_id: int, keys: tuple[str, ...], handled: bool) -> None:
        for key in keys:
            shut = self._shut.get(key)
            if handled and shut is not None and (shut[0] == update_id or time.monotonic() >= shut[1]):
                del self._shut[key]  # the update that gave up came back and was handled: the lane opens
            elif not handled and shut is None:
                self._shut[key] = (update_id, time.monotonic() + self.shut_s)

    def _advance(self) -> None:
        while self._pending and self._pending[0] in self._done:
            uid = self._pending.popleft()
            self._done.discard(uid)
            self.confirmed = uid + 1

    async def settled(self, timeout: float) -> None:
        """Wait until some accepted update finishes, or `timeout` seconds."""
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)

    async def drain(self) -> None:
        """Wait until every accepted update was handled."""
        while self._running:
            await asyncio.wait(list(self._running.values()))
