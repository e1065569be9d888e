"""What makes a report urgent: the reporter's own 🔥 tap, or words that describe danger to life right now — and
whom to call first when there is such danger.

Urgent cases run on the urgent clocks (claimed within a minute, on site within ten); staff may raise or lower
a case with a reason. The words below only *propose* urgency on the draft — the reporter sees it and can
take it back before submitting. The same words name the hazard, and a hazard to life comes with the
emergency numbers first (119, 120, the gas company, the lift and power lines: `EmergencyNumbers`), before
anything else the bot says: filing a case is no substitute for a fire brigade.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.cases.danger import KINDS, hazards, settled
from domain.cases.model import Classification

__all__ = ["EMERGENCY_SERVICES", "KINDS", "EmergencyNumbers", "danger_hint", "danger_in", "hazards", "suggests_urgent"]


def danger_in(text: str, cls: Classification | None = None) -> tuple[str, ...]:
    """The hazards to life a message describes: the lexicon's, and the classifier's reading when there is one
    (either is enough: a missed danger costs more than a needless emergency number)."""
    found = hazards(text)
    model = cls.danger if cls is not None else ()
    if not model or settled(text):
        return found  # a thread's "灭了, 没事了": the lexicon judged its own words; no other reading counts
    return _joined(found, model)


def danger_hint(text: str, cls: Classification) -> tuple[str, ...]:
    """Enough danger to offer in a group, where the other choice is silence: any reading, unless the message
    says it is over."""
    found = hazards(text)
    if not (cls.danger or cls.danger_hint) or settled(text):
        return found
    return _joined(found, cls.danger) or cls.danger_hint


def _joined(found: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    return found + tuple(dict.fromkeys(k for k in more if k in KINDS and k not in found))


def suggests_urgent(text: str, cls: Classification | None = None) -> bool:
    """Whether the words of a report describe immediate danger (and do not say it is not happening)."""
    return bool(danger_in(text, cls))


EMERGENCY_SERVICES = ("fire", "medical", "police", "gas", "lift", "power")


@dataclass(frozen=True)
class EmergencyNumbers:
    """Whom to call first, by hazard: each line a service (a word of the vocabulary) and its number. An office
    sets its own (the gas company's line is local); a service without a number is left out."""

    numbers: dict[str, str] = field(
        default_factory=lambda: {"fire": "119", "medical": "120", "police": "110", "lift": "96333", "power": "95598"}
    )
    # Which services each hazard calls for, most important first.
    calls: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "fire": ("fire",),
            "gas": ("gas", "fire"),
            "trapped": ("fire", "lift"),
            "injury": ("medical",),
            "electric": ("power", "fire"),
            "collapse": ("fire", "medical"),
            "flood": ("fire",),
        }
    )

    def advice(self, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
        """(service, number) to call for these hazards, each once, most urgent first."""
        out: list[tuple[str, str]] = []
        for kind in kinds:
            for service in self.calls.get(kind, ()):
                number = self.numbers.get(service)
                if number and (service, number) not in out:
                    out.append((service, number))
        return out
