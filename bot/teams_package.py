"""Build the Microsoft Teams app package: a zip with manifest.json and the two icons at its root.

`apps/teams/manifest.json` is committed with an all-zero GUID and an example domain so that it validates
against Microsoft's schema as it is; the real Microsoft App ID (the Azure bot registration's, which is also
used as the Teams app id) and the bot's public host name are only known at packaging time.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Where the manifest template and icons live in a source checkout (also with an editable install).
TEAMS_APP_DIR = Path(__file__).resolve().parent.parent / "apps" / "teams"
#: Overrides TEAMS_APP_DIR where Partsbot is installed as a wheel (the container image sets it).
TEAMS_APP_DIR_ENV = "PARTSBOT_TEAMS_APP_DIR"
PLACEHOLDER_APP_ID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_DOMAIN = "partsbot.example.org"
ICON_FILES = ("color.png", "outline.png")
DEFAULT_ZIP_NAME = "partsbot-teams.zip"

# The same pattern as the manifest schema's "guid" definition, so whatever passes here also validates there.
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# A DNS name, optionally with a leading "*." wildcard, which the manifest's validDomains allows.
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
# Fixed timestamps make the zip byte-for-byte reproducible, so rebuilding it changes nothing by itself.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def build_teams_package(out: Path, app_id: str, domain: str | None, *, source: Path | None = None) -> Path:
    """Write the Teams app package and return the path of the zip.

    `out` is the zip file to write, or an existing directory to put `partsbot-teams.zip` in. `app_id` is
    the Microsoft App ID (MICROSOFT_APP_ID); it becomes both the Teams app id and the bot id. `domain` is
    the public host name the bot is served from (a URL is accepted, only its host name is kept); it
    replaces the example domain in validDomains, and with None the package lists no example domain.
    `source` is the folder holding manifest.json and the icons (default: $PARTSBOT_TEAMS_APP_DIR, else
    `apps/teams` in the checkout).
    Raises ValueError for an app id that is not a GUID or a domain that is not a host name.
    """
    app_id = _checked_app_id(app_id)
    host = _checked_host(domain) if domain else None
    source = teams_app_dir() if source is None else source
    manifest_path = source / "manifest.json"
    missing = [p for p in (manifest_path, *(source / name for name in ICON_FILES)) if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            "Teams app files not found: "
            + ", ".join(str(p) for p in missing)
            + f" (run from a source checkout of Partsbot, or set {TEAMS_APP_DIR_ENV})"
        )

    manifest = _filled_manifest(json.loads(manifest_path.read_text(encoding="utf-8")), app_id, host)
    target = out / DEFAULT_ZIP_NAME if out.is_dir() else out
    target.parent.mkdir(parents=True, exist_ok=True)
    entries: list[tuple[str, bytes]] = [
        ("manifest.json", (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")),
        *((name, (source / name).read_bytes()) for name in ICON_FILES),
    ]
    _write_zip_atomically(target, entries)
    return target


def teams_app_dir() -> Path:
    """The folder with manifest.json and the icons: $PARTSBOT_TEAMS_APP_DIR, else the checkout's."""
    override = os.environ.get(TEAMS_APP_DIR_ENV)
    return Path(override) if override else TEAMS_APP_DIR


def _checked_app_id(app_id: str) -> str:
    candidate = app_id.strip()
    if not _GUID.fullmatch(candidate):
        raise ValueError(
            f"The Teams app id must be a GUID like 1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d, got {app_id!r}. "
            "Use the Microsoft App ID of the Azure bot registration (MICROSOFT_APP_ID)."
        )
    if candidate == PLACEHOLDER_APP_ID:
        raise ValueError(
            "The Teams app id is still the all-zero placeholder. "
            "Use the Microsoft App ID of the Azure bot registration (MICROSOFT_APP_ID)."
        )
    return candidate


def _checked_host(domain: str) -> str:
    text = domain.strip()
    # urlsplit only finds a host after "//"; prefixing it lets people paste a bare host or a whole URL.
    try:
        host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
        wildcard = "*." if host.startswith("*.") else ""
        # Teams compares ASCII host names; IDNA turns e.g. "bærum.kommune.no" into its xn-- form.
        ascii_host = wildcard + host.removeprefix(wildcard).encode("idna").decode("ascii") if host else ""
    except (UnicodeError, ValueError):
        ascii_host = ""
    if not _HOST.fullmatch(ascii_host):
        raise ValueError(
            f"The domain must be the bot's public host name, like partsbot.kommune.no, got {domain!r}."
        )
    return ascii_host


def _filled_manifest(manifest: dict[str, Any], app_id: str, host: str | None) -> dict[str, Any]:
    manifest["id"] = app_id
    # Teams links the app to the Azure bot through botId; using the same id for both is the usual setup
    # and keeps MICROSOFT_APP_ID the only id an operator has to know.
    for bot in manifest.get("bots", []):
        bot["botId"] = app_id
    domains = [d for d in manifest.get("validDomains", []) if d != PLACEHOLDER_DOMAIN]
    if host and host not in domains:
        domains.append(host)
    manifest["validDomains"] = domains
    return manifest


def _write_zip_atomically(target: Path, entries: list[tuple[str, bytes]]) -> None:
    # Write next to the target and rename, so a failed run never leaves a half-written zip to upload.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
