"""Masking personal numbers before a person's text is shown to a group (or anyone who does not need them)."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# 18-digit ID card numbers (the last may be X), and the older 15-digit ones.
_ID_CARD = re.compile(
    r"(?<![0-9])([1-9][0-9]{3})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9Xx])|(?<![0-9])([1-9][0-9]{3})[0-9]{8}([0-9]{3})(?![0-9])"
)
# Anything that looks like a long run of digits with separators, which the phone matcher may not call valid
# (e.g. a mobile number typed with dots or spaces in odd places).
_LOOSE_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[ .\-]?([0-9]{4})[ .\-]?([0-9]{4})(?![0-9])")


def _fold_digits(text: str) -> str:
    # Full-width digits (１３９…) and other decimal digits become ASCII; nothing else changes length.
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


def _mask_digits(raw: str, keep_head: int, keep_tail: int) -> str:
    digits = [i for i, ch in enumerate(raw) if ch.isdigit()]
    hidden = set(digits[keep_head : len(digits) - keep_tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(raw))


def mask_personal_numbers(text: str) -> str:
    """Mask ID-card, mobile and landline numbers, keeping just enough digits to recognise them."""
    folded = _fold_digits(text)
    folded = _ID_CARD.sub(lambda m: m.group(0)[:4] + "*" * (len(m.group(0)) - 8) + m.group(0)[-4:], folded)
    spans: list[tuple[int, int, int]] = []
    for match in phonenumbers.PhoneNumberMatcher(folded, "CN", leniency=phonenumbers.Leniency.VALID):
        national = str(match.number.national_number)
        # Keep what says where the number belongs (country code, trunk 0, area code or the mobile prefix)
        # and the last four digits; hide the rest.
        prefix = sum(ch.isdigit() for ch in match.raw_string) - len(national)
        area = phonenumbers.length_of_geographical_area_code(match.number) or 3
        spans.append((match.start, match.end, prefix + area))
    out = folded
    for start, end, head in reversed(spans):
        out = out[:start] + _mask_digits(out[start:end], head, 4) + out[end:]
    return _LOOSE_MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", out)
