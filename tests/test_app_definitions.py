"""The app definitions people install from: the Slack manifest, the Teams package and the container image."""

from __future__ import annotations

import json
import re
import shlex
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.teams_package import (
    DEFAULT_ZIP_NAME,
    PLACEHOLDER_APP_ID,
    TEAMS_APP_DIR_ENV,
    build_teams_package,
)
from tests.node_tools import MANIFEST_SCHEMAS, manifest_schemas_missing, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
SLACK_MANIFEST = ROOT / "apps" / "slack" / "manifest.yaml"
TEAMS_DIR = ROOT / "apps" / "teams"
TEAMS_SCHEMAS = MANIFEST_SCHEMAS
APP_ID = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"

# The scopes Partsbot asks for. Adding one is a decision: justify it in the manifest and add it here.
SLACK_SCOPES = {
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "files:write",
    "channels:history",
    "groups:history",
    "im:history",
}
# Scope each subscribed event needs (None: the event needs no scope).
SLACK_EVENT_SCOPES: dict[str, str | None] = {
    "app_home_opened": None,
    "app_uninstalled": None,
    "tokens_revoked": None,
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "user_change": "users:read",
}
TEAMS_COMMANDS = {
    "hjelp",
    "problem",
    "rolle",
    "roller",
    "blindsone",
    "idejakt",
    "stemme",
    "høra",
    "kurs",
    "oppsummering",
    "sjekkinn",
}


