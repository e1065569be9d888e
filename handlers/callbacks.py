"""Typed callback data. Domain buttons name a prefix and fields; `pack` turns them into these."""

from __future__ import annotations

from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from domain.kernel.errors import Invalid

# Callback data comes from the user's client and can be forged: numbers are bounded so an absurd value is an
# expired button (the filter does not match; the fallback answers "stale"), never an overflow in the database.
ID_MAX = 2**53
Id = Annotated[int, Field(ge=0, le=ID_MAX)]
Rev = Annotated[int, Field(ge=0, le=2**31 - 1)]
Code = Annotated[str, Field(max_length=40)]


def bounded_id(text: str, code: str = "stale_button") -> int:
    """A user-supplied id (button field or command argument) as an int in range, else Invalid(code)."""
    text = text.strip().lstrip("#")
    if not text.isascii() or not text.isdigit() or len(text) > 16 or int(text) > ID_MAX:
        raise Invalid(code)
    return int(text)


class CaseCb(CallbackData, prefix="case"):
    """A staff button on a case post: claim / onsite / resolve / reject / dispatch / recat, and on a 督办 post
    takeover / reassign / urge."""

    a: Code
    id: Id
    rev: Rev


class AssignCb(CallbackData, prefix="asg"):
    """改派: the staff member a supervisor hands a held case to."""

    id: Id
    rev: Rev
    u: Id


class RateCb(CallbackData, prefix="rate"):
    """The reporter's rating of a resolved case."""

    id: Id
    r: Code
    rev: Rev


class DispatchCb(CallbackData, prefix="disp"):
    """Community staff send a case to one grid."""

    id: Id
    rev: Rev
    g: Code


class DraftCb(CallbackData, prefix="d"):
    """Draft actions: submit, cats, cat, comm, grids, place, cancel."""

    a: Code
    v: Code = ""


class RoleCb(CallbackData, prefix="role"):
    """Rider or resident, chosen once."""

    r: Code


class MyCaseCb(CallbackData, prefix="my"):
    """Open one of my cases."""

    id: Id


class RecatCb(CallbackData, prefix="rc"):
    """Staff correct a case's category."""

    id: Id
    rev: Rev
    c: Code


class OfferCb(CallbackData, prefix="grp"):
    """The author's answer to a group offer: yes / no."""

    a: Code
    id: Id


class ClarifyCb(CallbackData, prefix="clr"):
    """The sender says which intent an unsure message had."""

    id: Id
    i: Code


class ShopCb(CallbackData, prefix="shop"):
    """Supermarket and points screens: comm, items, item, buy, cert."""

    a: Code
    v: Code = ""


class ActCb(CallbackData, prefix="act"):
    """Activities: list, mine, join, leave, in, out."""

    a: Code
    id: Id


class VolCb(CallbackData, prefix="vol"):
    """Registration: reg, comm, team; staff review: ok, no."""

    a: Code
    v: Code = ""


class OrdCb(CallbackData, prefix="ord"):
    """Service orders: w-<when>, c-<community>, take, done, satisfied/basic/unsatisfied."""

    a: Code
    id: Id


class FormCb(CallbackData, prefix="form"):
    """Multi-step forms: community, points_rule, team, publish, cancel."""

    a: Code
    v: Code = ""


class CallCb(CallbackData, prefix="call"):
    """A called department: report (报到), note, done."""

    a: Code
    id: Id
    d: Code


class WhistleCb(CallbackData, prefix="wh"):
    """Call a department to a case (0 = show the list)."""

    id: Id
    d: Code = ""


class FixCb(CallbackData, prefix="fix"):
    """Turn a matter raised on a fixed day into a case."""

    id: Id
    i: Annotated[int, Field(ge=0, le=99)]


class BroadcastCb(CallbackData, prefix="bc"):
    """Send or cancel a prepared broadcast."""

    a: Code
    id: Id


class HomeCb(CallbackData, prefix="home"):
    """Home registration: reg, comm, cpd, bld; confirmation: ok, no (v: the home id)."""

    a: Code
    v: Code = ""


class MatterCb(CallbackData, prefix="mt"):
    """议事: show, vote (o: the option), acc (put to the vote), dec (decline)."""

    a: Code
    id: Id
    o: Annotated[int, Field(ge=0, le=99)] = 0


class AssessCb(CallbackData, prefix="as"):
    """The residents' rating of their property company: go, s (item i scored v), done."""

    a: Code
    r: Id
    i: Annotated[int, Field(ge=0, le=99)] = 0
    v: Annotated[int, Field(ge=0, le=9)] = 0


# Every callback class of this module, by prefix (a new class is registered by being defined here).
CALLBACKS: dict[str, type[CallbackData]] = {
    cls.__prefix__: cls  # type: ignore[attr-defined]
    for cls in CallbackData.__subclasses__()
    if cls.__module__ == __name__
}


def pack(prefix: str, fields: dict[str, Any]) -> str:
    """Callback data string for a domain button."""
    return CALLBACKS[prefix](**fields).pack()
