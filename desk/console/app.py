"""The staff console: server-rendered pages on the same domain services as the chat.

Sign-in is by a one-time link from /console in a private chat; the session lives in an HttpOnly, SameSite
cookie; every form carries the session's CSRF token; every change goes through the domain (the same rules,
timeline entries and Telegram messages as a button press) and into the audit log.
"""

from __future__ import annotations

import hmac
import io
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from desk.console.svg import GridShape, Legend, Pin, Series, Tiles, bar_chart, line_chart, map_svg
from desk.console.telegram_login import verified_id
from desk.ledgers import LINE_LEDGERS, Sheet, cell, collect, plain_word, read_lines, table, text, to_bytes, workbook
from domain.cases.model import CATEGORIES
from domain.civic.assessment import PARTS, quarter_label, quarter_of
from domain.kernel.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from domain.kernel.i18n import say
from domain.kernel.people import UserRef
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.time import CHINA_TZ, local
from domain.org.access import ConsoleSession
from domain.reporting.ledgers import KINDS, parse_month
from domain.reporting.model import CaseFilter
from domain.services import Services

Scope = Callable[[], AbstractAsyncContextManager[Services]]
PhotoSource = Callable[[str], Awaitable[bytes | None]]
COOKIE = "gridbot_console"


def content_policy(scripts: str = "'none'", frames: str = "", images: str = "") -> str:
    """The pages' Content-Security-Policy: no scripts, inline styles only (the pages carry their own small
    stylesheet), images from here; a page may allow named sources more."""
    policy = f"default-src 'self'; script-src {scripts}; img-src 'self' data:{' ' + images if images else ''}; "
    return policy + "style-src 'self' 'unsafe-inline'" + (f"; frame-src {frames}" if frames else "")


CSP = content_policy()
# The sign-in page alone runs Telegram's login button, which loads its script and frame from Telegram.
WIDGET_CSP = content_policy(scripts="https://telegram.org", frames="https://oauth.telegram.org")


@dataclass(frozen=True)
class LoginWidget:
    """The Telegram Login Widget: the bot it logs in with, and that bot's token to check Telegram's signature."""

    bot_username: str
    bot_token: str


TEMPLATES = Path(__file__).parent / "templates"
STATES = ("new", "claimed", "on_site", "resolved", "closed")
# The line ledgers the console lists (cases have their own list); a page shows this many rows, the download all.
LISTED = ("activities", "teams", "hours", "points", "redemptions")
ROWS_SHOWN = 500


def _locale(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh-CN"


def _when(moment: datetime | None) -> str:
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1) if end else day, time(0), CHINA_TZ)


