"""A fake Rasa 3 server (aiohttp) answering `POST /model/parse`, `GET /status` and `GET /`.

Tests drive it through its attributes::

    rasa = FakeRasa()
    url = await rasa.start()
    rasa.responses["3号楼消防通道被堵"] = rasa_reply("3号楼消防通道被堵", "report_issue", 0.91,
                                                 retrieval=("report_issue/fire_safety", 0.88))
    rasa.delay = 0.5            # sleep before answering /model/parse
    rasa.fail_status = 500      # answer /model/parse with this status (Rasa-style error body)
    rasa.raw_body = "not json"  # answer /model/parse with this body verbatim (status 200)
    rasa.calls                  # texts received by /model/parse, in order
    await rasa.stop()

Unknown texts get :func:`rasa_reply` with intent `greet` at 0.9. `model_id = None` makes /status
answer without a model id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from collections.abc import Iterable
from typing import Any, Self

from aiohttp import web

JSONDict = dict[str, Any]

RASA_VERSION = "3.6.20"
DEFAULT_MODEL_ID = "20240601-120000-brisk-ledger"
# Filler intents for the default ranking (the remaining probability mass).
_FILLER = ("out_of_scope", "help", "service_request")


def _id(name: str) -> int:
    """Stable stand-in for Rasa's hashed label ids (signed 64-bit there; any int will do here)."""
    return zlib.crc32(name.encode()) * 2654435761 - (1 << 62)


def rasa_entity(text: str, entity: str, value: str, confidence: float = 0.99) -> JSONDict:
    """An entity as DIETClassifier reports it, located at the first occurrence of `value` in `text`."""
    start = text.find(value)
    if start < 0:
        raise ValueError(f"{value!r} does not occur in {text!r}")
    return {
        "entity": entity,
        "start": start,
        "end": start + len(value),
        "confidence_entity": confidence,
        "value": value,
        "extractor": "DIETClassifier",
    }


def rasa_reply(
    text: str,
    intent: str | None,
    confidence: float,
    *,
    ranking: Iterable[tuple[str, float]] | None = None,
    entities: list[JSONDict] | None = None,
    retrieval: tuple[str, float] | None = None,
    retrieval_ranking: Iterable[tuple[str, float]] | None = None,
    retrieval_intents: Iterable[str] = ("report_issue",),
    selector_key: str = "default",
    with_selector: bool = True,
) -> JSONDict:
    """A Rasa 3 `/model/parse` result.

    `ranking` defaults to the intent plus two fillers sharing the rest; `retrieval` is the response
    selector's top `intent_response_key` and confidence (default: a weak `report_issue/other`, as a
    real selector always guesses something); `with_selector=False` leaves the block out.
    """
    if ranking is None:
        rest = [f for f in _FILLER if f != intent][:2]
        top: list[tuple[str, float]] = [(intent, confidence)] if intent else []
        ranking = [*top, (rest[0], (1 - confidence) * 0.6), (rest[1], (1 - confidence) * 0.4)]
    reply: JSONDict = {
        "text": text,
        "intent": {"id": _id(intent), "name": intent, "confidence": confidence}
        if intent
        else {"name": None, "confidence": 0.0},
        "entities": list(entities or []),
        "text_tokens": [[i, i + 1] for i, ch in enumerate(text) if not ch.isspace()],
        "intent_ranking": [{"id": _id(n), "name": n, "confidence": c} for n, c in ranking],
    }
    if with_selector:
        retrieval_intents = list(retrieval_intents)
        key, sel_conf = retrieval or (f"{retrieval_intents[0]}/other", 0.31)
        sel_ranking = list(retrieval_ranking) if retrieval_ranking is not None else [(key, sel_conf)]
        if all(k != key for k, _ in sel_ranking):
            sel_ranking.insert(0, (key, sel_conf))
        reply["response_selector"] = {
            "all_retrieval_intents": retrieval_intents,
            selector_key: {
                "response": {
                    "responses": [{"text": f"收到（{key}）"}],
                    "confidence": sel_conf,
                    "intent_response_key": key,
                    "utter_action": f"utter_{key}",
                },
                "ranking": [{"id": _id(k), "confidence": c, "intent_response_key": k} for k, c in sel_ranking],
            },
        }
    return reply


def _error(status: int, message: str, reason: str) -> web.Response:
    """Rasa's error body shape."""
    body = {"version": RASA_VERSION, "status": "failure", "message": message, "reason": reason, "code": status}
    return web.json_response(body, status=status)


class FakeRasa:
    """In-memory stand-in for a Rasa server with a loaded model."""

    def __init__(self, model_id: str | None = DEFAULT_MODEL_ID) -> None:
        """Create an idle server; call :meth:`start` to listen."""
        self.responses: dict[str, JSONDict] = {}
        self.delay = 0.0
        self.fail_status: int | None = None
        self.raw_body: str | None = None
        self.token: str | None = None  # when set, requests need ?token=<token> like `rasa run --auth-token`
        self.model_id = model_id
        self.calls: list[str] = []
        self.status_calls = 0
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Listen on host:port (0 picks a free port) and return the base URL."""
        app = web.Application()
        app.router.add_get("/", self._hello)
        app.router.add_get("/status", self._status)
        app.router.add_post("/model/parse", self._parse)
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.base_url

    async def stop(self) -> None:
        """Wake delayed answers and shut the server down."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start on a free port."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop the server."""
        await self.stop()

    def _authorised(self, request: web.Request) -> bool:
        return self.token is None or request.query.get("token") == self.token

    async def _hello(self, request: web.Request) -> web.Response:
        return web.Response(text=f"Hello from Rasa: {RASA_VERSION}")

    async def _status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "User is not authenticated.", "NotAuthenticated")
        self.status_calls += 1
        body: JSONDict = {"fingerprint": {}, "num_active_training_jobs": 0}
        if self.model_id:
            body |= {"model_id": self.model_id, "model_file": f"models/{self.model_id}.tar.gz"}
        return web.json_response(body)

    async def _parse(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "User is not authenticated.", "NotAuthenticated")
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return _error(400, "An unexpected error occurred. Error: request body is not JSON", "ParsingError")
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            return _error(400, "No text message provided in the request body.", "BadRequest")
        text: str = payload["text"]
        self.calls.append(text)
        if self.delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay)
        if self.fail_status is not None:
            return _error(self.fail_status, "An unexpected error occurred.", "ParsingError")
        if self.raw_body is not None:
            return web.Response(text=self.raw_body, content_type="application/json")
        reply = self.responses.get(text) or rasa_reply(text, "greet", 0.9)
        return web.json_response(reply, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))
