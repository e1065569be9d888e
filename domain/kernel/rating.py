"""A person's verdict on help they received (a case handled, a service order done)."""

from __future__ import annotations

import enum


class Rating(enum.StrEnum):
    """满意 / 基本满意 / 不满意."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"
