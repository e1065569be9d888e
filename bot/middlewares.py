"""One DB session and one set of domain services per update; duplicates skipped; refusals answered."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.errors import DomainError
from domain.i18n import normalize_locale, t
from domain.model import Level, OutMessage, UserRef
from domain.services import Context, GeoCache, Services
from storage.outbox import claim_update
from storage.repos import SqlRepos

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UnitOfWorkMiddleware(BaseMiddleware):
    """Outer update middleware: the whole update is one transaction, with its outbox messages."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        geo: GeoCache,
        clock: Callable[[], datetime],
        admins: frozenset[UserRef],
        group_locale: str,
        on_outbox: Callable[[], None],
        category_levels: dict[str, Level] | None = None,
        offer_threshold: Callable[[], float] = lambda: 0.9,
        star_hours: tuple[float, ...] = (100, 300, 600, 1000, 1500),
        report_points: dict[str, int] | None = None,
        report_points_default: int = 5,
        checkin_radius_m: float = 300.0,
        order_untaken_minutes: float = 120.0,
    ) -> None:
        self.checkin_radius_m = checkin_radius_m
        self.order_untaken_minutes = order_untaken_minutes
        self.star_hours = star_hours
        self.report_points = report_points or {}
        self.report_points_default = report_points_default
        self.sessions = sessions
        self.geo = geo
        self.clock = clock
        self.admins = admins
        self.group_locale = group_locale
        self.on_outbox = on_outbox
        self.category_levels = category_levels or {}
        self.offer_threshold = offer_threshold
        self.bot_username: str | None = None
        self.duplicates = 0

    def services(self, session: AsyncSession) -> tuple[SqlRepos, Services]:
        """Repositories and domain services on a session, configured like every update's."""
        repos = SqlRepos(session, self.clock)
        ctx = Context(
            repos,
            self.clock,
            self.geo,
            admins=self.admins,
            group_locale=self.group_locale,
            category_levels=self.category_levels,
            bot_username=self.bot_username,
            group_offer_threshold=self.offer_threshold,
            star_hours=self.star_hours,
            report_points=self.report_points,
            report_points_default=self.report_points_default,
            checkin_radius_m=self.checkin_radius_m,
            order_untaken_minutes=self.order_untaken_minutes,
        )
        return repos, Services(ctx)

    async def _user(self, svc: Services, data: dict[str, Any]) -> Any:
        tg: TgUser | None = data.get("event_from_user")
        if tg is None:
            return None
        chat: Chat | None = data.get("event_chat")
        private = chat.id if chat is not None and chat.type == "private" else None
        return await svc.user(
            UserRef("telegram", str(tg.id)),
            tg.full_name or tg.username or str(tg.id),
            tg.username,
            normalize_locale(tg.language_code),
            private,
        )

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
            except Exception:
                log.exception("update %s failed", event.update_id)
                await self._refuse(session, event, data, DomainError("internal"))
        return None

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
        except Exception:
            log.exception("could not record refusal of update %s", update.update_id)
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(text, show_alert=True)
            except TelegramAPIError as e:
                log.warning("could not answer callback: %s", e)
