"""Residents talk in groups; a clear report gets one discreet offer, and only its author may accept it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from domain.cases.danger import settled
from domain.cases.intake import ReportService
from domain.cases.model import MAX_TEXT, Classification, Draft, GroupOffer
from domain.cases.ports import Offers
from domain.cases.rules import CaseRules
from domain.cases.urgency import danger_hint
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.markers import Markers
from domain.kernel.notices import Action, Audience, Notice, Notices, PostMode, Subject
from domain.kernel.people import User
from domain.kernel.time import Clock
from domain.org.model import ChannelRef, Unit
from domain.org.service import OrgService

LISTEN_MODES = ("on", "mention", "off")
DANGER_WINDOW = timedelta(minutes=30)


def offer_worthy(cls: Classification, threshold: float, mentioned: bool = False) -> bool:
    """Whether a group message reads as a report clearly enough to interrupt a conversation for it: the group
    score (a report-vs-chat model, when the classifier has one) else the intent's confidence."""
    if mentioned:
        # Whoever @mentions the bot is talking to it, not to the group: its most likely reading decides.
        return cls.intent == "report_issue" or (cls.report_score or 0.0) >= 0.5
    if cls.intent != "report_issue" and cls.report_score is None:
        return False
    score = cls.report_score if cls.report_score is not None else cls.confidence
    return score >= threshold


def follow_up(replying_to: Classification | None, threshold: float) -> bool:
    """A reply to a neighbour's message that itself reads as a report belongs to that report's thread ("我家也是",
    "好几天了", "物业说下午来"): the first message was the report, and its author was the one to ask."""
    return replying_to is not None and offer_worthy(replying_to, threshold)


def worth_offering(
    cls: Classification, threshold: float, mentioned: bool = False, replying_to: Classification | None = None
) -> bool:
    """The whole group decision for a message that is not a danger to life: it reads as a report, and it is not a
    follow-up in a report's thread."""
    return offer_worthy(cls, threshold, mentioned) and (mentioned or not follow_up(replying_to, threshold))


