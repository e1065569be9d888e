"""Moves that end a case or send it back: resolve (with its note), the reporter's rating, 回访, reopening."""

from __future__ import annotations

from domain.cases import lifecycle
from domain.cases.model import MAX_TEXT, Case, CaseEvent, CaseState
from domain.cases.moves import CaseMoves
from domain.kernel.awaiting import Awaited
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import CaseResolved
from domain.kernel.notices import Audience, Notice, Phrase, PostMode, Subject, Word
from domain.kernel.people import User
from domain.kernel.rating import Rating


class CaseVerdicts(CaseMoves):
    """Resolving, rating, following up and reopening."""

    async def _departments_done(self, case: Case) -> None:
        open_calls = [c for c in await self.calls.of_case(case.id) if c.state in ("called", "reported")]
        if open_calls:
            # 吹哨报到: a case is not finished while a called department has not finished its part.
            raise Conflict("departments_pending", n=len(open_calls))

    async def _ask_resolve_note(self, case: Case, actor: User) -> Case:
        await self._departments_done(case)
        # The note (and photo) come in the person's next reply; until then nothing changes.
        await self.conversation.expect(actor.id, Awaited.RESOLVE_NOTE, case.id)
        await self.notices.emit(
            Notice(
                "case.resolve_note_asked",
                Audience.person(actor.id),
                {"number": case.number, "who": actor.display_name},
                subject=Subject("case", case.id),
                fallback=Audience.unit(case.unit_code),
            )
        )
        return case

    async def resolve(self, actor: User, note: str, photo: str | None) -> Case:
        """The awaited resolve note: the case is resolved, the reporter told and asked to rate."""
        awaiting = await self.conversation.awaits(actor.id, Awaited.RESOLVE_NOTE)
        if awaiting is None:
            raise NotFound("nothing_pending")
        note = note.strip()
        if not note and not photo:
            raise Invalid("resolve_note_empty")
        if len(note) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        case = await self.get(awaiting.ref_id)
        t = await self._check(case, "resolve", case.rev, actor)
        await self.conversation.done(actor.id, Awaited.RESOLVE_NOTE)
        return await self._finish(case, actor, t.target or case.state, note, photo)

    async def resolve_now(self, case_id: int, rev: int, actor: User, note: str) -> Case:
        """Resolve with the note given at once (a console types it with the action)."""
        case = await self.get(case_id)
        t = await self._check(case, "resolve", rev, actor)
        await self._departments_done(case)
        note = note.strip()
        if not note:
            raise Invalid("resolve_note_empty")
        if len(note) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        return await self._finish(case, actor, t.target or case.state, note, None)

    async def add_note(self, case_id: int, actor: User, note: str) -> Case:
        """A staff note in the case's timeline (nothing else changes, nobody is messaged)."""
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        note = note.strip()
        if not note:
            raise Invalid("empty_text")
        if len(note) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        await self.cases.add_event(CaseEvent(case.id, actor.id, self.clock(), case.state, case.state, "note", note))
        return case

    async def _finish(self, case: Case, actor: User, target: CaseState, note: str, photo: str | None) -> Case:
        case = await self._move(case, actor, target, "resolve", note or None, photo=photo)
        await self.clocks.resolved(case)
        await self.show(case, PostMode.UPDATE, actor)
        await self.events.publish(CaseResolved(case.id, case.number, case.reporter_id, case.category, case.unit_code))
        await self.ask_rating(case, "case.resolved", note=note or "-", photo=photo)
        return case

    async def ask_rating(self, case: Case, kind: str, photo: str | None = None, **params: object) -> None:
        """Ask the reporter (and whoever follows the case) to rate it."""
        unit = await self.org.get(case.unit_code)
        actions = lifecycle.reporter_actions(case, unit.level)
        await self.notices.emit(
            Notice(kind, Audience.person(case.reporter_id), {"number": case.number, **params}, actions, photo=photo)
        )
        if kind == "case.resolved":
            # Followers are told the outcome; only the reporter rates, so they are not asked (nor reminded).
            for person in await self.followers.of_case(case.id):
                await self.notices.emit(
                    Notice(
                        "case.resolved_followed",
                        Audience.person(person),
                        {"number": case.number, **params},
                        photo=photo,
                    )
                )

    async def _rate(self, case: Case, actor: User, value: str) -> Case:
        try:
            verdict = Rating(value)
        except ValueError:
            raise Invalid("unknown_action") from None
        if verdict is Rating.UNSATISFIED:
            return await self._reopen(case, actor)
        case = await self._move(
            case, actor, CaseState.CLOSED, "rate", verdict.value, rating=verdict.value, close_reason="rated"
        )
        await self.clocks.stop(case, None)
        note = Phrase("case.note.rated", {"rating": Word(f"rating.{verdict.value}")})
        await self.show(case, PostMode.UPDATE, note=note)
        await self.tell_reporter(case, "case.closed", followers="case.closed_followed")
        return case

    async def _reopen(self, case: Case, actor: User | None, note: str = Rating.UNSATISFIED.value) -> Case:
        case = await self._move(
            case,
            actor,
            CaseState.NEW,
            "reopen",
            note,
            rating=None,
            assignee_id=None,
            reopen_count=case.reopen_count + 1,
            close_reason=None,
        )
        await self.clocks.start(case)
        # The old post keeps its history but loses its buttons; the rework gets a fresh post.
        await self.show(case, PostMode.CLOSE, note=Phrase("case.note.reopened"))
        await self.show(case, PostMode.NEW, banner="case.banner.rework")
        await self.tell_reporter(case, "case.reopened")
        return case

    async def close_unrated(self, case: Case) -> Case:
        """Nobody rated within the follow-up time: closed as unrated (never counted as satisfied)."""
        await self._check(case, "close_unrated", case.rev, None)
        case = await self._move(case, None, CaseState.CLOSED, "close_unrated", None, close_reason="unrated")
        await self.show(case, PostMode.UPDATE, note=Phrase("case.note.unrated"))
        await self.tell_reporter(case, "case.closed_unrated", followers="case.closed_followed")
        return case

    async def follow_up(self, case: Case, actor: User, verdict: str, note: str) -> Case:
        """回访 by phone: the community records the resident's verdict; an unsatisfied one reopens the case."""
        try:
            rating = Rating(verdict)
        except ValueError:
            raise Invalid("follow_up_usage") from None
        await self._check(case, "follow_up", case.rev, actor)
        if case.state is CaseState.CLOSED and case.close_reason != "unrated":
            raise Conflict("already_rated")
        detail = f"{rating.value}" + (f" {note.strip()[:MAX_TEXT]}" if note.strip() else "")
        if rating is Rating.UNSATISFIED:
            if case.state is CaseState.CLOSED:
                # An unrated case the phone call finds unsatisfying is reopened through the table's own path.
                case = await self._move(case, actor, CaseState.RESOLVED, "follow_up", detail, close_reason=None)
            return await self._reopen(case, actor, detail)
        case = await self._move(
            case, actor, CaseState.CLOSED, "follow_up", detail, rating=rating.value, close_reason="rated"
        )
        await self.clocks.stop(case, None)
        note_phrase = Phrase("case.note.followed_up", {"rating": Word(f"rating.{rating.value}")})
        await self.show(case, PostMode.UPDATE, actor, note=note_phrase)
        return case
