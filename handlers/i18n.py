"""The Telegram front end's texts: templates in `handlers/locales`, the domain's words, escaping in one place.

`t()` renders a template with parameters: every value is escaped for Telegram HTML here and nowhere else,
unless it is already `Markup` (a fragment rendered by `t()` itself); words and phrases of the domain, dates
and numbers are rendered in the reader's language on the way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.kernel.i18n import WORDS, WORDS_DIR, Catalogue
from domain.kernel.notices import Phrase, Word
from domain.kernel.time import local
from handlers.text import escape

LOCALES_DIR = Path(__file__).parent / "locales"
# Every key a front-end text may use: its own HTML templates, then the domain's plain words.
TEXTS = Catalogue(LOCALES_DIR, WORDS_DIR)
TEMPLATES = Catalogue(LOCALES_DIR)


class Markup(str):
    """Text that is already Telegram HTML (escaping it again would show the tags)."""

    __slots__ = ()


def local_time(at: datetime) -> str:
    """A timestamp as people in China read it."""
    return local(at).strftime("%Y-%m-%d %H:%M")


def value(v: object, locale: str) -> Markup:
    """One parameter rendered and escaped."""
    if isinstance(v, Markup):
        return v
    if isinstance(v, Word):
        return Markup(escape(WORDS.template(v.key, locale) or TEXTS.template(v.key, locale) or v.key))
    if isinstance(v, Phrase):
        return t(v.key, locale, **v.params)
    if isinstance(v, datetime):
        return Markup(local_time(v))
    if isinstance(v, float):
        return Markup(f"{v:g}")
    return Markup(escape(str(v)))


class _Params(dict[str, Any]):
    # A missing parameter shows as {name} instead of crashing the reply that needed it.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, locale: str | None = None, /, **params: object) -> Markup:
    """Render a template (falls back to zh-CN, then to the key itself, so a gap is visible)."""
    loc = locale or "zh-CN"
    template = TEMPLATES.template(key, loc)
    if template is None:
        # A word or phrase of the domain's vocabulary is plain text: escaped like any value, then filled in.
        word = escape(WORDS.template(key, loc) or key)
        if "{" not in word or not params:
            return Markup(word)
        return Markup(word.format_map(_Params({k: value(v, loc) for k, v in params.items()})))
    if "{" not in template:
        return Markup(template)
    return Markup(template.format_map(_Params({k: value(v, loc) for k, v in params.items()})))


def word(key: str, locale: str | None = None) -> str:
    """A plain word (for button labels and other places that take plain text)."""
    return TEXTS.template(key, locale) or key


def render_params(params: Mapping[str, object], locale: str) -> dict[str, Markup]:
    """Every parameter rendered (for templates formatted by hand)."""
    return {k: value(v, locale) for k, v in params.items()}


def has(key: str, locale: str = "zh-CN") -> bool:
    """Whether a locale defines a key (not through a fallback)."""
    return TEXTS.has(key, locale)


def plain_value(v: object, locale: str) -> str:
    """One parameter as plain text (button labels are not HTML)."""
    if isinstance(v, Word):
        return TEXTS.template(v.key, locale) or v.key
    if isinstance(v, Phrase):
        return plain(v.key, locale, **v.params)
    if isinstance(v, datetime):
        return local_time(v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def plain(key: str, locale: str | None = None, /, **params: object) -> str:
    """Render a template as plain text, for labels Telegram shows without parsing HTML."""
    loc = locale or "zh-CN"
    template = TEXTS.template(key, loc)
    if template is None:
        return key
    if "{" not in template:
        return template
    return template.format_map(_Params({k: plain_value(v, loc) for k, v in params.items()}))


def duration(minutes: float, locale: str) -> str:
    """A length of time in the largest two units that say it (2 天 3 小时, 45 分钟)."""
    total = max(0, int(minutes))
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "time.days"), (hours, "time.hours"), (mins, "time.minutes")]
    shown = [plain(key, locale, n=n) for n, key in parts if n][:2] or [plain("time.minutes", locale, n=0)]
    return " ".join(shown)
