"""Staff create an activity step by step in the bot; the answers are checked by the import file's own rules."""

from __future__ import annotations

from typing import Any

import yaml

from domain.kernel.awaiting import Awaited, Conversation
from domain.kernel.errors import Forbidden, Invalid, NotFound
from domain.kernel.people import User
from domain.kernel.time import Clock
from domain.org.model import Level, Unit
from domain.org.service import OrgService
from domain.volunteering.activities import ActivityService
from domain.volunteering.activity_file import TITLE_MAX, parse_activities
from domain.volunteering.model import Activity, Team
from domain.volunteering.ports import Forms

KIND = "activity"
# Every answer of the form, in the order it is shown back for confirmation.
FIELDS = ("community", "title", "description", "place", "start", "end", "capacity", "points_rule", "points", "team")
# Typed answers, in order; community, rule and team are chosen with buttons.
TEXT_STEPS = ("title", "description", "place", "start", "end", "capacity", "points")


class ActivityFormService:
    """community → title → description → place → start → end → capacity → rule → points → team → publish."""

    def __init__(
        self, forms: Forms, org: OrgService, activities: ActivityService, conversation: Conversation, clock: Clock
    ) -> None:
        self.forms = forms
        self.org = org
        self.activities = activities
        self.conversation = conversation
        self.clock = clock

    async def communities(self, user: User) -> list[Unit]:
        """Communities this person may organise for (staff of the community or of its street)."""
        return [u for u in await self.org.of_level(Level.COMMUNITY) if await self.org.may_handle(user, u.code)]

    async def start(self, user: User) -> list[Unit]:
        """Open a new form; returns the communities to choose from."""
        options = await self.communities(user)
        if not options:
            raise Forbidden("organiser_only")
        await self.forms.save(user.id, KIND, {"step": "community"})
        await self.conversation.expect(user.id, Awaited.ACTIVITY_FORM, "community")
        return options

    async def teams(self, user: User) -> list[Team]:
        """The teams of the form's community (to limit an activity to one)."""
        data = await self._form(user)
        return await self.activities.volunteers.teams(str(data.get("community")))

    async def form(self, user: User) -> dict[str, Any] | None:
        """The form in progress."""
        return await self.forms.get(user.id, KIND)

    async def _form(self, user: User) -> dict[str, Any]:
        data = await self.forms.get(user.id, KIND)
        if data is None:
            raise NotFound("no_form")
        return data

    async def choose(self, user: User, field: str, value: str) -> dict[str, Any]:
        """A button answer: community, points rule or team."""
        data = await self._form(user)
        if field != data.get("step"):
            raise Invalid("stale_button")
        if field == "community":
            if value not in {u.code for u in await self.communities(user)}:
                raise Forbidden("organiser_only")
            data.update(community=value, step="title")
        elif field == "points_rule":
            if value not in ("per_hour", "fixed"):
                raise Invalid("stale_button")
            data.update(points_rule=value, step="points")
        elif field == "team":
            # A button carries the team's id (a name could be too long for a button); the form keeps the name.
            teams = {str(tm.id): tm.name for tm in await self.activities.volunteers.teams(str(data.get("community")))}
            if value and value not in teams:
                raise Invalid("stale_button")
            data.update(team=teams.get(value), step="confirm")
        else:
            raise Invalid("stale_button")
        await self.forms.save(user.id, KIND, data)
        return data

    async def answer(self, user: User, text: str) -> dict[str, Any]:
        """A typed answer for the current step, checked as far as it can be on its own."""
        data = await self._form(user)
        step = data.get("step")
        if step not in TEXT_STEPS:
            raise Invalid("form_use_buttons")
        text = text.strip()
        if step in ("capacity", "points") and not (text.isascii() and text.isdigit() and len(text) <= 6):
            raise Invalid("form_number")
        if step in ("start", "end"):
            probe = {
                "community": "X",
                "title": "x",
                "place": "x",
                "capacity": 1,
                "points_rule": "fixed",
                "points": 0,
                "start": text,
                "end": text,
            }
            _, problems = parse_activities(yaml.safe_dump([probe], allow_unicode=True), "yaml")
            if any("start" in p or "end:" in p for p in problems if "after" not in p):
                raise Invalid("form_time")
        if not text:
            raise Invalid("empty_text")
        if step == "title" and len(text) > TITLE_MAX:
            raise Invalid("text_too_long", max=TITLE_MAX)
        data[step] = int(text) if step in ("capacity", "points") else text[:300]
        order = list(TEXT_STEPS)
        nxt = {"capacity": "points_rule", "points": "team"}.get(step) or order[order.index(step) + 1]
        data["step"] = nxt
        await self.forms.save(user.id, KIND, data)
        return data

    async def publish(self, user: User) -> Activity:
        """Check the whole form with the import rules, publish it, and forget the form."""
        data = await self._form(user)
        if data.get("step") != "confirm":
            raise Invalid("form_incomplete")
        row = {k: data.get(k) for k in FIELDS}
        specs, problems = parse_activities(yaml.safe_dump([row], allow_unicode=True), "yaml", now=self.clock())
        if problems:
            raise Invalid("form_problems", problems="；".join(p.split(": ", 1)[-1] for p in problems))
        act = await self.activities.publish(specs[0])
        await self.forms.delete(user.id, KIND)
        await self.conversation.done(user.id, Awaited.ACTIVITY_FORM)
        return act

    async def cancel(self, user: User) -> bool:
        """Drop the form."""
        had = await self.forms.get(user.id, KIND) is not None
        await self.forms.delete(user.id, KIND)
        await self.conversation.done(user.id, Awaited.ACTIVITY_FORM)
        return had