# --- Slack ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slack() -> dict[str, Any]:
    manifest = yaml.safe_load(SLACK_MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(manifest, dict)
    return manifest


def test_slack_manifest_has_exactly_the_parts_command(slack: dict[str, Any]) -> None:
    commands = slack["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/parts"]
    assert "problem" in commands[0]["usage_hint"] and "hjelp" in commands[0]["usage_hint"]


def test_slack_manifest_has_the_message_shortcut(slack: dict[str, Any]) -> None:
    assert slack["features"]["shortcuts"] == [
        {
            "name": "Lag problemtråd",
            "type": "message",
            "callback_id": "create_case_from_message",
            "description": slack["features"]["shortcuts"][0]["description"],
        }
    ]


def test_slack_scopes_are_the_chosen_ones_and_each_is_justified(slack: dict[str, Any]) -> None:
    scopes = slack["oauth_config"]["scopes"]["bot"]
    assert set(scopes) == SLACK_SCOPES and len(scopes) == len(SLACK_SCOPES)
    assert "user" not in slack["oauth_config"]["scopes"], "Partsbot acts as its bot user only"
    raw = SLACK_MANIFEST.read_text(encoding="utf-8")
    for scope in scopes:
        # The reason sits on the scope's own line, so it cannot drift away from it.
        justified = re.search(rf"^\s*-\s*{re.escape(scope)}\s+#\s*(\S.{{14,}})$", raw, re.MULTILINE)
        assert justified, f"scope {scope} has no comment saying why Partsbot needs it"


def test_slack_events_are_known_and_covered_by_scopes(slack: dict[str, Any]) -> None:
    events = slack["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)
    assert "app_mention" not in events, "message events already carry mentions; both would double them"
    for event in events:
        assert event in SLACK_EVENT_SCOPES, f"unexpected event {event}"
        needed = SLACK_EVENT_SCOPES[event]
        assert needed is None or needed in SLACK_SCOPES, f"{event} needs scope {needed}"


def test_slack_requests_all_go_to_one_url(slack: dict[str, Any]) -> None:
    settings = slack["settings"]
    urls = {
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in slack["features"]["slash_commands"]),
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert all(u.endswith("/slack/oauth_redirect") for u in slack["oauth_config"]["redirect_urls"])


def test_slack_manifest_respects_slacks_limits(slack: dict[str, Any]) -> None:
    # Limits from Slack's manifest schema; Slack refuses a manifest that breaks them.
    info = slack["display_information"]
    assert 1 <= len(info["name"]) <= 35
    assert 1 <= len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])
    for shortcut in slack["features"]["shortcuts"]:
        assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 150
    for command in slack["features"]["slash_commands"]:
        assert len(command["command"]) <= 32 and len(command["usage_hint"]) <= 1000
    home = slack["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]
    assert home["messages_tab_read_only_enabled"] is False


# --- Teams ------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _teams_app_files_from_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TEAMS_APP_DIR_ENV, raising=False)


def _teams_manifest() -> dict[str, Any]:
    manifest = json.loads((TEAMS_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert isinstance(manifest, dict)
    return manifest


def _schema_validator(manifest: dict[str, Any]) -> jsonschema.protocols.Validator:
    reason = manifest_schemas_missing()
    if reason:
        skip_or_fail(reason)
    path = TEAMS_SCHEMAS / "teams" / f"v{manifest['manifestVersion']}" / "MicrosoftTeams.schema.json"
    assert path.is_file(), f"no schema for manifestVersion {manifest['manifestVersion']} in {TEAMS_SCHEMAS}"
    schema = json.loads(path.read_text(encoding="utf-8-sig"))
    cls = jsonschema.validators.validator_for(schema)
    # Microsoft's schema uses \p{L} in a few patterns, which Python's re cannot compile, so check the schema
    # against its meta-schema without the "regex" format check; none of those patterns apply to Partsbot.
    cls.check_schema(schema, format_checker=None)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _assert_valid(manifest: dict[str, Any]) -> None:
    errors = sorted(_schema_validator(manifest).iter_errors(manifest), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_teams_manifest_validates_against_microsofts_schema() -> None:
    manifest = _teams_manifest()
    assert manifest["$schema"].endswith(f"/v{manifest['manifestVersion']}/MicrosoftTeams.schema.json")
    _assert_valid(manifest)


def test_teams_manifest_bot_scopes_and_commands() -> None:
    manifest = _teams_manifest()
    assert manifest["id"] == PLACEHOLDER_APP_ID
    (bot,) = manifest["bots"]
    assert bot["botId"] == PLACEHOLDER_APP_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    covered: set[str] = set()
    for command_list in bot["commandLists"]:
        titles = [c["title"] for c in command_list["commands"]]
        assert set(titles) == TEAMS_COMMANDS and len(titles) == len(TEAMS_COMMANDS)
        assert all(c.get("description") for c in command_list["commands"])
        covered.update(command_list["scopes"])
    assert covered == set(bot["scopes"]), "every scope gets the command list"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def _png_size_and_colour_type(data: bytes) -> tuple[int, int, int]:
    # A PNG starts with its 8-byte signature and then the IHDR chunk: length, b"IHDR", width, height,
    # bit depth, colour type.
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height, _depth, colour_type = struct.unpack(">IIBB", data[16:26])
    return width, height, colour_type


def _rgba_pixels(data: bytes) -> list[tuple[int, int, int, int]]:
    """Decode an 8-bit RGBA, non-interlaced PNG without Pillow (enough for a 32x32 icon)."""
    width, height, colour_type = _png_size_and_colour_type(data)
    assert colour_type == 6 and data[24] == 8 and data[28] == 0, "expected 8-bit RGBA, not interlaced"
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw, stride, bpp = zlib.decompress(idat), width * 4, 4
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, up_left = previous[i], (previous[i - bpp] if i >= bpp else 0)
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(line)
        previous = line
    return [(r[i], r[i + 1], r[i + 2], r[i + 3]) for r in rows for i in range(0, stride, 4)]


def test_teams_icons_have_the_sizes_teams_demands() -> None:
    assert _png_size_and_colour_type((TEAMS_DIR / "color.png").read_bytes())[:2] == (192, 192)
    outline = (TEAMS_DIR / "outline.png").read_bytes()
    assert _png_size_and_colour_type(outline)[:2] == (32, 32)
    pixels = _rgba_pixels(outline)
    visible = [p for p in pixels if p[3] > 0]
    assert visible and len(visible) < len(pixels), "the outline icon needs both a shape and transparency"
    assert all(p[:3] == (255, 255, 255) for p in visible), "the outline icon must be white on transparent"


def test_teams_package_has_manifest_and_icons_with_the_app_id(tmp_path: Path) -> None:
    path = build_teams_package(tmp_path / "teams.zip", APP_ID, "https://partsbot.kommune.no/api/messages")
    assert path == tmp_path / "teams.zip"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read("color.png") == (TEAMS_DIR / "color.png").read_bytes()
        assert _png_size_and_colour_type(archive.read("color.png"))[:2] == (192, 192)
        assert _png_size_and_colour_type(archive.read("outline.png"))[:2] == (32, 32)
    assert manifest["id"] == APP_ID
    assert [bot["botId"] for bot in manifest["bots"]] == [APP_ID]
    assert manifest["validDomains"] == ["partsbot.kommune.no"]
    assert PLACEHOLDER_APP_ID not in json.dumps(manifest)
    _assert_valid(manifest)


def test_teams_package_without_domain_and_into_a_directory(tmp_path: Path) -> None:
    first = build_teams_package(tmp_path, APP_ID, None)
    assert first == tmp_path / DEFAULT_ZIP_NAME
    with zipfile.ZipFile(first) as archive:
        assert json.loads(archive.read("manifest.json"))["validDomains"] == []
    # Reproducible: the same inputs give the same bytes, and no temporary file is left behind.
    again = build_teams_package(tmp_path / "again.zip", APP_ID, None)
    assert again.read_bytes() == first.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.zip", DEFAULT_ZIP_NAME]


def test_teams_package_reads_the_app_files_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # How the container image packages: Partsbot is installed as a wheel, the app files sit elsewhere.
    source = tmp_path / "teams-files"
    source.mkdir()
    for name in ("manifest.json", "color.png", "outline.png"):
        (source / name).write_bytes((TEAMS_DIR / name).read_bytes())
    manifest = _teams_manifest()
    manifest["name"]["short"] = "Partsbot Test"
    (source / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setenv(TEAMS_APP_DIR_ENV, str(source))
    with zipfile.ZipFile(build_teams_package(tmp_path / "teams.zip", APP_ID, None)) as archive:
        assert json.loads(archive.read("manifest.json"))["name"]["short"] == "Partsbot Test"
    (source / "outline.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"outline\.png"):
        build_teams_package(tmp_path / "other.zip", APP_ID, None)


@pytest.mark.parametrize(
    "bad_id",
    [
        "",
        "partsbot",
        "1a2b3c4d5e6f4a8b9c0d1e2f3a4b5c6d",
        "{1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d}",
        PLACEHOLDER_APP_ID,
    ],
)
def test_teams_package_refuses_an_app_id_that_is_not_a_real_guid(tmp_path: Path, bad_id: str) -> None:
    with pytest.raises(ValueError, match="Teams app id"):
        build_teams_package(tmp_path / "teams.zip", bad_id, None)
    assert not (tmp_path / "teams.zip").exists()


@pytest.mark.parametrize("bad_domain", ["localhost", "https://", "two words.no"])
def test_teams_package_refuses_a_domain_that_is_not_a_host_name(tmp_path: Path, bad_domain: str) -> None:
    with pytest.raises(ValueError, match="domain"):
        build_teams_package(tmp_path / "teams.zip", APP_ID, bad_domain)


# --- Container image --------------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(r"\\\n(\s*#[^\n]*\n)*", " ", text)  # join continuation lines
    instructions = []
    for line in logical.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_runs_partsbot_serve_as_a_non_root_user_with_a_healthcheck() -> None:
    instructions = _dockerfile_instructions()
    keywords = [k for k, _ in instructions]
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", dict(instructions)["FROM"])
    users = [arg for k, arg in instructions if k == "USER"]
    assert users, "the image must not run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN"), "USER after RUNs"
    (health,) = [arg for k, arg in instructions if k == "HEALTHCHECK"]
    assert "/healthz" in health and "127.0.0.1" in health and "curl" not in health
    assert json.loads(dict(instructions)["CMD"]) == ["partsbot", "serve"]
    assert dict(instructions)["EXPOSE"] == "3978"
    env = " ".join(arg for k, arg in instructions if k == "ENV")
    assert "PARTSBOT_ENV=production" in env
    assert "DATABASE_URL=sqlite:////data/partsbot.sqlite3" in env
    assert json.loads(dict(instructions)["VOLUME"]) == ["/data"]
    assert any(k == "RUN" and re.search(r"pip install (--no-deps )?\.", a) for k, a in instructions)


def test_dockerignore_lets_in_what_the_dockerfile_copies_and_keeps_secrets_out() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", ".dockerignore is an allow-list"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert not any(a.startswith(".env") for a in allowed)
    for keyword, arg in _dockerfile_instructions():
        if keyword != "COPY" or "--from" in arg:
            continue
        *sources, _dest = shlex.split(arg)
        for source in sources:
            parts = Path(source).parts
            assert any("/".join(parts[:n]) in allowed for n in range(1, len(parts) + 1)), (
                f"COPY {source}: excluded by .dockerignore"
            )
            # README.md is exempt: pyproject.toml declares it as the readme, so without it every install
            # fails long before a docker build would.
            assert (ROOT / source).exists() or source == "README.md", f"COPY {source}: not in the repository"
