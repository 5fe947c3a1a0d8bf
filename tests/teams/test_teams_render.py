"""Adaptive Card rendering: every block and field kind, the 28 kB budget, and Microsoft's parser."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.teams.payload import Signer, parse_submission
from bot.adapters.teams.render import (
    MAX_CARD_BYTES,
    CardTexts,
    card_bytes,
    markdown,
    render_form,
    render_reply,
)
from bot.chat.model import (
    Actor,
    Button,
    Buttons,
    Choice,
    Divider,
    Fields,
    Form,
    FormField,
    Header,
    Image,
    Note,
    Option,
    Place,
    Post,
    Reply,
    Submission,
    Text,
)
from tests.node_tools import card_validator_missing, skip_or_fail
from tests.teams.fakes import CHANNEL, KARI, TENANT, TeamsDriver, validate_cards

# Cards rendered for Kari's personal chat; what comes back is read there too.
SIGNER = Signer(b"0" * 32).at(TENANT, "chat")
TEXTS = CardTexts(choose="Velg", required="Må fylles ut.", shortened="(forkortet)")


@pytest.fixture
def card_validator() -> None:
    reason = card_validator_missing()
    if reason:
        skip_or_fail(reason)


needs_validator = pytest.mark.usefixtures("card_validator")


def everything() -> Reply:
    return Reply(
        "Alt på en gang",
        (
            Header("Sak 12: Pauser som forsvinner"),
            Text("*Hva skjer:* pausene blir borte.\n• punkt én\n• punkt _to_\n\nNytt avsnitt."),
            Fields((("Steg", "Idéjakt"), ("Frist", "fredag"))),
            Divider(),
            Note("Startet av Kari · 3 svar"),
            Buttons(
                tuple(
                    Button(f"Knapp {n}", "vote.add", str(n), "primary" if n == 1 else "default")
                    for n in range(7)
                )
            ),
            Choice("case.step", "Velg steg", tuple(Option(f"Steg {n}", f"s{n}") for n in range(5))),
            Buttons((Button("Slett", "case.delete", "12", "danger"),)),
        ),
    )


def a_form() -> Form:
    return Form(
        form_id="case.plan",
        title="Tiltak",
        submit_label="Lagre",
        context="case:12",
        intro="Hva gjør vi, hvem, og når?",
        fields=(
            FormField("what", "Tiltak", "text", max_length=200, hint="Kort"),
            FormField("why", "Hvorfor", "multiline", optional=True, max_length=2000),
            FormField(
                "owner", "Ansvarlig", "select", options=(Option("Kari", "29:kari"), Option("Ola", "29:ola"))
            ),
            FormField("due", "Frist", "date", initial="2026-12-01", hint="Innen jul"),
            FormField("hours", "Timer", "number", optional=True, initial="3"),
            FormField("anon", "Anonymt", "checkbox", hint="Ikke vis navnet mitt"),
        ),
    )


def test_markdown_bold() -> None:
    assert markdown("*Hva:* tekst og 2*3*4 og *to ord*") == "**Hva:** tekst og 2*3*4 og **to ord**"


def test_every_block_kind() -> None:
    [card] = render_reply(everything(), SIGNER, TEXTS).cards
    body = card["body"]
    assert card["version"] == "1.5" and card["type"] == "AdaptiveCard"
    assert body[0]["style"] == "heading"
    assert (
        body[1]["type"] == "Container" and body[1]["items"][0]["text"] == "**Hva skjer:** pausene blir borte."
    )
    assert body[1]["items"][3]["spacing"] == "Medium"  # the blank line before "Nytt avsnitt."
    assert body[2] == {
        "type": "FactSet",
        "facts": [{"title": "Steg", "value": "Idéjakt"}, {"title": "Frist", "value": "fredag"}],
    }
    assert body[3]["separator"] is True and body[3]["isSubtle"] is True  # the divider separates the note
    sets = [e for e in body if e["type"] == "ActionSet"]
    assert [len(s["actions"]) for s in sets] == [5, 2, 1]  # at most five actions per set
    assert sets[0]["actions"][1]["style"] == "positive" and sets[2]["actions"][0]["style"] == "destructive"
    choice = next(e for e in body if e["type"] == "Container" and e["items"][0]["type"] == "Input.ChoiceSet")
    assert choice["items"][1]["actions"][0]["title"] == "Velg"


@needs_validator
def test_cards_pass_microsofts_parser() -> None:
    cards = [*render_reply(everything(), SIGNER, TEXTS).cards, render_form(a_form(), SIGNER, TEXTS)]
    assert validate_cards(cards) == []


def test_form_inputs_and_round_trip() -> None:
    card = render_form(a_form(), SIGNER, TEXTS)
    inputs = {e["id"]: e for e in card["body"] if "id" in e}
    assert inputs["f:what"]["type"] == "Input.Text" and inputs["f:what"]["maxLength"] == 200
    assert inputs["f:what"]["isRequired"] is True and inputs["f:what"]["errorMessage"] == "Må fylles ut."
    assert inputs["f:why"]["isMultiline"] is True and "isRequired" not in inputs["f:why"]
    assert inputs["f:owner"]["type"] == "Input.ChoiceSet"
    assert inputs["f:due"] == {
        "id": "f:due",
        "label": "Frist",
        "type": "Input.Date",
        "value": "2026-12-01",
        "isRequired": True,
        "errorMessage": "Må fylles ut.",
    }
    assert inputs["f:hours"]["type"] == "Input.Number" and inputs["f:hours"]["value"] == 3
    assert inputs["f:anon"]["type"] == "Input.Toggle" and inputs["f:anon"]["title"] == "Ikke vis navnet mitt"

    data = card["actions"][0]["data"]
    values = {
        "f:what": "Faste pauser",
        "f:why": "",
        "f:owner": "29:ola",
        "f:due": "2026-12-05",
        "f:hours": 2.0,
    }
    place, actor = Place("teams", TENANT, "chat"), Actor(KARI.id)
    event = parse_submission({**data, **values, "f:anon": "true"}, SIGNER, actor, place, None)
    assert event == Submission(
        actor=actor,
        place=place,
        form_id="case.plan",
        context="case:12",
        values={
            "what": "Faste pauser",
            "why": "",
            "owner": "29:ola",
            "due": "2026-12-05",
            "hours": "2",
            "anon": "true",
        },
    )


@pytest.mark.parametrize(
    "values",
    [
        {"f:owner": "29:someone-else"},  # not an offered option
        {"f:due": "next friday"},
        {"f:due": "2026-02-30"},
        {"f:hours": "many"},
        {"f:what": "x" * 201},
    ],
)
def test_form_values_the_form_did_not_allow(values: dict[str, Any]) -> None:
    from bot.adapters.teams.payload import BadSubmission

    data = render_form(a_form(), SIGNER, TEXTS)["actions"][0]["data"]
    with pytest.raises(BadSubmission):
        parse_submission({**data, **values}, SIGNER, Actor("u"), Place("teams", TENANT, "chat"), None)


def huge() -> Reply:
    paragraph = "Vi har snakket om pausene og om hvem som dekker opp når noen er syke. " * 20
    blocks: list[Any] = [Header("Ukens oppsummering")]
    for n in range(60):
        blocks.append(Text(f"*Sak {n}*\n{paragraph}"))
        blocks.append(Buttons((Button("Åpne", "case.open", str(n)),)))
    return Reply("Ukens oppsummering", tuple(blocks))


def test_a_reply_too_big_for_one_card_is_split() -> None:
    cards = render_reply(huge(), SIGNER, TEXTS).cards
    assert len(cards) > 2
    assert all(card_bytes(c) <= MAX_CARD_BYTES for c in cards)
    texts = [b["text"] for c in cards for b in _walk(c) if b.get("type") == "TextBlock"]
    assert sum("**Sak" in t for t in texts) == 60  # nothing lost


def test_an_update_keeps_one_card_and_says_it_was_shortened() -> None:
    [card] = render_reply(huge(), SIGNER, TEXTS, single_card=True).cards
    assert card_bytes(card) <= MAX_CARD_BYTES
    assert card["body"][-1]["text"] == "(forkortet)"


def test_one_enormous_text_is_split_by_lines() -> None:
    text = "\n".join(f"Linje {n}: " + "ø" * 300 for n in range(400))
    cards = render_reply(Reply("lang", (Text(text),)), SIGNER, TEXTS).cards
    assert len(cards) > 1 and all(card_bytes(c) <= MAX_CARD_BYTES for c in cards)


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_walk(item))
    return found


async def test_split_reply_and_picture_over_http(teams: TeamsDriver, tmp_path: Path) -> None:
    await teams.say(KARI, "rolle leder")
    picture = tmp_path / "trend.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    reply = Reply(huge().fallback, (*huge().blocks, Image(str(picture), "Trend for uke 40–47")))
    mark = teams.mark()
    from bot.chat import delivery

    with teams.bot.db.transaction() as session:
        delivery.enqueue(
            session, [Post(Place("teams", TENANT, CHANNEL), reply)], teams.bot.clock(), "teams", TENANT
        )
    assert await teams.bot.delivery.flush() == 1

    posts = teams.since(mark)
    assert len(posts) > 2 and all(c.conversation == CHANNEL for c in posts)
    first = posts[0].body["attachments"]
    assert first[1]["contentType"] == "image/png" and first[1]["contentUrl"].startswith(
        "data:image/png;base64,"
    )
    assert first[1]["name"] == "Trend for uke 40–47"
    assert all(len(c.body["attachments"]) == 1 for c in posts[1:])  # the picture travels once


async def test_a_missing_picture_becomes_its_alt_text(teams: TeamsDriver) -> None:
    await teams.say(KARI, "rolle leder")
    mark = teams.mark()
    from bot.chat import delivery

    reply = Reply("Trend", (Image("/nonexistent/trend.png", "Trend for uke 40–47"),))
    with teams.bot.db.transaction() as session:
        delivery.enqueue(
            session, [Post(Place("teams", TENANT, CHANNEL), reply)], teams.bot.clock(), "teams", TENANT
        )
    assert await teams.bot.delivery.flush() == 1
    [post] = teams.since(mark)
    assert "Trend for uke 40–47" in post.text and len(post.body["attachments"]) == 1


async def test_a_lost_later_part_does_not_repeat_the_first(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.chat import delivery

    await teams.say(KARI, "rolle leder")
    with teams.bot.db.transaction() as session:
        delivery.enqueue(
            session, [Post(Place("teams", TENANT, CHANNEL), huge())], teams.bot.clock(), "teams", TENANT
        )
    mark = teams.mark()
    teams.connector.fail_call(2, 403)  # the second part is refused: the first stays the only copy
    with caplog.at_level(logging.ERROR):
        assert await teams.bot.delivery.flush() == 1
    # One copy of the first part, the refused second, and no further parts out of order.
    assert [c.status for c in teams.since(mark)] == [200, 403]
    assert "part 2 of" in caplog.text


def test_commands_are_written_the_way_teams_users_type_them() -> None:
    assert markdown("Skriv `/parts hjelp` eller `/parts`.") == "Skriv `@Partsbot hjelp` eller `@Partsbot`."
    # Paths and words that merely contain the letters stay as they are.
    assert markdown("/tmp/parts/x og /partsfolk") == "/tmp/parts/x og /partsfolk"


async def test_help_in_teams_names_commands_with_the_mention(teams: TeamsDriver) -> None:
    mark = teams.mark()
    await teams.say(KARI, "hjelp")
    text = " ".join(c.text for c in teams.since(mark))
    assert "@Partsbot rolle" in text
    assert "/parts" not in text
