"""Settings from the environment and ``.env`` (python-dotenv), validated once at start.

Invalid settings stop the program with one clear line (:class:`SettingsError`), never a traceback: the
person starting Partsbot is often a municipality's IT department reading a container log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

LANGUAGES = ("nb", "nn", "en")
ENVIRONMENTS = ("production", "development", "test")
DEFAULT_DATABASE_FILE = "partsbot.sqlite3"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Fewer anonymous questions per batch would let the order of release hint at who asked.
MIN_ANONYMOUS_BATCH = 3
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")
# Every PARTSBOT_* setting Partsbot reads. Any other PARTSBOT_* name is a typo and stops the start, so a
# setting is never silently ignored. Names under PARTSBOT_TEST_ and PARTSBOT_BENCH_ belong to the test
# suite and the benchmark.
KNOWN_SETTINGS = (
    "PARTSBOT_ANONYMOUS_BATCH",
    "PARTSBOT_CASE_RETENTION_MONTHS",
    "PARTSBOT_CHART_DIR",
    "PARTSBOT_ENV",
    "PARTSBOT_HOST",
    "PARTSBOT_INBOX_LEASE_SECONDS",
    "PARTSBOT_LANGUAGE",
    "PARTSBOT_LOG_LEVEL",
    "PARTSBOT_OUTBOX_LEASE_SECONDS",
    "PARTSBOT_PROMPTS_DIR",
    "PARTSBOT_SECRET_KEY",
    "PARTSBOT_TEAMS",
    "PARTSBOT_TEAMS_APP_DIR",
    "PARTSBOT_TEAMS_TENANTS",
    "PARTSBOT_TIMEZONE",
)
_TOOL_PREFIXES = ("PARTSBOT_TEST_", "PARTSBOT_BENCH_")


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line meant for the operator."""


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{DEFAULT_DATABASE_FILE}"
    env: str = "development"
    language: str = "nb"
    timezone: str = "Europe/Oslo"
    port: int = 3978
    host: str = "0.0.0.0"
    slack_bot_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_client_id: str = ""
    slack_client_secret: str = field(default="", repr=False)
    slack_api_url: str = ""
    microsoft_app_id: str = ""
    microsoft_app_password: str = field(default="", repr=False)
    microsoft_app_type: str = "MultiTenant"
    microsoft_app_tenant_id: str = ""
    log_level: str = "INFO"
    # Encrypts platform tokens and the Teams card key at rest (bot/crypto.py); one Fernet key, or several
    # separated by commas during a rotation (the first encrypts, all decrypt).
    secret_key: str = field(default="", repr=False)
    # Teams tenants allowed to use the bot (empty: any tenant that installs the app).
    teams_tenants: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def slack_configured(self) -> bool:
        """Enough to talk to Slack: a bot token or OAuth installs (client id and secret), and a way to
        receive: the signing secret for HTTP, or an app token for Socket Mode."""
        has_token = bool(self.slack_bot_token or self.slack_oauth)
        return has_token and bool(self.slack_signing_secret or self.slack_app_token)

    @property
    def slack_oauth(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def teams_configured(self) -> bool:
        return bool(self.microsoft_app_id)

    @property
    def any_platform(self) -> bool:
        return self.slack_configured or self.teams_configured


def normalise_database_url(url: str) -> str:
    """Pick the drivers we ship: psycopg 3 for PostgreSQL, the standard library for SQLite."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _check_partsbot_settings(get: Callable[[str], str], values: Mapping[str, str]) -> None:
    """The PARTSBOT_* settings read elsewhere (from ``Settings.extra``): checked here, at start."""
    unknown = sorted(
        name
        for name in values
        if name.startswith("PARTSBOT_") and name not in KNOWN_SETTINGS and not name.startswith(_TOOL_PREFIXES)
    )
    if unknown:
        raise SettingsError(f"{unknown[0]} is not a Partsbot setting; known: {', '.join(KNOWN_SETTINGS)}")
    batch = get("PARTSBOT_ANONYMOUS_BATCH")
    if batch and not (batch.isdigit() and int(batch) >= MIN_ANONYMOUS_BATCH):
        raise SettingsError(
            f"PARTSBOT_ANONYMOUS_BATCH={batch!r} must be a whole number of at least {MIN_ANONYMOUS_BATCH}"
        )
    for name in ("PARTSBOT_INBOX_LEASE_SECONDS", "PARTSBOT_OUTBOX_LEASE_SECONDS"):
        lease = get(name)
        if lease and not (lease.replace(".", "", 1).isdigit() and float(lease) > 0):
            raise SettingsError(f"{name}={lease!r} must be a positive number of seconds")
    months = get("PARTSBOT_CASE_RETENTION_MONTHS")
    if months and not (months.isdigit() and int(months) > 0):
        raise SettingsError(
            f"PARTSBOT_CASE_RETENTION_MONTHS={months!r} must be a whole number of months, 1 or more"
        )
    teams = get("PARTSBOT_TEAMS").lower()
    if teams not in TRUE_WORDS + FALSE_WORDS:
        raise SettingsError(f"PARTSBOT_TEAMS={teams!r} must be 1 or 0 (true/false, yes/no, on/off)")
    for name in ("PARTSBOT_CHART_DIR", "PARTSBOT_PROMPTS_DIR", "PARTSBOT_TEAMS_APP_DIR"):
        folder = get(name)
        if folder and Path(folder).exists() and not Path(folder).is_dir():
            raise SettingsError(f"{name}={folder!r} is a file, not a folder")
    for name in ("PARTSBOT_PROMPTS_DIR", "PARTSBOT_TEAMS_APP_DIR"):
        folder = get(name)
        if folder and not Path(folder).is_dir():
            raise SettingsError(f"{name}={folder!r} is not a folder")


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Read settings: real environment first, then ``.env`` for what the environment does not set."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str, default: str = "") -> str:
        return values.get(name, default).strip()

    language = get("PARTSBOT_LANGUAGE", "nb").lower() or "nb"
    if language not in LANGUAGES:
        raise SettingsError(
            f"PARTSBOT_LANGUAGE={language!r} is not supported; use one of {', '.join(LANGUAGES)}"
        )
    env = get("PARTSBOT_ENV", "development").lower() or "development"
    if env not in ENVIRONMENTS:
        raise SettingsError(f"PARTSBOT_ENV={env!r} is not valid; use one of {', '.join(ENVIRONMENTS)}")
    timezone = get("PARTSBOT_TIMEZONE", "Europe/Oslo") or "Europe/Oslo"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"PARTSBOT_TIMEZONE={timezone!r} is not a known time zone") from None
    port_text = get("PORT", "3978") or "3978"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError(f"PORT={port_text!r} must be a number from 1 to 65535")
    database_url = normalise_database_url(get("DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE_FILE}")
    if not database_url.startswith(("sqlite://", "postgresql+psycopg://")):
        raise SettingsError(
            "DATABASE_URL must start with sqlite:/// or postgresql:// "
            f"(got {database_url.split(':', 1)[0]!r})"
        )
    app_id = get("MICROSOFT_APP_ID")
    if app_id and not _GUID.match(app_id):
        raise SettingsError("MICROSOFT_APP_ID must be the bot's app id, a GUID")
    if env == "production" and not app_id and not (get("SLACK_SIGNING_SECRET") or get("SLACK_APP_TOKEN")):
        raise SettingsError(
            "PARTSBOT_ENV=production needs a platform: set MICROSOFT_APP_ID (Teams) "
            "and/or SLACK_SIGNING_SECRET or SLACK_APP_TOKEN (Slack)"
        )
    if get("SLACK_BOT_TOKEN") and not get("SLACK_SIGNING_SECRET") and not get("SLACK_APP_TOKEN"):
        raise SettingsError("SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not (needed to verify Slack)")
    app_type = get("MICROSOFT_APP_TYPE", "MultiTenant") or "MultiTenant"
    if app_type not in ("MultiTenant", "SingleTenant", "UserAssignedMSI"):
        raise SettingsError("MICROSOFT_APP_TYPE must be MultiTenant, SingleTenant or UserAssignedMSI")
    if app_type == "SingleTenant" and not get("MICROSOFT_APP_TENANT_ID"):
        raise SettingsError("MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID")
    if bool(get("SLACK_CLIENT_ID")) != bool(get("SLACK_CLIENT_SECRET")):
        raise SettingsError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (OAuth installs need both)")
    secret_key = get("PARTSBOT_SECRET_KEY")
    if env == "production" and not secret_key:
        raise SettingsError(
            "PARTSBOT_ENV=production needs PARTSBOT_SECRET_KEY (encrypts tokens at rest); make one with "
            "`partsbot secret-key`"
        )
    if secret_key:
        from bot.crypto import check_key

        problem = check_key(secret_key)
        if problem:
            raise SettingsError(f"PARTSBOT_SECRET_KEY {problem}")
    api_url = get("SLACK_API_URL")
    if api_url and env != "test" and not api_url.startswith("https://"):
        raise SettingsError("SLACK_API_URL must start with https:// (the bot token is sent there)")
    log_level = (get("PARTSBOT_LOG_LEVEL", "INFO") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError("PARTSBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    _check_partsbot_settings(get, values)

    return Settings(
        database_url=database_url,
        env=env,
        language=language,
        timezone=timezone,
        port=int(port_text),
        host=get("PARTSBOT_HOST", "0.0.0.0") or "0.0.0.0",
        slack_bot_token=get("SLACK_BOT_TOKEN"),
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_app_token=get("SLACK_APP_TOKEN"),
        slack_client_id=get("SLACK_CLIENT_ID"),
        slack_client_secret=get("SLACK_CLIENT_SECRET"),
        slack_api_url=api_url,
        microsoft_app_id=app_id,
        microsoft_app_password=get("MICROSOFT_APP_PASSWORD"),
        microsoft_app_type=app_type,
        microsoft_app_tenant_id=get("MICROSOFT_APP_TENANT_ID"),
        log_level=log_level,
        secret_key=secret_key,
        teams_tenants=tuple(t.strip() for t in get("PARTSBOT_TEAMS_TENANTS").split(",") if t.strip()),
        extra={k: v for k, v in values.items() if k.startswith("PARTSBOT_") and k != "PARTSBOT_SECRET_KEY"},
    )
