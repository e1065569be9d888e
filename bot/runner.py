"""Long-polling and webhook runners; both run the outbox sender beside the dispatcher.

An update is confirmed to Telegram only after its transaction committed: polling advances the offset past
an update once it was handled; the webhook answers 200 once it was handled, and a non-2xx (Telegram then
redelivers) when the database stayed away for longer than the request may wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from datetime import timedelta

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.app import App, create_app
from bot.config import Settings
from bot.intake import Lanes
from bot.jobs import sweep
from bot.metrics import CONTENT_TYPE
from storage.db import describe_db_error, is_transient
from storage.migrate import upgrade

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
POLL_TIMEOUT_S = 25
MAX_POLL_BACKOFF_S = 60.0


class StartupError(Exception):
    """The bot cannot start: one line saying what failed, where, and what to check."""


async def periodic_jobs(app: App) -> None:
    """Hourly: post monthly boards that are due, credit building heads' month of service, open the quarter's
    property ratings once their day has come, forget old update ids."""
    async with app.sessions.begin() as session:
        _, svc, _ = app.uow.unit_of_work(session)
        posted = await svc.board.post_monthly()
        flagged = await svc.orders.flag_untaken()
        await svc.civic.homes.monthly_service()
        opened = await svc.civic.rating.open_due()
    if posted or flagged or opened:
        app.sender.wake()
    if posted:
        log.info("monthly credit-star boards posted to %s", posted)
    # Telegram redelivers for at most a day; a week of update ids is plenty for de-duplication.
    await app.store.prune_updates(timedelta(days=7))


# A process that does not lead asks again this often: a dead leader's work is taken over within it.
LEADER_RETRY_S = 15.0


async def _sweeping(app: App, stop: asyncio.Event) -> None:
    # Deadlines, fixed days, monthly figures and broadcast reports: every sweep interval, in the leading process.
    while not stop.is_set():
        wait = app.settings.sweep_interval_s
        try:
            if await app.leader.check():
                result = await sweep(app)
                app.metrics.swept()
                if result.deadlines:
                    log.info("sweeper acted on %d deadline(s)", result.deadlines)
            else:
                wait = min(wait, LEADER_RETRY_S)
        except Exception as e:
            if is_transient(e):
                log.warning("sweeper: database unavailable (%s); next round soon", describe_db_error(e))
            else:
                log.exception("sweeper round failed")
        app.metrics.leading(app.leader.leading)
        await _sleep_unless(stop, wait)


async def _housekeeping(app: App, stop: asyncio.Event) -> None:
    last = float("-inf")
    while not stop.is_set():
        try:
            # Hourly, in the leading process (a new leader does its first round at once).
            if app.leader.leading and asyncio.get_running_loop().time() - last >= 3600:
                await periodic_jobs(app)
                last = asyncio.get_running_loop().time()
        except Exception as e:
            # A failed round is retried next time; it must not end the bot.
            if is_transient(e):
                log.warning("housekeeping: database unavailable (%s); next round later", describe_db_error(e))
            else:
                log.exception("housekeeping failed")
        await _sleep_unless(stop, LEADER_RETRY_S)


def _api_url(settings: Settings) -> str:
    return str(settings.telegram_api_url).rstrip("/") if settings.telegram_api_url else "https://api.telegram.org"


async def check_services(app: App) -> str:
    """Migrate the database and ask the Bot API who we are; any failure is a StartupError of one line."""
    url = app.engine.url.render_as_string(hide_password=True)
    try:
        await upgrade(app.engine)
    except Exception as e:  # noqa: BLE001 - whatever it is, it becomes one line and exit code 3
        hint = "is the server running and GRIDBOT_DATABASE_URL right?"
        if not is_transient(e):
            hint = "check GRIDBOT_DATABASE_URL, the user's rights and the file's permissions"
        raise StartupError(f"cannot use the database at {url} ({describe_db_error(e)}): {hint}") from None
    api = _api_url(app.settings)
    try:
        me = await app.bot.get_me()
    except TelegramUnauthorizedError:
        raise StartupError(f"the Bot API at {api} refused the token: check GRIDBOT_BOT_TOKEN (@BotFather)") from None
    except (TelegramAPIError, OSError, TimeoutError) as e:
        detail = " ".join(str(e).split())[:200] or type(e).__name__
        raise StartupError(
            f"cannot reach the Bot API at {api} ({type(e).__name__}: {detail}): "
            "check the network, GRIDBOT_TELEGRAM_API_URL or GRIDBOT_PROXY"
        ) from None
    return me.username or str(me.id)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[App]:
    """App with schema migrated and the sender + housekeeping running until exit."""
    app = create_app(settings)
    try:
        username = await check_services(app)
    except BaseException:
        await app.close()
        raise
    # Read the classifier (model files, the pinyin and Traditional-Chinese tables) before the first update does:
    # otherwise the first people after a start wait a second or two for it.
    with contextlib.suppress(Exception):
        await app.classifier.classify("预热")
    log.info("gridbot running as @%s (database %s)", username, app.engine.url.render_as_string())
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(app.sender.run(stop)),
        asyncio.create_task(_housekeeping(app, stop)),
        asyncio.create_task(_sweeping(app, stop)),
    ]
    try:
        yield app
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await app.leader.release()
        await app.close()


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def poll(app: App, stop: asyncio.Event) -> None:
    """Long polling; updates of different chats at once, each chat's in order (`Lanes`). The offset confirms only
    the prefix of updates that were all handled, so a crash loses nothing."""
    allowed = app.dp.resolve_used_update_types()
    lanes = Lanes(app.feeder, app.settings.update_concurrency)
    failures = 0
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            app.bot.get_updates(offset=lanes.confirmed, timeout=POLL_TIMEOUT_S, allowed_updates=allowed)
        )
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait([fetch, stopper], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            break
        try:
            updates: list[Update] = fetch.result()
        except TelegramUnauthorizedError:
            log.error("the Bot API refused the token (revoked?): stopping; check GRIDBOT_BOT_TOKEN")
            await lanes.drain()
            raise
        except TelegramRetryAfter as e:
            log.warning("getUpdates: flood control, waiting %ss", e.retry_after)
            await _sleep_unless(stop, float(e.retry_after))
            continue
        except (TelegramAPIError, OSError, TimeoutError) as e:
            failures += 1
            delay = min(MAX_POLL_BACKOFF_S, 2.0 ** min(failures - 1, 6))
            why = (
                "another process polls with this token, or a webhook is set"
                if isinstance(e, TelegramConflictError)
                else "Bot API unreachable"
            )
            log.warning("getUpdates failed (%s: %s; %s); retrying in %.0fs", type(e).__name__, e, why, delay)
            await _sleep_unless(stop, delay)
            continue
        if failures:
            log.warning("Bot API reachable again after %d failed attempts", failures)
            failures = 0
        fresh = [u for u in updates if not lanes.known(u.update_id)]
        for update in fresh:
            if stop.is_set():
                break  # not started: Telegram gives it to the next start
            await lanes.submit(update)
        if not fresh and lanes.busy:
            # Telegram repeats what is not yet confirmed: wait for progress instead of asking again at once.
            await lanes.settled(timeout=1.0)
    await lanes.drain()
    if lanes.confirmed is not None:
        # Confirm what was handled, so a restart does not receive it again (it would be skipped anyway).
        with contextlib.suppress(Exception):
            await app.bot.get_updates(offset=lanes.confirmed, timeout=0, limit=1, allowed_updates=allowed)


async def run_polling(settings: Settings, web_at: tuple[str, int] | None = None) -> None:
    """Long polling until SIGINT/SIGTERM (with the desk served beside it when asked)."""
    async with running(settings) as app:
        await app.bot.delete_webhook(drop_pending_updates=False)
        stop = asyncio.Event()
        _stop_on_signals(stop)
        desk = asyncio.create_task(_serve_desk(app, web_at, stop)) if web_at else None
        log.info("polling for updates")
        await poll(app, stop)
        if desk is not None:
            await desk


async def _serve_desk(app: App, at: tuple[str, int], stop: asyncio.Event) -> None:
    import uvicorn

    from bot.web import create_web

    config = uvicorn.Config(create_web(app), host=at[0], port=at[1], log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    # The runner owns SIGINT/SIGTERM (it stops polling, the sender and the desk together).
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    log.info("desk (console, Open311) on http://%s:%s", *at)
    await stop.wait()
    server.should_exit = True
    await task


def webhook_app(app: App, secret: str) -> web.Application:
    """The aiohttp application answering Telegram's webhook requests (200 only after the update was handled);
    requests are handled at once across chats, in order within a chat (Telegram opens up to max_connections)."""
    lanes = Lanes(app.feeder, app.settings.update_concurrency)

    async def handle(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.Response(status=401, text="wrong secret token")
        try:
            update = Update.model_validate(await request.json(), context={"bot": app.bot})
        except (ValueError, ValidationError):
            return web.Response(status=400, text="not an Update")
        task = await lanes.submit(update, give_up_after_s=app.settings.webhook_patience_s)
        if await task:
            return web.Response(status=200)
        # Non-2xx: Telegram keeps the update and delivers it again later; its update_id makes it count once.
        return web.Response(status=503, headers={"Retry-After": "10"}, text="database unavailable, retry later")

    async def metrics(_: web.Request) -> web.Response:
        body = await app.metrics.exposition(app.store)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    web_app = web.Application()
    web_app.router.add_post(WEBHOOK_PATH, handle)
    web_app.router.add_get("/metrics", metrics)
    return web_app


async def run_webhook(settings: Settings, url: str, host: str, port: int) -> None:
    """Webhook server; every request must carry the secret token Telegram was given."""
    async with running(settings) as app:
        secret = settings.secret_for_webhook()
        runner = web.AppRunner(webhook_app(app, secret), handle_signals=False)
        await runner.setup()
        # Listen first: Telegram may deliver the moment setWebhook returns.
        await web.TCPSite(runner, host, port).start()
        log.info("webhook listening on %s:%s%s", host, port, WEBHOOK_PATH)
        await app.bot.set_webhook(
            url.rstrip("/") + WEBHOOK_PATH,
            secret_token=secret,
            allowed_updates=app.dp.resolve_used_update_types(),
            # As many requests at once as the process handles chats at once (Telegram allows 1–100).
            max_connections=max(1, min(100, settings.update_concurrency)),
        )
        stop = asyncio.Event()
        _stop_on_signals(stop)
        await stop.wait()
        await runner.cleanup()
