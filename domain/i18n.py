"""Locale catalogues (YAML files beside this module); zh-CN is the default, en the second."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LOCALE = "zh-CN"


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


@functools.cache
def catalogue(locale: str) -> dict[str, str]:
    """Flat key → template map of one locale."""
    path = LOCALES_DIR / f"{locale}.yml"
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")), out)
    return out


def available_locales() -> list[str]:
    """Locales that have a catalogue file."""
    return sorted(p.stem for p in LOCALES_DIR.glob("*.yml"))


def normalize_locale(code: str | None) -> str:
    """Map a Telegram language code (zh-hans, en-US, …) to one of our locales."""
    if not code:
        return DEFAULT_LOCALE
    low = code.lower()
    if low.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


class _Params(dict[str, Any]):
    # A missing parameter shows as {name} instead of crashing the reply that needed it.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, locale: str | None = None, **params: Any) -> str:
    """Render one string; falls back to zh-CN, then to the key itself so a gap is visible."""
    loc = locale or DEFAULT_LOCALE
    template = catalogue(loc).get(key) or catalogue(DEFAULT_LOCALE).get(key)
    if template is None:
        return key
    return template.format_map(_Params(params)) if "{" in template else template


def has_key(key: str, locale: str = DEFAULT_LOCALE) -> bool:
    """Whether a locale defines a key."""
    return key in catalogue(locale)
