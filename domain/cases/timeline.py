"""A case's story in words: each recorded step's detail decoded once, so the chat, the console, the Excel ledger
and Open311 show the same timeline and never a code (`claim`, `QH-01`, `satisfied`).

The timeline stores a step's detail as short text (`CaseEvent.note`); what that text holds depends on the step
(`DETAILS`): a deadline kind, a rating, a category change, a unit code, a case number, a name, or free text
somebody wrote. The writers below produce it and `detail` reads it back as a word or a phrase of the domain's
vocabulary (`timeline.*` in `domain/kernel/words`), which every front end renders in its reader's language.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.cases.model import CATEGORIES, CaseEvent
from domain.kernel.notices import Phrase, Word
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.rating import Rating


class Detail(enum.StrEnum):
    """What a step's recorded detail holds."""

    NONE = "none"
    TEXT = "text"  # what somebody wrote
    DEADLINE = "deadline"  # claim | on_site | resolve
    VERDICT = "verdict"  # a rating, then optionally what the resident said
    CHANGE = "change"  # old→new category
    UNIT = "unit"  # a unit's code
    UNIT_OR_TEXT = "unit_or_text"  # the sweeper's unit code, or staff's reason
    NUMBER = "number"  # another case's number
    NAME = "name"  # a person's display name


DETAILS: dict[str, Detail] = {
    "resolve": Detail.TEXT,
    "note": Detail.TEXT,
    "pause": Detail.TEXT,
    "urgent": Detail.TEXT,
    "not_urgent": Detail.TEXT,
    "override": Detail.TEXT,
    "urge": Detail.TEXT,
    "dept_note": Detail.TEXT,
    "overdue": Detail.DEADLINE,
    "rate": Detail.VERDICT,
    "reopen": Detail.VERDICT,
    "follow_up": Detail.VERDICT,
    "recategorize": Detail.CHANGE,
    "dispatch": Detail.UNIT,
    "whistle": Detail.UNIT,
    "report_in": Detail.UNIT,
    "dept_done": Detail.UNIT,
    "supervise": Detail.UNIT,
    "takeover": Detail.UNIT,
    "escalate": Detail.UNIT_OR_TEXT,
    "merge": Detail.NUMBER,
    "merged_in": Detail.NUMBER,
    "assign": Detail.NAME,
    "reassign": Detail.NAME,
}
DEADLINE_KINDS = ("claim", "on_site", "resolve", "escalate", "follow_up_remind", "follow_up_close", "report_in")


def change_note(old: str, new: str) -> str:
    """A category change as the timeline keeps it."""
    return f"{old}→{new}"


def verdict_note(rating: Rating, text: str = "") -> str:
    """A rating (and what the resident said) as the timeline keeps it."""
    return f"{rating.value} {text.strip()}".strip()


@dataclass(frozen=True)
class Step:
    """One step of a case's story as anyone reads it."""

    at: datetime
    action: str
    what: Word
    who: str | None  # the staff member (never the reporter, who is shown by role only)
    detail: object  # a Word, a Phrase, plain text, or None
    photo: str | None


def detail(action: str, note: str | None, units: Mapping[str, str], by_reporter: bool = False) -> object:
    """A step's detail in words (None when it has none); what a reporter wrote is masked."""
    if not note:
        return None
    kind = DETAILS.get(action, Detail.TEXT)
    if kind is Detail.DEADLINE:
        return Phrase("timeline.overdue", {"deadline": Word(f"deadline.{note}")}) if note in DEADLINE_KINDS else note
    if kind is Detail.VERDICT:
        head, _, said = note.partition(" ")
        if head not in {r.value for r in Rating}:
            return mask_personal_numbers(note)
        rating = Word(f"rating.{head}")
        return Phrase("timeline.verdict", {"rating": rating, "said": said}) if said else rating
    if kind is Detail.CHANGE:
        old, _, new = note.partition("→")
        if old in CATEGORIES and new in CATEGORIES:
            return Phrase("timeline.change", {"old": Word(f"category.{old}"), "new": Word(f"category.{new}")})
        return note
    if kind in (Detail.UNIT, Detail.UNIT_OR_TEXT):
        if note in units:
            return Phrase("timeline.unit", {"unit": units[note]})
        return note if kind is Detail.UNIT_OR_TEXT else Phrase("timeline.unit", {"unit": note})
    if kind is Detail.NUMBER:
        return Phrase(f"timeline.{action}", {"number": note})
    if kind is Detail.NAME:
        return Phrase("timeline.to_person", {"name": note})
    return mask_personal_numbers(note) if by_reporter else note


def steps(events: list[CaseEvent], reporter_id: int, names: Mapping[int, str], units: Mapping[str, str]) -> list[Step]:
    """A timeline in words: who did what, with its detail; the reporter named by no one."""
    out = []
    for e in events:
        mine = e.actor_id == reporter_id
        who = names.get(e.actor_id) if e.actor_id is not None and not mine else None
        out.append(
            Step(
                e.at, e.action, Word(f"action.{e.action}"), who, detail(e.action, e.note, units, mine), e.photo_file_id
            )
        )
    return out
