"""One DB session and one set of domain services per update; duplicates skipped; refusals answered.

The update's whole effect — state changes and every message they cause, written to the outbox — commits
in one transaction. A button press is answered after the commit. A domain refusal rolls back and is
answered politely; a transient database failure leaves the update unconfirmed (it is retried); any other
exception is a bug: recorded with the update for an operator, answered with an apology, and passed over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.context import ServicesFactory
from bot.lanes import lane_keys
from bot.metrics import Metrics
from domain.kernel.errors import DomainError
from domain.kernel.i18n import normalize_locale
from domain.services import Services
from handlers.context import Tg, domain_user
from handlers.i18n import plain, t
from handlers.views.messages import TgMessage
from handlers.views.notices import TelegramNotices
from storage.db import describe_db_error, is_transient
from storage.unit_of_work import SqlUnitOfWork
from storage.updates import claim_update, lock_lanes, record_failed_update

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class TransientFailure(Exception):
    """The database failed in a way that passes (lock, lost connection): nothing was committed; retry the update."""


class Delivery:
    """The Telegram views' outbox and posts, on one unit of work's repositories."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.outbox = uow.outbox
        self.posts = uow.posts

    async def add(
        self,
        chat_id: int,
        payload: dict[str, Any],
        edit_of: int | None = None,
        not_before: Any = None,
        tag: str | None = None,
        coalesce: bool = False,
        priority: int = 0,
    ) -> int:
        """Queue a message (or an edit)."""
        return await self.outbox.add(chat_id, payload, edit_of, not_before, tag, coalesce, priority)

    async def withdraw(self, tag: str) -> int:
        """Withdraw scheduled messages."""
        return await self.outbox.withdraw(tag)

    async def post_of(self, kind: str, subject_id: int, chat_id: int) -> int | None:
        """The message showing a subject in a chat."""
        return await self.posts.get(kind, subject_id, chat_id)

    async def set_post(self, kind: str, subject_id: int, chat_id: int, outbox_id: int) -> None:
        """From now on this message shows the subject there."""
        await self.posts.set(kind, subject_id, chat_id, outbox_id)

    async def forget_post(self, kind: str, subject_id: int, chat_id: int) -> None:
        """The subject's post there is closed."""
        await self.posts.forget(kind, subject_id, chat_id)


