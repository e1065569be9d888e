"""What makes a report urgent: the reporter's own 🔥 tap, or words that describe danger to life right now — and
whom to call first when there is such danger.

Urgent cases run on the urgent clocks (claimed within a minute, on site within ten); staff may raise or lower
a case with a reason. The words below only *propose* urgency on the draft — the reporter sees it and can
take it back before submitting. The same words name the hazard, and a hazard to life comes with the
emergency numbers first (119, 120, the gas company, the lift and power lines: `EmergencyNumbers`), before
anything else the bot says: filing a case is no substitute for a fire brigade.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Fire, smoke, gas, people trapped or hurt, things about to fall or collapse, live wires, water rising.
HAZARD_WORDS: dict[str, tuple[str, ...]] = {
    "fire": ("明火", "着火", "起火", "失火", "火灾", "烧起来", "冒烟", "浓烟", "着火了", "烧着了", "爆炸"),
    "gas": ("燃气泄漏", "煤气泄漏", "天然气泄漏", "漏气", "燃气味", "煤气味"),
    "trapped": ("有人被困", "被困", "困在电梯", "困电梯"),
    "injury": ("晕倒", "昏倒", "有人受伤", "流血", "落水", "溺水", "救命", "触电"),
    "electric": ("电线冒火花", "冒火花", "漏电"),
    "collapse": ("坍塌", "塌方", "要塌", "快塌", "倒塌", "要掉下来", "摇摇欲坠"),
    "flood": ("水漫进", "淹了"),
}
URGENT_WORDS = tuple(w for words in HAZARD_WORDS.values() for w in words)
_KIND = {w: kind for kind, words in HAZARD_WORDS.items() for w in words}
_PATTERN = re.compile("|".join(map(re.escape, sorted(URGENT_WORDS, key=len, reverse=True))))
# Words that say it is not happening now ("防止着火", "没有冒烟") keep a draft ordinary.
_NEGATED = re.compile(r"(没有|没|无|防止|预防|以防|避免|会不会|小心)(?:[^，。！？,.!?]{0,4})$")


def hazards(text: str) -> tuple[str, ...]:
    """The hazards to life a text describes as happening now, in the order it names them."""
    found: list[str] = []
    for m in _PATTERN.finditer(text or ""):
        before = text[max(0, m.start() - 8) : m.start()]
        kind = _KIND[m.group(0)]
        if not _NEGATED.search(before) and kind not in found:
            found.append(kind)
    return tuple(found)


def suggests_urgent(text: str) -> bool:
    """Whether the words of a report describe immediate danger (and do not say it is not happening)."""
    return bool(hazards(text))


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