class Console:
    """The console's routes."""

    def __init__(
        self,
        scope: Scope,
        photos: PhotoSource | None = None,
        error_text: Callable[..., str] | None = None,
        widget: LoginWidget | None = None,
        tiles: Tiles | None = None,
    ):
        self.scope = scope
        self.photos = photos
        self.error_text = error_text
        self.widget = widget
        self.tiles = tiles
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
        self.env.filters["when"] = _when
        self.env.filters["masked"] = mask_personal_numbers
        self.env.filters["cell"] = _shown

    def routes(self) -> list[BaseRoute]:
        """The routes to add to the web app."""
        return [
            Route("/console", self.home),
            Route("/console/", self.home),
            Route("/console/login", self.login),
            Route("/console/login/telegram", self.login_telegram),
            Route("/console/signed-out", self.signed_out),
            Route("/console/logout", self.logout, methods=["POST"]),
            Route("/console/cases", self.cases),
            Route("/console/cases/{number}", self.case, methods=["GET", "POST"]),
            Route("/console/photo/{number}/{index:int}", self.photo),
            Route("/console/map", self.map),
            Route("/console/dashboard", self.dashboard),
            Route("/console/export", self.export),
            Route("/console/volunteers", self.volunteers),
            Route("/console/ledger/{kind}", self.ledger),
            Route("/console/audit", self.audit),
            Route("/console/residents", self.residents),
            Route("/console/residents/export", self.residents_export),
            Route("/console/property", self.property, methods=["GET", "POST"]),
        ]

    # ---- rendering and sessions

    def _page(
        self,
        request: Request,
        name: str,
        session: ConsoleSession | None,
        status: int = 200,
        csp: str = CSP,
        **ctx: Any,
    ) -> Response:
        locale = _locale(request)

        def t(key: str, **params: object) -> str:
            return text(key, locale, **params)

        def word(key: str) -> str:
            return plain_word(key, locale)

        def say_(v: object) -> str:
            return say(v, locale)

        html = self.env.get_template(name).render(t=t, word=word, say=say_, session=session, request=request, **ctx)
        response = HTMLResponse(html, status_code=status)
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _session(self, request: Request, svc: Services) -> ConsoleSession:
        session = await svc.access.session(request.cookies.get(COOKIE))
        if session is None:
            raise _SignIn()
        return session

    def _refusal(self, request: Request, e: DomainError) -> str:
        if self.error_text is not None:
            return self.error_text(e, _locale(request))
        return e.code

    async def _guarded(
        self, request: Request, handler: Callable[[Services, ConsoleSession], Awaitable[Response]]
    ) -> Response:
        session: ConsoleSession | None = None
        try:
            async with self.scope() as svc:
                session = await self._session(request, svc)
                return await handler(svc, session)
        except _SignIn:
            return RedirectResponse("/console/signed-out", status_code=303)
        # A refusal keeps the header and a way back for someone signed in.
        except Forbidden as e:
            return self._page(request, "message.html", session, 403, message=self._refusal(request, e))
        except NotFound as e:
            return self._page(request, "message.html", session, 404, message=self._refusal(request, e))
        except Invalid as e:
            return self._page(request, "message.html", session, 400, message=self._refusal(request, e))

    # ---- sign-in

    async def home(self, request: Request) -> Response:
        """To the case list."""
        return RedirectResponse("/console/cases", status_code=303)

    async def login(self, request: Request) -> Response:
        """A one-time link: open a session and set its cookie."""
        try:
            async with self.scope() as svc:
                sid, session = await svc.access.redeem(request.query_params.get("t", ""))
        except Forbidden:
            return self._page(
                request, "message.html", None, 403, message=text("console.link_invalid", _locale(request))
            )
        return _signed_in(request, sid, session)

    async def login_telegram(self, request: Request) -> Response:
        """Where the Telegram Login Widget sends a person back: check Telegram's signature, then open a session."""
        locale = _locale(request)
        if self.widget is None:
            return self._page(request, "message.html", None, 404, message=text("console.widget_off", locale))
        try:
            async with self.scope() as svc:
                params = {k: v[:500] for k, v in list(request.query_params.items())[:12]}
                telegram_id = verified_id(params, self.widget.bot_token, svc.clock())
                if telegram_id is None:
                    raise Forbidden("console_link_invalid")
                sid, session = await svc.access.vouched(UserRef("telegram", telegram_id))
        except Forbidden as e:
            key = "console.link_invalid" if e.code == "console_link_invalid" else "console.forbidden"
            return self._page(request, "message.html", None, 403, message=text(key, locale))
        return _signed_in(request, sid, session)

    async def signed_out(self, request: Request) -> Response:
        """How to sign in (and the Telegram login button, where the office has set a domain with BotFather)."""
        message = text("console.signed_out", _locale(request))
        if self.widget is None:
            return self._page(request, "message.html", None, 401, message=message)
        return self._page(
            request, "message.html", None, 401, csp=WIDGET_CSP, message=message, widget_bot=self.widget.bot_username
        )

    async def logout(self, request: Request) -> Response:
        """End the session."""
        form = await request.form()
        async with self.scope() as svc:
            session = await svc.access.session(request.cookies.get(COOKIE))
            if session is not None and _csrf_ok(session, form.get("csrf")):
                await svc.access.logout(request.cookies.get(COOKIE, ""))
        response = RedirectResponse("/console/signed-out", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response

    # ---- cases

    async def cases(self, request: Request) -> Response:
        """The filtered list."""
        q = request.query_params

        async def page(svc: Services, session: ConsoleSession) -> Response:
            before = q.get("before")
            f = CaseFilter(
                states=tuple(s for s in q.getlist("state") if s in STATES),
                categories=tuple(c for c in q.getlist("category") if c in CATEGORIES),
                unit=q.get("unit") or None,
                urgent=True if q.get("urgent") == "1" else None,
                overdue=q.get("overdue") == "1",
                start=_day(q.get("from")),
                end=_day(q.get("to"), end=True),
                text=(q.get("q") or "")[:100],
                before_id=int(before) if before and before.isdigit() and len(before) < 19 else None,
            )
            found = await svc.browser.search(session.user, f)
            scope = await svc.access.scope(session.user)
            units = scope if scope is not None else await svc.org.all()
            keep = [(k, v) for k, v in q.multi_items() if k != "before"]
            nxt = "?" + urlencode([*keep, ("before", str(found.next_before))]) if found.next_before else None
            unit_names = {u.code: u.name for u in await svc.org.all()}
            return self._page(
                request, "cases.html", session, page=found, units=units, states=STATES, categories=CATEGORIES,
                q=q, next_url=nxt, month=svc.dashboard.this_month(), unit_names=unit_names,
            )  # fmt: skip

        return await self._guarded(request, page)

    async def case(self, request: Request) -> Response:
        """One case, and its actions (POST takes one)."""
        number = request.path_params["number"]
        form = await request.form() if request.method == "POST" else None

        async def page(svc: Services, session: ConsoleSession) -> Response:
            message = error = None
            if form is not None:
                if not _csrf_ok(session, form.get("csrf")):
                    return self._page(
                        request, "message.html", session, 403, message=text("console.csrf", _locale(request))
                    )
                action = str(form.get("action") or "")
                rev = str(form.get("rev") or "0")
                value = " ".join(x for x in (str(form.get("value") or ""), str(form.get("note") or "")) if x.strip())
                try:
                    await svc.browser.perform(session.user, number, action, int(rev) if rev.isdigit() else 0, value)
                    message = text(
                        "console.case.done", _locale(request), action=text(f"console.action.{action}", _locale(request))
                    )
                except Conflict as e:
                    if e.code in ("stale", "stale_button"):
                        error = text("console.case.rev_conflict", _locale(request))
                    else:
                        error = self._refusal(request, e)
                    raise _Rollback(error) from None
                except DomainError as e:
                    raise _Rollback(self._refusal(request, e)) from None
            detail = await svc.browser.detail(session.user, number)
            return self._page(
                request, "case.html", session, d=detail, message=message, error=error, categories=CATEGORIES
            )

        try:
            return await self._guarded(request, page)
        except _Rollback as refused:
            reason = refused.message

        # The refused action changed nothing (its transaction rolled back): show the case with the reason.
        async def again(svc: Services, session: ConsoleSession) -> Response:
            detail = await svc.browser.detail(session.user, number)
            return self._page(
                request, "case.html", session, 400, d=detail, message=None, error=reason, categories=CATEGORIES
            )

        return await self._guarded(request, again)

    async def photo(self, request: Request) -> Response:
        """A photo of a case (the report's, or a step's), from the office's media store."""
        found: list[str] = []

        async def page(svc: Services, session: ConsoleSession) -> Response:
            detail = await svc.browser.detail(session.user, request.path_params["number"])
            index = request.path_params["index"]
            photos = [detail.case.photo_file_id] + [s.photo for s in detail.steps]
            ref = photos[index] if 0 <= index < len(photos) else None
            if not ref:
                raise NotFound("photo_missing")
            found.append(ref)
            return Response(status_code=204)

        response = await self._guarded(request, page)
        # Read once the database is let go: a photo Telegram still holds may take a while to fetch.
        data = await self.photos(found[0]) if found and self.photos else None
        if not found:
            return response
        if data is None:
            message = self._refusal(request, NotFound("photo_missing"))
            return self._page(request, "message.html", None, 404, message=message)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    # ---- map, dashboard, exports

    async def map(self, request: Request) -> Response:
        """The grids coloured by this month's on-time rate, open cases as pins."""
        locale = _locale(request)

        async def page(svc: Services, session: ConsoleSession) -> Response:
            unit = await svc.dashboard.home(session.user, request.query_params.get("unit"))
            month = svc.dashboard.this_month()
            view = await svc.dashboard.map(session.user, unit, month)
            grids = [
                GridShape(g.code, g.name, _rings(g.geometry), rate, f"/console/cases?unit={g.code}")
                for g, rate in view.grids
            ]
            pins = [
                Pin(c.number, c.lat or 0.0, c.lon or 0.0, c.state.value, c.id in view.overdue, c.urgent,
                    f"/console/cases/{c.number}", f"{c.number} {plain_word(f'category.{c.category}', locale)}")
                for c in view.pins
            ]  # fmt: skip
            legend = Legend(
                rate=text("console.map.rate", locale),
                no_data=text("console.map.no_data", locale),
                states={s: plain_word(f"state.{s}", locale) for s in STATES[:3]},
                overdue=text("console.map.overdue", locale),
            )
            svg = map_svg(grids, pins, legend=legend, tiles=self.tiles)
            csp = CSP
            if self.tiles is not None:
                tile_host = urlsplit(self.tiles.url)
                csp = content_policy(images=f"{tile_host.scheme}://{tile_host.netloc}")
            return self._page(request, "map.html", session, csp=csp, svg=svg, unit=unit)

        return await self._guarded(request, page)

    async def dashboard(self, request: Request) -> Response:
        """The 三率 over months, categories, places, volunteering — as charts, each downloadable."""
        locale = _locale(request)

        async def page(svc: Services, session: ConsoleSession) -> Response:
            unit = await svc.dashboard.home(session.user, request.query_params.get("unit"))
            month = request.query_params.get("month") or svc.dashboard.this_month()
            trend = await svc.dashboard.trend(unit, month)
            labels = [label[5:] for label, _ in trend]
            rates = line_chart(
                labels,
                [
                    Series(text("ledger.col.response_rate", locale), [r.response_rate for _, r in trend], None),
                    Series(text("ledger.col.on_time_rate", locale), [r.on_time_rate for _, r in trend], None),
                    Series(text("ledger.col.resolution_rate", locale), [r.resolution_rate for _, r in trend], None),
                    Series(text("ledger.col.satisfaction_rate", locale), [r.satisfaction_rate for _, r in trend], None),
                ],
                width=DASH_WIDTH,
                percent=True,
                title=text("console.dashboard.trend", locale),
            )
            over = await svc.dashboard.categories_over(unit, month)
            shown = [c for c in CATEGORIES if any(counts.get(c) for _, counts in over)]
            categories = bar_chart(
                [label[5:] for label, _ in over],
                [Series(plain_word(f"category.{c}", locale), [float(counts.get(c, 0)) for _, counts in over], None)
                 for c in shown],
                width=DASH_WIDTH, title=text("console.dashboard.categories", locale),
            )  # fmt: skip
            _, places = await svc.dashboard.tallies(unit, month)
            hours, points, redeemed = await svc.dashboard.volunteering(unit, month)
            communities = sorted(set(hours) | set(points) | set(redeemed))
            volunteering = bar_chart(
                communities,
                [
                    Series(text("console.dashboard.hours", locale), [hours.get(c) for c in communities], None),
                    Series(text("console.dashboard.redemptions", locale),
                           [float(redeemed.get(c, 0)) for c in communities], None),
                ],
                width=DASH_WIDTH, title=text("console.dashboard.hours", locale),
            )  # fmt: skip
            grids = await svc.dashboard.grids(unit, month)
            headline = _headline(trend, locale)
            return self._page(
                request, "dashboard.html", session, unit=unit, month=month, rates=rates, categories=categories,
                places=places, volunteering=volunteering, grids=grids, trend=trend, points=points, headline=headline,
            )  # fmt: skip

        return await self._guarded(request, page)

    async def export(self, request: Request) -> Response:
        """A month's ledgers of a unit as an Excel download."""
        q = request.query_params
        locale = _locale(request)

        async def page(svc: Services, session: ConsoleSession) -> Response:
            unit = await svc.dashboard.home(session.user, q.get("unit"))
            unit = await svc.ledgers.scope(session.user, unit.code)
            month = q.get("month") or svc.dashboard.this_month()
            kinds = [k for k in q.getlist("kind") if k in KINDS] or list(KINDS)
            data = await collect(svc.ledgers, unit, month, kinds)
            await svc.access.record(session.user, "export", unit.code, f"{month} {','.join(kinds)}")
            name = f"ledger-{unit.code}-{month}.xlsx"
            return Response(
                to_bytes(data, locale),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )

        return await self._guarded(request, page)

    async def volunteers(self, request: Request) -> Response:
        """Volunteers of the person's communities, searchable by name, team or state (read-only)."""
        q = request.query_params
        locale = _locale(request)

        async def page(svc: Services, session: ConsoleSession) -> Response:
            unit = await svc.dashboard.home(session.user, q.get("unit"))
            needle = (q.get("q") or "").strip()[:50]
            rows = []
            for community in [u for u in [unit, *await svc.org.below(unit.code)] if u.level.value == "community"]:
                teams = {t.id: t.name for t in await svc.volunteers.teams(community.code)}
                for volunteer, user in await svc.volunteers.listing(session.user, community.code):
                    team = teams.get(volunteer.team_id, "") if volunteer.team_id else ""
                    name = volunteer.real_name or user.display_name
                    shown = [name, community.name, team, plain_word(f"volunteer.state.{volunteer.state}", locale)]
                    if not needle or _matches(shown, needle):
                        rows.append((community.name, volunteer, user, team))
            return self._page(request, "volunteers.html", session, rows=rows, unit=unit, needle=needle)

        return await self._guarded(request, page)

    async def ledger(self, request: Request) -> Response:
        """A month's activities, teams, hours, points or redemptions as a searchable table (read-only)."""
        kind = request.path_params["kind"]
        q = request.query_params
        locale = _locale(request)

        async def page(svc: Services, session: ConsoleSession) -> Response:
            if kind not in LISTED:
                raise NotFound("page_missing")
            unit = await svc.dashboard.home(session.user, q.get("unit"))
            unit = await svc.ledgers.scope(session.user, unit.code)
            month = parse_month(q.get("month") or svc.dashboard.this_month())
            _, columns = LINE_LEDGERS[kind]
            sheet = table(kind, kind, columns(locale), await read_lines(svc.ledgers, unit, month, kind), locale)
            needle = (q.get("q") or "").strip()[:50]
            rows = [r for r in sheet.rows if _matches(r, needle)] if needle else sheet.rows
            scope = await svc.access.scope(session.user)
            units = scope if scope is not None else await svc.org.all()
            return self._page(
                request, "ledger.html", session, kind=kind, kinds=LISTED, unit=unit, units=units, month=month,
                headers=sheet.headers, rows=rows[:ROWS_SHOWN], total=len(rows), needle=needle,
            )  # fmt: skip

        return await self._guarded(request, page)

    async def audit(self, request: Request) -> Response:
        """The console's audit log (admins)."""

        async def page(svc: Services, session: ConsoleSession) -> Response:
            entries = await svc.access.audit_log(session.user)
            names = {}
            for e in entries:
                if e.user_id not in names:
                    person = await svc.people.get(e.user_id)
                    names[e.user_id] = person.display_name if person else "?"
            return self._page(request, "audit.html", session, entries=entries, names=names)

        return await self._guarded(request, page)

    # ---- residents: 议事, building heads, the property assessment

    async def residents(self, request: Request) -> Response:
        """Matters with their outcome (never who voted what) and buildings with their heads and homes."""

        async def page(svc: Services, session: ConsoleSession) -> Response:
            unit = await svc.dashboard.home(session.user, request.query_params.get("unit"))
            board = svc.civic.board
            return self._page(
                request, "residents.html", session, unit=unit, matters=await board.matter_lines(unit.code),
                buildings=await board.building_lines(unit.code), quarter=quarter_of(svc.clock()),
                teams=await svc.civic.teams.of_unit(unit.code),
            )  # fmt: skip

        return await self._guarded(request, page)

    async def property(self, request: Request) -> Response:
        """The quarter's 五位一体 ranking, each compound's rating, and the form for spot checks and reviews."""
        form = await request.form() if request.method == "POST" else None
        locale = _locale(request)

        async def page(svc: Services, session: ConsoleSession) -> Response:
            await svc.dashboard.home(session.user, None)  # staff only
            quarter = quarter_label(request.query_params.get("quarter")) or quarter_of(svc.clock())
            message = error = None
            if form is not None:
                if not _csrf_ok(session, form.get("csrf")):
                    return self._page(request, "message.html", session, 403, message=text("console.csrf", locale))
                try:
                    score = float(str(form.get("score") or "x"))
                except ValueError:
                    score = -1.0
                try:
                    check = await svc.civic.rating.record(
                        session.user, str(form.get("company") or ""), str(form.get("kind") or ""),
                        str(form.get("period") or "").strip(), score, str(form.get("note") or "")[:500],
                    )  # fmt: skip
                    await svc.access.record(session.user, f"check_{check.kind}", check.company_code,
                                            f"{check.period} {check.score}")  # fmt: skip
                    message = text("console.property.saved", locale)
                except (Invalid, Forbidden, NotFound) as e:
                    error = self._refusal(request, e)
            label, ranking = await svc.civic.rating.ranking(quarter)
            weights = "，".join(
                f"{text('console.property.part.' + k, locale)} {svc.rules.civic.plan.weights[k]:g}" for k in PARTS
            )
            return self._page(
                request, "property.html", session, 400 if error else 200, quarter=label, ranking=ranking, parts=PARTS,
                rounds=await svc.civic.board.round_results(label), companies=await svc.civic.rating.companies(),
                message=message, error=error, weights=weights,
            )  # fmt: skip

        return await self._guarded(request, page)

    async def residents_export(self, request: Request) -> Response:
        """议事, building heads and the property assessment as an Excel download."""
        locale = _locale(request)

        async def page(svc: Services, session: ConsoleSession) -> Response:
            unit = await svc.dashboard.home(session.user, request.query_params.get("unit"))
            quarter = quarter_label(request.query_params.get("quarter")) or quarter_of(svc.clock())
            board = svc.civic.board
            _, ranking = await svc.civic.rating.ranking(quarter)
            sheets = _civic_sheets(unit.name, quarter, await board.matter_lines(unit.code),
                                   await board.building_lines(unit.code), await svc.civic.teams.of_unit(unit.code),
                                   ranking, locale)  # fmt: skip
            await svc.access.record(session.user, "export", unit.code, f"residents {quarter}")
            buffer = io.BytesIO()
            workbook(sheets).save(buffer)
            return Response(
                buffer.getvalue(),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f'attachment; filename="residents-{unit.code}-{quarter}.xlsx"'},
            )

        return await self._guarded(request, page)


