"""The desk's web application (Open311 now; the staff console joins it), wired to the bot's app and database.

Each request gets one unit of work: its changes and the Telegram messages they cause commit together, and
the outbox sender (in this process or the bot's) delivers them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import App
from bot.config import Settings
from bot.metrics import CONTENT_TYPE
from desk.clean import CleanInput
from desk.console.app import Console, LoginWidget
from desk.console.svg import Tiles
from desk.open311 import Open311
from domain.kernel.errors import DomainError
from domain.services import Services
from handlers.i18n import TEXTS, plain

log = logging.getLogger(__name__)
# Messages due for longer than this mean no sender is delivering (a stopped bot, an unreachable Bot API).
READY_BACKLOG_S = 300


def scope_of(app: App) -> contextlib.AbstractAsyncContextManager[Services]:
    """One transaction's services, committed when the block ends without an error."""

    @contextlib.asynccontextmanager
    async def scope() -> AsyncIterator[Services]:
        async with app.sessions.begin() as session:
            _, svc, _ = app.uow.unit_of_work(session)
            yield svc
        app.sender.wake()

    return scope()


def refusal_text(e: DomainError, locale: str) -> str:
    """A domain refusal in words (the chat's wording, so staff read the same reason everywhere)."""
    key = f"errors.{e.code}"
    return plain(key, locale, **e.params) if TEXTS.template(key, locale) else plain("errors.internal", locale)


def create_web(app: App, base_url: str = "") -> Starlette:
    """The ASGI application: the staff console under /console, Open311 under /open311/v2/, health checks."""
    open311 = Open311(lambda: scope_of(app), app.settings.open311_public_reads, base_url, app.photos)
    widget = None
    if app.settings.login_widget_bot and app.settings.bot_token:
        widget = LoginWidget(app.settings.login_widget_bot.lstrip("@"), app.settings.bot_token.get_secret_value())
    settings = app.settings
    tiles = Tiles(settings.map_tiles, settings.map_tiles_crs, settings.map_attribution) if settings.map_tiles else None
    console = Console(lambda: scope_of(app), app.photos.read, refusal_text, widget, tiles)

    async def healthz(_: Request) -> Response:
        # Liveness: the process answers.
        return JSONResponse({"ok": True})

    async def readyz(_: Request) -> Response:
        # Readiness: the database answers, and the outbox is not stuck (a sender is delivering).
        try:
            pending, oldest = await app.store.backlog()
        except Exception as e:  # noqa: BLE001 - any failure here means "not ready", said in the body
            return JSONResponse({"ready": False, "database": f"unreachable: {type(e).__name__}"}, status_code=503)
        stuck = oldest > READY_BACKLOG_S
        body = {"ready": not stuck, "database": "ok", "outbox": {"due": pending, "oldest_waiting_s": round(oldest)}}
        return JSONResponse(body, status_code=503 if stuck else 200)

    async def metrics(_: Request) -> Response:
        # Prometheus: this process's figures (a reverse proxy should not pass /metrics to the internet).
        return Response(await app.metrics.exposition(app.store), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *open311.routes(),
            *console.routes(),
        ],
        middleware=[Middleware(CleanInput)],
    )


async def demo_link(app: App, base: str) -> str:
    """A login link for the demo's street admin (the demo database must have been played)."""
    from bot.demo_cast import ADMIN
    from domain.kernel.people import UserRef

    async with scope_of(app) as svc:
        admin = await svc.ports.people.by_ref(UserRef("telegram", str(ADMIN.id)))
        if admin is None:
            raise ValueError("no demo data: run `make demo` (or `gridbot demo`) first")
        token = await svc.access.issue_link(admin)
    return f"{base}/console/login?t={token}"


async def serve(settings: Settings, host: str, port: int, base_url: str = "", demo: bool = False) -> None:
    """Serve the desk until interrupted (the bot's process delivers what it queues)."""
    import uvicorn

    from bot.app import create_app
    from storage.migrate import upgrade

    app = create_app(settings)
    try:
        await upgrade(app.engine)
        if demo:
            print(f"工作台 / console: open {await demo_link(app, base_url or f'http://{host}:{port}')}", flush=True)
        config = uvicorn.Config(create_web(app, base_url), host=host, port=port, log_config=None, lifespan="off")
        await uvicorn.Server(config).serve()
    finally:
        await app.close()
