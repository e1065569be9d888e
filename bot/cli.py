"""`gridbot` command line: run, db upgrade, grids import, demo, nlu."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from bot.config import Settings

if TYPE_CHECKING:
    from bot.nlu import BuiltinClassifier
    from intents.rasa import Example

T = TypeVar("T")
app = typer.Typer(help="gridbot: hazard reports to grid cases, on Telegram.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
grids_app = typer.Typer(help="The street / community / grid hierarchy.", no_args_is_help=True)
nlu_app = typer.Typer(help="The message classifier.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(grids_app, name="grids")
app.add_typer(nlu_app, name="nlu")
points_app = typer.Typer(help="The points ledger.", no_args_is_help=True)
catalog_app = typer.Typer(help="Credit supermarket catalogues.", no_args_is_help=True)
app.add_typer(points_app, name="points")
app.add_typer(catalog_app, name="catalog")


@points_app.command("rebuild")
def points_rebuild() -> None:
    """Recompute cached balances from the ledger and show where they disagreed (then they agree)."""
    from bot.admin import rebuild_points

    settings = load_settings()
    fixed = _run(rebuild_points(settings))
    if not fixed:
        typer.echo("cached balances and hours agree with the ledgers")
        return
    for user_id, cached, ledger, chours, lhours in fixed:
        typer.echo(
            f"user {user_id}: cached {cached} points / {chours:g} h, ledger {ledger} points / {lhours:g} h — fixed"
        )
    typer.echo(f"{len(fixed)} balance(s) rebuilt from the ledger")


activities_app = typer.Typer(help="Volunteer activities.", no_args_is_help=True)
app.add_typer(activities_app, name="activities")


@activities_app.command("import")
def activities_import(file: Annotated[Path, typer.Argument(help="YAML or CSV of activities")]) -> None:
    """Publish activities from a file to their communities' groups; refused whole on any problem."""
    from bot.admin import import_activities

    settings = load_settings()
    if not file.exists():
        fail(f"no such file: {file}")
    try:
        n = _run(import_activities(settings, file))
    except ValueError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"published {n} activities from {file}; the sender posts them when the bot runs")


@points_app.command("expire")
def points_expire(
    before: Annotated[str, typer.Option(help="Expire points earned before this date (YYYY-MM-DD, Beijing time)")],
) -> None:
    """Yearly expiry (off unless you run it): unspent points earned before the date become expiry entries."""
    from datetime import datetime

    from bot.admin import expire_points
    from domain.kernel.time import CHINA_TZ

    settings = load_settings()
    try:
        cutoff = datetime.strptime(before, "%Y-%m-%d").replace(tzinfo=CHINA_TZ)
    except ValueError:
        fail("--before must be a date like 2026-01-01")
    total = _run(expire_points(settings, cutoff))
    typer.echo(f"expired {total} points earned before {before}")


@catalog_app.command("import")
def catalog_import(file: Annotated[Path, typer.Argument(help="CSV or YAML: community,name,price,stock")]) -> None:
    """Add or update supermarket items; a file with any problem is refused whole."""
    from bot.admin import import_catalog

    settings = load_settings()
    if not file.exists():
        fail(f"no such file: {file}")
    try:
        created, updated = _run(import_catalog(settings, file))
    except ValueError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported {created} new and {updated} updated items from {file}")


# One exit-code convention for every command (README, "Exit codes").
EXIT_OK = 0
EXIT_REFUSED = 1  # the input was refused (a bad file, every problem listed); nothing was changed
EXIT_USAGE = 2  # wrong usage or configuration (a missing or malformed setting or option)
EXIT_UNREACHABLE = 3  # a service it needs (database, Bot API) cannot be reached or refused access


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One clear line on stderr, then exit."""
    typer.echo(f"gridbot: {message}", err=True)
    raise typer.Exit(code)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a job; a database that cannot be reached is one line and exit 3, not a traceback."""
    try:
        return asyncio.run(coro)
    except Exception as e:
        from sqlalchemy.exc import SQLAlchemyError

        from storage.db import describe_db_error

        # `run` reports its own start-up problems; for every other command the service behind an OSError is
        # the database.
        if isinstance(e, SQLAlchemyError | OSError | TimeoutError):
            fail(
                f"cannot use the database ({describe_db_error(e)}): is it running, and is GRIDBOT_DATABASE_URL right?",
                EXIT_UNREACHABLE,
            )
        raise


