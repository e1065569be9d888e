"""Typed callback data. Domain buttons name a prefix and fields; `pack` turns them into these."""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData


class CaseCb(CallbackData, prefix="case"):
    """A staff button on a group post: claim / onsite / resolve / reject / dispatch."""

    a: str
    id: int
    rev: int


class RateCb(CallbackData, prefix="rate"):
    """The reporter's rating of a resolved case."""

    id: int
    r: str
    rev: int


class DispatchCb(CallbackData, prefix="disp"):
    """Community staff send a case to one grid."""

    id: int
    rev: int
    g: str


class DraftCb(CallbackData, prefix="d"):
    """Draft actions: submit, cats, cat, comm, grids, place, cancel."""

    a: str
    v: str = ""


class RoleCb(CallbackData, prefix="role"):
    """Rider or resident, chosen once."""

    r: str


class MyCaseCb(CallbackData, prefix="my"):
    """Open one of my cases."""

    id: int


class RecatCb(CallbackData, prefix="rc"):
    """Staff correct a case's category."""

    id: int
    rev: int
    c: str


class OfferCb(CallbackData, prefix="grp"):
    """The author's answer to a group offer: yes / no."""

    a: str
    id: int


class ClarifyCb(CallbackData, prefix="clr"):
    """The sender says which intent an unsure message had."""

    id: int
    i: str


class ShopCb(CallbackData, prefix="shop"):
    """Supermarket and points screens: comm, items, item, buy, cert."""

    a: str
    v: str = ""


class ActCb(CallbackData, prefix="act"):
    """Activities: list, mine, join, leave, in, out."""

    a: str
    id: int


class VolCb(CallbackData, prefix="vol"):
    """Registration: reg, comm, team; staff review: ok, no."""

    a: str
    v: str = ""


class OrdCb(CallbackData, prefix="ord"):
    """Service orders: w-<when>, c-<community>, take, done, satisfied/basic/unsatisfied."""

    a: str
    id: int


class FormCb(CallbackData, prefix="form"):
    """Multi-step forms: community, points_rule, team, publish, cancel."""

    a: str
    v: str = ""


# Every callback class of this module, by prefix (a new class is registered by being defined here).
CALLBACKS: dict[str, type[CallbackData]] = {
    cls.__prefix__: cls  # type: ignore[attr-defined]
    for cls in CallbackData.__subclasses__()
    if cls.__module__ == __name__
}


def pack(prefix: str, fields: dict[str, Any]) -> str:
    """Callback data string for a domain button."""
    return CALLBACKS[prefix](**fields).pack()
