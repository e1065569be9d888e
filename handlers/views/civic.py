"""Replies and cards of residents' self-government: homes, building heads, 议事 matters and ballots."""

from __future__ import annotations

from collections.abc import Mapping

from domain.civic.assessment import PARTS, Standing
from domain.civic.board import BuildingLine
from domain.civic.homes import HomeView
from domain.civic.matters import Ballot
from domain.civic.model import CaseBrief
from domain.civic.teams import TeamView
from domain.kernel.notices import Word
from domain.kernel.privacy import mask_personal_numbers
from handlers.callbacks import AssessCb, HomeCb, MatterCb
from handlers.i18n import Markup, local_time, plain, t
from handlers.text import clip_plain
from handlers.views.messages import Button, TgMessage, rows


def address(p: Mapping[str, object], locale: str) -> Markup:
    """A home's address (小区 楼栋 单元 室), as only its resident, heads and staff see it."""
    key = "civic.address" if p.get("entrance") else "civic.address_no_entrance"
    return t(key, locale, compound=p["compound"], building=p["building"], entrance=p.get("entrance", ""),
             room=p["room"])  # fmt: skip


def _home_params(v: HomeView) -> dict[str, object]:
    return {"compound": v.compound, "building": v.building, "entrance": v.home.entrance, "room": v.home.room}


def homes(chat: int, mine: list[HomeView], headed: list[str], locale: str) -> TgMessage:
    """My homes and their state; a building head also sees the buildings they serve."""
    lines = [t("civic.homes_title", locale)]
    if not mine:
        lines.append(t("civic.homes_none", locale))
    for v in mine:
        lines.append(t("civic.home_line", locale, address=address(_home_params(v), locale),
                       state=plain(f"civic.state.{v.home.state.value}", locale)))  # fmt: skip
    buttons = [[Button(plain("civic.register_button", locale), HomeCb(a="reg").pack())]]
    if headed:
        lines.append(t("civic.heads_line", locale, buildings="、".join(headed)))
        buttons.append([Button(plain("civic.pending_button", locale), HomeCb(a="pending").pack()),
                        Button(plain("civic.cases_button", locale), HomeCb(a="cases").pack())])  # fmt: skip
    return TgMessage(chat, "\n".join(lines), buttons=buttons)


def pick(chat: int, key: str, choices: list[tuple[str, str, str]], locale: str) -> TgMessage:
    """A step of registration: buttons of (label, action, value)."""
    if not choices:
        return TgMessage(chat, t("civic.no_places", locale))
    return TgMessage(chat, t(key, locale), buttons=rows([Button(n, HomeCb(a=a, v=v).pack()) for n, a, v in choices], 2))


def pending(chat: int, waiting: list[HomeView], names: Mapping[int, str], locale: str) -> TgMessage:
    """Homes waiting for this person's confirmation, a pair of buttons each."""
    if not waiting:
        return TgMessage(chat, t("civic.pending_none", locale))
    lines = [t("civic.pending_title", locale)]
    buttons = []
    for i, v in enumerate(waiting, start=1):
        lines.append(t("civic.pending_line", locale, i=i, name=names.get(v.home.user_id, ""),
                       address=address(_home_params(v), locale)))  # fmt: skip
        buttons.append([
            Button(plain("civic.confirm_n", locale, i=i), HomeCb(a="ok", v=str(v.home.id)).pack()),
            Button(plain("civic.refuse_n", locale, i=i), HomeCb(a="no", v=str(v.home.id)).pack()),
        ])  # fmt: skip
    return TgMessage(chat, "\n".join(lines), buttons=buttons)


def review(p: Mapping[str, object], locale: str) -> Markup:
    """A registration as its reviewers see it (and, once decided, who decided)."""
    lines = [t("civic.review", locale, id=p["id"], name=p["name"], address=address(p, locale))]
    if "decided" in p:
        key = "civic.review_confirmed" if p.get("confirmed") else "civic.review_refused"
        lines.append(t(key, locale, who=p["decided"]))
    return Markup("\n".join(lines))


