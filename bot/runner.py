"""Long-polling and webhook runners; both run the outbox sender beside the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import App, create_app
from bot.config import Settings
from storage.migrate import upgrade

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


async def periodic_jobs(app: App) -> None:
    """Hourly: post monthly boards that are due, forget old update ids."""
    async with app.sessions.begin() as session:
        _, svc = app.uow.services(session)
        posted = await svc.board.post_monthly()
        flagged = await svc.orders.flag_untaken()
    if posted or flagged:
        app.sender.wake()
    if posted:
        log.info("monthly credit-star boards posted to %s", posted)
    # Telegram redelivers for at most a day; a week of update ids is plenty for de-duplication.
    await app.store.prune_updates(timedelta(days=7))


async def _housekeeping(app: App, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await periodic_jobs(app)
        except Exception:
            # A failed round is retried next hour; it must not end the bot.
            log.exception("housekeeping failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=3600)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[App]:
    """App with schema migrated and the sender + housekeeping running until exit."""
    app = create_app(settings)
    await upgrade(app.engine)
    me = await app.bot.get_me()
    log.info("gridbot running as @%s (database %s)", me.username, app.engine.url.render_as_string())
    stop = asyncio.Event()
    tasks = [asyncio.create_task(app.sender.run(stop)), asyncio.create_task(_housekeeping(app, stop))]
    try:
        yield app
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.close()


async def run_polling(settings: Settings) -> None:
    """Long polling. Updates are handled one by one so an update is confirmed only after it committed."""
    async with running(settings) as app:
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dp.start_polling(
            app.bot,
            handle_as_tasks=False,
            allowed_updates=app.dp.resolve_used_update_types(),
            close_bot_session=False,
        )


async def run_webhook(settings: Settings, url: str, host: str, port: int) -> None:
    """Webhook server; every request must carry the secret token Telegram was given."""
    async with running(settings) as app:
        secret = settings.secret_for_webhook()
        web_app = web.Application()
        SimpleRequestHandler(dispatcher=app.dp, bot=app.bot, secret_token=secret).register(web_app, path=WEBHOOK_PATH)
        setup_application(web_app, app.dp, bot=app.bot)
        runner = web.AppRunner(web_app)
        await runner.setup()
        # Listen first: Telegram may deliver the moment setWebhook returns.
        await web.TCPSite(runner, host, port).start()
        log.info("webhook listening on %s:%s%s", host, port, WEBHOOK_PATH)
        await app.bot.set_webhook(
            url.rstrip("/") + WEBHOOK_PATH, secret_token=secret, allowed_updates=app.dp.resolve_used_update_types()
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()