def load_settings(require_token: bool = False) -> Settings:
    """Settings from the environment; malformed or missing config is one line and exit 2."""
    try:
        settings = Settings()
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err["loc"]).upper()
        fail(f"config error: GRIDBOT_{field}: {err['msg']}")
    if require_token and settings.bot_token is None:
        fail("config error: GRIDBOT_BOT_TOKEN is not set (get one from @BotFather)")
    return settings


class JsonLines(logging.Formatter):
    """One JSON object per line (time, level, logger, message, traceback) for a log collector."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        import json

        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _logging(log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLines() if log_format == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # Migration chatter at every start says nothing an operator needs.
    logging.getLogger("alembic").setLevel(logging.WARNING)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    from storage.db import create_engine
    from storage.migrate import upgrade

    settings = load_settings()

    async def go() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    _run(go())
    typer.echo("database is up to date")


@grids_app.command("import")
def grids_import(
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection")],
    crs: Annotated[
        str, typer.Option(help="The file's coordinates: wgs84 (GPS, geojson.io, QGIS), gcj02 (高德/腾讯), bd09 (百度)")
    ] = "wgs84",
) -> None:
    """Import or update units from GeoJSON; a bad file is refused whole, every problem listed."""
    from bot.grids import import_file
    from domain.org.crs import SYSTEMS

    settings = load_settings()
    if crs not in SYSTEMS:
        fail(f"--crs must be one of {', '.join(SYSTEMS)}")
    try:
        created, updated = _run(import_file(settings.database_url, file, crs))
    except ValueError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported {created} new and {updated} updated units from {file}")


@app.command()
def run(
    webhook: Annotated[str | None, typer.Option(help="Public HTTPS URL; without it, long polling")] = None,
    host: Annotated[str, typer.Option(help="Webhook listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Webhook listen port")] = 8080,
    web: Annotated[str | None, typer.Option(help="Also serve the desk (console, Open311) at HOST:PORT")] = None,
) -> None:
    """Run the bot (long polling, or a webhook server with a secret token)."""
    # Settings first: a configuration mistake answers at once, before the heavy imports below.
    settings = load_settings(require_token=True)
    if webhook and not webhook.startswith("https://") and not webhook.startswith("http://127.0.0.1"):
        fail("--webhook must be an https:// URL")
    _logging(settings.log_format)
    from bot.runner import StartupError, run_polling, run_webhook

    web_at = None
    if web:
        web_host, _, web_port = web.rpartition(":")
        if not web_host or not web_port.isdigit():
            fail("--web must look like 127.0.0.1:8081")
        web_at = (web_host, int(web_port))
    try:
        if webhook:
            if web_at:
                fail("--web goes with long polling; with a webhook, run `gridbot web` beside it")
            _run(run_webhook(settings, webhook, host, port))
        else:
            _run(run_polling(settings, web_at))
    except StartupError as e:
        fail(str(e), EXIT_UNREACHABLE)


apikey_app = typer.Typer(help="Open311 API clients (keys are shown once and stored hashed).", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(name: Annotated[str, typer.Argument(help="The client's name, e.g. 12345热线")]) -> None:
    """Create a client and print its key (once: only a hash is kept)."""
    settings = load_settings()
    from bot.admin import create_api_key
    from domain.kernel.errors import DomainError

    try:
        key = _run(create_api_key(settings, name))
    except DomainError as e:
        fail(
            "that name is taken" if e.code == "api_key_exists" else "a name of 1–64 printable characters", EXIT_REFUSED
        )
    typer.echo(f"API key for {name} (shown once, keep it safe):")
    typer.echo(key)


@apikey_app.command("list")
def apikey_list() -> None:
    """Every client, and whether its key still works."""
    from bot.admin import api_clients

    for name, created, revoked in _run(api_clients(load_settings())):
        typer.echo(f"{name}\tcreated {created}\t{'revoked' if revoked else 'active'}")


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Argument(help="The client's name")]) -> None:
    """Stop a client's key at once."""
    from bot.admin import revoke_api_key
    from domain.kernel.errors import DomainError

    try:
        _run(revoke_api_key(load_settings(), name))
    except DomainError:
        fail(f"no active client named {name!r}", EXIT_REFUSED)
    typer.echo(f"revoked {name}")