def review_buttons(home_id: int, locale: str) -> list[list[Button]]:
    """确认 / 不符 under a registration."""
    return [[Button(plain("civic.confirm", locale), HomeCb(a="ok", v=str(home_id)).pack()),
             Button(plain("civic.refuse", locale), HomeCb(a="no", v=str(home_id)).pack())]]  # fmt: skip


def matter_text(p: Mapping[str, object], locale: str, result: bool = False) -> Markup:
    """A matter's card: what, options, who may vote, until when; with the count once it is closed."""
    lines = [t("civic.matter_title", locale, id=p["id"], title=p["title"])]
    if p.get("body"):
        lines.append(t("civic.matter_body", locale, body=p["body"]))
    options = [str(o) for o in p.get("options") or []]  # type: ignore[attr-defined]
    counts = list(p.get("counts") or [])  # type: ignore[call-overload]
    if result:
        for i, option in enumerate(options):
            lines.append(t("civic.count_line", locale, option=option, n=counts[i] if i < len(counts) else 0))
        key = "civic.quorum_met" if p.get("quorum_met") else "civic.quorum_missed"
        lines.append(t("civic.turnout", locale, turnout=p["turnout"], eligible=p["eligible"]))
        lines.append(t(key, locale, quorum=p["quorum"]))
    else:
        lines.append(t("civic.options", locale, options=" / ".join(options)))
    lines.append(t("civic.matter_scope", locale, scope=p["scope"], per=plain(f"civic.per.{p['per']}", locale),
                   eligible=p["eligible"], quorum=p["quorum"]))  # fmt: skip
    if not result and p.get("closes"):
        lines.append(t("civic.closes", locale, at=local_time(p["closes"])))  # type: ignore[arg-type]
    return Markup("\n".join(lines))


def vote_button(matter_id: int, bot: str | None, locale: str) -> list[list[Button]]:
    """[投票]: opens the private chat on the ballot (a group never sees how anyone voted)."""
    if bot:
        return [[Button(plain("civic.vote_button", locale), url=f"https://t.me/{bot}?start=m{matter_id}")]]
    return [[Button(plain("civic.vote_button", locale), MatterCb(a="how", id=matter_id).pack())]]


def ballot(chat: int, b: Ballot, card: Mapping[str, object], locale: str) -> TgMessage:
    """The ballot in private chat: the options as buttons, the current choice marked."""
    text = matter_text(card, locale, result=b.matter.state.value in ("closed", "decided"))
    if b.matter.state.value != "open":
        return TgMessage(chat, Markup(text + "\n" + t("civic.ballot_closed", locale)))
    if not b.eligible:
        button = [[Button(plain("civic.register_button", locale), HomeCb(a="reg").pack())]]
        return TgMessage(chat, Markup(text + "\n" + t("civic.not_eligible", locale, scope=b.scope)), buttons=button)
    marked = [("✅ " if b.choice == i else "") + o for i, o in enumerate(b.matter.options)]
    hint = t("civic.ballot_hint" if b.choice is None else "civic.ballot_change", locale)
    buttons = [[Button(m, MatterCb(a="v", id=b.matter.id, o=i).pack())] for i, m in enumerate(marked)]
    return TgMessage(chat, Markup(text + "\n\n" + hint), buttons=buttons)


def open_list(chat: int, ballots: list[Ballot], locale: str) -> TgMessage:
    """Open matters this person may vote on."""
    if not ballots:
        return TgMessage(chat, t("civic.votes_none", locale))
    lines = [t("civic.votes_title", locale)]
    buttons = []
    for b in ballots:
        mark = plain("civic.voted", locale) if b.choice is not None else ""
        lines.append(t("civic.votes_line", locale, id=b.matter.id, title=b.matter.title, mark=mark,
                       at=local_time(b.matter.closes_at) if b.matter.closes_at else ""))  # fmt: skip
        buttons.append([Button(f"#{b.matter.id} {b.matter.title}", MatterCb(a="show", id=b.matter.id).pack())])
    return TgMessage(chat, "\n".join(lines), buttons=buttons)


