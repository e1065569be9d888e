"""Classification through a running Rasa server's HTTP API (`POST /model/parse`).

Rasa answers with its own intent names; report categories arrive either as a retrieval intent
name (`report_issue/fire_safety`) or through the ResponseSelector block::

    "response_selector": {"all_retrieval_intents": ["report_issue"],
                          "default": {"response": {"intent_response_key": "report_issue/fire_safety",
                                                   "confidence": 0.93, ...},
                                      "ranking": [{"intent_response_key": ..., "confidence": ...}, ...]}}

Both become our intent `report_issue` and category `fire_safety`. Rasa names are translated through
an intent map (Rasa name → our name; a full `a/b` name is looked up before its base name `a`, and a
mapped value may itself be `intent/category`). The model version comes from `GET /status`
(`model_id`), refreshed at most once per `status_ttl` seconds after a successful parse.
"""

from __future__ import annotations

import json
import logging
import math
import time
from types import TracebackType
from typing import Any, Literal, Self

import aiohttp

from intents.model import Prediction
from intents.rasa import split_label

log = logging.getLogger(__name__)

Reason = Literal["timeout", "connection", "status", "malformed"]

# Rasa's FallbackClassifier replaces the prediction with this name; the real guess is next in the ranking.
NLU_FALLBACK = "nlu_fallback"
# Used when Rasa names no intent at all (confidence 0.0, so the bot treats it as unsure).
NO_INTENT = "out_of_scope"
TOP_N = 3


class RasaUnavailable(Exception):
    """Rasa could not be asked or gave no usable answer; `reason` says why, `status` is the HTTP status if any."""

    def __init__(self, message: str, reason: Reason, status: int | None = None) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.status = status


def parse_intent_map(spec: str) -> dict[str, str]:
    """`{"rasa_a": "ours_a"}` (JSON object) or `rasa_a=ours_a,rasa_b=ours_b` → mapping; blank → {}."""
    spec = spec.strip()
    if not spec:
        return {}
    if spec.startswith("{"):
        try:
            raw = json.loads(spec)
        except ValueError as exc:
            raise ValueError(f"intent map is not valid JSON: {exc}") from exc
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise ValueError("intent map JSON must be an object of strings")
        out = {str(k).strip(): v.strip() for k, v in raw.items()}
    else:
        out = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"intent map entry {part.strip()!r} is not rasa_name=our_name")
            out[key.strip()] = value.strip()
    if any(not k or not v for k, v in out.items()):
        raise ValueError("intent map has an empty name")
    return out


def _malformed(what: str) -> RasaUnavailable:
    return RasaUnavailable(f"Rasa sent a malformed response: {what}", "malformed")


