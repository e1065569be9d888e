"""The English catalogue mirrors the zh-CN one: same keys, same placeholders, no empty strings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

LOCALES_DIR = Path(__file__).resolve().parent.parent / "domain" / "locales"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    else:
        out[prefix] = node
    return out


def _load(locale: str) -> dict[str, Any]:
    path = LOCALES_DIR / f"{locale}.yml"
    return _flatten(yaml.safe_load(path.read_text(encoding="utf-8")))


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