@app.command()
def web(
    host: Annotated[str, typer.Option(help="Listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port")] = 8081,
    base_url: Annotated[str, typer.Option(help="Public URL, for links the desk gives out")] = "",
    demo: Annotated[bool, typer.Option(help="Serve the demo's database and print a login link for its admin")] = False,
) -> None:
    """Serve the desk: the staff console under /console, Open311 under /open311/v2/, /healthz and /readyz."""
    settings = load_settings()
    if demo:
        from bot.demo import DEMO_DB
        from bot.demo_cast import ADMIN

        settings = settings.model_copy(
            update={"database_url": f"sqlite+aiosqlite:///{DEMO_DB}", "admin_ids": [ADMIN.id]}
        )
    _logging(settings.log_format)
    from bot.web import serve

    try:
        _run(serve(settings, host, port, base_url, demo))
    except ValueError as e:
        fail(str(e), EXIT_REFUSED)


@app.command("backup")
def backup_cmd(
    out: Annotated[Path, typer.Argument(help="The file to write, e.g. gridbot-2026-12-01.jsonl.gz")],
) -> None:
    """Back up the whole database to one portable file (restores into SQLite or PostgreSQL)."""
    settings = load_settings()
    from bot.backup import backup

    try:
        counts = _run(backup(settings.database_url, out))
    except ValueError as e:
        fail(str(e), EXIT_REFUSED)
    typer.echo(f"backed up {sum(counts.values())} rows of {len(counts)} tables to {out}")


@app.command("restore")
def restore_cmd(source: Annotated[Path, typer.Argument(help="A file written by gridbot backup")]) -> None:
    """Restore a backup into an empty database (GRIDBOT_DATABASE_URL), then bring its schema up to date."""
    settings = load_settings()
    if not source.exists():
        fail(f"no such file: {source}")
    from bot.backup import restore

    try:
        counts = _run(restore(settings.database_url, source))
    except (ValueError, OSError) as e:
        fail(str(e), EXIT_REFUSED)
    typer.echo(f"restored {sum(counts.values())} rows of {len(counts)} tables from {source}")


@app.command("export")
def export(
    kinds: Annotated[
        list[str], typer.Argument(help="cases, grids, activities, teams, hours, points, redemptions, or all")
    ],
    month: Annotated[str, typer.Option(help="The month, e.g. 2026-11 (Beijing time)")],
    out: Annotated[Path, typer.Option(help="The .xlsx file to write")],
    unit: Annotated[str | None, typer.Option(help="A unit code (default: the street)")] = None,
    locale: Annotated[str, typer.Option(help="zh-CN or en")] = "zh-CN",
) -> None:
    """Write the monthly ledgers (台账) as an Excel workbook: a summary sheet plus one sheet per ledger."""
    from domain.reporting.ledgers import KINDS

    settings = load_settings()
    wanted = list(KINDS) if "all" in kinds else kinds
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        fail(f"unknown ledger {unknown[0]!r}: choose from {', '.join(KINDS)} or all")
    if out.suffix.lower() != ".xlsx":
        fail("--out must name an .xlsx file")
    if locale not in ("zh-CN", "en"):
        fail("--locale must be zh-CN or en")
    from bot.admin import export_ledgers
    from domain.kernel.errors import DomainError

    try:
        name, rows = _run(export_ledgers(settings, wanted, month, unit, out, locale))
    except ValueError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    except DomainError as e:
        fail({"month_usage": "--month must look like 2026-11"}.get(e.code, f"unknown unit {unit!r}"))
    counts = ", ".join(f"{k} {n}" for k, n in rows.items())
    typer.echo(f"{name} {month}: {counts} → {out}")


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="SQLite file for the demo (recreated)")] = Path("var/demo.db"),
) -> None:
    """Play the report loop and the volunteer scenario through the real dispatcher and outbox."""
    from bot.demo import run_demo

    sys.exit(_run(run_demo(db)))


