"""Block Kit rendering on its own: every neutral block and form field becomes valid Block Kit within
Slack's limits, and the home tab is built from sections others can add."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from slack_sdk.models.blocks import Block as SlackBlock
from slack_sdk.models.views import View

from bot.adapters.slack import home, render
from bot.chat.model import (
    Block,
    Button,
    Buttons,
    Choice,
    Divider,
    Fields,
    Form,
    FormField,
    Header,
    Note,
    Option,
    Reply,
    Text,
)
from bot.settings import Settings
from bot.storage.db import Database


def _valid(blocks: list[dict[str, object]]) -> None:
    for raw in blocks:
        parsed = SlackBlock.parse(raw)
        assert parsed is not None
        parsed.to_dict()


def test_every_neutral_block_renders_to_valid_block_kit() -> None:
    reply = Reply(
        "Sak 12",
        (
            Header("Sak 12: Pausene blir borte"),
            Text("*Hva skjer?* Pausene forsvinner når det er mange syke.\n• punkt"),
            Fields(tuple((f"Felt {n}", f"verdi {n}") for n in range(23))),
            Note("Startet av Kari · 3 svar"),
            Divider(),
            Buttons(
                (
                    Button("Stem", "vote.add", "case:12", "primary"),
                    Button("Avslutt", "case.close", "12", "danger"),
                )
            ),
            Choice("case.step", "Velg steg", tuple(Option(f"Steg {n}", str(n)) for n in range(130))),
        ),
    )
    [message] = render.render_reply(reply)
    _valid(message.blocks)
    kinds = [b["type"] for b in message.blocks]
    assert kinds.count("section") == 1 + 3  # the text, then 23 fields as 10 + 10 + 3
    selects = [
        e
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    ]
    assert [len(s["options"]) for s in selects] == [100, 30]
    assert len({s["action_id"] for s in selects}) == 2
    assert {render.base_action_id(s["action_id"]) for s in selects} == {"case.step"}


def test_split_text_respects_the_limit_and_keeps_entities_whole() -> None:
    text = render.escape("a&b " * 2000)
    pieces = render.split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces)
    assert "".join(p.replace(" ", "") for p in pieces) == text.replace(" ", "")
    assert all(not p.endswith("&") and not p.endswith("&am") for p in pieces)
    unbroken = "x" * 7000
    assert [len(p) for p in render.split_text(unbroken, 3000)] == [3000, 3000, 1000]


def test_base_action_id_only_strips_our_own_mark() -> None:
    assert render.base_action_id("vote.add#12") == "vote.add"
    assert render.base_action_id("vote.add") == "vote.add"
    assert render.base_action_id("tag#blue") == "tag#blue"


def test_more_than_fifty_blocks_become_several_messages_or_one_cut_message() -> None:
    reply = Reply("Mange", tuple(Text(f"Linje {n}") for n in range(120)))
    messages = render.render_reply(reply)
    assert [len(m.blocks) for m in messages] == [50, 50, 20]
    single = render.render_single(reply, "Resten står i tråden.")
    assert len(single.blocks) == 50
    assert single.blocks[-1]["type"] == "context"


def test_forms_render_every_field_kind_as_a_valid_modal() -> None:
    form = Form(
        "hora.agenda",
        "HØRA-agenda for personalmøtet i desember",  # longer than Slack's 24 characters
        "Lagre agendaen nå med en gang",
        (
            FormField("purpose", "Hensikt", "text", max_length=300, initial="Bedre pauser"),
            FormField("result", "Ønsket resultat", "multiline", hint="Hva skal være annerledes etterpå?"),
            FormField(
                "kind",
                "Type",
                "select",
                options=(Option("Informasjon", "info"), Option("Beslutning", "dec")),
                initial="dec",
            ),
            FormField("date", "Dato", "date", optional=True, initial="2026-12-03"),
            FormField("minutes", "Minutter", "number", initial="15"),
            FormField("anonymous", "Anonymt", "checkbox", hint="Ikke vis navnet mitt"),
        ),
        context="case:12",
        intro="Fyll inn agendaen.",
    )
    view = render.render_form(form, private_metadata='{"f":"case:12"}', close_label="Avbryt")
    as_dict = view.to_dict()
    View(**as_dict).to_dict()
    assert len(as_dict["title"]["text"]) <= 24 and len(as_dict["submit"]["text"]) <= 24
    elements = {b["block_id"]: b["element"] for b in as_dict["blocks"] if b["type"] == "input"}
    assert elements["result"]["multiline"] is True
    assert elements["kind"]["initial_option"]["value"] == "dec"
    assert elements["date"]["type"] == "datepicker"
    assert elements["minutes"]["type"] == "number_input"
    assert elements["anonymous"]["type"] == "checkboxes"


def test_submitted_values_become_neutral_strings() -> None:
    view = {
        "state": {
            "values": {
                "purpose": {"purpose": {"type": "plain_text_input", "value": "  Bedre pauser "}},
                "result": {"result": {"type": "plain_text_input", "value": None}},
                "kind": {"kind": {"type": "static_select", "selected_option": {"value": "dec"}}},
                "date": {"date": {"type": "datepicker", "selected_date": "2026-12-03"}},
                "anonymous": {"anonymous": {"type": "checkboxes", "selected_options": [{"value": "true"}]}},
                "minutes": {"minutes": {"type": "number_input", "value": "15"}},
            }
        }
    }
    assert render.form_values(view) == {
        "purpose": "Bedre pauser",
        "result": "",
        "kind": "dec",
        "date": "2026-12-03",
        "anonymous": "true",
        "minutes": "15",
    }


def test_an_option_value_slack_cannot_carry_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="150"):
        render.render_reply(Reply("x", (Choice("pick", "Velg", (Option("Lang", "v" * 151),)),)))


def test_home_sections_can_be_added_and_a_broken_one_is_left_out(database: Database) -> None:
    settings = Settings(database_url=database.url, env="test")

    def extra(viewer: home.HomeViewer) -> Sequence[Block]:
        return [Text(f"Ekstra for {viewer.user_id}")]

    def broken(viewer: home.HomeViewer) -> Sequence[Block]:
        raise RuntimeError("a table that is not there yet")

    sections = (*home.SECTIONS[:2], ("test.extra", extra), ("test.broken", broken), *home.SECTIONS[2:])
    when = datetime(2026, 11, 24, tzinfo=UTC)
    blocks = home.home_blocks_for(database, settings, "T1", "U1", when, sections)
    texts = [b.text for b in blocks if isinstance(b, Text)]
    assert "Ekstra for U1" in texts
    # The default list is untouched by another caller's sections.
    default = home.home_blocks_for(database, settings, "T1", "U1", when)
    assert "Ekstra for U1" not in [b.text for b in default if isinstance(b, Text)]
    view = render.render_home(blocks, "…")
    view.to_dict()