def rating_item(chat: int, round_id: int, index: int, item: str, total: int, locale: str) -> TgMessage:
    """One item of the rating: 1–5 as buttons."""
    text = t("civic.rating_item", locale, i=index + 1, n=total, item=item)
    buttons = [[Button(f"{v}", AssessCb(a="s", r=round_id, i=index, v=v).pack()) for v in range(1, 6)]]
    return TgMessage(chat, text, buttons=buttons)


def rating_comment(chat: int, round_id: int, locale: str) -> TgMessage:
    """After the last item: a comment, or submit as it is."""
    button = [[Button(plain("civic.rating_submit", locale), AssessCb(a="done", r=round_id).pack())]]
    return TgMessage(chat, t("civic.rating_ask_comment", locale), buttons=button)


def score(value: float | None, locale: str) -> str:
    """A 0–100 score, or a dash when there is no figure."""
    return f"{value:.1f}" if value is not None else plain("stats.none", locale)


def ranking_text(quarter: str, rows: list[Standing], locale: str) -> Markup:
    """The quarter's 五位一体 ranking, with the parts behind each score."""
    if not rows:
        return t("civic.ranking_empty", locale, quarter=quarter)
    lines = [t("civic.ranking_title", locale, quarter=quarter)]
    for r in rows:
        parts = "，".join(plain(f"civic.part.{k}", locale) + " " + score(r.parts.get(k), locale) for k in PARTS)
        key = "civic.ranking_line_flagged" if r.flagged else "civic.ranking_line"
        lines.append(t(key, locale, rank=r.rank or "–", name=r.name, total=score(r.total, locale), parts=parts,
                       n=r.respondents))  # fmt: skip
    lines.append(t("civic.ranking_footer", locale))
    return Markup("\n".join(lines))


def head_cases(chat: int, cases: list[tuple[str, CaseBrief]], locale: str) -> TgMessage:
    """Open cases in a building head's compounds (what and how far along; never who reported)."""
    if not cases:
        return TgMessage(chat, t("civic.cases_none", locale))
    lines = [t("civic.cases_title", locale)]
    for compound, c in cases:
        lines.append(t("civic.case_line", locale, compound=compound, number=c.number,
                       category=Word(f"category.{c.category}"), state=Word(f"state.{c.state}"),
                       description=clip_plain(mask_personal_numbers(c.description), 40)))  # fmt: skip
    return TgMessage(chat, "\n".join(lines))


def teams_text(teams: list[TeamView], locale: str) -> Markup:
    """4+N teams: buildings, members by role, the roles still empty."""
    if not teams:
        return t("civic.teams_none", locale)
    lines = []
    for team in teams:
        lines.append(t("civic.team_title", locale, id=team.id, buildings="、".join(team.buildings)))
        for name, role in team.members:
            lines.append(t("civic.team_member", locale, name=name, role=plain(f"civic.role.{role}", locale)))
        if team.missing:
            missing = "、".join(plain(f"civic.role.{r}", locale) for r in team.missing)
            lines.append(t("civic.team_missing", locale, roles=missing))
    return Markup("\n".join(lines))


HEADS_SHOWN = 60


def heads_text(lines: list[BuildingLine], locale: str) -> Markup:
    """Every building of the unit with its heads (the grid head's list to reach them); homes as counts only."""
    if not lines:
        return t("civic.heads_none", locale)
    out = [t("civic.heads_title", locale)]
    for b in lines[:HEADS_SHOWN]:
        heads = "、".join(b.heads) or plain("civic.heads_vacant", locale)
        out.append(t("civic.heads_building", locale, compound=b.compound, building=b.building, heads=heads,
                     confirmed=b.confirmed))  # fmt: skip
    if len(lines) > HEADS_SHOWN:
        out.append(t("civic.heads_more", locale, n=len(lines) - HEADS_SHOWN))
    return Markup("\n".join(out))
