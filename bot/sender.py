"""The outbox sender: in order per chat, concurrent across chats, waits out 429s, retries 5xx and network errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.transport import TargetNotReady, deliver
from domain.kernel.media import MediaStore
from storage.db import describe_db_error, is_transient
from storage.outbox import Envelope, OutboxStore

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 300.0
T = TypeVar("T")


# Sending exactly at the limit is not staying under it: network jitter moves arrivals by a few milliseconds,
# and 31 in one second is a 429 (the broadcast bench saw three per 100 groups at 30.0/s).
HEADROOM = 0.9
GROUP_WINDOW_S = 61.0  # counted from our side, a second longer than Telegram's minute for the same reason


class Pace:
    """Telegram's limits, kept before it has to say 429: about 30 messages a second overall, 20 a minute
    per group, each with headroom. A group over its minute waits (its messages are deferred, other chats go on)."""

    def __init__(self, per_second: float = 30.0, group_per_minute: int = 20, paid_per_second: float = 0.0) -> None:
        self.per_second = per_second * HEADROOM
        self.group_per_minute = group_per_minute
        # Paid broadcasts (opt-in) have a rate of their own: up to 1,000 a second, beside the free 30.
        self.paid_per_second = paid_per_second * HEADROOM
        self._sent: dict[int, deque[float]] = {}
        self._next_slot = 0.0
        self._next_paid = 0.0

    def group_delay(self, chat_id: int) -> float:
        """Seconds until a group may get another message (0 for a private chat, or when it may now)."""
        if chat_id > 0:
            return 0.0
        window = self._sent.get(chat_id)
        if not window:
            return 0.0
        now = time.monotonic()
        while window and now - window[0] >= GROUP_WINDOW_S:
            window.popleft()
        if len(window) < self.group_per_minute:
            return 0.0
        return max(0.05, GROUP_WINDOW_S - (now - window[0]))

    @property
    def paid(self) -> bool:
        """Whether broadcasts go as Telegram's paid broadcast."""
        return self.paid_per_second > 0

    async def slot(self, chat_id: int, paid: bool = False) -> None:
        """Wait for the next slot (overall, or of paid broadcasts), and count the message against its group."""
        now = time.monotonic()
        if paid and self.paid:
            wait = self._next_paid - now
            self._next_paid = max(now, self._next_paid) + 1 / self.paid_per_second
        else:
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1 / self.per_second
        if wait > 0:
            await asyncio.sleep(wait)
        if chat_id < 0:
            self._sent.setdefault(chat_id, deque()).append(time.monotonic())


def backoff(attempts: int) -> float:
    """1, 2, 4 … seconds, capped at five minutes: a network outage never drops a message."""
    return float(min(MAX_BACKOFF_S, 2 ** max(0, attempts - 1)))


