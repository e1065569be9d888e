"""The same problem reported twice: shown to the reporter before filing, followed instead; merged by staff.

On submit, open cases of the same category near the place (100 m; 250 m for road and public-facility
problems) from the last days, or any open case with the very same photo, are offered to the reporter:
"附近已有相同问题 …，是同一件吗？". Following adds them to that case: they are told of its progress, the
group post shows "+N 人反映", and their report counts for the original case (no second case is made).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from domain.cases.lifecycle import OPEN
from domain.cases.model import Case, Draft
from domain.cases.ports import Cases, Drafts, Followers
from domain.cases.service import CaseService
from domain.cases.sla import Policy
from domain.kernel.distance import distance_m
from domain.kernel.errors import Conflict, NotFound
from domain.kernel.notices import PostMode
from domain.kernel.people import User
from domain.kernel.privacy import mask_personal_numbers


class DuplicateService:
    """Finding the case a draft repeats, and following it."""

    def __init__(self, cases: Cases, drafts: Drafts, followers: Followers, case_service: CaseService, policy: Policy):
        self.cases = cases
        self.drafts = drafts
        self.followers = followers
        self.case_service = case_service
        self.policy = policy

    def radius(self, category: str) -> float:
        """How close counts as "the same place" for a category."""
        wide = category in self.policy.duplicate_wide_categories
        return self.policy.duplicate_radius_wide_m if wide else self.policy.duplicate_radius_m

    async def candidate(self, draft: Draft) -> Case | None:
        """An open case this draft probably repeats, as a stranger may see it (its text masked), or None."""
        found = await self._candidate(draft)
        if found is None:
            return None
        # What one person wrote is masked before anyone else sees it: the question goes to another reporter.
        return dataclasses.replace(found, description=mask_personal_numbers(found.description))

    async def _candidate(self, draft: Draft) -> Case | None:
        if draft.photo_unique_id:
            same_photo = [c for c in await self.cases.open_with_photo(draft.photo_unique_id) if c.state in OPEN]
            if same_photo:
                return same_photo[0]
        if draft.lat is None or draft.lon is None:
            return None
        category = draft.category or "other"
        since = self.case_service.clock() - timedelta(days=self.policy.duplicate_days)
        radius = self.radius(category)
        lat, lon = draft.lat, draft.lon
        near = [
            (distance_m(lat, lon, c.lat, c.lon), c.id, c)
            for c in await self.cases.open_near(category, since, lat, lon, radius)
            if c.state in OPEN and c.reporter_id != draft.user_id and c.lat is not None and c.lon is not None
        ]
        # Storage narrows to a box; the circle is measured here (a box corner is 1.4 radii away).
        within = sorted(x for x in near if x[0] <= radius)
        return within[0][2] if within else None

    async def follow(self, user: User, case_id: int) -> Case:
        """ "是，关注它": the draft is dropped and the person follows the case instead."""
        case = await self.case_service.get(case_id)
        if case.state not in OPEN:
            raise Conflict("case_closed")
        if await self.drafts.get(user.id) is None:
            raise NotFound("no_draft")
        if case.reporter_id != user.id:
            await self.followers.add(case.id, user.id, self.case_service.clock())
        await self.drafts.delete(user.id)
        await self.case_service.post.show(case, PostMode.UPDATE)
        return case
