"""The desk's door for text: every request's path, query string and form body cleaned before any page or API
handler reads it (`domain.kernel.text.clean`), so a NUL or a control character in a search, a case number or an
Open311 description reaches neither the database nor an export."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.kernel.text import clean

FORM = b"application/x-www-form-urlencoded"
BODY_MAX = 2_000_000  # a form larger than this is not a form any page of ours sends


def clean_query(raw: bytes) -> bytes:
    """A query string (or form body) with every name and value cleaned, re-encoded."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")
    cleaned = [(clean(k), clean(v)) for k, v in pairs]
    if cleaned == pairs:
        return raw
    return urlencode(cleaned, encoding="utf-8").encode("ascii")


class CleanInput:
    """ASGI middleware: clean the path, the query string and urlencoded form bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Clean, then pass on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        path = clean(scope["path"])
        if path != scope["path"]:
            scope["path"] = path
            scope["raw_path"] = quote(path).encode("ascii")
        if scope.get("query_string"):
            scope["query_string"] = clean_query(scope["query_string"])
        headers = dict(scope.get("headers") or [])
        if scope.get("method") == "POST" and headers.get(b"content-type", b"").split(b";")[0].strip() == FORM:
            receive = await self._cleaned_body(receive)
        await self.app(scope, receive, send)

    @staticmethod
    async def _cleaned_body(receive: Receive) -> Receive:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return receive  # the client went away: nothing to clean
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not message.get("more_body") or size > BODY_MAX:
                break
        body = clean_query(b"".join(chunks)) if size <= BODY_MAX else b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay
