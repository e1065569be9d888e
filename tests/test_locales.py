"""The English catalogues mirror the zh-CN ones (front-end texts and domain words): same keys, same
placeholders, no empty strings; every template renders as valid Telegram HTML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [ROOT / "handlers" / "locales", ROOT / "domain" / "kernel" / "words", ROOT / "desk" / "locales"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    else:
        out[prefix] = node
    return out


def _load(locale: str, directory: Path | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for folder in [directory] if directory else CATALOGUES:
        out.update(_flatten(yaml.safe_load((folder / f"{locale}.yml").read_text(encoding="utf-8"))))
    return out


def test_same_keys() -> None:
    zh, en = _load("zh-CN"), _load("en")
    assert set(zh) - set(en) == set(), "keys missing from en.yml"
    assert set(en) - set(zh) == set(), "keys only in en.yml"


def _names(template: Any) -> set[str]:
    return set(PLACEHOLDER.findall(str(template)))


def test_same_placeholders() -> None:
    zh, en = _load("zh-CN"), _load("en")
    mismatched = {
        key: (_names(zh[key]), _names(en[key])) for key in zh.keys() & en.keys() if _names(zh[key]) != _names(en[key])
    }
    assert mismatched == {}


def test_values_are_non_empty_strings() -> None:
    for locale in ("zh-CN", "en"):
        for key, value in _load(locale).items():
            assert isinstance(value, str), f"{locale}:{key} is not a string"
            assert value.strip(), f"{locale}:{key} is empty"


def test_templates_render_as_telegram_html() -> None:
    from handlers.i18n import t
    from handlers.text import parse_html

    for locale in ("zh-CN", "en"):
        for key, template in _load(locale, CATALOGUES[0]).items():
            params = {name: "<x&y>" for name in _names(template)}
            parse_html(t(key, locale, **params))  # raises where Telegram would refuse


def test_domain_words_are_plain_text() -> None:
    for locale in ("zh-CN", "en"):
        for key, word in _load(locale, CATALOGUES[1]).items():
            # Plain text: "&" is a fine character here (renderers escape it), tags are not.
            assert not re.search(r"<[a-z/]", str(word)), f"{locale}:{key} has markup"


class _Strict(yaml.SafeLoader):
    """A loader that refuses a key written twice in one mapping (YAML would silently keep the last)."""


def _no_duplicates(loader: _Strict, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    twice = sorted({str(k) for k in keys if keys.count(k) > 1})
    assert not twice, f"keys written twice near line {node.start_mark.line + 1}: {twice}"
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def test_no_key_is_written_twice() -> None:
    for folder in CATALOGUES:
        for locale in ("zh-CN", "en"):
            yaml.load((folder / f"{locale}.yml").read_text(encoding="utf-8"), Loader=_Strict)