class UnitOfWorkMiddleware(BaseMiddleware):
    """Outer update middleware: the whole update is one transaction, with its outbox messages."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        make_services: ServicesFactory,
        clock: Callable[[], datetime],
        group_locale: str,
        on_outbox: Callable[[], None],
        gate: asyncio.Lock | None = None,
    ) -> None:
        self.sessions = sessions
        # SQLite's one writer, queued in the process (the app shares it with the sender); nothing on PostgreSQL.
        self.gate: contextlib.AbstractAsyncContextManager[Any] = gate or contextlib.nullcontext()
        self.make_services = make_services
        self.clock = clock
        self.group_locale = group_locale
        self.on_outbox = on_outbox
        self.bot_username: str | None = None
        self.console_url: str | None = None
        self.duplicates = 0
        self.metrics: Metrics | None = None

    def unit_of_work(self, session: AsyncSession) -> tuple[SqlUnitOfWork, Services, Tg]:
        """Repositories, domain services and the Telegram side on one session, as every update has them."""
        uow = SqlUnitOfWork(session, self.clock)
        notices = TelegramNotices(Delivery(uow), self.group_locale, self.clock, self.bot_username)
        svc = self.make_services(uow.ports, notices)
        notices.services = svc
        return uow, svc, Tg(notices, self.group_locale, self.console_url)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Run the handler inside one transaction; refusals roll back and are answered politely."""
        assert isinstance(event, Update)
        if self.bot_username is None and isinstance(data.get("bot"), Bot):
            try:
                self.bot_username = (await data["bot"].me()).username
            except TelegramAPIError:
                log.warning("getMe failed; group links to the private chat are left out for now")
        started = time.monotonic()
        outcome, result = await self._handle(handler, event, data)
        if self.metrics is not None:
            self.metrics.handled(outcome, time.monotonic() - started)
        return result

    async def _handle(self, handler: Handler, event: Update, data: dict[str, Any]) -> tuple[str, Any]:
        tg: Tg | None = None
        async with self.gate, self.sessions() as session:
            try:
                async with session.begin():
                    await lock_lanes(session, lane_keys(event))
                    if not await claim_update(session, event.update_id, self.clock()):
                        self.duplicates += 1
                        log.info("update %s already processed; skipped", event.update_id)
                        return "duplicate", None
                    uow, svc, tg = self.unit_of_work(session)
                    data.update(svc=svc, tg=tg, user=await self._user(svc, data))
                    if data["user"] is not None:
                        svc.acting(data["user"].id)
                    result = await handler(event, data)
                if uow.outbox.added:
                    self.on_outbox()
            except DomainError as err:
                await self._refuse(session, event, data, err)
                return "refused", None
            except Exception as exc:
                if is_transient(exc):
                    raise TransientFailure(describe_db_error(exc)) from exc
                log.exception("update %s failed (a bug; see gridbot updates failed)", event.update_id)
                await self._record_bug(event, data, exc)
                return "failed", None
        await self._answer(event, tg.answer_text if tg else None, tg.answer_alert if tg else False)
        return "handled", result

    async def _user(self, svc: Services, data: dict[str, Any]) -> Any:
        tg: TgUser | None = data.get("event_from_user")
        if tg is None:
            return None
        chat: Chat | None = data.get("event_chat")
        return await domain_user(svc, tg, private=chat is not None and chat.type == "private")

    async def _answer(self, update: Update, text: str | None, alert: bool) -> None:
        # Every button press gets exactly one answer (Telegram shows a spinner until it does).
        if update.callback_query is None:
            return
        try:
            await update.callback_query.answer(text, show_alert=alert)
        except TelegramAPIError as e:
            log.warning("could not answer callback: %s", e)

    async def _record_bug(self, update: Update, data: dict[str, Any], exc: Exception) -> None:
        # A handler bug must not block the queue: keep the update and the traceback, apologise, move on.
        try:
            async with self.sessions() as session, session.begin():
                payload = update.model_dump(mode="json", exclude_none=True)
                tb = "".join(traceback.format_exception(exc))
                error = f"{type(exc).__name__}: {exc}"
                await record_failed_update(session, update.update_id, payload, error, tb, self.clock())
        except Exception as e:
            if is_transient(e):
                raise TransientFailure(describe_db_error(e)) from e
            log.exception("could not record failed update %s", update.update_id)
        async with self.sessions() as session:
            await self._refuse(session, update, data, DomainError("internal"))

    async def _refuse(self, session: AsyncSession, update: Update, data: dict[str, Any], err: DomainError) -> None:
        locale = normalize_locale(getattr(data.get("event_from_user"), "language_code", None))
        chat: Chat | None = data.get("event_chat")
        if chat is not None and chat.type != "private":
            locale = self.group_locale
        key = f"errors.{err.code}" if plain(f"errors.{err.code}", locale) != f"errors.{err.code}" else "errors.internal"
        try:
            async with session.begin():
                if not await claim_update(session, update.update_id, self.clock()):
                    # Another process took this very update meanwhile and answers it: one refusal, not two.
                    self.duplicates += 1
                    return
                if update.callback_query is None and chat is not None:
                    _, _, tg = self.unit_of_work(session)
                    await tg.send(TgMessage(chat.id, t(key, locale, **err.params)))
            self.on_outbox()
        except Exception as e:
            if is_transient(e):
                raise TransientFailure(describe_db_error(e)) from e
            log.exception("could not record refusal of update %s", update.update_id)
        await self._answer(update, plain(key, locale, **err.params), True)
