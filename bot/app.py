"""The app factory: one place builds bot, dispatcher, middlewares, sender — for run, demo, tests and bench."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.context import services_factory
from bot.intake import UpdateFeeder
from bot.media import Photos
from bot.metrics import Metrics
from bot.middlewares import UnitOfWorkMiddleware
from bot.nlu import BuiltinClassifier, RasaClassifier
from bot.sender import OutboxSender, Pace
from domain.cases.ports import Classifier
from domain.org.service import GeoCache
from handlers import get_routers
from intents.rasa_http import RasaHttpClient, parse_intent_map
from storage.db import create_engine, session_factory
from storage.leader import Leadership
from storage.media import ObjectMedia
from storage.outbox import OutboxStore

# Demo and tests run without a real token; this one has the right shape and reaches nothing.
OFFLINE_TOKEN = "1234567890:OFFLINE-gridbot-token-for-tests-and-demo"  # noqa: S105 - not a secret


def utcnow() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)


@dataclass
class App:
    """Everything wired."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bot: Bot
    dp: Dispatcher
    sender: OutboxSender
    store: OutboxStore
    uow: UnitOfWorkMiddleware
    classifier: Classifier
    feeder: UpdateFeeder
    photos: Photos
    leader: Leadership
    metrics: Metrics

    async def close(self) -> None:
        """Release the HTTP sessions and the database pool."""
        await self.bot.session.close()
        if isinstance(self.classifier, RasaClassifier):
            await self.classifier.close()
        await self.engine.dispose()


def sender_identity() -> str:
    """This process's name on the outbox leases it holds: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    """A Bot for the configured (or a custom / self-hosted) Bot API server."""
    if session is None:
        # Where Telegram is not reachable directly: a proxy (GRIDBOT_PROXY), or a self-hosted Bot API server.
        proxy = str(settings.proxy) if settings.proxy else None
        session = (
            AiohttpSession(api=TelegramAPIServer.from_base(str(settings.telegram_api_url).rstrip("/")), proxy=proxy)
            if settings.telegram_api_url
            else AiohttpSession(proxy=proxy)
        )
    token = settings.bot_token.get_secret_value() if settings.bot_token else OFFLINE_TOKEN
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=None))


def create_dispatcher(
    sessions: async_sessionmaker[AsyncSession],
    classifier: Classifier,
    settings: Settings,
    geo: GeoCache,
    clock: Callable[[], datetime],
    on_outbox: Callable[[], None],
    gate: asyncio.Lock | None = None,
) -> tuple[Dispatcher, UnitOfWorkMiddleware]:
    """A dispatcher with fresh routers and the unit-of-work middleware."""
    dp = Dispatcher()
    make_services = services_factory(settings, clock, geo, classifier)
    uow = UnitOfWorkMiddleware(sessions, make_services, clock, settings.default_locale, on_outbox, gate)
    dp.update.outer_middleware(uow)
    dp["classifier"] = classifier
    dp.include_routers(*get_routers())
    return dp, uow


def create_app(
    settings: Settings,
    bot_session: BaseSession | None = None,
    classifier: Classifier | None = None,
    clock: Callable[[], datetime] = utcnow,
    engine: AsyncEngine | None = None,
) -> App:
    """Build the whole app; tests pass a recording session, a clock and maybe a shared engine."""
    engine = engine or create_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    sessions = session_factory(engine)
    bot = create_bot(settings, bot_session)
    # SQLite lets one writer in at a time: the updates' transactions and the sender's queue for it here, in the
    # process, rather than sleeping in SQLite's busy handler (steps of up to 100 ms).
    gate = asyncio.Lock() if engine.dialect.name == "sqlite" else None
    store = OutboxStore(sessions, clock, sender_identity(), timedelta(seconds=settings.outbox_lease_s), gate)
    pace = Pace(settings.messages_per_second, settings.group_messages_per_minute, settings.paid_broadcast_per_second)
    media = ObjectMedia(settings.media_url)
    photos = Photos(bot, sessions, media, clock, settings.media_private_links)
    sender = OutboxSender(
        bot,
        store,
        concurrency=settings.sender_concurrency,
        seal=settings.certificate_seal_image,
        pace=pace,
        media=media,
    )
    if classifier is None:
        classifier = BuiltinClassifier(extra_dir=settings.nlu_extra_dir, data_dir=settings.nlu_data_dir)
        if settings.rasa_url is not None:
            client = RasaHttpClient(
                str(settings.rasa_url), parse_intent_map(settings.rasa_intent_map), settings.rasa_timeout_s
            )
            classifier = RasaClassifier(client, classifier)
    geo = GeoCache(settings.community_radius_m, settings.street_radius_m)
    dp, uow = create_dispatcher(sessions, classifier, settings, geo, clock, sender.wake, gate)
    uow.console_url = str(settings.console_url).rstrip("/") if settings.console_url else None
    feeder = UpdateFeeder(dp, bot)
    metrics = Metrics()
    uow.metrics = metrics
    metrics.watch(
        lambda: {
            "gridbot_messages_sent": ("Messages the outbox sender delivered", sender.sent),
            "gridbot_messages_failed": ("Messages Telegram refused for good", sender.failed),
            "gridbot_telegram_429": ("429 Too Many Requests answers to the sender", sender.too_many),
            "gridbot_update_retries": ("Update attempts retried while the database was away", feeder.retries),
        }
    )
    return App(
        settings, engine, sessions, bot, dp, sender, store, uow, classifier, feeder, photos, Leadership(engine), metrics
    )
