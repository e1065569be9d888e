"""`gridbot` command line: run, db upgrade, grids import, demo, nlu."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from bot.config import Settings

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
    fixed = asyncio.run(rebuild_points(settings))
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
        n = asyncio.run(import_activities(settings, file))
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
    from domain.render import CHINA_TZ

    settings = load_settings()
    try:
        cutoff = datetime.strptime(before, "%Y-%m-%d").replace(tzinfo=CHINA_TZ)
    except ValueError:
        fail("--before must be a date like 2026-01-01")
    total = asyncio.run(expire_points(settings, cutoff))
    typer.echo(f"expired {total} points earned before {before}")


@catalog_app.command("import")
def catalog_import(file: Annotated[Path, typer.Argument(help="CSV or YAML: community,name,price,stock")]) -> None:
    """Add or update supermarket items; a file with any problem is refused whole."""
    from bot.admin import import_catalog

    settings = load_settings()
    if not file.exists():
        fail(f"no such file: {file}")
    try:
        created, updated = asyncio.run(import_catalog(settings, file))
    except ValueError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported {created} new and {updated} updated items from {file}")


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr, then exit."""
    typer.echo(f"gridbot: {message}", err=True)
    raise typer.Exit(code)


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


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


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

    asyncio.run(go())
    typer.echo("database is up to date")


@grids_app.command("import")
def grids_import(file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection")]) -> None:
    """Import or update units from GeoJSON; a bad file is refused whole, every problem listed."""
    from bot.grids import import_file

    settings = load_settings()
    try:
        created, updated = asyncio.run(import_file(settings.database_url, file))
    except ValueError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported {created} new and {updated} updated units from {file}")


@app.command()
def run(
    webhook: Annotated[str | None, typer.Option(help="Public HTTPS URL; without it, long polling")] = None,
    host: Annotated[str, typer.Option(help="Webhook listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Webhook listen port")] = 8080,
) -> None:
    """Run the bot (long polling, or a webhook server with a secret token)."""
    from bot.runner import run_polling, run_webhook

    settings = load_settings(require_token=True)
    _logging()
    if webhook:
        if not webhook.startswith("https://") and not webhook.startswith("http://127.0.0.1"):
            fail("--webhook must be an https:// URL")
        asyncio.run(run_webhook(settings, webhook, host, port))
    else:
        asyncio.run(run_polling(settings))


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="SQLite file for the demo (recreated)")] = Path("var/demo.db"),
) -> None:
    """Play the report loop and the volunteer scenario through the real dispatcher and outbox."""
    from bot.demo import run_demo

    sys.exit(asyncio.run(run_demo(db)))


@nlu_app.command("evaluate")
def nlu_evaluate(
    file: Annotated[Path, typer.Argument(help="CSV text,intent,category (or Rasa NLU YAML)")],
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the headline numbers")] = False,
) -> None:
    """Score the built-in classifier on a labelled file that was not used for training."""
    from intents.evaluate import evaluate, report_text, summary_json
    from intents.model import DATA, load_or_train, normalize
    from intents.rasa import load_any, load_nlu

    if not file.exists():
        fail(f"no such file: {file}")
    try:
        rows = load_any(file)
    except (ValueError, KeyError) as e:
        fail(f"cannot read {file}: {e}")
    train_texts = {normalize(e.text) for e in load_nlu(DATA)}
    overlap = [r.text for r in rows if normalize(r.text) in train_texts]
    if overlap:
        fail(f"{len(overlap)} evaluation text(s) also appear in the training data, e.g. {overlap[0]!r}")
    intent, category = evaluate(load_or_train(), rows)
    typer.echo(report_text(intent, category))
    if as_json:
        typer.echo(json.dumps(summary_json(intent, category)))


@nlu_app.command("cross-validate")
def nlu_cross_validate(
    file: Annotated[Path | None, typer.Argument(help="CSV or Rasa NLU YAML; default: the training data")] = None,
    folds: Annotated[int, typer.Option(help="Number of folds")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the headline numbers")] = False,
) -> None:
    """Stratified k-fold scores of the built-in pipeline on the training data or on any labelled file."""
    from intents.evaluate import cross_validate, report_text, summary_json
    from intents.model import DATA
    from intents.rasa import load_any

    path = file or DATA
    if not path.exists():
        fail(f"no such file: {path}")
    intent, category = cross_validate(load_any(path), folds)
    typer.echo(report_text(intent, category))
    if as_json:
        typer.echo(json.dumps(summary_json(intent, category)))


@nlu_app.command("train")
def nlu_train() -> None:
    """Retrain from the shipped data plus reviewed corrections (GRIDBOT_NLU_EXTRA_DIR), then recalibrate."""
    from intents import calibrate
    from intents.model import load_or_train, training_examples

    settings = load_settings()
    examples = training_examples(settings.nlu_extra_dir)
    extra = sum(1 for e in examples if e.source != "data")
    model = load_or_train(examples)
    th = calibrate.choose(examples)
    target = settings.nlu_extra_dir / "calibration.yml" if extra else calibrate.CALIBRATION
    target.parent.mkdir(parents=True, exist_ok=True)
    calibrate.save(th, target)
    typer.echo(f"trained {model.version} on {len(examples)} examples ({extra} reviewed corrections)")
    typer.echo(f"thresholds: intent {th.intent} category {th.category} group {th.group_report} → {target}")


@nlu_app.command("calibrate")
def nlu_calibrate() -> None:
    """Choose confidence thresholds from out-of-fold predictions on the training data."""
    from intents import calibrate
    from intents.model import training_examples

    settings = load_settings()
    examples = training_examples(settings.nlu_extra_dir)
    th = calibrate.choose(examples)
    extra = any(e.source != "data" for e in examples)
    target = settings.nlu_extra_dir / "calibration.yml" if extra else calibrate.CALIBRATION
    calibrate.save(th, target)
    typer.echo(
        f"intent ≥ {th.intent}: precision {th.intent_precision_above:.3f}, coverage {th.intent_coverage:.3f}\n"
        f"category ≥ {th.category}: precision {th.category_precision_above:.3f}, "
        f"coverage {th.category_coverage:.3f}\n"
        f"group offer ≥ {th.group_report}: precision {th.group_precision_above:.3f}, recall {th.group_recall:.3f}\n"
        f"written to {target}"
    )


@nlu_app.command("export")
def nlu_export(
    file: Annotated[Path | None, typer.Argument(help="Where to write the Rasa YAML (default: stdout)")] = None,
) -> None:
    """Write collected clarifications and staff corrections as Rasa NLU YAML, for review."""
    from bot.nlu_export import export_examples

    settings = load_settings()
    text, n = asyncio.run(export_examples(settings.database_url))
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        typer.echo(
            f"wrote {n} examples to {file}; review them, then copy the file into {settings.nlu_extra_dir}/ "
            "and run `gridbot nlu train`",
            err=True,
        )


def main() -> None:
    """Console entry point."""
    app()
