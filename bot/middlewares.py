"""One DB session and one set of domain services per update; duplicates skipped; refusals answered."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.context import ContextFactory
from domain.errors import DomainError
from domain.i18n import normalize_locale, t
from domain.model import OutMessage
from domain.services import Services
from handlers.group import domain_user
from storage.db import describe_db_error, is_transient
from storage.repos import SqlRepos
from storage.updates import claim_update, record_failed_update

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class TransientFailure(Exception):
    """The database failed in a way that passes (lock, lost connection): nothing was committed; retry the update."""


class UnitOfWorkMiddleware(BaseMiddleware):
    """Outer update middleware: the whole update is one transaction, with its outbox messages."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        make_context: ContextFactory,
        clock: Callable[[], datetime],
        group_locale: str,
        on_outbox: Callable[[], None],
    ) -> None:
        self.sessions = sessions
        self.make_context = make_context
        self.clock = clock
        self.group_locale = group_locale
        self.on_outbox = on_outbox
        self.bot_username: str | None = None
        self.duplicates = 0

    def services(self, session: AsyncSession) -> tuple[SqlRepos, Services]:
        """Repositories and domain services on a session, configured like every update's."""
        repos = SqlRepos(session, self.clock)
        return repos, Services(self.make_context(repos, self.bot_username))

    async def _user(self, svc: Services, data: dict[str, Any]) -> Any:
        tg: TgUser | None = data.get("event_from_user")
        if tg is None:
            return None
        chat: Chat | None = data.get("event_chat")
        private = chat.id if chat is not None and chat.type == "private" else None
        return await domain_user(svc, tg, private)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Run the handler inside one transaction; refusals roll back and are answered politely."""
        assert isinstance(event, Update)
        if self.bot_username is None and isinstance(data.get("bot"), Bot):
            try:
                self.bot_username = (await data["bot"].me()).username
            except TelegramAPIError:
                log.warning("getMe failed; group links to the private chat are left out for now")
        async with self.sessions() as session:
            try:
                async with session.begin():
                    if not await claim_update(session, event.update_id, self.clock()):
                        self.duplicates += 1
                        log.info("update %s already processed; skipped", event.update_id)
                        return None
                    repos, svc = self.services(session)
                    data["svc"] = svc
                    data["user"] = await self._user(svc, data)
                    result = await handler(event, data)
                if repos.outbox.added:
                    self.on_outbox()
                return result
            except DomainError as err:
                await self._refuse(session, event, data, err)
            except Exception as exc:
                if is_transient(exc):
                    raise TransientFailure(describe_db_error(exc)) from exc
                log.exception("update %s failed (a bug; see gridbot updates failed)", event.update_id)
                await self._record_bug(event, data, exc)
        return None

    async def _record_bug(self, update: Update, data: dict[str, Any], exc: Exception) -> None:
        # A handler bug must not block the queue: keep the update and the traceback, apologise, move on.
        try:
            async with self.sessions() as session:
                await record_failed_update_tx(session, update, exc, self.clock())
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
        text = t(f"errors.{err.code}", locale, **err.params)
        if text == f"errors.{err.code}":
            text = t("errors.internal", locale)
        try:
            async with session.begin():
                await claim_update(session, update.update_id, self.clock())
                if update.callback_query is None and chat is not None:
                    repos, _ = self.services(session)
                    await repos.outbox.add(OutMessage(chat.id, text))
            self.on_outbox()
        except Exception as e:
            if is_transient(e):
                raise TransientFailure(describe_db_error(e)) from e
            log.exception("could not record refusal of update %s", update.update_id)
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(text, show_alert=True)
            except TelegramAPIError as e:
                log.warning("could not answer callback: %s", e)


async def record_failed_update_tx(session: AsyncSession, update: Update, exc: Exception, now: datetime) -> None:
    """Store a failed update with its traceback in a transaction of its own."""
    payload = update.model_dump(mode="json", exclude_none=True)
    tb = "".join(traceback.format_exception(exc))
    async with session.begin():
        await record_failed_update(session, update.update_id, payload, f"{type(exc).__name__}: {exc}", tb, now)
