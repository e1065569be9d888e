"""The outbox sender: in order per chat, concurrent across chats, waits out 429s, retries 5xx and network errors."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

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
from storage.outbox import Envelope, OutboxStore

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 300.0


def backoff(attempts: int) -> float:
    """1, 2, 4 … seconds, capped at five minutes: a network outage never drops a message."""
    return float(min(MAX_BACKOFF_S, 2 ** max(0, attempts - 1)))


class OutboxSender:
    """Delivers outbox messages; mark in flight → call Telegram → mark sent, each step committed."""

    def __init__(self, bot: Bot, store: OutboxStore, concurrency: int = 8, idle_poll_s: float = 2.0) -> None:
        self.bot = bot
        self.store = store
        self.concurrency = concurrency
        self.idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()
        self.sent = 0
        self.failed = 0

    def wake(self) -> None:
        """New messages were committed: look now instead of at the next poll."""
        self._wake.set()

    async def drain(self) -> int:
        """Deliver everything due now (not what waits for a retry); returns how many were handled."""
        total = 0
        while True:
            heads = await self.store.due_heads(self.concurrency)
            if not heads:
                return total
            await asyncio.gather(*(self._one(env) for env in heads))
            total += len(heads)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; resumes what a crashed process left in flight."""
        recovered = await self.store.recover()
        if recovered:
            log.warning("re-sending %d message(s) that were in flight when the last process stopped", recovered)
        while not stop.is_set():
            try:
                await self.drain()
                timeout = self.idle_poll_s
                wake_at = await self.store.next_wake()
                if wake_at is not None:
                    timeout = max(0.05, min(timeout, (wake_at - datetime.now(UTC)).total_seconds()))
            except Exception:
                log.exception("outbox sender loop error")
                timeout = self.idle_poll_s
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()

    async def _one(self, env: Envelope) -> None:
        if not await self.store.mark_inflight(env.id):
            return
        attempts = env.attempts + 1
        try:
            message_id = await deliver(self.bot, self.store, env)
        except TelegramRetryAfter as e:
            log.info("429 for chat %s: waiting %ss", env.chat_id, e.retry_after)
            await self.store.retry_later(env.id, float(e.retry_after), f"429 retry_after={e.retry_after}")
        except TelegramMigrateToChat as e:
            await self.store.move_chat(env.chat_id, e.migrate_to_chat_id)
            await self.store.retry_later(env.id, 0, "chat migrated")
        except TargetNotReady as e:
            if e.permanent:
                self.failed += 1
                await self.store.mark_failed(env.id, str(e))
            else:
                await self.store.retry_later(env.id, backoff(attempts), str(e))
        except TelegramBadRequest as e:
            if "message is not modified" in e.message:
                await self.store.mark_sent(env.id, None)
                return
            self.failed += 1
            log.error("outbox %s to chat %s refused: %s", env.id, env.chat_id, e.message)
            await self.store.mark_failed(env.id, f"400 {e.message}")
        except (TelegramForbiddenError, TelegramNotFound, TelegramUnauthorizedError) as e:
            # Blocked by the user, removed from the group, chat gone: retrying cannot help.
            self.failed += 1
            log.error("outbox %s to chat %s refused: %s", env.id, env.chat_id, e.message)
            await self.store.mark_failed(env.id, f"{type(e).__name__}: {e.message}")
        except (TimeoutError, TelegramServerError, TelegramNetworkError, TelegramAPIError, OSError) as e:
            delay = backoff(attempts)
            log.warning("outbox %s to chat %s: %s; retry in %.0fs", env.id, env.chat_id, e, delay)
            await self.store.retry_later(env.id, delay, f"{type(e).__name__}: {e}")
        else:
            self.sent += 1
            await self.store.mark_sent(env.id, message_id)
