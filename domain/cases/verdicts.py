"""The steps that end a round: the reporter's rating, a phone follow-up (回访), closing unrated, and a merge."""

from __future__ import annotations

from domain.cases.lifecycle import RULES
from domain.cases.model import MAX_TEXT, Case, CaseState
from domain.cases.steps import Deps, Move
from domain.cases.timeline import verdict_note
from domain.kernel.errors import Conflict, Forbidden, Invalid
from domain.kernel.notices import Phrase, PostMode, Word
from domain.kernel.people import User
from domain.kernel.rating import Rating


class Verdicts:
    """How a case is judged and closed."""

    def __init__(self, d: Deps) -> None:
        self.d = d

    async def do_rate(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """满意 / 基本满意: the case closes."""
        try:
            verdict = Rating(value)
        except ValueError:
            raise Invalid("unknown_action") from None
        if verdict is Rating.UNSATISFIED:
            return Move(then=RULES["reopen"])
        return Move(
            note=verdict.value,
            changes={"rating": verdict, "close_reason": "rated"},
            card_note=Phrase("case.note.rated", {"rating": Word(f"rating.{verdict.value}")}),
        )

    async def do_reopen(self, case: Case, actor: User | None, value: str, photo: str | None) -> Move:
        """不满意: rework, a fresh round of clocks, a fresh post."""
        return Move(
            note=value or Rating.UNSATISFIED.value,
            changes={"rating": None, "reopen_count": case.reopen_count + 1, "close_reason": None},
            card_note=Phrase("case.note.reopened"),
            banner="case.banner.rework",
        )

    async def do_follow_up(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """回访 by phone: the resident's verdict is the rating; an unsatisfied one reopens the case."""
        head, _, said = value.strip().partition(" ")
        try:
            rating = Rating(head)
        except ValueError:
            raise Invalid("follow_up_usage") from None
        note = verdict_note(rating, said[:MAX_TEXT])
        if rating is Rating.UNSATISFIED:
            if case.state is CaseState.CLOSED:
                # An unrated case the phone call finds unsatisfying is reopened through the table's own path.
                case = await self.d.record.move(
                    case, actor.id, CaseState.RESOLVED, "follow_up", note, close_reason=None
                )
            else:
                await self.d.record.step(case, actor.id, "follow_up", note)
            return Move(then=RULES["reopen"], note=note, done=case)
        return Move(
            note=note,
            changes={"rating": rating, "close_reason": "rated"},
            card_note=Phrase("case.note.followed_up", {"rating": Word(f"rating.{rating.value}")}),
        )

    async def do_close_unrated(self, case: Case, actor: None, value: str, photo: str | None) -> Move:
        """Nobody rated within the follow-up time: closed as unrated (never counted as satisfied)."""
        return Move(changes={"close_reason": "unrated"}, card_note=Phrase("case.note.unrated"))

    async def do_remind_rating(self, case: Case, actor: None, value: str, photo: str | None) -> Move:
        """回访 reminder: the reporter is asked again (once)."""

        async def ask(moved: Case) -> None:
            await self.d.post.ask_rating(moved, "case.rate_reminder")

        return Move(tell=None, after=ask)

    async def do_merge(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """Close a duplicate into the case it repeats; its reporter (and followers) follow that case."""
        original = await self.d.record.get(int(value)) if value.isdigit() and len(value) < 19 else None
        if (
            original is None
            or original.id == case.id
            or original.state not in (CaseState.NEW, CaseState.CLAIMED, CaseState.ON_SITE)
        ):
            raise Conflict("cannot_merge")
        if not await self.d.org.may_handle(actor, original.unit_code):
            raise Forbidden("not_your_case")

        async def follow(moved: Case) -> None:
            now = self.d.record.clock()
            for person in [moved.reporter_id, *await self.d.followers.of_case(moved.id)]:
                if person != original.reporter_id:
                    await self.d.followers.add(original.id, person, now)
            await self.d.record.step(original, actor.id, "merged_in", moved.number)
            await self.d.post.tell(original.reporter_id, "case.merged_in", original, other=moved.number)
            await self.d.post.show(original, PostMode.UPDATE)
            for close in self.d.closers:
                await close(moved)

        return Move(
            note=original.number,
            changes={"merged_into": original.id, "close_reason": "merged"},
            status=Phrase("case.status.merged_into", {"number": original.number}),
            tell_params={"into": original.number},
            after=follow,
        )