def _confidence(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _malformed(f"{where} is not a number ({value!r})")
    return float(value)


def _name(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise _malformed(f"{where} is not a string ({value!r})")


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed(f"{where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _malformed(f"{where} is not a list")
    return value


def _top(pairs: list[tuple[str, float]], first: tuple[str, float] | None) -> list[tuple[str, float]]:
    """Best first, each label once, `first` (the chosen label) leading, at most TOP_N."""
    out: list[tuple[str, float]] = [first] if first is not None else []
    seen = {first[0]} if first is not None else set()
    for label, conf in sorted(pairs, key=lambda p: -p[1]):
        if label not in seen:
            seen.add(label)
            out.append((label, conf))
    return out[:TOP_N]


class RasaHttpClient:
    """Async client of a Rasa server's `/model/parse`, answering with our `Prediction`."""

    def __init__(
        self,
        url: str,
        intent_map: dict[str, str] | None = None,
        timeout: float = 2.0,
        *,
        token: str | None = None,
        status_ttl: float = 60.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.intent_map = dict(intent_map or {})
        self.timeout = timeout
        self.token = token
        self.status_ttl = status_ttl
        self.model_id: str | None = None
        self._status_at: float | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def version(self) -> str:
        """`rasa:<model_id>` of the last model seen, `rasa:unknown` before /status answered."""
        return f"rasa:{self.model_id or 'unknown'}"

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def close(self) -> None:
        """Close the HTTP session (a later call opens a new one)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def __aenter__(self) -> Self:
        """Use as `async with RasaHttpClient(url) as rasa:`."""
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the session."""
        await self.close()

    async def parse(self, text: str) -> Prediction:
        """Intent and category of one message; raises RasaUnavailable."""
        prediction, _ = await self.parse_full(text)
        return prediction

    async def parse_full(self, text: str) -> tuple[Prediction, list[dict[str, Any]]]:
        """The prediction plus Rasa's entities (`entity`, `value`, `start`, `end`, ...); raises RasaUnavailable."""
        data = await self._request("POST", "/model/parse", {"text": text})
        prediction, entities = self._convert(data)
        if self._status_due():
            await self._refresh_model_id()
        prediction.version = self.version
        return prediction, entities

    # ----------------------------------------------------------------- HTTP

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.url + path
        params = {"token": self.token} if self.token else None
        try:
            async with self._get_session().request(method, url, json=payload, params=params) as resp:
                status = resp.status
                body = await resp.read()
        except TimeoutError as exc:
            raise RasaUnavailable(f"Rasa timed out after {self.timeout:g} s ({method} {url})", "timeout") from exc
        except aiohttp.ClientConnectorError as exc:
            raise RasaUnavailable(f"cannot connect to Rasa at {self.url}: {exc}", "connection") from exc
        except aiohttp.ClientError as exc:
            raise RasaUnavailable(f"request to Rasa failed ({method} {url}): {exc!r}", "connection") from exc
        if not 200 <= status < 300:
            snippet = body[:200].decode("utf-8", "replace").strip()
            raise RasaUnavailable(f"Rasa answered HTTP {status} to {method} {url}: {snippet}", "status", status)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise RasaUnavailable(f"Rasa sent malformed JSON ({method} {url}): {exc}", "malformed") from exc
        return _dict(data, "the response")

    def _status_due(self) -> bool:
        return self._status_at is None or time.monotonic() - self._status_at >= self.status_ttl

    async def _refresh_model_id(self) -> None:
        """Best effort: a failing /status only leaves the version as it was."""
        self._status_at = time.monotonic()
        try:
            status = await self._request("GET", "/status")
        except RasaUnavailable as exc:
            log.debug("Rasa /status unavailable: %s", exc)
            return
        model = status.get("model_id") or status.get("model_file")
        self.model_id = str(model) if model else None

    # ----------------------------------------------------------------- mapping

    def map_label(self, name: str) -> tuple[str, str | None]:
        """Rasa intent name → (our intent, category or None); the full `a/b` name is looked up first."""
        if name in self.intent_map:
            return split_label(self.intent_map[name])
        base, sub = split_label(name)
        mapped, mapped_sub = split_label(self.intent_map.get(base, base))
        return mapped, (sub or mapped_sub)

    def _convert(self, data: dict[str, Any]) -> tuple[Prediction, list[dict[str, Any]]]:
        """Rasa's parse result → (Prediction without version, entities)."""
        if "intent" not in data:
            raise _malformed("no `intent`")
        intent_obj = _dict(data["intent"], "`intent`") if data["intent"] is not None else {}
        raw_name = _name(intent_obj.get("name"), "`intent.name`")
        conf = _confidence(intent_obj.get("confidence", 0.0), "`intent.confidence`") if raw_name else 0.0
        full_name = _name(intent_obj.get("full_retrieval_intent_name"), "`intent.full_retrieval_intent_name`")

        raw_ranking: list[tuple[str, float]] = []
        for i, item in enumerate(_list(data.get("intent_ranking"), "`intent_ranking`")):
            entry = _dict(item, f"`intent_ranking[{i}]`")
            name = _name(entry.get("name"), f"`intent_ranking[{i}].name`")
            if name:
                raw_ranking.append((name, _confidence(entry.get("confidence"), f"`intent_ranking[{i}].confidence`")))

        # The FallbackClassifier's verdict hides the real guess; our own thresholds judge that guess instead.
        if NLU_FALLBACK not in self.intent_map:
            raw_ranking = [p for p in raw_ranking if p[0] != NLU_FALLBACK]
            if raw_name == NLU_FALLBACK:
                raw_name, conf, full_name = None, 0.0, None
        if raw_name is None and raw_ranking:
            raw_name, conf = max(raw_ranking, key=lambda p: p[1])

        entities = [dict(_dict(e, "an entity")) for e in _list(data.get("entities"), "`entities`")]

        if raw_name is None:
            return Prediction(NO_INTENT, 0.0, None, 0.0, [(NO_INTENT, 0.0)], [], ""), entities

        label = full_name if full_name and "/" not in raw_name else raw_name
        rasa_base = split_label(label)[0]
        intent, category = self.map_label(label)

        ranking = _top([(self.map_label(n)[0], c) for n, c in raw_ranking], (intent, conf))

        selector = self._selector(data, rasa_base)
        cat_pairs: list[tuple[str, float]]
        if selector:
            cat_pairs = selector
            if category is None:
                category, cat_conf = selector[0]
            else:  # the name already says which; the selector may still know how sure it is
                cat_conf = next((p for c, p in selector if c == category), conf)
        else:
            cat_conf = conf if category is not None else 0.0
            cat_pairs = [(c, p) for n, p in raw_ranking for i, c in [self.map_label(n)] if i == intent and c]
        category_ranking = _top(cat_pairs, (category, cat_conf) if category is not None else None)
        return Prediction(intent, conf, category, cat_conf, ranking, category_ranking, ""), entities

    def _selector(self, data: dict[str, Any], rasa_base: str) -> list[tuple[str, float]]:
        """[(category, confidence), ...] of the response selector for this intent, its top guess first."""
        block = data.get("response_selector")
        if not block:
            return []
        block = _dict(block, "`response_selector`")
        raw = block.get(rasa_base) or block.get("default")
        if not raw:
            return []
        sel = _dict(raw, "a response selector")
        response = _dict(sel.get("response") or {}, "`response_selector.*.response`")
        key = _name(response.get("intent_response_key"), "`intent_response_key`")
        if key is None or split_label(key)[0] != rasa_base:
            return []  # the selector's guess belongs to another retrieval intent (or there is none)
        top_cat = self.map_label(key)[1]
        if top_cat is None:
            return []
        pairs = [(top_cat, _confidence(response.get("confidence", 0.0), "`response_selector.*.response.confidence`"))]
        for i, item in enumerate(_list(sel.get("ranking"), "`response_selector.*.ranking`")):
            entry = _dict(item, f"`response_selector.*.ranking[{i}]`")
            rkey = _name(entry.get("intent_response_key"), f"`response_selector.*.ranking[{i}].intent_response_key`")
            cat = self.map_label(rkey)[1] if rkey and split_label(rkey)[0] == rasa_base else None
            if cat is not None:
                pairs.append((cat, _confidence(entry.get("confidence"), f"`response_selector.*.ranking[{i}]`")))
        return pairs