@nlu_app.command("evaluate")
def nlu_evaluate(
    file: Annotated[Path, typer.Argument(help="CSV text,intent,category (or Rasa NLU YAML)")],
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the headline numbers")] = False,
) -> None:
    """Score the built-in classifier on a labelled file that was not used for training."""
    from bot.nlu import BuiltinClassifier
    from intents.evaluate import (
        confidence_pairs,
        curve,
        curve_text,
        precision_above,
        report_text,
        score_predictions,
        summary_json,
    )
    from intents.model import load_or_train, normalize
    from intents.rasa import load_any

    if not file.exists():
        fail(f"no such file: {file}")
    try:
        rows = load_any(file)
    except (ValueError, KeyError) as e:
        fail(f"cannot read {file}: {e}")
    data_dir = load_settings().nlu_data_dir
    training = _training_set(data_dir)
    train_texts = {normalize(e.text) for e in training}
    overlap = [r.text for r in rows if normalize(r.text) in train_texts]
    if overlap:
        fail(f"{len(overlap)} evaluation text(s) also appear in the training data, e.g. {overlap[0]!r}")
    classifier = BuiltinClassifier(load_or_train(training), data_dir=data_dir)
    preds = [classifier.model.predict(r.text) for r in rows]
    intent, category = score_predictions(rows, preds)
    typer.echo(report_text(intent, category))
    # Does the confidence the bot acts on keep its promise on this file (written by someone else)?
    th = classifier.thresholds
    it_pairs, cat_pairs = confidence_pairs(rows, preds)
    for name, pairs, threshold, promised in (
        ("intent", it_pairs, th.intent, th.intent_precision_above),
        ("category", cat_pairs, th.category, th.category_precision_above),
    ):
        right, share = precision_above(pairs, threshold)
        typer.echo(f"{name} ≥ {threshold}: right {right:.3f} (promised {promised:.3f}) on {share:.0%} of rows")
        typer.echo(curve_text(name, curve(pairs)))
    if as_json:
        typer.echo(json.dumps(summary_json(intent, category)))


@nlu_app.command("cross-validate")
def nlu_cross_validate(
    file: Annotated[Path | None, typer.Argument(help="CSV or Rasa NLU YAML; default: the training data")] = None,
    folds: Annotated[int, typer.Option(help="Number of folds")] = 5,
    by: Annotated[str | None, typer.Option(help="author: leave one author out (the headline figure)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the headline numbers")] = False,
) -> None:
    """Cross-validated scores of the built-in pipeline: stratified k-fold, or leave-one-author-out."""
    from intents.evaluate import cross_validate, cross_validate_by_author, report_text, summary_json
    from intents.rasa import load_any

    if by not in (None, "author"):
        fail("--by takes one value: author")
    if file is not None and not file.exists():
        fail(f"no such file: {file}")
    examples = load_any(file) if file is not None else _training_set(load_settings().nlu_data_dir)
    if by == "author":
        try:
            intent, category, per = cross_validate_by_author(examples)
        except ValueError as e:
            fail(str(e))
        for author, (it, cat) in per.items():
            typer.echo(
                f"{author:<16} n={it.n:<5} intent macro-F1={it.macro_f1:.3f}  category macro-F1={cat.macro_f1:.3f}"
            )
    else:
        intent, category = cross_validate(examples, folds)
    typer.echo(report_text(intent, category))
    if as_json:
        typer.echo(json.dumps(summary_json(intent, category)))


def _labelled_rows(file: Path, label: str) -> list[dict[str, str]]:
    """The rows of a CSV with `text` and `label` columns (empty texts left out); exit 2 with the reason if not."""
    import csv

    if not file.exists():
        fail(f"no such file: {file}")
    with file.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not {"text", label} <= set(reader.fieldnames or []):
            fail(f"{file}: needs the columns text,{label}")
        return [r for r in reader if (r.get("text") or "").strip()]