class OutboxSender:
    """Delivers outbox messages; mark in flight → call Telegram → mark sent, each step committed."""

    def __init__(
        self,
        bot: Bot,
        store: OutboxStore,
        concurrency: int = 8,
        idle_poll_s: float = 2.0,
        seal: Path | None = None,
        pace: Pace | None = None,
        media: MediaStore | None = None,
    ) -> None:
        self.bot = bot
        self.seal = seal
        self.media = media
        self.pace = pace or Pace()
        self.store = store
        self.concurrency = concurrency
        self.idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()
        self.sent = 0
        self.failed = 0
        self.too_many = 0  # 429 answers

    def wake(self) -> None:
        """New messages were committed: look now instead of at the next poll."""
        self._wake.set()

    async def drain(self) -> int:
        """Deliver everything due now (not what waits for a retry); returns how many were handled."""
        total = 0
        while True:
            # A writer holding the database for a moment (SQLite's one lock) delays the sender, never stops it.
            heads = await self._persist(self.store.due_heads, self.concurrency)
            if not heads:
                return total
            ready = []
            for env in heads:
                delay = self.pace.group_delay(env.chat_id)
                if delay > 0:
                    await self._persist(self.store.defer, env.id, delay)
                else:
                    ready.append(env)
            # One transaction claims the whole batch (a claim per message was a third of the sender's commits).
            mine = await self._persist(self.store.claim, [env.id for env in ready])
            await asyncio.gather(*(self._one(env) for env in ready if env.id in mine))
            total += len(heads)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; takes over what a dead sender left in flight once its lease ran out."""
        failures = 0
        while not stop.is_set():
            try:
                recovered = await self.store.recover()
                if recovered:
                    log.warning("re-sending %d message(s) whose sender stopped while they were in flight", recovered)
                await self.drain()
                timeout = self.idle_poll_s
                wake_at = await self.store.next_wake()
                if wake_at is not None:
                    timeout = max(0.05, min(timeout, (wake_at - datetime.now(UTC)).total_seconds()))
                if failures:
                    log.warning("outbox sender: database reachable again, delivering")
                failures = 0
            except Exception as e:
                failures += 1
                timeout = backoff(failures)
                if is_transient(e):
                    log.warning(
                        "outbox sender: database unavailable (%s); messages wait safely, retrying in %.0fs",
                        describe_db_error(e),
                        timeout,
                    )
                else:
                    log.exception("outbox sender loop error; retrying in %.0fs", timeout)
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()

    async def _keep_lease(self, msg_id: int) -> None:
        # A send can take a while (slow network, a large photo); renewing keeps other senders off it.
        period = max(0.05, self.store.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(period)
            try:
                await self.store.renew(msg_id)
            except Exception as e:  # noqa: BLE001 - a failed renewal only shortens the lease; the send goes on
                log.warning("outbox %s: could not renew lease (%s)", msg_id, describe_db_error(e))

    async def _persist(self, step: Callable[..., Awaitable[T]], *args: Any) -> T:
        # Recording the outcome of a send that happened must not be lost to a database hiccup: that would
        # leave the message in flight and send it again once the lease expires.
        failures = 0
        while True:
            try:
                return await step(*args)
            except Exception as e:
                if not is_transient(e):
                    raise
                failures += 1
                delay = min(30.0, backoff(failures))
                log.warning("outbox: database unavailable (%s); retrying in %.0fs", describe_db_error(e), delay)
                await asyncio.sleep(delay)

    async def _one(self, env: Envelope) -> None:
        # Only a broadcast's new messages go as paid broadcast (an edit is not a broadcast).
        paid = self.pace.paid and env.priority == 1 and env.edit_of is None
        await self.pace.slot(env.chat_id, paid)
        renewer = asyncio.create_task(self._keep_lease(env.id))
        try:
            await self._send(env, paid)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _send(self, env: Envelope, paid: bool) -> None:
        attempts = env.attempts + 1
        final = False  # sent, or refused for good
        try:
            message_id = await deliver(self.bot, self.store, env, self.seal, self.media, paid)
        except TelegramRetryAfter as e:
            self.too_many += 1
            log.info("429 for chat %s: waiting %ss", env.chat_id, e.retry_after)
            why = f"429 retry_after={e.retry_after}"
            await self._persist(self.store.retry_later, env.id, float(e.retry_after), why)
        except TelegramMigrateToChat as e:
            await self._persist(self.store.move_chat, env.chat_id, e.migrate_to_chat_id)
            await self._persist(self.store.retry_later, env.id, 0, "chat migrated")
        except TargetNotReady as e:
            if e.permanent:
                self.failed += 1
                await self._persist(self.store.mark_failed, env.id, str(e))
                final = True
            else:
                await self._persist(self.store.retry_later, env.id, backoff(attempts), str(e))
        except TelegramBadRequest as e:
            if "message is not modified" in e.message:
                await self._persist(self.store.mark_sent, env.id, None)
                return
            self.failed += 1
            log.error("outbox %s to chat %s refused: %s", env.id, env.chat_id, e.message)
            await self._persist(self.store.mark_failed, env.id, f"400 {e.message}")
            final = True
        except (TelegramForbiddenError, TelegramNotFound, TelegramUnauthorizedError) as e:
            # Blocked by the user, removed from the group, chat gone: retrying cannot help.
            self.failed += 1
            log.error("outbox %s to chat %s refused: %s", env.id, env.chat_id, e.message)
            await self._persist(self.store.mark_failed, env.id, f"{type(e).__name__}: {e.message}")
            final = True
        except (TimeoutError, TelegramServerError, TelegramNetworkError, TelegramAPIError, OSError) as e:
            delay = backoff(attempts)
            log.warning("outbox %s to chat %s: %s; retry in %.0fs", env.id, env.chat_id, e, delay)
            await self._persist(self.store.retry_later, env.id, delay, f"{type(e).__name__}: {e}")
        else:
            self.sent += 1
            await self._persist(self.store.mark_sent, env.id, message_id)
            final = True
        if env.payload.get("secret") and final:
            await self._persist(self.store.forget_text, env.id)  # sent or refused for good: its text goes
