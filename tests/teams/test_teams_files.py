"""The HMS record as a PDF in Teams: a file-consent card in the leader's personal chat (never the bytes in
a card), the upload to her OneDrive when she allows it, the file card after; a declined or foreign answer
uploads nothing."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import func, select

from bot.adapters.teams.files import CONSENT_CARD, FILE_INFO_CARD
from bot.adapters.teams.models import TeamsPendingFile
from bot.storage.models import Unit
from tests.teams.fakes import AISHA, KARI, Call, TeamsDriver, file_consent


def _consent(calls: list[Call]) -> tuple[Call, dict]:  # type: ignore[type-arg]
    for call in calls:
        for attachment in call.body.get("attachments") or []:
            if attachment.get("contentType") == CONSENT_CARD:
                return call, attachment
    raise AssertionError("no file-consent card was sent")


async def _offered(teams: TeamsDriver) -> tuple[Call, dict]:  # type: ignore[type-arg]
    await teams.say(KARI, "rolle leder")
    await teams.say(KARI, "problem Garderoben er for trang om morgenen")
    mark = teams.mark()
    await teams.say(KARI, "eksport")
    return _consent(teams.since(mark))


async def test_the_record_is_offered_with_a_consent_card_and_uploaded_when_allowed(
    teams: TeamsDriver,
) -> None:
    call, card = await _offered(teams)
    assert call.conversation == KARI.chat  # the personal chat: Teams allows files only there
    assert card["name"].endswith(".pdf") and "base64" not in str(card)
    content = card["content"]
    assert content["sizeInBytes"] > 1000 and "Tillat" in content["description"]
    assert content["acceptContext"] == content["declineContext"]
    with teams.bot.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TeamsPendingFile)) == 1

    mark = teams.mark()
    upload_url = f"{teams.connector.url}/upload/hms.pdf"
    answer = file_consent(
        teams.service_url, KARI, content["acceptContext"], accept=True, upload_url=upload_url
    )
    assert await teams.send(answer) == 200
    [(name, headers, data)] = teams.connector.uploads
    assert name == "hms.pdf" and headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert data.startswith(b"%PDF") and len(data) == content["sizeInBytes"]
    with teams.bot.db.transaction() as session:
        unit_name = session.scalars(select(Unit.name)).one()
        assert session.scalar(select(func.count()).select_from(TeamsPendingFile)) == 0  # gone once uploaded
    text = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages).split())
    assert f"HMS-dokumentasjon: partssamarbeid i {unit_name}" in text
    assert "Garderoben er for trang om morgenen" in text
    infos = [
        a
        for c in teams.since(mark)
        for a in c.body.get("attachments") or []
        if a["contentType"] == FILE_INFO_CARD
    ]
    assert infos and infos[0]["content"] == {
        "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
        "fileType": "pdf",
    }

    # The same answer again: the file is gone, nothing is uploaded twice.
    assert (
        await teams.send(
            file_consent(
                teams.service_url, KARI, content["acceptContext"], accept=True, upload_url=upload_url
            )
        )
        == 200
    )
    assert len(teams.connector.uploads) == 1


async def test_a_declined_or_foreign_answer_uploads_nothing(teams: TeamsDriver) -> None:
    _, card = await _offered(teams)
    context = card["content"]["acceptContext"]
    upload_url = f"{teams.connector.url}/upload/hms.pdf"
    # Aisha answers Kari's card (a forged or forwarded context): refused, and Kari's file stays hers.
    assert (
        await teams.send(file_consent(teams.service_url, AISHA, context, accept=True, upload_url=upload_url))
        == 200
    )
    assert teams.connector.uploads == []
    with teams.bot.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TeamsPendingFile)) == 1
    mark = teams.mark()
    assert (
        await teams.send(file_consent(teams.service_url, KARI, context, accept=False, upload_url="")) == 200
    )
    assert teams.connector.uploads == []
    assert any("er ikke sendt" in str(c.body.get("text")) for c in teams.since(mark))
    with teams.bot.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TeamsPendingFile)) == 0
