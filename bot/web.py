"""The desk's web application (Open311 now; the staff console joins it), wired to the bot's app and database.

Each request gets one unit of work: its changes and the Telegram messages they cause commit together, and
the outbox sender (in this process or the bot's) delivers them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import App
from bot.config import Settings
from desk.open311 import Open311
from domain.services import Services


def scope_of(app: App) -> contextlib.AbstractAsyncContextManager[Services]:
    """One transaction's services, committed when the block ends without an error."""

    @contextlib.asynccontextmanager
    async def scope() -> AsyncIterator[Services]:
        async with app.sessions.begin() as session:
            _, svc, _ = app.uow.unit_of_work(session)
            yield svc
        app.sender.wake()

    return scope()


def create_web(app: App, base_url: str = "") -> Starlette:
    """The ASGI application: Open311 under /open311/v2/, health checks."""
    open311 = Open311(lambda: scope_of(app), app.settings.open311_public_reads, base_url)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/healthz", healthz), *open311.routes()])


async def serve(settings: Settings, host: str, port: int, base_url: str = "") -> None:
    """Serve the desk until interrupted (the bot's process delivers what it queues)."""
    import uvicorn

    from bot.app import create_app
    from storage.migrate import upgrade

    app = create_app(settings)
    try:
        await upgrade(app.engine)
        config = uvicorn.Config(create_web(app, base_url), host=host, port=port, log_level="info", lifespan="off")
        await uvicorn.Server(config).serve()
    finally:
        await app.close()