def _civic_sheets(
    unit: str, quarter: str, matters: list[Any], buildings: list[Any], teams: list[Any], ranking: list[Any], locale: str
) -> list[Sheet]:
    """The residents' ledgers: 议事台账, 楼栋长台账, 4+N小组台账 (a row per member), 物业考核."""

    def sheet(key: str, title: str, headers: list[str], rows: list[list[object]]) -> Sheet:
        names = [text(f"ledger.col.{h}", locale) for h in headers]
        none: list[str | None] = [None] * len(headers)
        return Sheet(text(f"ledger.sheet.{key}", locale), title, names, [[cell(v) for v in r] for r in rows], none,
                     [None] * len(headers))  # fmt: skip

    matter_rows: list[list[object]] = []
    for line in matters:
        m = line.matter
        counted = m.state.value in ("closed", "decided")
        counts = "；".join(f"{o} {m.counts.get(str(i), 0)}" for i, o in enumerate(m.options)) if counted else ""
        follow = "；".join(f"{f.text}（{f.case_number}）" for f in line.follow_ups)
        matter_rows.append([
            m.id, m.title, line.scope, line.unit, text(f"console.matter_state.{m.state.value}", locale),
            m.opens_at, m.closes_at, m.eligible if counted else None, m.turnout if counted else None,
            (text("ledger.answer_yes" if m.quorum_met else "ledger.answer_no", locale) if counted else ""),
            counts, m.decision or m.answer, follow,
        ])  # fmt: skip
    member_rows: list[list[object]] = [
        [team.id, "、".join(team.buildings), text(f"console.role.{role}", locale) if role else "", name]
        for team in teams
        for name, role in team.members or [("", "")]
    ]
    title = text("ledger.title", locale, unit=unit, month=quarter, sheet="")
    return [
        sheet("matters", title + text("ledger.sheet.matters", locale),
              ["id", "title", "scope", "unit", "state", "opens", "closes", "eligible", "turnout", "quorum", "counts",
               "decision", "follow_ups"], matter_rows),
        sheet("buildings", title + text("ledger.sheet.buildings", locale),
              ["compound", "building", "heads", "confirmed", "pending"],
              [[b.compound, b.building, "、".join(b.heads), b.confirmed, b.pending] for b in buildings]),
        sheet("teams_4n", title + text("ledger.sheet.teams_4n", locale), ["id", "building", "role", "member"],
              member_rows),
        sheet("property", title + text("ledger.sheet.property", locale),
              ["rank", "company", "total", *PARTS, "respondents", "flagged"],
              [[r.rank or None, r.name, round(r.total, 1) if r.total is not None else None,
                *[round(r.parts[p], 1) if p in r.parts else None for p in PARTS], r.respondents,
                text("ledger.answer_yes" if r.flagged else "ledger.answer_no", locale)] for r in ranking]),
    ]  # fmt: skip