@nlu_app.command("danger")
def nlu_danger(
    file: Annotated[Path, typer.Argument(help="CSV text,is_danger (1 or 0)[,form]: messages by any hand")],
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the headline numbers")] = False,
) -> None:
    """How many dangers to life the bot would catch (the lexicon, the danger model, either) and how often it would
    raise an alarm for harmless talk, by form when the file has a `form` column."""
    from collections import Counter

    from domain.cases.danger import hazards
    from intents.danger import load_examples
    from intents.danger import load_or_train as load_danger
    from intents.model import normalize

    rows = _labelled_rows(file, "is_danger")
    trained = {normalize(t) for t, _ in load_examples()}
    overlap = [r["text"] for r in rows if normalize(r["text"]) in trained]
    if overlap:
        fail(f"{len(overlap)} evaluation text(s) also appear in the danger training data, e.g. {overlap[0]!r}")
    model = load_danger()
    # "either": what a group is offered on; "urgent": what private chat acts on alone (the stricter threshold).
    readers: dict[str, Callable[[str], bool]] = {
        "lexicon": lambda t: bool(hazards(t)),
        "model": lambda t: bool(model.kinds(t)),
        "either": lambda t: bool(hazards(t)) or bool(model.kinds(t)),
        "urgent": lambda t: bool(hazards(t)) or bool(model.kinds(t, urgent=True)),
    }
    summary: dict[str, float] = {}
    for name, read in readers.items():
        caught = [(r, read(r["text"])) for r in rows]
        dangers = [(r, hit) for r, hit in caught if r["is_danger"].strip() == "1"]
        harmless = [(r, hit) for r, hit in caught if r["is_danger"].strip() != "1"]
        recall = sum(hit for _, hit in dangers) / max(1, len(dangers))
        alarms = sum(hit for _, hit in harmless) / max(1, len(harmless))
        missed = Counter(r.get("form") or "-" for r, hit in dangers if not hit)
        typer.echo(
            f"{name:8} recall {recall:.3f} of {len(dangers)}; false alarms {alarms:.3f} of {len(harmless)}"
            + (f"; missed by form {dict(missed)}" if missed else "")
        )
        summary[f"{name}_recall"], summary[f"{name}_false_alarms"] = round(recall, 4), round(alarms, 4)
    if as_json:
        typer.echo(json.dumps(summary))


@nlu_app.command("offers")
def nlu_offers(
    file: Annotated[Path, typer.Argument(help="CSV text,is_report (1 or 0): messages as they come in a group")],
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the headline numbers")] = False,
) -> None:
    """How often group listening would interrupt chat (false offers) and how many reports it would catch."""

    from bot.nlu import BuiltinClassifier
    from intents.evaluate import offers
    from intents.model import load_or_train, normalize

    labelled = _labelled_rows(file, "is_report")
    rows = [(r["text"].strip(), r["is_report"].strip() == "1") for r in labelled]
    data_dir = load_settings().nlu_data_dir
    training = _training_set(data_dir)
    train_texts = {normalize(e.text) for e in training}
    overlap = [t for t, _ in rows if normalize(t) in train_texts]
    if overlap:
        fail(f"{len(overlap)} evaluation text(s) also appear in the training data, e.g. {overlap[0]!r}")
    classifier = BuiltinClassifier(load_or_train(training), data_dir=data_dir)
    result = offers(classifier.model, rows, classifier.thresholds.group_report)
    typer.echo(
        f"false offers {len(result.offered_non_reports)}/{result.n_non_reports} = {result.false_offer_rate:.3f}; "
        f"reports offered {result.n_reports - len(result.missed_reports)}/{result.n_reports} = {result.recall:.3f}"
    )
    for text in result.offered_non_reports:
        typer.echo(f"  offered, not a report: {text}")
    summary: dict[str, float] = {
        "false_offer_rate": round(result.false_offer_rate, 4),
        "recall": round(result.recall, 4),
        "n_non_reports": result.n_non_reports,
        "n_reports": result.n_reports,
    }
    if labelled and "reply_to" in labelled[0]:
        summary.update(_thread_offers(classifier, labelled))
    if as_json:
        typer.echo(json.dumps(summary))


def _thread_offers(classifier: BuiltinClassifier, rows: list[dict[str, str]]) -> dict[str, float]:
    """With the thread (`id`, `reply_to` columns): the bot's own decision, which also reads what a reply answers."""
    from domain.cases.listening import worth_offering

    threshold = classifier.thresholds.group_report
    read = [classifier.classify_now(r["text"]) for r in rows]  # each message once, replied to or not
    by_id = {(r.get("id") or "").strip(): cls for r, cls in zip(rows, read, strict=True) if (r.get("id") or "").strip()}
    wrong = caught = n_non = n_rep = replies = 0
    for r, cls in zip(rows, read, strict=True):
        replying_to = by_id.get((r.get("reply_to") or "").strip())
        replies += replying_to is not None
        offered = worth_offering(cls, threshold, False, replying_to)
        if r["is_report"].strip() == "1":
            n_rep += 1
            caught += offered
        else:
            n_non += 1
            wrong += offered
    false_rate, recall = wrong / max(1, n_non), caught / max(1, n_rep)
    typer.echo(
        f"with the thread ({replies} replies): false offers {wrong}/{n_non} = {false_rate:.3f}; "
        f"reports offered {caught}/{n_rep} = {recall:.3f}"
    )
    return {"thread_false_offer_rate": round(false_rate, 4), "thread_recall": round(recall, 4)}


