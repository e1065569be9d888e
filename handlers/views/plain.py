"""A second rendering of notices, as plain text: what a timeline, a log or a test reads.

It shows that a notice carries everything needed to tell it without any channel: the same notice that
becomes an HTML post with buttons on Telegram becomes one line of text here.
"""

from __future__ import annotations

import html
import re

from domain.kernel.notices import Notice
from handlers.i18n import TEXTS, plain, plain_value

_TAG = re.compile(r"<[^>]+>")


def plain_text(notice: Notice, locale: str = "zh-CN") -> str:
    """One line: to whom, what (from its template when there is one, else its parameters), what may follow."""
    to = f"{notice.audience.kind.value}:{notice.audience.key}" if notice.audience.key else notice.audience.kind.value
    key = f"notice.{notice.kind}"
    if TEXTS.template(key, locale) is not None:
        body = html.unescape(_TAG.sub("", plain(key, locale, **notice.params)))
    else:
        body = ", ".join(f"{k}={plain_value(v, locale)}" for k, v in notice.params.items() if v not in (None, ""))
        body = f"{notice.kind}({body})"
    actions = " ".join(f"[{a.name}]" for a in notice.actions)
    mode = f" ({notice.mode.value} post)" if notice.subject and notice.mode.value != "none" else ""
    return " ".join(x for x in (f"→ {to}{mode}:", " ".join(body.split()), actions) if x)
