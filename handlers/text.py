"""Telegram's rules for message text, in one place: HTML escaping, UTF-16 lengths, clipping, validation.

Telegram parses `parse_mode=HTML` itself and refuses (400) malformed markup, unknown tags and texts longer
than 4,096 (captions: 1,024) UTF-16 code units *after* parsing. Every value a template gets is escaped where
text is rendered (`handlers.i18n`); `clip_html` shortens a rendered text on text boundaries, never inside a
tag or an entity; `check_html` answers the way Telegram would, and the project's fake Bot APIs use it so
every end-to-end test checks what the bot sends.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

TEXT_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_DATA_MAX = 64
BUTTON_TEXT_MAX = 64
ROW_MAX = 8
KEYBOARD_MAX = 100

# Tags Telegram's HTML mode knows (https://core.telegram.org/bots/api#html-style).
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
     "blockquote", "tg-emoji"}
)  # fmt: skip
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*(/?)>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Text made safe inside Telegram HTML (&, <, > and quotes)."""
    return html.escape(text, quote=True)


class HtmlError(ValueError):
    """Markup Telegram would refuse; the message is what Telegram says."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "text" | "open" | "close"
    raw: str
    text: str = ""  # visible text of a text token
    name: str = ""


def _tokens(markup: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(markup):
        ch = markup[i]
        if ch == "<":
            m = _TAG.match(markup, i)
            if m is None:
                raise HtmlError(f"Bad Request: can't parse entities: Unsupported start tag at byte offset {i}")
            name = m.group(2).lower()
            if name not in ALLOWED_TAGS:
                raise HtmlError(
                    f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" at byte offset {i}'
                )
            if m.group(1):
                out.append(_Token("close", m.group(0), name=name))
            else:
                _check_attributes(name, m.group(3), i)
                out.append(_Token("open", m.group(0), name=name))
            i = m.end()
        elif ch == "&":
            m = _ENTITY.match(markup, i)
            if m is None:
                raise HtmlError(f"Bad Request: can't parse entities: unsupported entity at byte offset {i}")
            out.append(_Token("text", m.group(0), html.unescape(m.group(0))))
            i = m.end()
        elif ch == ">":
            raise HtmlError(f"Bad Request: can't parse entities: character '>' is reserved at byte offset {i}")
        else:
            out.append(_Token("text", ch, ch))
            i += 1
    return out


def _check_attributes(name: str, attrs: str, offset: int) -> None:
    found = {a.group(1).lower(): (a.group(2) or a.group(3) or a.group(4) or "") for a in _ATTR.finditer(attrs)}
    if name == "a" and "href" not in found:
        raise HtmlError(f"Bad Request: can't parse entities: <a> needs href at byte offset {offset}")
    if name == "span" and found.get("class") != "tg-spoiler":
        raise HtmlError(f"Bad Request: can't parse entities: unsupported <span> at byte offset {offset}")


def parse_html(markup: str) -> str:
    """The visible text of Telegram HTML, or HtmlError where Telegram would refuse it."""
    stack: list[str] = []
    visible: list[str] = []
    for token in _tokens(markup):
        if token.kind == "open":
            stack.append(token.name)
        elif token.kind == "close":
            if not stack or stack[-1] != token.name:
                raise HtmlError(f'Bad Request: can\'t parse entities: Unmatched end tag "{token.name}"')
            stack.pop()
        else:
            visible.append(token.text)
    if stack:
        raise HtmlError(
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(visible)


def check_html(markup: str, limit: int = TEXT_MAX, allow_empty: bool = False) -> None:
    """Raise HtmlError exactly where Telegram would refuse this text (or caption, with its limit)."""
    visible = parse_html(markup)
    if not visible.strip() and not allow_empty:
        raise HtmlError("Bad Request: message text is empty")
    if utf16_len(visible) > limit:
        what = "message is too long" if limit == TEXT_MAX else "message caption is too long"
        raise HtmlError(f"Bad Request: {what}")


def clip_html(markup: str, limit: int) -> str:
    """Shorten rendered HTML to at most `limit` visible UTF-16 units, ending in "…" and closing open tags."""
    tokens = _tokens(markup)
    if utf16_len("".join(t.text for t in tokens if t.kind == "text")) <= limit:
        return markup
    budget = limit - 1  # room for the ellipsis
    out: list[str] = []
    stack: list[str] = []
    for token in tokens:
        if token.kind == "text":
            size = utf16_len(token.text)
            if size > budget:
                break
            budget -= size
            out.append(token.raw)
        elif token.kind == "open":
            stack.append(token.name)
            out.append(token.raw)
        else:
            if stack and stack[-1] == token.name:
                stack.pop()
            out.append(token.raw)
    out.append("…")
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)


def clip_plain(text: str, limit: int) -> str:
    """Shorten plain text to at most `limit` UTF-16 units (never splitting a surrogate pair), with "…"."""
    if utf16_len(text) <= limit:
        return text
    out: list[str] = []
    used = 0
    for ch in text:
        size = utf16_len(ch)
        if used + size > limit - 1:
            break
        out.append(ch)
        used += size
    return "".join(out) + "…"


def check_keyboard(rows: list[list[dict[str, object]]], inline: bool = True) -> None:
    """Raise HtmlError where Telegram refuses a keyboard (empty labels, bad callback data, too many buttons)."""
    count = 0
    for row in rows:
        if len(row) > ROW_MAX:
            raise HtmlError("Bad Request: too many buttons in a row")
        for button in row:
            count += 1
            if not str(button.get("text") or "").strip():
                raise HtmlError("Bad Request: button text is empty")
            if not inline:
                continue
            data, url = button.get("callback_data"), button.get("url")
            if (data is None) == (url is None):
                raise HtmlError("Bad Request: can't find field callback_data or url in an inline button")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_MAX:
                raise HtmlError("Bad Request: BUTTON_DATA_INVALID")
    if count > KEYBOARD_MAX:
        raise HtmlError("Bad Request: reply markup is too long")