# A dashboard chart's drawing width: about the width of its card at a desk, so its text stays at reading size
# (drawn at 640 and squeezed into a half-width card, an 11-unit label came out around 6 px).
DASH_WIDTH = 420


@dataclass(frozen=True)
class Figure:
    """One of the 三率 as the dashboard leads with it: this month, and the change since the month before."""

    label: str
    value: str
    change: str  # "+4.0" / "−2.5" percentage points, "" when either month has nothing decided
    direction: str  # up | down | flat | none


def _headline(trend: Sequence[tuple[str, Any]], locale: str) -> list[Figure]:
    """The month's four rates, large, with their month-on-month change (the last two months of the trend)."""
    if not trend:
        return []
    now = trend[-1][1]
    before = trend[-2][1] if len(trend) > 1 else None
    out = []
    for key in ("response_rate", "on_time_rate", "resolution_rate", "satisfaction_rate"):
        value = getattr(now, key)
        old = getattr(before, key) if before is not None else None
        change, direction = "", "none"
        if value is not None and old is not None:
            points = (value - old) * 100
            direction = "up" if points > 0.05 else "down" if points < -0.05 else "flat"
            change = f"{'+' if points >= 0 else '−'}{abs(points):.1f}"
        shown = f"{value * 100:.0f}%" if value is not None else "—"
        out.append(Figure(text(f"ledger.col.{key}", locale), shown, change, direction))
    return out


class _SignIn(Exception):
    """No live session."""


class _Rollback(Exception):
    """A refused action: leave its transaction, then show why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _signed_in(request: Request, sid: str, session: ConsoleSession) -> Response:
    response = RedirectResponse("/console/cases", status_code=303)
    max_age = int((session.expires_at - datetime.now(session.expires_at.tzinfo)).total_seconds())
    response.set_cookie(
        COOKIE, sid, max_age=max(60, max_age), httponly=True, samesite="lax",
        secure=request.url.scheme == "https", path="/console",
    )  # fmt: skip
    return response


def _csrf_ok(session: ConsoleSession, value: object) -> bool:
    return isinstance(value, str) and hmac.compare_digest(value.encode(), session.csrf.encode())


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _matches(row: Sequence[object], needle: str) -> bool:
    needle = needle.lower()
    return any(needle in _shown(cell).lower() for cell in row)


def _rings(geometry: dict[str, Any] | None) -> list[list[tuple[float, float]]]:
    if not geometry:
        return []
    polygons = [geometry["coordinates"]] if geometry.get("type") == "Polygon" else geometry.get("coordinates", [])
    return [[(float(x), float(y)) for x, y, *_ in polygon[0]] for polygon in polygons if polygon]
