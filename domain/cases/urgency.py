"""What makes a report urgent: the reporter's own 🔥 tap, or words that describe danger to life right now.

Urgent cases run on the urgent clocks (claimed within a minute, on site within ten); staff may raise or lower
a case with a reason. The words below only *propose* urgency on the draft — the reporter sees it and can
take it back before submitting.
"""

from __future__ import annotations

import re

# Fire, smoke, gas, people trapped or hurt, things about to fall or collapse, live wires, water rising.
URGENT_WORDS = (
    "明火", "着火", "起火", "失火", "火灾", "烧起来", "冒烟", "浓烟", "燃气泄漏", "煤气泄漏", "天然气泄漏", "漏气",
    "燃气味", "煤气味", "有人被困", "被困", "困在电梯", "困电梯", "触电", "电线冒火花", "冒火花", "坍塌", "塌方",
    "要塌", "快塌", "倒塌", "落水", "溺水", "晕倒", "昏倒", "爆炸", "要掉下来", "摇摇欲坠", "有人受伤", "流血",
    "救命", "着火了", "烧着了", "漏电", "水漫进", "淹了",
)  # fmt: skip
_PATTERN = re.compile("|".join(map(re.escape, URGENT_WORDS)))
# Words that say it is not happening now ("防止着火", "没有冒烟") keep a draft ordinary.
_NEGATED = re.compile(r"(没有|没|无|防止|预防|以防|避免|会不会|小心)(?:[^，。！？,.!?]{0,4})$")


def suggests_urgent(text: str) -> bool:
    """Whether the words of a report describe immediate danger (and do not say it is not happening)."""
    for m in _PATTERN.finditer(text or ""):
        before = text[max(0, m.start() - 8) : m.start()]
        if not _NEGATED.search(before):
            return True
    return False
