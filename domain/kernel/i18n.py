"""Catalogues of words and templates per locale (YAML), zh-CN first, English second.

The domain's own vocabulary — the names of categories, states, ratings, roles and the like — lives in
`domain/kernel/words/`, plain text without markup; every front end renders it in its own way and keeps its
own templates beside it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from domain.kernel.notices import Phrase, Word
from domain.kernel.time import local

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")
WORDS_DIR = Path(__file__).parent / "words"


def normalize_locale(code: str | None) -> str:
    """Map a platform's language code (zh-hans, en-US, …) to one of our locales."""
    if code and code.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


@functools.cache
def load(directory: Path, locale: str) -> Mapping[str, str]:
    """The flat key → template map of one locale file in a directory (empty if there is none)."""
    path = directory / f"{locale}.yml"
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")) or {}, out)
    return out


class Catalogue:
    """Templates looked up in several directories in order, in a locale, then in zh-CN."""

    def __init__(self, *directories: Path) -> None:
        self.directories = directories

    def template(self, key: str, locale: str | None = None) -> str | None:
        """The raw template, or None when no catalogue has the key."""
        for loc in dict.fromkeys((locale or DEFAULT_LOCALE, DEFAULT_LOCALE)):
            for directory in self.directories:
                found = load(directory, loc).get(key)
                if found is not None:
                    return found
        return None

    def has(self, key: str, locale: str = DEFAULT_LOCALE) -> bool:
        """Whether the locale itself (not a fallback) defines the key."""
        return any(key in load(d, locale) for d in self.directories)

    def keys(self, locale: str = DEFAULT_LOCALE) -> set[str]:
        """Every key the locale defines."""
        return {k for d in self.directories for k in load(d, locale)}


WORDS = Catalogue(WORDS_DIR)


def word(key: str, locale: str | None = None) -> str:
    """A word of the domain's vocabulary (the key itself when missing, so a gap is visible)."""
    return WORDS.template(key, locale) or key


def memo(key: str, locale: str | None = None, **params: object) -> str:
    """A plain-text record line in the office's language (a ledger reason), from the vocabulary."""
    template = WORDS.template(key, locale) or key
    return template.format(**params)


def say(v: object, locale: str | None = None) -> str:
    """A word, a phrase of the vocabulary (with its parameters) or a plain value as plain text in a locale."""
    if isinstance(v, Word):
        return word(v.key, locale)
    if isinstance(v, Phrase):
        template = WORDS.template(v.key, locale) or v.key
        return template.format_map({k: say(p, locale) for k, p in v.params.items()}) if v.params else template
    if isinstance(v, datetime):
        return local(v).strftime("%Y-%m-%d %H:%M")
    return "" if v is None else str(v)