def _training_set(data_dir: Path | None) -> list[Example]:
    """The training data (GRIDBOT_NLU_DATA_DIR or the shipped set); an empty directory is one line and exit 2."""
    from intents.model import shipped_examples

    try:
        return shipped_examples(data_dir)
    except ValueError as e:
        fail(f"config error: GRIDBOT_NLU_DATA_DIR: {e}")


def _with_reviewed(settings: Settings) -> tuple[list[Example], int, Path]:
    """The training data plus reviewed corrections, how many of the examples are corrections, and where their
    thresholds go (beside the corrections if there are any, else beside the training data)."""
    from intents.calibrate import calibration_path
    from intents.model import reviewed_examples

    reviewed = reviewed_examples(settings.nlu_extra_dir)
    target = settings.nlu_extra_dir / "calibration.yml" if reviewed else calibration_path(settings.nlu_data_dir)
    return _training_set(settings.nlu_data_dir) + reviewed, len(reviewed), target


@nlu_app.command("train")
def nlu_train() -> None:
    """Retrain from the shipped data plus reviewed corrections (GRIDBOT_NLU_EXTRA_DIR), then recalibrate. On the
    shipped data alone (in a source checkout) this rebuilds the model file shipped with the package."""
    from intents import calibrate
    from intents.model import SHIPPED_MODEL, load_or_train, model_version, save_model

    settings = load_settings()
    examples, extra, target = _with_reviewed(settings)
    model = load_or_train(examples)
    if settings.nlu_data_dir is None and not extra and model_version(SHIPPED_MODEL) != model.version:
        try:
            save_model(model, SHIPPED_MODEL)
            typer.echo(f"model file → {SHIPPED_MODEL}")
        except OSError as e:
            typer.echo(f"the shipped model file could not be written ({e}); the model is in the cache", err=True)
    from domain.cases.danger import hazards
    from intents import danger

    shipped_danger = danger.load_or_train(known=lambda t: bool(hazards(t)))
    if not danger.SHIPPED_DANGER.exists() or danger.read().version != shipped_danger.version:
        danger.save(shipped_danger)
        typer.echo(
            f"danger model {shipped_danger.version} (threshold {shipped_danger.threshold}) → {danger.SHIPPED_DANGER}"
        )
    th = calibrate.choose(examples)
    target.parent.mkdir(parents=True, exist_ok=True)
    calibrate.save(th, target)
    typer.echo(f"trained {model.version} on {len(examples)} examples ({extra} reviewed corrections)")
    typer.echo(f"thresholds: intent {th.intent} category {th.category} group {th.group_report} → {target}")


@nlu_app.command("calibrate")
def nlu_calibrate() -> None:
    """Choose confidence thresholds from out-of-fold predictions on the training data."""
    from intents import calibrate
    from intents.evaluate import curve_text

    examples, _, target = _with_reviewed(load_settings())
    th = calibrate.choose(examples)
    calibrate.save(th, target)
    typer.echo(
        f"intent ≥ {th.intent}: precision {th.intent_precision_above:.3f}, coverage {th.intent_coverage:.3f}\n"
        f"category ≥ {th.category}: precision {th.category_precision_above:.3f}, "
        f"coverage {th.category_coverage:.3f}\n"
        f"group offer ≥ {th.group_report}: false offers {th.group_false_offer:.3f}, recall {th.group_recall:.3f}, "
        f"precision {th.group_precision_above:.3f}\n"
        f"{curve_text('intent', th.intent_curve)}\n{curve_text('category', th.category_curve)}\n"
        f"written to {target}"
    )


