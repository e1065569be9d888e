"""Text as gridbot keeps it: cleaned once where it comes in, so that what is stored is always safe to show,
to write into XML and into a spreadsheet.

Cleaning removes the C0 control characters other than newline and tab (NUL included), the C1 controls, lone
surrogates and the two non-characters U+FFFE and U+FFFF; a carriage return becomes a newline. Nothing else is
changed: emoji, CJK, RTL text and combining marks pass as they are.
"""

from __future__ import annotations

import re
from typing import Any

_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """Text without the characters no store, XML document or spreadsheet should hold."""
    if not _UNWANTED.search(text):
        return text  # the usual case: nothing to do, nothing copied
    return _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_tree(value: Any) -> tuple[Any, bool]:
    """Every string in nested dicts and lists cleaned; returns the value and whether anything changed."""
    if isinstance(value, str):
        cleaned = clean(value)
        return cleaned, cleaned is not value and cleaned != value
    if isinstance(value, dict):
        changed = False
        out: dict[Any, Any] = {}
        for k, v in value.items():
            out[k], c = clean_tree(v)
            changed |= c
        return (out, True) if changed else (value, False)
    if isinstance(value, list):
        items = [clean_tree(v) for v in value]
        if any(c for _, c in items):
            return [v for v, _ in items], True
        return value, False
    return value, False
