"""aiogram routers: translate Telegram updates into domain calls; no SQL, no business rules."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Fresh routers (a router can belong to one dispatcher only), in priority order."""
    from handlers import activities, cases_admin, civic, fallback, forms, group, orders, points, private, volunteers

    return [
        forms.router(),
        orders.router(),
        volunteers.router(),
        activities.router(),
        points.router(),
        cases_admin.router(),
        civic.router(),
        private.router(),
        group.router(),
        fallback.router(),
    ]
