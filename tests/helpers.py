"""Small helpers for reading back state in tests."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from sqlalchemy import select, text
from starlette.types import ASGIApp

from bot.app import App
from bot.recording import Call, RecordingSession
from bot.scripted import Person
from domain.cases.model import Case, Draft
from domain.kernel.people import User, UserRef
from domain.points.model import Standing
from domain.services import Services
from handlers.views.messages import TgMessage
from storage.cases import _case
from storage.delivery import OutboxRepo
from storage.orm import CaseRow


async def all_cases(app: App) -> list[Case]:
    """Every case, oldest first."""
    async with app.sessions() as s:
        return [_case(r) for r in (await s.execute(select(CaseRow).order_by(CaseRow.id))).scalars()]


async def scalar(app: App, sql: str, **params: Any) -> Any:
    """One value from SQL."""
    async with app.sessions() as s:
        return (await s.execute(text(sql), params)).scalar()


def sent_to(session: RecordingSession, chat_id: int) -> list[Call]:
    """sendMessage/sendPhoto calls to one chat."""
    return [c for c in session.by_method("sendMessage", "sendPhoto") if c.chat_id == chat_id]


def texts(calls: list[Call]) -> list[str]:
    """Text or caption of calls."""
    return [str(c.params.get("text") or c.params.get("caption") or "") for c in calls]


def alerts(session: RecordingSession) -> list[str]:
    """Texts of callback answers."""
    return [str(c.params.get("text") or "") for c in session.by_method("answerCallbackQuery")]


def out(chat_id: int, text: str, edit_outbox_id: int | None = None, **kw: Any) -> tuple[TgMessage, int | None]:
    """A rendered message (or an edit of an earlier one) to put in the outbox."""
    return TgMessage(chat_id, text, **kw), edit_outbox_id


async def enqueue(app: App, *messages: tuple[TgMessage, int | None]) -> list[int]:
    """Write messages in one transaction, as an update would."""
    async with app.sessions.begin() as s:
        repo = OutboxRepo(s, app.store.clock)
        return [await repo.add(m.chat_id, m.payload(), edit_of=edit) for m, edit in messages]


@contextlib.asynccontextmanager
async def services(app: App) -> AsyncIterator[Services]:
    """The domain services on a session of their own, as an update has them (for reading state back)."""
    async with app.sessions() as session:
        _, svc, _ = app.uow.unit_of_work(session)
        yield svc


async def user_of(app: App, person: Person) -> User:
    """The domain user of a scripted person."""
    async with services(app) as svc:
        user = await svc.ports.people.by_ref(UserRef("telegram", str(person.id)))
    assert user is not None, f"{person.first_name} never talked to the bot"
    return user


async def standing_of(app: App, person: Person) -> Standing:
    """我的积分 of a person, as the points service answers it."""
    user = await user_of(app, person)
    async with services(app) as svc:
        return await svc.points.standing(user)


async def draft_of(app: App, person: Person) -> Draft | None:
    """A person's open report draft (None for someone the bot does not know either)."""
    async with services(app) as svc:
        user = await svc.ports.people.by_ref(UserRef("telegram", str(person.id)))
        return await svc.reports.draft(user) if user is not None else None


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """An ASGI app over real HTTP in this event loop, on a free port; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM (the runner stops cleanly on it), then kill if it lingers."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
