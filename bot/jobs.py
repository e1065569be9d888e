"""Jobs the runner repeats: the deadline sweeper, fixed-day reminders, monthly posts, broadcast reports."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.app import App
from domain.outreach.broadcast import broadcast_tag

log = logging.getLogger(__name__)
SWEEP_BATCH = 500
# Closed months' figures recomputed per round (a big street's month takes seconds): spread over rounds.
SNAPSHOTS_PER_ROUND = 2


@dataclass
class SweepResult:
    """What one round did."""

    deadlines: int = 0
    fixed_day_reminders: int = 0
    monthly_posts: int = 0
    broadcast_reports: int = 0
    snapshots: int = 0
    photos: int = 0
    matters: int = 0

    @property
    def anything(self) -> bool:
        """Whether messages were queued."""
        return bool(
            self.deadlines or self.fixed_day_reminders or self.monthly_posts or self.broadcast_reports or self.matters
        )


async def sweep(app: App) -> SweepResult:
    """One round: act on every due deadline (in batches, one transaction each), remind of fixed days, count the
    votes of matters whose window ended, close the property ratings whose window ended, post the month's figures
    on the 1st, report finished broadcasts, refresh a few stale closed-month figures, and keep new case photos in
    the office's media store."""
    result = SweepResult()
    while True:
        async with app.sessions.begin() as session:
            _, svc, _ = app.uow.unit_of_work(session)
            handled, acted = await svc.sweeper.sweep(SWEEP_BATCH)
        result.deadlines += acted
        if handled < SWEEP_BATCH:  # a full batch may hide more behind it, even if it was all no-ops
            break
    async with app.sessions.begin() as session:
        _, svc, _ = app.uow.unit_of_work(session)
        result.fixed_day_reminders = await svc.fixed_days.remind()
        result.matters = await svc.civic.matters.close_due()
        result.matters += await svc.civic.rating.close_due()
        result.monthly_posts = len(await svc.stats.post_monthly())
    result.broadcast_reports = await report_broadcasts(app)
    async with app.sessions.begin() as session:
        _, svc, _ = app.uow.unit_of_work(session)
        result.snapshots = await svc.stats.refresh_snapshots(SNAPSHOTS_PER_ROUND)
    result.photos = await app.photos.fetch_due()
    if result.anything:
        app.sender.wake()
    return result


def failure_reason(state: str, error: str | None) -> str:
    """Why a message was not delivered, as a reason the report names in words (never Telegram's raw English)."""
    text = (error or "").lower()
    if state == "cancelled":
        return "cancelled"
    if "kicked" in text or "not a member" in text or "forbidden" in text or "blocked" in text:
        return "removed"
    if "not found" in text or "notfound" in text or "deactivated" in text:
        return "gone"
    if "rights" in text or "not enough" in text or "restricted" in text:
        return "no_rights"
    if text.startswith("400") or "badrequest" in text:
        return "refused"
    return "unknown"


async def report_broadcasts(app: App) -> int:
    """Broadcasts whose every message was delivered or refused get their delivery report (once)."""
    reported = 0
    async with app.sessions() as session:
        _, svc, _ = app.uow.unit_of_work(session)
        pending = await svc.broadcasts.sending()
        if not pending:
            return 0  # the usual case: the sweep stays one cheap query here
        units = {u.code for u in await svc.org.all()}
    for broadcast in pending:
        outcomes = await app.store.outcomes(broadcast_tag(broadcast.id))
        if len(outcomes) < len(broadcast.audience) or any(state in ("pending", "inflight") for _, state, _ in outcomes):
            continue
        async with app.sessions.begin() as session:
            uow, svc, _ = app.uow.unit_of_work(session)
            by_chat = {}
            for code in broadcast.audience:
                if code in units:
                    address = await uow.ports.units.channel(code, "telegram")
                    if address is not None:
                        by_chat[int(address)] = code
            sent = [by_chat.get(chat, str(chat)) for chat, state, _ in outcomes if state == "sent"]
            failed = [
                (by_chat.get(chat, str(chat)), failure_reason(state, error))
                for chat, state, error in outcomes
                if state != "sent"
            ]
            reported += await svc.broadcasts.delivered(broadcast.id, sent, failed)
    return reported