class GroupService:
    """Offers in groups to file a message as a report, and `/report` on someone's message."""

    def __init__(
        self,
        offers: Offers,
        reports: ReportService,
        org: OrgService,
        notices: Notices,
        clock: Clock,
        rules: CaseRules,
        offer_threshold: Callable[[], float],
        markers: Markers,
    ) -> None:
        self.offers = offers
        self.reports = reports
        self.org = org
        self.notices = notices
        self.clock = clock
        self.rules = rules
        # A callable: the classifier's calibration is read only when a group message is considered.
        self.offer_threshold = offer_threshold
        self.markers = markers

    async def listening(self, unit_code: str) -> str:
        """How the bot listens in a unit's group: on (offers under clear reports), mention (only when
        @mentioned), or off."""
        for mode in LISTEN_MODES[1:]:
            if await self.markers.seen(f"listen-{mode}:{unit_code}"):
                return mode
        return LISTEN_MODES[0]

    async def set_listening(self, actor: User, unit_code: str, mode: str) -> None:
        """Staff choose how the bot listens in their group."""
        if mode not in LISTEN_MODES:
            raise Invalid("listen_usage")
        await self.org.require(actor, unit_code, "staff_forbidden")
        for other in LISTEN_MODES[1:]:
            await self.markers.forget(f"listen-{other}:{unit_code}")
        if mode != LISTEN_MODES[0]:
            await self.markers.claim(f"listen-{mode}:{unit_code}")

    async def consider(
        self,
        chat: ChannelRef,
        author: User,
        text: str,
        photo: str | None,
        origin: str,
        cls: Classification,
        mentioned: bool = False,
        replying_to: Classification | None = None,
    ) -> bool:
        """Offer [上报][不用了] under a message in a bound group that reads as a report; at most once per author per
        cool-down. `replying_to`: how the neighbour's message it replies to reads (a thread's follow-ups are not new
        reports)."""
        # Danger to life is never passed over: not for a threshold, a cool-down or "only when @mentioned" (only a
        # group that turned listening off hears nothing), and the emergency numbers come with the offer.
        danger = danger_hint(text, cls)
        # What the message says is decided first, in memory: most group chat ends here, without a query.
        if not danger and (settled(text) or not worth_offering(cls, self.offer_threshold(), mentioned, replying_to)):
            return False  # "消防车来了", "井盖修好了": news of something in hand is no new report
        unit = await self.org.find_unit_for(chat)
        if unit is None:
            return False
        mode = await self.listening(unit.code)
        if mode == "off" or (mode == "mention" and not mentioned and not danger):
            return False
        if await self.org.may_handle(author, unit.code):
            return False
        now = self.clock()
        last = await self.offers.last_offer_at(unit.code, author.id)
        if not danger and last is not None and now - last < self.rules.offer_cooldown:
            return False
        if danger and not await self._first_alarm(unit.code, danger, now):
            return False  # the group already has the numbers for this danger: a thread is one offer
        offer_id = await self.offers.add(GroupOffer(0, unit.code, author.id, text[:MAX_TEXT], photo, "open"), now)
        advice = self.rules.emergency.advice(danger) if danger else []
        await self.notices.emit(
            Notice(
                "offer.made",
                Audience.unit(unit.code),
                {"advice": advice} if advice else {},
                (Action("offer.accept", offer_id), Action("offer.decline", offer_id)),
                Subject("offer", offer_id),
                PostMode.NEW,
                in_reply_to=origin,
                urgent=bool(danger),
            )
        )
        return True

    async def _first_alarm(self, unit_code: str, kinds: tuple[str, ...], now: datetime) -> bool:
        # One danger offer per group and hazard in a half-hour window: ten neighbours crying "着火了", "打119了没"
        # get the numbers once, not ten times.
        window = int(now.timestamp() // DANGER_WINDOW.total_seconds())
        first = False
        for kind in kinds:
            first = await self.markers.claim(f"danger:{unit_code}:{kind}:{window}") or first
        return first

    async def offer(self, offer_id: int) -> GroupOffer:
        """An offer, or NotFound (an expired button)."""
        offer = await self.offers.get(offer_id)
        if offer is None:
            raise NotFound("stale_button")
        return offer

    async def answer(self, offer_id: int, accept: bool, user: User, cls: Classification | None) -> bool:
        """The author's tap; anyone else is refused. Accepting turns the message into their draft."""
        offer = await self.offer(offer_id)
        if offer.user_id != user.id:
            raise Forbidden("offer_not_yours")
        if not await self.offers.close(offer_id, "accepted" if accept else "declined"):
            raise Conflict("already_answered")
        if accept:
            await self.file_for(user, offer.text, offer.photo_file_id, cls)
        await self.notices.emit(
            Notice(
                "offer.accepted" if accept else "offer.declined",
                Audience.unit(offer.unit_code),
                subject=Subject("offer", offer_id),
                mode=PostMode.CLOSE,
            )
        )
        return accept

    async def file_for(self, author: User, text: str, photo: str | None, cls: Classification | None) -> Draft:
        """A group message becomes its author's draft; they finish and submit it in private."""
        draft = await self.reports.start(author)
        if photo:
            draft = await self.reports.add_photo(author, photo, None, None)
        if text.strip():
            draft = await self.reports.add_text(author, text, cls)
        await self.notices.emit(Notice("offer.draft_ready", Audience.person(author.id)))
        return draft

    async def report_reply(
        self, unit: Unit | None, author: User, text: str, photo: str | None, cls: Classification | None
    ) -> Draft:
        """`/report` in reply to a message: its author gets a draft (nothing is filed without their tap)."""
        if unit is None:
            raise NotFound("chat_not_bound")
        if not text.strip() and not photo:
            raise Invalid("empty_text")
        draft = await self.file_for(author, text, photo, cls)
        # The group is told a draft exists, never whose (a resident is not named in a group).
        await self.notices.emit(Notice("offer.report_filed", Audience.unit(unit.code)))
        return draft
