"""The monthly credit-star board (信用之星): each community's top 10 by points earned last month."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from domain.i18n import t
from domain.model import Level, OutMessage
from domain.render import CHINA_TZ

if TYPE_CHECKING:
    from domain.services import Context

TOP_N = 10
# Posted on the 1st; a bot that was down then catches up within the first week, never later.
CATCH_UP_DAYS = 7


def previous_month(now: datetime) -> tuple[datetime, datetime, str]:
    """[start, end) of last month in Beijing time, and its label 2026-11."""
    local = now.astimezone(CHINA_TZ)
    end = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end, start.strftime("%Y-%m")


class BoardService:
    """Posts each bound community's monthly board once."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.repos = ctx.repos

    async def post_monthly(self) -> list[str]:
        """Post last month's boards that are not posted yet; returns the community codes posted to."""
        now = self.ctx.clock()
        if now.astimezone(CHINA_TZ).day > CATCH_UP_DAYS:
            return []
        start, end, label = previous_month(now)
        posted = []
        for unit in await self.repos.units.all():
            if unit.level is not Level.COMMUNITY or unit.chat_id is None:
                continue
            if not await self.repos.meta.claim(f"board:{label}:{unit.code}"):
                continue
            top = await self.repos.ledger.top_earners(unit.code, start, end, TOP_N)
            loc = self.ctx.group_locale
            month = t("board.month", loc, year=start.year, month=start.month)
            if not top:
                text = t("board.empty", loc, month=month, unit=html.escape(unit.name))
            else:
                lines = [t("board.title", loc, month=month, unit=html.escape(unit.name))]
                for rank, (user_id, points) in enumerate(top, start=1):
                    user = await self.repos.users.get(user_id)
                    medal = {1: "🥇", 2: "🥈", 3: "🥉"}.get(rank, f"{rank}.")
                    lines.append(f"{medal} {html.escape(user.display_name if user else '?')} · {points}")
                lines.append(t("board.footer", loc))
                text = "\n".join(lines)
            await self.repos.outbox.add(OutMessage(unit.chat_id, text))
            posted.append(unit.code)
        return posted
