"""HØRA over Slack, end to end: ``/parts høra`` opens the meeting modal (``views.open``), the submission
posts the agenda in the channel, a case can be put on it, and after the meeting the scheduler's tick asks
the organiser in a direct message, whose button records the result on the agenda in place (``chat.update``).

Time is the injected clock: the meeting is planned relative to it, and the clock is moved past the meeting
instead of waiting for it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.course.scheduler import tick
from bot.toolbox.models_plan import AgendaItem, Meeting
from tests.conftest import FakeClock
from tests.slack.fakes import CHANNEL, Call, FakeSlack, SlackDriver

OSLO = ZoneInfo("Europe/Oslo")
PURPOSE = "Bli enige om hvem som gjør hva i garderoben"
DESIRED = "En fordeling alle kan leve med"
AGENDA = "Info: Nytt vaktsystem (10)\nIdé: Bedre garderobe (15)\nBeslutning: Ny vaktliste (20)"


def _text(call: Call) -> str:
    shown = call.body.get("blocks") or (call.body.get("view") or {}).get("blocks") or []
    return str(call.body.get("text", "")) + "\n" + json.dumps(shown, ensure_ascii=False)


def _since(fake: FakeSlack, mark: int, method: str) -> list[Call]:
    return [c for c in fake.calls[mark:] if c.status == 200 and c.method == method]


async def _open_meeting_form(slack: SlackDriver, command: str = "høra") -> dict[str, Any]:
    mark = len(slack.fake.calls)
    response = await slack.command(command)
    assert response.status == 200 and (await response.text()) == ""
    await slack.idle()
    [opened] = _since(slack.fake, mark, "views.open")
    assert opened.body["trigger_id"].startswith("trigger.")
    view: dict[str, Any] = opened.body["view"]
    assert view["type"] == "modal" and view["callback_id"] == "hora.create"
    return view


def _meeting_values(day: str, **changes: str) -> dict[str, str]:
    return {
        "purpose": PURPOSE,
        "desired": DESIRED,
        "agenda": AGENDA,
        "day": day,
        "time": "14:00",
        "length": "60",
        "case": "",
        **changes,
    }


async def test_hora_modal_posts_the_agenda_and_the_result_is_recorded_after_the_meeting(
    slack: SlackDriver, clock: FakeClock
) -> None:
    fake = slack.fake
    await slack.command("rolle leder")
    await fake.wait_for("chat.postMessage")
    await slack.idle()

    # The modal: every field as the Slack input that fits it.
    view = await _open_meeting_form(slack)
    elements = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b["type"] == "input"}
    assert elements == {
        "purpose": "plain_text_input",
        "desired": "plain_text_input",
        "agenda": "plain_text_input",
        "day": "datepicker",
        "time": "plain_text_input",
        "length": "number_input",
        "case": "plain_text_input",
    }
    assert len(view["title"]["text"]) <= 24

    # A time already past on the injected clock keeps the modal open with the answer at the time field
    # (response_action "errors": everything typed stays); nothing is posted.
    today = clock().astimezone(OSLO).date()
    mark = len(fake.calls)
    response = await slack.submit(view, _meeting_values(today.isoformat(), time="07:00"))
    assert response.status == 200
    answer = json.loads(await response.text())
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["time"] and "fortiden" in answer["errors"]["time"]
    await slack.idle()
    assert fake.privates(since=mark) == []
    assert _since(fake, mark, "chat.postMessage") == []

    # A day that is not one is named at the day field; the other fields are not blamed.
    response = await slack.submit(view, _meeting_values("2026-11-31"))
    answer = json.loads(await response.text())
    assert answer["errors"] == {
        "day": "«2026-11-31» er ikke en dato. Skriv for eksempel «fredag», «4.12.» eller «4. desember»."
    }

    # Two days on, at 14:00 Oslo time: the agenda is posted in the channel (not in a thread).
    day = today + timedelta(days=2)
    view = await _open_meeting_form(slack)
    mark = len(fake.calls)
    await slack.submit(view, _meeting_values(day.isoformat()))
    await slack.idle()
    [agenda] = _since(fake, mark, "chat.postMessage")
    assert agenda.body["channel"] == CHANNEL and not agenda.body.get("thread_ts")
    shown = _text(agenda)
    assert f"{day.day}.{day.month}.{day.year} kl. 14.00" in shown
    assert PURPOSE in shown and DESIRED in shown
    assert all(title in shown for title in ("Nytt vaktsystem", "Bedre garderobe", "Ny vaktliste"))
    assert "Sum: 45 av 60 min" in shown
    assert agenda.body["blocks"][0]["type"] == "header"
    [created] = fake.privates(since=mark)
    assert "møte 1" in _text(created)
    starts_at = datetime(day.year, day.month, day.day, 14, tzinfo=OSLO)
    with slack.bot.db.transaction() as session:
        meeting = session.scalar(select(Meeting))
        assert meeting is not None and meeting.purpose == PURPOSE
        assert meeting.starts_at.astimezone(UTC) == starts_at.astimezone(UTC)
        assert [i.minutes for i in session.scalars(select(AgendaItem).order_by(AgendaItem.id))] == [
            10,
            15,
            20,
        ]

    # Before the meeting the result cannot be given.
    mark = len(fake.calls)
    await slack.command("høra resultat 1 ja")
    await slack.idle()
    [early] = fake.privates(since=mark)
    assert "ikke begynt" in _text(early)

    # After the meeting (the clock moved, no waiting), the scheduler's tick asks Kari in a direct message.
    clock.set(starts_at.astimezone(UTC) + timedelta(minutes=61))
    mark = len(fake.calls)
    await tick(slack.bot, clock())
    [question] = _since(fake, mark, "chat.postMessage")
    assert question.body["channel"] == "DKARI" and "Nådde dere det?" in _text(question)
    # A second tick asks nothing more.
    mark = len(fake.calls)
    await tick(slack.bot, clock())
    assert _since(fake, mark, "chat.postMessage") == []

    # Kari answers with the button in the direct message: the agenda in the channel shows it, in place.
    button = next(
        element
        for block in question.body["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"] == "Delvis"
    )
    mark = len(fake.calls)
    await slack.click(
        button["action_id"], button["value"], channel="DKARI", message_ts=fake.answer_ts(question)
    )
    await slack.idle()
    [update] = _since(fake, mark, "chat.update")
    assert update.body["channel"] == CHANNEL and update.body["ts"] == fake.answer_ts(agenda)
    assert "Ønsket resultat nådd: Delvis" in _text(update)
    with slack.bot.db.transaction() as session:
        meeting = session.scalar(select(Meeting))
        assert meeting is not None and meeting.result == "partly"

    assert all(c.status == 200 for c in fake.calls)
    fake.assert_valid_block_kit()


async def test_hora_for_a_case_puts_it_on_the_agenda_and_tells_the_case_thread(
    slack: SlackDriver, clock: FakeClock
) -> None:
    fake = slack.fake
    await slack.command("rolle leder")
    await slack.command("problem Pausene forsvinner når mange er syke.", user="UOLA")
    await fake.wait_for("chat.postMessage", count=3)
    await slack.idle()
    head = next(
        c for c in fake.of("chat.postMessage") if "Sak #1" in _text(c) and not c.body.get("thread_ts")
    )
    head_ts = fake.answer_ts(head)

    view = await _open_meeting_form(slack, "høra sak 1")
    [case_field] = [b["element"] for b in view["blocks"] if b.get("block_id") == "case"]
    assert case_field.get("initial_value") == "1"
    day = clock().astimezone(OSLO).date() + timedelta(days=3)
    mark = len(fake.calls)
    await slack.submit(view, _meeting_values(day.isoformat(), case="1"))
    await slack.idle()
    posts = _since(fake, mark, "chat.postMessage")
    [agenda] = [c for c in posts if not c.body.get("thread_ts")]
    assert "Sak 1:" in _text(agenda) and "Pausene forsvinner" in _text(agenda)
    [in_case] = [c for c in posts if c.body.get("thread_ts") == head_ts]
    assert "står på agendaen" in _text(in_case)
    fake.assert_valid_block_kit()
