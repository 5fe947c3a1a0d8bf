"""Settings: defaults, .env, and one clear line for every wrong setting."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.crypto import new_key
from bot.settings import KNOWN_SETTINGS, Settings, SettingsError, load_settings


def test_defaults_without_environment(tmp_path: Path) -> None:
    s = load_settings({}, env_file=tmp_path / ".env")
    assert s.database_url == "sqlite:///partsbot.sqlite3"
    assert (s.language, s.timezone, s.env, s.port) == ("nb", "Europe/Oslo", "development", 3978)
    assert not s.any_platform


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PARTSBOT_LANGUAGE=nn\nPORT=8080\nDATABASE_URL=postgresql://u:p@db/partsbot\n")
    s = load_settings({"PORT": "9000"}, env_file=env)
    assert s.language == "nn"
    assert s.port == 9000
    assert s.database_url == "postgresql+psycopg://u:p@db/partsbot"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PARTSBOT_LANGUAGE": "sv"}, "PARTSBOT_LANGUAGE='sv' is not supported; use one of nb, nn, en"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL must start with sqlite:/// or postgresql://"),
        ({"PARTSBOT_TIMEZONE": "Mars/Olympus"}, "PARTSBOT_TIMEZONE='Mars/Olympus' is not a known time zone"),
        ({"PORT": "http"}, "PORT='http' must be a number from 1 to 65535"),
        ({"PARTSBOT_ENV": "production"}, "PARTSBOT_ENV=production needs a platform"),
        ({"MICROSOFT_APP_ID": "not-a-guid"}, "MICROSOFT_APP_ID must be the bot's app id, a GUID"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not"),
        (
            {"PARTSBOT_ENV": "production", "SLACK_SIGNING_SECRET": "s"},
            "PARTSBOT_ENV=production needs PARTSBOT_SECRET_KEY",
        ),
        ({"PARTSBOT_SECRET_KEY": "too-short"}, "PARTSBOT_SECRET_KEY key 1 is not a Fernet key"),
        ({"SLACK_API_URL": "http://proxy.example/api/"}, "SLACK_API_URL must start with https://"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"},
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go",
        ),
        (
            {"PARTSBOT_ANONYMOUS_BATCH": "abc"},
            "PARTSBOT_ANONYMOUS_BATCH='abc' must be a whole number of at least 3",
        ),
        (
            {"PARTSBOT_ANONYMOUS_BATCH": "2"},
            "PARTSBOT_ANONYMOUS_BATCH='2' must be a whole number of at least 3",
        ),
        ({"PARTSBOT_TEAMS": "kanskje"}, "PARTSBOT_TEAMS='kanskje' must be 1 or 0"),
        (
            {"PARTSBOT_CASE_RETENTION_MONTHS": "0"},
            "PARTSBOT_CASE_RETENTION_MONTHS='0' must be a whole number",
        ),
        (
            {"PARTSBOT_LANGAUGE": "nn"},
            "PARTSBOT_LANGAUGE is not a Partsbot setting; known: PARTSBOT_ANONYMOUS",
        ),
        (
            {"PARTSBOT_PROMPTS_DIR": "/no/such/prompts"},
            "PARTSBOT_PROMPTS_DIR='/no/such/prompts' is not a folder",
        ),
    ],
)
def test_invalid_settings_are_one_clear_line(env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env, env_file=tmp_path / ".env")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_every_partsbot_setting_read_anywhere_is_known_and_checked() -> None:
    """A PARTSBOT_* name read in the code but missing from KNOWN_SETTINGS would stop every start."""
    root = Path(__file__).resolve().parent.parent
    read = {
        name
        for folder in ("bot", "handlers")
        for path in (root / folder).rglob("*.py")
        for name in re.findall(r"PARTSBOT_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8"))
        if not name.startswith(("PARTSBOT_TEST", "PARTSBOT_BENCH"))
    }
    assert read == set(KNOWN_SETTINGS)


def test_good_partsbot_settings_pass(tmp_path: Path) -> None:
    s = load_settings(
        {
            "PARTSBOT_ANONYMOUS_BATCH": "5",
            "PARTSBOT_TEAMS": "Yes",
            "PARTSBOT_CHART_DIR": str(tmp_path / "new"),
        },
        env_file=None,
    )
    assert s.extra["PARTSBOT_ANONYMOUS_BATCH"] == "5"


def test_one_answer_to_is_slack_configured(tmp_path: Path) -> None:
    """The server and the Slack adapter ask the same property; OAuth needs the client secret too."""
    socket_only = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xapp-1",
        "PARTSBOT_ENV": "production",
        "PARTSBOT_SECRET_KEY": new_key(),
    }
    assert load_settings(socket_only, env_file=None).slack_configured
    oauth = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"}
    assert load_settings(oauth, env_file=None).slack_configured
    assert not Settings(slack_client_id="1.2", slack_signing_secret="s").slack_configured
    assert not Settings(slack_bot_token="xoxb-1").slack_configured


def _partsbot(
    args: list[str], env: dict[str, str], cwd: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env},
        timeout=120,
    )


def test_start_with_bad_settings_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    result = _partsbot(["run"], {"PARTSBOT_LANGUAGE": "de"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "partsbot: PARTSBOT_LANGUAGE='de' is not supported; use one of nb, nn, en"
    ]


def test_unusable_database_is_one_line(tmp_path: Path) -> None:
    result = _partsbot(["run"], {"DATABASE_URL": "sqlite:////no/such/folder/partsbot.sqlite3"}, tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "partsbot: DATABASE_URL points into a folder that does not exist: /no/such/folder"
    )
    result = _partsbot(["db", "upgrade"], {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("partsbot: DATABASE_URL cannot be used:")


def test_settings_never_print_secrets(tmp_path: Path) -> None:
    key = new_key()
    env = {
        "SLACK_BOT_TOKEN": "xoxb-SECRET",
        "SLACK_SIGNING_SECRET": "signSECRET",
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "clientSECRET",
        "SLACK_APP_TOKEN": "xapp-SECRET",
        "MICROSOFT_APP_PASSWORD": "pwSECRET",
        "PARTSBOT_SECRET_KEY": key,
    }
    shown = repr(load_settings(env, env_file=tmp_path / ".env"))
    assert "SECRET" not in shown and key not in shown


def test_the_example_env_file_keeps_production_guards_on(tmp_path: Path) -> None:
    """Copied as .env next to the container image (which sets production), it must not switch to
    development, where Teams without an app id would answer unauthenticated (SEC-04)."""
    example = Path(__file__).resolve().parent.parent / ".env.example"
    values = [line.split("=", 1)[0] for line in example.read_text().splitlines() if "=" in line]
    assert "PARTSBOT_ENV" not in values
    assert "PARTSBOT_SECRET_KEY" in values
    settings = load_settings(
        {"PARTSBOT_ENV": "production", "SLACK_SIGNING_SECRET": "s", "PARTSBOT_SECRET_KEY": new_key()},
        env_file=example,
    )
    assert settings.env == "production"
    assert (
        load_settings(
            {"SLACK_API_URL": "http://127.0.0.1:9/api/", "PARTSBOT_ENV": "test"}, env_file=example
        ).env
        == "test"
    )


def test_partsbot_secret_key_prints_a_usable_key(tmp_path: Path) -> None:
    done = _partsbot(["secret-key"], {"PARTSBOT_ENV": "production"}, tmp_path)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert load_settings({"PARTSBOT_SECRET_KEY": key}, env_file=tmp_path / ".env").secret_key == key


def test_partsbot_secrets_rotate_encrypts_what_was_stored_in_plain_text(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    from bot.storage import migrate

    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO key_value (key, value) VALUES ('teams.card_secret', 'ab12')"))
    key = new_key()
    done = _partsbot(["secrets", "rotate"], {"DATABASE_URL": url, "PARTSBOT_SECRET_KEY": key}, tmp_path)
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT value FROM key_value")).scalar_one()
    engine.dispose()
    assert stored.startswith("fernet:")
    from bot.crypto import Box

    assert Box(key).open(stored) == "ab12"
