"""A file's bytes wait in the outbox as JSON: a PDF survives the round trip, and a file stored before files
carried bytes (text only) is still delivered after an upgrade."""

from __future__ import annotations

import json

from bot.chat import codec
from bot.chat.model import Direct, File, Reply, Text


def test_a_pdf_goes_through_the_outbox_unchanged() -> None:
    data = b"%PDF-1.3\n\x00\xff\xfe binary \xc3\xa6\xc3\xb8\xc3\xa5"
    effect = Direct(
        "slack", "T1", "U1", Reply("HMS", (Text("HMS"), File("hms-1.pdf", data, "application/pdf")))
    )
    stored = codec.dumps(effect)
    assert "%PDF" not in stored  # base64, never raw bytes in the JSON
    back = codec.loads(stored)
    assert back == effect and back.reply.blocks[1].data == data


def test_a_text_file_stored_before_the_upgrade_is_still_read() -> None:
    old = {
        "_t": "File",
        "name": "partsbot-data.json",
        "content": '{"æ": 1}',
        "media_type": "application/json",
    }
    assert codec.loads(json.dumps(old)) == File("partsbot-data.json", '{"æ": 1}'.encode(), "application/json")
