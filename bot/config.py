"""Settings from the environment (prefix GRIDBOT_) or a .env file."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.cases.model import CATEGORIES
from domain.cases.rules import CaseRules
from domain.cases.urgency import EMERGENCY_SERVICES
from domain.civic.assessment import load_plan
from domain.civic.rules import CivicRules
from domain.kernel.hours import QuietHours
from domain.points.rules import PointsRules
from domain.reporting.rules import ReportingRules
from domain.volunteering.rules import VolunteeringRules

# Defaults are written once, with each context's rules; the settings below take them from there.
_CASES, _VOLUNTEERING, _POINTS = CaseRules(), VolunteeringRules(), PointsRules()
_REPORTING = ReportingRules()

TOKEN_PATTERN = r"^\d{3,}:[A-Za-z0-9_-]{20,}$"  # noqa: S105 - a pattern, not a secret


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GRIDBOT_", env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///var/gridbot.db"
    telegram_api_url: AnyHttpUrl | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_locale: str = "zh-CN"
    webhook_secret: SecretStr | None = None
    # --- cases: routing and listening
    community_radius_m: float = Field(_CASES.community_radius_m, gt=0)
    street_radius_m: float = Field(_CASES.street_radius_m, gt=0)
    offer_cooldown_minutes: float = Field(_CASES.offer_cooldown.total_seconds() / 60, ge=0)
    # People's hours: nothing that is not urgent is sent inside this nightly window (Beijing time); "" turns it off.
    quiet_hours: str = "21:00-08:00"
    # Whom to call first when a message describes danger to life: service=number pairs added to (or replacing)
    # the national defaults fire=119,medical=120,police=110,lift=96333,power=95598; set the local gas
    # company's line as gas=NUMBER.
    emergency_numbers: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    sender_concurrency: int = Field(8, ge=1, le=64)
    # Updates of different chats handled at once (each chat's and each person's still in order).
    update_concurrency: int = Field(32, ge=1, le=1024)
    # How long a sender's claim on an in-flight message lasts without renewal; after a crash, its messages are
    # sent again once this runs out.
    outbox_lease_s: float = Field(30.0, ge=1, le=3600)
    # How long SQLite waits for another writer's lock before the update is retried later.
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0, le=600_000)
    # Telegram's limits, kept by the sender: messages a second overall, and a minute per group.
    messages_per_second: float = Field(30.0, gt=0, le=1000)
    # Opt-in: broadcasts (only they) go as Telegram's paid broadcast at up to this many a second (≤ 1,000, billed in
    # Stars to the bot's balance); 0 keeps them within the free 30 a second.
    paid_broadcast_per_second: float = Field(0.0, ge=0, le=1000)
    group_messages_per_minute: int = Field(20, ge=1, le=10_000)
    # --- deadlines and outreach: files an office may supply (the shipped defaults otherwise)
    sla_policy: Path | None = None
    calendar_file: Path | None = None
    fixed_days_file: Path | None = None
    # --- residents: the 物业 五位一体 plan (rating items, window, weights), and the categories a company is called to
    assessment_file: Path | None = None
    property_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(CivicRules().property_categories)
    )
    sweep_interval_s: float = Field(30.0, ge=1, le=3600)
    # --- the desk: Open311 and the console
    open311_per_minute: int = Field(30, ge=1, le=10_000)
    open311_public_reads: bool = True
    # Never listed to a reader without a key; and how coarse such a reader's points are (metres, 0 = exact).
    open311_private_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(_REPORTING.open311_private_categories)
    )
    open311_public_precision_m: float = Field(_REPORTING.open311_public_precision_m, ge=0, le=10_000)
    # Where case photos are kept as the office's own files: a directory (default), or an S3-compatible bucket
    # (s3://bucket/prefix, with AWS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION in the environment).
    media_url: str = Field("var/media", min_length=1)
    # Open311 media_url links may point into private networks (only for an intranet that serves photos itself).
    media_private_links: bool = False
    # An HTTP or SOCKS proxy for reaching the Bot API (socks5://host:port needs aiohttp-socks installed).
    proxy: str | None = None
    # Log lines as text, or as one JSON object per line for a log collector.
    log_format: Literal["text", "json"] = "text"
    # The console's public address, for login links (e.g. https://desk.example.org); unset: /console says so.
    console_url: AnyHttpUrl | None = None
    # The bot's @username for the Telegram Login Widget on the console's sign-in page; set it only after telling
    # BotFather the console's domain (/setdomain). Unset: sign-in is by /console links only.
    login_widget_bot: str | None = Field(None, pattern=r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$")
    # A base map under the console's grid map: an XYZ tile URL with {z}, {x} and {y} (e.g. an intranet tile server,
    # OpenStreetMap, or 天地图 with its key); its datum (gcj02 for 高德/腾讯 tiles) and the credit its licence asks for.
    # Unset: the map draws the grids alone and fetches nothing.
    map_tiles: str | None = Field(None, pattern=r"^https?://[^\s\"'<>]+$")
    map_tiles_crs: Literal["wgs84", "gcj02"] = "wgs84"
    map_attribution: str = Field("", max_length=120)
    # How long a webhook request may wait for the database before Telegram is told to redeliver it (non-2xx).
    webhook_patience_s: float = Field(20.0, ge=0, le=50)
    # Categories handled above the grid: disputes go to the community's mediation by default.
    category_levels: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {c: level.value for c, level in _CASES.category_levels.items()}
    )
    nlu_extra_dir: Path = Path("var/nlu-reviewed")
    # An office's own training set in place of the shipped one (nlu.yml and/or authors/*.yml in Rasa's format; its
    # calibration.yml is written beside it by `gridbot nlu calibrate`). Unset: the shipped data.
    nlu_data_dir: Path | None = None
    # --- points: star levels by cumulative verified hours; rewards
    star_hours: Annotated[list[float], NoDecode] = Field(default_factory=lambda: list(_POINTS.star_hours))
    # Points for a resolved report, by category; the rest get report_points_default.
    report_points: Annotated[dict[str, int], NoDecode] = Field(default_factory=lambda: dict(_POINTS.report_points))
    report_points_default: int = Field(_POINTS.report_points_default, ge=0)
    order_points: int = Field(_POINTS.order_points, ge=0)
    # A building head's points: per resident's home confirmed, per whole month of service.
    head_confirm_points: int = Field(_POINTS.head_confirm_points, ge=0, le=1000)
    head_month_points: int = Field(_POINTS.head_month_points, ge=0, le=1000)
    award_max: int = Field(_POINTS.award_max, ge=1, le=100_000)
    # --- volunteering
    checkin_radius_m: float = Field(_VOLUNTEERING.checkin_radius_m, gt=0)
    order_untaken_minutes: float = Field(_VOLUNTEERING.order_untaken_minutes, gt=0)
    # The office's own seal (a PNG with transparency) printed on star certificates; without it, none is printed.
    certificate_seal_image: Path | None = None
    rasa_url: AnyHttpUrl | None = None
    rasa_intent_map: str = ""
    rasa_timeout_s: float = 2.0

    @field_validator("map_tiles")
    @classmethod
    def _tile_url(cls, value: str | None) -> str | None:
        if value is not None and not all(f"{{{k}}}" in value for k in "zxy"):
            raise ValueError("must hold {z}, {x} and {y}, e.g. https://tiles.example.org/{z}/{x}/{y}.png")
        return value

    @field_validator("star_hours", mode="before")
    @classmethod
    def _stars(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(x) for x in value.split(",") if x.strip()]
        return value

    @field_validator("star_hours")
    @classmethod
    def _stars_rising(cls, value: list[float]) -> list[float]:
        if not value or any(b <= a for a, b in itertools.pairwise(value)) or value[0] <= 0:
            raise ValueError("must be rising positive hours, e.g. 100,300,600,1000,1500")
        return value

    @field_validator("report_points", mode="before")
    @classmethod
    def _report_points(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("{"):
                return json.loads(value)
            return {k.strip(): int(v) for k, v in (p.split("=", 1) for p in value.split(",") if p.strip())}
        return value

    @field_validator("assessment_file")
    @classmethod
    def _assessment(cls, value: Path | None) -> Path | None:
        if value is not None:
            if not value.exists():
                raise ValueError(f"no such file: {value}")
            load_plan(value)
        return value

    @field_validator("open311_private_categories", "property_categories", mode="before")
    @classmethod
    def _private(cls, value: object) -> object:
        if isinstance(value, str):
            return [x.strip() for x in value.split(",") if x.strip()]
        return value

    @field_validator("open311_private_categories", "property_categories")
    @classmethod
    def _private_known(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {', '.join(unknown)} (expected some of {', '.join(CATEGORIES)})")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        if value.strip():
            QuietHours.parse(value)  # raises ValueError with the reason
        return value.strip()

    @field_validator("emergency_numbers", mode="before")
    @classmethod
    def _numbers(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("{"):
                return json.loads(value)
            return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in value.split(",") if p.strip())}
        return value

    @field_validator("emergency_numbers")
    @classmethod
    def _numbers_valid(cls, value: dict[str, str]) -> dict[str, str]:
        for service, number in value.items():
            if service not in EMERGENCY_SERVICES:
                raise ValueError(f"unknown service {service!r} (expected {', '.join(EMERGENCY_SERVICES)})")
            if not re.fullmatch(r"[0-9-]{3,20}", number):
                raise ValueError(f"{service}: {number[:20]!r} is not a phone number")
        return value

    @field_validator("rasa_intent_map")
    @classmethod
    def _intent_map(cls, value: str) -> str:
        from intents.rasa_http import parse_intent_map

        parse_intent_map(value)  # raises ValueError with the reason
        return value

    @field_validator("category_levels", mode="before")
    @classmethod
    def _levels(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("{"):
                return json.loads(value)
            return dict(pair.split("=", 1) for pair in value.split(",") if pair.strip())
        return value

    @field_validator("category_levels")
    @classmethod
    def _levels_valid(cls, value: dict[str, str]) -> dict[str, str]:
        for category, level in value.items():
            if category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r}")
            if level not in ("grid", "community", "street"):
                raise ValueError(f"level of {category} must be grid, community or street")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(x) for x in value.replace(";", ",").split(",") if x.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        import re

        if value is not None and not re.match(TOKEN_PATTERN, value.get_secret_value()):
            raise ValueError("does not look like a bot token (digits:secret from @BotFather)")
        return value

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("sla_policy")
    @classmethod
    def _policy(cls, value: Path | None) -> Path | None:
        if value is not None:
            from domain.cases.sla import load_policy

            load_policy(value)  # raises PolicyError (a ValueError) listing every problem
        return value

    @field_validator("calendar_file")
    @classmethod
    def _calendar(cls, value: Path | None) -> Path | None:
        if value is not None:
            from domain.kernel.workdays import WorkCalendar

            if not value.exists():
                raise ValueError(f"no such file: {value}")
            WorkCalendar.load(value)
        return value

    @field_validator("fixed_days_file")
    @classmethod
    def _fixed_days(cls, value: Path | None) -> Path | None:
        if value is not None:
            from domain.outreach.fixed_days import load_schedule

            if not value.exists():
                raise ValueError(f"no such file: {value}")
            load_schedule(value)
        return value

    @field_validator("certificate_seal_image")
    @classmethod
    def _seal_image(cls, value: Path | None) -> Path | None:
        if value is not None:
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(value) as img:
                    img.verify()
            except (OSError, UnidentifiedImageError) as e:
                raise ValueError(f"cannot read the seal image {value}: {e}") from None
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in ("zh-CN", "en"):
            raise ValueError("must be zh-CN or en")
        return value

    def secret_for_webhook(self) -> str:
        """The webhook secret token; derived from the bot token when not set, so it is stable."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        token = self.bot_token.get_secret_value() if self.bot_token else ""
        return hashlib.sha256(f"gridbot-webhook:{token}".encode()).hexdigest()[:48]
