"""Files in Teams: a file-consent card in the personal chat, the upload once the person accepts.

A Teams bot cannot attach a file to a message. In a personal chat (only there) it may ask first: it sends a
*file consent card* (``application/vnd.microsoft.teams.card.file.consent``) with the file's name, size and
a description; Teams shows "Allow" / "Decline". On "Allow" Teams creates the file in the person's OneDrive
and sends the bot an ``invoke`` named ``fileConsent/invoke`` with an upload URL; the bot PUTs the bytes
there (one ``Content-Range`` request for files under 4 MB) and then posts a *file info card*
(``application/vnd.microsoft.teams.card.file.info``) that shows the file in the chat. The app manifest
must say ``"supportsFiles": true``.

The bytes wait in :class:`~bot.adapters.teams.models.TeamsPendingFile` between the card and the answer,
under a random token (the card carries only the token), for :data:`KEEP` at most; the answer is accepted
only from the person the card was sent to, in the same tenant.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import delete, select

from bot.adapters.teams.models import TeamsPendingFile
from bot.chat.model import File
from bot.storage.db import Database

log = logging.getLogger(__name__)

CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
CONSENT_INVOKE = "fileConsent/invoke"
# How long an offered file waits for "Allow": a day covers a shift and the evening after it.
KEEP = timedelta(days=1)
# One PUT is enough below this size (Teams' own guidance); the HMS record is far smaller.
MAX_BYTES = 4 * 1024 * 1024
UPLOAD_TIMEOUT = 30.0


def store(db: Database, workspace: str, user_id: str, file: File, now: datetime) -> str:
    """Keep the file for the person's answer; returns the token the consent card carries. Files offered
    longer ago than :data:`KEEP` are removed on the way."""
    token = secrets.token_urlsafe(24)
    with db.transaction() as session:
        session.execute(delete(TeamsPendingFile).where(TeamsPendingFile.created_at < now - KEEP))
        session.add(
            TeamsPendingFile(
                workspace=workspace,
                user_id=user_id,
                token=token,
                name=file.name[:200],
                media_type=file.media_type[:100],
                data=file.data,
                created_at=now,
            )
        )
    return token


def consent_attachment(file: File, token: str, description: str) -> dict[str, Any]:
    context = {"partsbot_file": token}
    return {
        "contentType": CONSENT_CARD,
        "name": file.name,
        "content": {
            "description": description,
            "sizeInBytes": len(file.data),
            "acceptContext": context,
            "declineContext": context,
        },
    }


@dataclass(frozen=True)
class Answer:
    """A person's answer to a consent card, as Teams sends it."""

    accepted: bool
    token: str
    upload_url: str
    content_url: str
    name: str
    unique_id: str
    file_type: str


def parse_answer(value: object) -> Answer | None:
    """The invoke's ``value``; None when it is not an answer to one of our cards."""
    if not isinstance(value, dict) or value.get("type") != "fileUpload":
        return None
    context = value.get("context")
    token = context.get("partsbot_file") if isinstance(context, dict) else None
    if not isinstance(token, str) or not token:
        return None
    info = value.get("uploadInfo") if isinstance(value.get("uploadInfo"), dict) else {}
    assert isinstance(info, dict)
    return Answer(
        accepted=value.get("action") == "accept",
        token=token,
        upload_url=str(info.get("uploadUrl") or ""),
        content_url=str(info.get("contentUrl") or ""),
        name=str(info.get("name") or ""),
        unique_id=str(info.get("uniqueId") or ""),
        file_type=str(info.get("fileType") or ""),
    )


@dataclass(frozen=True)
class Waiting:
    name: str
    data: bytes


def take(db: Database, token: str, workspace: str, user_id: str, now: datetime) -> Waiting | None:
    """The file offered under ``token`` to this very person, removed from the table; None when there is
    none (answered already, expired, or offered to somebody else – which stays for its owner)."""
    with db.transaction() as session:
        row = session.scalar(select(TeamsPendingFile).where(TeamsPendingFile.token == token))
        if row is None or row.created_at < now - KEEP:
            return None
        if row.workspace != workspace or row.user_id != user_id:
            log.warning("a file-consent answer for another person's file was refused")
            return None
        found = Waiting(row.name, row.data)
        session.delete(row)
        return found


async def upload(url: str, data: bytes, *, allow_http: bool) -> bool:
    """PUT the bytes to the upload URL Teams gave (the person's OneDrive); True when it took them."""
    if not url.startswith("https://") and not (allow_http and url.startswith("http://")):
        log.error("refused to upload a file to a non-https URL")
        return False
    if len(data) > MAX_BYTES:
        log.error("file of %s bytes is too big for a single upload", len(data))
        return False
    headers = {"Content-Length": str(len(data)), "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    try:
        timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.put(url, data=data, headers=headers) as response,
        ):
            ok = response.status in (200, 201)
            if not ok:
                log.error("file upload to OneDrive answered %s", response.status)
            return ok
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        log.error("file upload to OneDrive failed: %s", exc)
        return False


def file_info_attachment(answer: Answer) -> dict[str, Any]:
    return {
        "contentType": FILE_INFO_CARD,
        "contentUrl": answer.content_url,
        "name": answer.name,
        "content": {"uniqueId": answer.unique_id, "fileType": answer.file_type},
    }
