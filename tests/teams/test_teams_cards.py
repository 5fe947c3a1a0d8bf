"""Adaptive Card submissions: buttons and forms back to the handlers, and tampered ones refused."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.toolbox.models_plan import Meeting
from tests.teams.fakes import KARI, OLA, Call, TeamsDriver, card_submit, submit_data
from tests.teams.roles_round import answers, open_round


async def open_form(teams: TeamsDriver, head: Call) -> Call:
    """Kari presses "Svar" on the head card; the form arrives in her personal chat."""
    assert head.returned is not None
    press = card_submit(teams.service_url, KARI, submit_data(head, "Svar"), reply_to=head.returned)
    mark = teams.mark()
    assert await teams.send(press) == 200
    [form] = [c for c in teams.since(mark) if c.conversation == KARI.chat]
    return form


async def test_button_opens_a_form_in_the_personal_chat_and_the_form_is_stored(teams: TeamsDriver) -> None:
    head = await open_round(teams)
    form = await open_form(teams, head)

    [card] = form.cards
    inputs = {element["id"]: element for element in card["body"] if element["type"].startswith("Input.")}
    assert set(inputs) == {"f:do", "f:expect", "f:meet"}
    assert inputs["f:do"]["isMultiline"] is True and inputs["f:do"]["maxLength"] == 2000
    assert "leder" in inputs["f:do"]["placeholder"]

    data = submit_data(form, "Send")
    submit = card_submit(
        teams.service_url,
        KARI,
        data,
        reply_to=form.returned or "",
        personal=True,
        inputs={"f:do": "Jeg går vernerunder.", "f:expect": "", "f:meet": "I AMU."},
    )
    mark = teams.mark()
    assert await teams.send(submit) == 200

    assert answers(teams) == 2
    sent = teams.since(mark)
    [update] = [c for c in sent if c.method == "PUT"]
    assert update.activity_id == head.returned and "1 svar" in update.text
    assert any("Takk" in c.text for c in sent if c.conversation == KARI.chat)


def _tamper_cases() -> list[tuple[str, Any]]:
    def changed_context(data: dict[str, Any]) -> Any:
        return {**data, "context": "999"}

    def no_signature(data: dict[str, Any]) -> Any:
        return {k: v for k, v in data.items() if k != "sig"}

    def other_handler(data: dict[str, Any]) -> Any:
        return {**data, "id": "roles.close"}

    def stranger_field(data: dict[str, Any]) -> Any:
        return {**data, "f:do": "Hei", "f:admin": "true"}

    def too_long(data: dict[str, Any]) -> Any:
        return {**data, "f:do": "x" * 2001}

    def not_text(data: dict[str, Any]) -> Any:
        return {**data, "f:do": {"nested": "object"}}

    def not_ours(data: dict[str, Any]) -> Any:
        return {"action": "something", "f:do": "Hei"}

    return [
        ("changed context", changed_context),
        ("no signature", no_signature),
        ("other handler", other_handler),
        ("stranger field", stranger_field),
        ("too long", too_long),
        ("not text", not_text),
        ("not ours", not_ours),
        ("not an object", lambda data: "roles.answer"),
    ]


@pytest.mark.parametrize(("case", "tamper"), _tamper_cases(), ids=[c[0] for c in _tamper_cases()])
async def test_tampered_form_submission_is_refused_and_nothing_stored(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture, case: str, tamper: Any
) -> None:
    head = await open_round(teams)
    form = await open_form(teams, head)
    data = submit_data(form, "Send")
    submit = card_submit(teams.service_url, KARI, {}, reply_to=form.returned or "", personal=True)
    submit["value"] = tamper({**data, "f:do": "Jeg går vernerunder.", "f:expect": "", "f:meet": ""})

    mark = teams.mark()
    with caplog.at_level(logging.WARNING, logger="bot.adapters.teams"):
        assert await teams.send(submit) == 200

    assert answers(teams) == 0
    sent = teams.since(mark)
    assert [c.method for c in sent] == ["POST"]  # only the answer to Kari, no update of the head card
    assert sent[0].conversation == KARI.chat
    assert "kortet var endret eller manglet noe" in sent[0].text
    assert "refused a Teams card submission" in caplog.text


async def test_a_button_pressed_from_another_conversation_is_still_only_what_it_says(
    teams: TeamsDriver,
) -> None:
    """The signature binds handler, value and the channel, not the person: Ola may press a button he can
    see in the channel."""
    head = await open_round(teams)
    await teams.say(OLA, "rolle ansatt")
    press = card_submit(teams.service_url, OLA, submit_data(head, "Svar"), reply_to=head.returned or "")
    mark = teams.mark()
    assert await teams.send(press) == 200
    [form] = [c for c in teams.since(mark) if c.conversation == OLA.chat]
    assert "ansatt" in form.text


async def test_choice_submission_checks_the_offered_options(teams: TeamsDriver) -> None:
    """A Choice block (rendered here directly: no handler uses one yet) comes back as an Action."""
    from bot.adapters.teams.payload import Signer, parse_submission
    from bot.adapters.teams.render import CardTexts, render_reply
    from bot.chat.model import Action, Actor, Choice, Option, Place, Reply

    signer = (await teams.adapter.messenger.signer()).at("t", "c")
    texts = CardTexts(choose="Velg", required="Må fylles ut", shortened="(forkortet)")
    reply = Reply("Velg", (Choice("vote.pick", "Velg idé", (Option("Idé A", "a"), Option("Idé B", "b"))),))
    [card] = render_reply(reply, signer, texts).cards
    [container] = card["body"]
    choice_set, action_set = container["items"]
    data = action_set["actions"][0]["data"]
    place, actor = Place("teams", "t", "c"), Actor("29:kari")

    event = parse_submission({**data, choice_set["id"]: "b"}, signer, actor, place, "m1")
    assert event == Action(actor=actor, place=place, action_id="vote.pick", value="b", message_id="m1")
    from bot.adapters.teams.payload import BadSubmission

    with pytest.raises(BadSubmission):
        parse_submission({**data, choice_set["id"]: "c"}, signer, actor, place, "m1")
    with pytest.raises(BadSubmission):
        parse_submission(
            {**data, choice_set["id"]: "a"}, Signer(b"another secret").at("t", "c"), actor, place, "m1"
        )


async def test_action_execute_invoke_is_answered_and_handled(teams: TeamsDriver) -> None:
    head = await open_round(teams)
    data = submit_data(head, "Svar")
    invoke = card_submit(teams.service_url, KARI, {}, reply_to=head.returned or "")
    invoke.update(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "answer", "data": data}, "trigger": "manual"},
    )
    mark = teams.mark()
    response = await teams.client.post("/api/messages", json=invoke)
    body = await response.json()
    await teams.adapter.drain()

    assert response.status == 200
    assert body["statusCode"] == 200
    assert [c.conversation for c in teams.since(mark)] == [KARI.chat]  # the form


async def test_other_invokes_are_not_implemented(teams: TeamsDriver) -> None:
    invoke = card_submit(teams.service_url, KARI, {}, reply_to="1")
    invoke.update(type="invoke", name="composeExtension/query", value={})
    response = await teams.client.post("/api/messages", json=invoke)
    assert response.status == 501
    assert teams.connector.calls == []


async def test_the_card_secret_survives_a_restart(start_teams: Any) -> None:
    first = await start_teams()
    head = await open_round(first)
    second = await start_teams()  # new bot and adapter objects, same database
    press = card_submit(second.service_url, KARI, submit_data(head, "Svar"), reply_to=head.returned or "")
    mark = second.mark()
    assert await second.send(press) == 200
    assert [c.conversation for c in second.since(mark)] == [KARI.chat]
    assert "Svar om rollen din" in second.since(mark)[0].text


async def test_a_wrong_time_in_a_card_is_named_and_the_card_keeps_what_was_typed(teams: TeamsDriver) -> None:
    # HØRA as a card: the time field gets "kl 25" (the day is a date picker) – the card is drawn again in
    # place with the message right under the time field and everything typed still in it; nothing is stored.
    await teams.say(KARI, "rolle leder")
    mark = teams.mark()
    await teams.say(KARI, "høra")
    [form] = [c for c in teams.since(mark) if c.conversation == KARI.chat and c.cards]
    inputs = {
        "f:purpose": "Bli enige om garderoben",
        "f:desired": "En fordeling alle kjenner",
        "f:agenda": "Info: Status (5); Drøfting: Tavla (15); Eventuelt",
        "f:day": "2026-11-26",
        "f:time": "kl 25",
        "f:length": "45",
        "f:case": "",
    }
    submit = card_submit(
        teams.service_url,
        KARI,
        submit_data(form, "Legg ut agendaen"),
        reply_to=form.returned or "",
        personal=True,
        inputs=inputs,
    )
    mark = teams.mark()
    assert await teams.send(submit) == 200
    [redrawn] = teams.since(mark)
    assert redrawn.method == "PUT" and redrawn.activity_id == form.returned
    assert redrawn.conversation == KARI.chat
    body = redrawn.cards[0]["body"]
    values = {e["id"]: e.get("value") for e in body if str(e.get("id", "")).startswith("f:")}
    assert values == {**inputs, "f:length": 45, "f:case": None}
    after_time = body[next(i for i, e in enumerate(body) if e.get("id") == "f:time") + 1]
    assert after_time["text"].startswith("«kl 25» er ikke et klokkeslett.")
    assert after_time["color"] == "attention"
    with teams.bot.db.transaction() as session:
        assert session.scalar(select(func.count(Meeting.id))) == 0
