"""Slack tokens are encrypted at rest with PARTSBOT_SECRET_KEY (issue 10, SEC-05): a database reader sees
ciphertext, the bot still works, and the key can be rotated."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.adapters.slack.models import slack_bots, slack_installations
from bot.crypto import Box, SecretError, new_key
from bot.storage.models import Unit
from tests.slack.fakes import INSTALLED_TOKEN, SIGNING_SECRET, FakeSlack, SlackDriver
from tests.slack.test_slack_installs import NEW_TEAM, _install

KEY = new_key()
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
def slack_settings(fake_slack: FakeSlack) -> dict[str, Any]:
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_client_id": "1111.2222",
        "slack_client_secret": "client-secret",
        "slack_api_url": fake_slack.url + "/api/",
        "secret_key": KEY,
    }


def _dump(slack: SlackDriver) -> str:
    with slack.bot.db.engine.connect() as conn:
        rows = [
            *conn.execute(select(slack_bots)).mappings(),
            *conn.execute(select(slack_installations)).mappings(),
        ]
    return repr([dict(r) for r in rows])


async def test_installed_tokens_are_encrypted_in_the_database(slack: SlackDriver) -> None:
    assert (await _install(slack)).status == 200
    dump = _dump(slack)
    assert INSTALLED_TOKEN not in dump  # what a database reader or a backup sees
    assert "fernet:" in dump
    # The bot decrypts it and answers in the new workspace with the real token.
    await slack.command("rolle verneombud", team=NEW_TEAM, user="UOLA")
    [announcement] = await slack.fake.wait_for("chat.postMessage")
    assert announcement.token == INSTALLED_TOKEN


def test_rotation_reencrypts_with_the_new_key_and_reads_the_old() -> None:
    old, new = Box(KEY), Box(f"{new_key()},{KEY}")
    sealed = old.seal("xoxb-secret")
    assert sealed is not None and new.open(sealed) == "xoxb-secret"
    rotated = new.rotate(sealed)
    assert rotated is not None and rotated != sealed
    assert new.open(rotated) == "xoxb-secret"
    with pytest.raises(SecretError):  # after the rotation the old key alone no longer reads it
        old.open(rotated)
    # A value stored before encryption was switched on is still read, and sealed by a rotation.
    assert new.open("xoxb-plain") == "xoxb-plain"
    assert (new.rotate("xoxb-plain") or "").startswith("fernet:")


async def test_mine_data_arrives_as_a_message_and_a_file_in_the_direct_chat(slack: SlackDriver) -> None:
    """`/parts mine data` in Slack: an overview in the DM and the JSON uploaded there (files.uploadV2)."""
    assert (await _install(slack)).status == 200
    await slack.command("problem Garderoben er for trang", user="UPER", team=NEW_TEAM)
    await slack.idle()
    before = len(slack.fake.privates("UPER"))
    await slack.command("mine data", user="UPER", team=NEW_TEAM)
    [done] = await slack.fake.wait_for("files.completeUploadExternal")
    [upload] = await slack.fake.wait_for("upload")
    assert upload.body["size"] > 100
    assert done.body["files"][0]["title"].startswith("partsbot-data-")
    dm_posts = [c for c in slack.fake.of("chat.postMessage") if "Dette har jeg lagret om deg" in str(c.body)]
    assert dm_posts and dm_posts[0].body["channel"] == done.body["channel_id"]
    told = (await slack.fake.wait_for_private(before + 1, user="UPER"))[before]
    assert "direktemelding" in str(told.body)


async def test_the_hms_record_arrives_as_a_pdf_in_the_leaders_direct_chat(slack: SlackDriver) -> None:
    """`/parts eksport` in Slack: the PDF goes through files.getUploadURLExternal, the upload and
    files.completeUploadExternal into Kari's direct chat, and the bytes Slack got are the document."""
    assert (await _install(slack)).status == 200
    await slack.command("rolle leder", user="UKARI", team=NEW_TEAM)
    await slack.command("problem Garderoben er for trang", user="UKARI", team=NEW_TEAM)
    await slack.idle()
    before = len(slack.fake.privates("UKARI"))
    await slack.command("eksport", user="UKARI", team=NEW_TEAM)
    [asked] = await slack.fake.wait_for("files.getUploadURLExternal")
    [done] = await slack.fake.wait_for("files.completeUploadExternal")
    [upload] = await slack.fake.wait_for("upload")
    assert asked.body["filename"].endswith(".pdf") and int(asked.body["length"]) == upload.body["size"]
    data = upload.body["data"]
    assert data.startswith(b"%PDF")
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    assert "HMS-dokumentasjon" in text and "Garderoben er for trang" in text
    with slack.bot.db.transaction() as session:
        [unit_name] = session.scalars(select(Unit.name)).all()
    assert f"HMS-dokumentasjon: partssamarbeid i {unit_name}" in text  # the unit's own name
    assert done.body["channel_id"].startswith("D") and done.body["files"][0]["title"].endswith(".pdf")
    told = (await slack.fake.wait_for_private(before + 1, user="UKARI"))[before]
    assert "direktemelding" in str(told.body)
    # Staff get no record, and nothing is uploaded for them.
    await slack.command("eksport", user="UPER", team=NEW_TEAM)
    await slack.fake.settle()
    assert len(slack.fake.of("upload")) == 1
