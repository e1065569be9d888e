"""Service orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orders import ServiceOrder
from storage.orm import ServiceOrderRow


def _order(r: ServiceOrderRow) -> ServiceOrder:
    return ServiceOrder(
        r.id, r.requester_id, r.what, r.state, r.community_code, r.when_text, r.volunteer_id, r.post_outbox_id, r.rating
    )


class OrderRepo:
    """Service orders of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, requester_id: int, what: str, at: datetime) -> ServiceOrder:
        """A draft order."""
        row = ServiceOrderRow(requester_id=requester_id, what=what, state="draft", created_at=at, flagged=False)
        self.s.add(row)
        await self.s.flush()
        return _order(row)

    async def get(self, order_id: int) -> ServiceOrder | None:
        """By id, fresh."""
        row = (
            await self.s.execute(
                select(ServiceOrderRow).where(ServiceOrderRow.id == order_id).execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _order(row) if row else None

    async def update(self, order_id: int, expected: str, **values: object) -> bool:
        """Compare-and-set on the state."""
        stmt = update(ServiceOrderRow).where(ServiceOrderRow.id == order_id, ServiceOrderRow.state == expected)
        if "flagged" in values:
            stmt = stmt.where(ServiceOrderRow.flagged.is_(False))
        res = await self.s.execute(stmt.values(**values))
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def untaken(self, before: datetime) -> list[ServiceOrder]:
        """Open, unflagged orders posted before `before`."""
        rows = await self.s.execute(
            select(ServiceOrderRow).where(
                ServiceOrderRow.state == "open", ServiceOrderRow.flagged.is_(False), ServiceOrderRow.posted_at < before
            )
        )
        return [_order(r) for r in rows.scalars()]