@nlu_app.command("export")
def nlu_export(
    file: Annotated[Path | None, typer.Argument(help="Where to write the Rasa YAML (default: stdout)")] = None,
) -> None:
    """Write collected clarifications and staff corrections as Rasa NLU YAML, for review."""
    from bot.nlu_export import export_examples

    settings = load_settings()
    text, n = _run(export_examples(settings.database_url))
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        typer.echo(
            f"wrote {n} examples to {file}; review them, then copy the file into {settings.nlu_extra_dir}/ "
            "and run `gridbot nlu train`",
            err=True,
        )


calendar_app = typer.Typer(help="Working days (Chinese holidays and make-up working days).", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")


def _calendar() -> object:
    from domain.kernel.workdays import CalendarFileError, WorkCalendar

    settings = load_settings()
    try:
        return WorkCalendar.load(settings.calendar_file)
    except CalendarFileError as e:
        fail(str(e))


@calendar_app.command("add")
def calendar_add(
    day: Annotated[str, typer.Argument(help="A date like 2026-09-30 (the day the clock starts, Beijing time)")],
    n: Annotated[int, typer.Argument(help="Working days to add (0 to 3650)")],
) -> None:
    """The date N working days after DATE; the last line is the ISO date."""
    import datetime as dt

    from domain.kernel.time import CHINA_TZ
    from domain.kernel.workdays import WorkCalendar

    try:
        start = dt.date.fromisoformat(day)
    except ValueError:
        fail(f"{day!r} is not a date like 2026-09-30")
    if not 0 <= n <= 3650:
        fail("N must be between 0 and 3650")
    calendar = _calendar()
    assert isinstance(calendar, WorkCalendar)
    due, estimated = calendar.add_workdays(dt.datetime.combine(start, dt.time(9, 0), CHINA_TZ), n)
    if estimated:
        years = sorted({y for y in range(start.year, due.year + 1) if calendar.coverage(y).estimated})
        typer.echo(
            f"estimated: no holiday schedule for {', '.join(map(str, years))}; Monday–Friday counted as working days"
        )
    typer.echo(due.date().isoformat())


@calendar_app.command("check")
def calendar_check(year: Annotated[int, typer.Argument(help="A year like 2027")]) -> None:
    """Whether a year's holidays are known, and from where (exit 1 when it would be estimated)."""
    from domain.kernel.workdays import WorkCalendar

    if not 1900 <= year <= 2200:
        fail("YEAR must be a year like 2027")
    calendar = _calendar()
    assert isinstance(calendar, WorkCalendar)
    coverage = calendar.coverage(year)
    if coverage.source == "chinesecalendar":
        typer.echo(f"{year}: covered by the chinesecalendar package (statutory holidays and make-up working days)")
    elif coverage.source == "file":
        typer.echo(f"{year}: covered by the calendar file (GRIDBOT_CALENDAR_FILE)")
    else:
        typer.echo(
            f"{year}: not covered — Monday–Friday are counted as working days and deadlines are marked estimated; "
            "add the State Council's schedule to GRIDBOT_CALENDAR_FILE (holidays, workdays, years)"
        )
        raise typer.Exit(EXIT_REFUSED)


updates_app = typer.Typer(help="Updates the bot received.", no_args_is_help=True)
app.add_typer(updates_app, name="updates")


@updates_app.command("failed")
def updates_failed(
    limit: Annotated[int, typer.Option(help="How many of the newest to show")] = 20,
    traceback: Annotated[bool, typer.Option("--traceback", help="Show each traceback in full")] = False,
) -> None:
    """Updates a handler failed on (a bug): what was sent, when, and the error, for an operator to look into."""
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade
    from storage.updates import FailedUpdate, failed_updates

    settings = load_settings()

    async def go() -> tuple[int, list[FailedUpdate]]:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
            async with session_factory(engine)() as s:
                return await failed_updates(s, limit)
        finally:
            await engine.dispose()

    total, rows = _run(go())
    typer.echo(f"{total} failed update(s)" + (f", newest {len(rows)}:" if rows else ""))
    for r in rows:
        typer.echo(f"- update {r.update_id} at {r.at:%Y-%m-%d %H:%M:%S}Z: {r.error}")
        typer.echo(f"  {json.dumps(r.payload, ensure_ascii=False)[:300]}")
        if traceback:
            typer.echo("  " + r.traceback.replace("\n", "\n  "))


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"gridbot {version('gridbot')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    """gridbot: hazard reports to grid cases, on Telegram."""


def main() -> None:
    """Console entry point."""
    app()
