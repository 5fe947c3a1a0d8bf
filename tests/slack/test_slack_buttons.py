"""Issue 13 in Slack, over signed requests: a case run from buttons and modals (the plan's "Si din mening"
modal, with the error at the field), the one rule for "which case" (a short choice with buttons), ending
a case, and a one-word statement questioned before it becomes a case."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.toolbox.models import Case
from bot.toolbox.models_plan import Obstacle, Stance
from tests.slack.fakes import Call, SlackDriver
from tests.slack.test_slack_case import (
    _buttons,
    _command,
    _head,
    _in_thread,
    _modal,
    _press,
    _private,
    _reply,
    _since,
    _staffed,
    _submit,
    _text,
)

TOPIC = "For mye tid går med til å avklare hvem som gjør hva og hvor."


async def _case(slack: SlackDriver, user: str = "UOLA", text: str = TOPIC, tool: str = "idejakt") -> str:
    """A case started with ``/parts <tool> <text>``; returns the ts of its head."""
    mark = len(slack.fake.calls)
    await _command(slack, user, f"{tool} {text}")
    [head] = [c for c in _since(slack.fake, mark, "chat.postMessage") if not c.body.get("thread_ts")]
    return slack.fake.answer_ts(head)


async def test_have_your_say_modal_keeps_the_choice_and_names_the_missing_note(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    head_ts = await _case(slack)
    await _reply(slack, "USIRI", head_ts, "Felles tavle ved inngangen")
    await _command(slack, "UOLA", "plan #1")
    await _command(slack, "UOLA", "plan #1 mål Alle vet hvem som gjør hva")
    await _command(slack, "UOLA", "plan #1 tiltak Siri fredag Henge opp tavla")
    assert "plan.voice" in _buttons(_head(fake, head_ts))

    view = await _modal(slack, "UNINA", head_ts, "plan.voice", "plan.voice")
    assert len(view["title"]["text"]) <= 24
    [kind] = [b["element"] for b in view["blocks"] if b.get("block_id") == "kind"]
    assert [o["value"] for o in kind["options"]] == ["enig", "merknad", "uenig"]
    # "Uenig" without a reason: the modal stays open with the text at the note field (response_action).
    mark = len(fake.calls)
    response = await slack.submit(view, {"kind": "uenig", "note": ""}, user="UNINA")
    answer = json.loads(await response.text())
    assert answer == {"response_action": "errors", "errors": {"note": "Skriv hvorfor du er uenig."}}
    await slack.idle()
    assert _since(fake, mark, "chat.postMessage") == []
    response = await slack.submit(view, {"kind": "uenig", "note": "Tavla alene er ikke nok."}, user="UNINA")
    assert (await response.text()) == ""
    await slack.idle()
    assert "⚠️ Nina er uenig i planen (tillitsvalgt): «Tavla alene er ikke nok.»" in _in_thread(
        fake, mark, head_ts
    )
    # Staff are offered support or a comment only; the handler refuses a stance even if one is forged.
    view = await _modal(slack, "UPER", head_ts, "plan.voice", "plan.voice")
    [kind] = [b["element"] for b in view["blocks"] if b.get("block_id") == "kind"]
    assert [o["value"] for o in kind["options"]] == ["stoette", "kommentar"]
    response = await slack.submit(view, {"kind": "enig", "note": ""}, user="UPER")
    assert json.loads(await response.text())["errors"] == {"kind": "Velg et av svarene i lista."}
    await slack.idle()
    with slack.bot.db.transaction() as session:
        stances = {(s.role, s.stance) for s in session.scalars(select(Stance))}
        case = session.get(Case, 1)
    assert stances == {("tillitsvalgt", "uenig")}
    assert case is not None and case.step == "plan"
    # The refusal was at the field only: no separate private message.
    assert "Velg et av svarene" not in "\n".join(_text(c) for c in fake.privates("UPER"))
    fake.assert_valid_block_kit()


async def _press_private(slack: SlackDriver, user: str, answer: Call, label: str) -> None:
    """``user`` presses the button ``label`` on a private answer (an ephemeral message)."""
    for block in answer.body["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["text"]["text"] == label:
                response = await slack.click(
                    element["action_id"], element["value"], user=user, ephemeral=True
                )
                assert response.status == 200
                await slack.idle()
                return
    raise AssertionError(f"no button {label!r} in {_text(answer)[:400]}")


async def test_which_case_is_a_short_choice_with_buttons(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    await _command(slack, "UKARI", "problem Det går for mye tid til å avklare hvem som gjør hva og hvor")
    # A command that could start something new, with a case open: a question, never a silent new case.
    mark = len(fake.calls)
    await _command(slack, "UOLA", "idejakt Garderoben er kaotisk om morgenen")
    [question] = _private(fake, mark, "UOLA")
    assert "Gjelder det sak #1 (Definer riktig problem) eller en ny?" in _text(question)
    assert [c for c in _since(fake, mark, "chat.postMessage") if not c.body.get("thread_ts")] == []
    mark = len(fake.calls)
    await _press_private(slack, "UOLA", question, "En ny sak")
    [head] = [c for c in _since(fake, mark, "chat.postMessage") if not c.body.get("thread_ts")]
    assert "Sak #2: Garderoben er kaotisk om morgenen" in _text(head)
    # Two open cases: "/parts neste" in the channel asks which; the button runs it for that case.
    mark = len(fake.calls)
    await _command(slack, "UOLA", "neste")
    [question] = _private(fake, mark, "UOLA")
    assert "Hvilken sak gjelder det: sak #2 (Idéjakt) eller sak #1 (Definer riktig problem)?" in _text(
        question
    )
    await _press_private(slack, "UOLA", question, "Sak #1")
    with slack.bot.db.transaction() as session:
        steps = [c.step for c in session.scalars(select(Case).order_by(Case.id))]
    assert steps == ["blindspot", "ideas"]
    # "1" works like "#1": no question.
    mark = len(fake.calls)
    await _command(slack, "UOLA", "neste 1")
    assert "Sak #1 har gått videre til steg 3/6 Idéjakt." in _text(_private(fake, mark, "UOLA")[0])
    fake.assert_valid_block_kit()


async def test_a_case_is_ended_by_a_party_with_the_button_and_refused_to_others(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    head_ts = await _case(slack, "UPER", "Vi mangler vikarer på fredager", tool="problem")
    # Siri (staff, not the starter) is refused, by command and by the button.
    mark = len(fake.calls)
    await _command(slack, "USIRI", "sak #1 avslutt")
    assert "kan avslutte eller trekke den tilbake" in _text(_private(fake, mark, "USIRI")[0])
    mark = len(fake.calls)
    await _press(slack, "USIRI", head_ts, "case.end")
    assert _since(fake, mark, "views.open") == []
    assert "kan avslutte eller trekke den tilbake" in _text(_private(fake, mark, "USIRI")[0])
    # Kari (leder) closes it through the modal behind the head's button.
    view = await _modal(slack, "UKARI", head_ts, "case.end", "case.end")
    assert len(view["title"]["text"]) <= 24
    mark = len(fake.calls)
    await _submit(slack, "UKARI", view, {"how": "closed", "reason": "Vi fikk to nye vikarer."})
    said = _in_thread(fake, mark, head_ts)
    assert "⏹️ Kari avsluttet sak #1 uten plan." in said and "«Vi fikk to nye vikarer.»" in said
    head = _head(fake, head_ts)
    assert "Avsluttet uten plan" in _text(head)
    assert _buttons(head) == {"case.history"}
    # The thread takes nothing more.
    mark = len(fake.calls)
    await _reply(slack, "UPER", head_ts, "Så bra!")
    assert _since(fake, mark, "chat.postMessage") == [] and _private(fake, mark, "UPER") == []
    with slack.bot.db.transaction() as session:
        case = session.get(Case, 1)
    assert case is not None and case.end_reason == "closed" and case.closed_at is not None
    fake.assert_valid_block_kit()


async def test_a_one_word_statement_is_questioned_before_it_becomes_a_case(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    mark = len(fake.calls)
    await _command(slack, "UKARI", "problem 😡😡")
    [question] = _private(fake, mark, "UKARI")
    assert "Vil du virkelig starte en sak med teksten «😡😡»?" in _text(question)
    # "Skriv mer" opens the case form with the text in it.
    mark = len(fake.calls)
    await _press_private(slack, "UKARI", question, "Skriv mer")
    [opened] = _since(fake, mark, "views.open")
    assert opened.body["view"]["callback_id"] == "case.start" and "😡😡" in json.dumps(
        opened.body["view"], ensure_ascii=False
    )
    # "Start saken likevel" starts it as it is.
    mark = len(fake.calls)
    await _press_private(slack, "UKARI", question, "Start saken likevel")
    [head] = [c for c in _since(fake, mark, "chat.postMessage") if not c.body.get("thread_ts")]
    assert "Sak #1: 😡😡" in _text(head)
    fake.assert_valid_block_kit()


async def test_vote_rules_modal_keeps_the_typed_rules_and_names_a_wrong_deadline(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    head_ts = await _case(slack)
    await _reply(slack, "USIRI", head_ts, "Felles tavle ved inngangen")
    await _press(slack, "UOLA", head_ts, "case.next")
    view = await _modal(slack, "UOLA", head_ts, "vote.rules", "vote.rules")
    assert len(view["title"]["text"]) <= 24
    response = await slack.submit(view, {"budget": "5", "cap": "2", "deadline": "31.02."}, user="UOLA")
    answer = json.loads(await response.text())
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["deadline"]
    assert answer["errors"]["deadline"].startswith("«31.02.» er ikke en dato.")
    await slack.idle()
    mark = len(fake.calls)
    await _submit(slack, "UOLA", view, {"budget": "5", "cap": "2", "deadline": "fredag"})
    assert "Nye regler for prikkstemmingen: Hver har 5 prikker, maks 2 på samme idé." in _in_thread(
        fake, mark, head_ts
    )
    fake.assert_valid_block_kit()


async def test_an_obstacle_modal_with_a_blank_remedy_stays_open_with_the_error_there(
    slack: SlackDriver,
) -> None:
    """Every free-text form names its field: blanks that pass Slack's own "required" are refused at the
    field, the modal stays open with what was typed, and nothing is stored or posted."""
    fake = slack.fake
    await _staffed(slack)
    head_ts = await _case(slack)
    await _reply(slack, "USIRI", head_ts, "Felles tavle ved inngangen")
    await _command(slack, "UOLA", "plan #1")
    view = await _modal(slack, "UOLA", head_ts, "plan.obstacle", "plan.obstacle")
    mark = len(fake.calls)
    response = await slack.submit(view, {"text": "Lite tid om morgenen", "remedy": "   "}, user="UOLA")
    assert json.loads(await response.text()) == {
        "response_action": "errors",
        "errors": {"remedy": "Teksten er tom. Skriv noen ord, så tar jeg det med."},
    }
    await slack.idle()
    assert _since(fake, mark, "chat.postMessage") == []
    await _submit(slack, "UOLA", view, {"text": "Lite tid om morgenen", "remedy": "Fem minutter på møtet"})
    await slack.idle()
    with slack.bot.db.transaction() as session:
        [obstacle] = session.scalars(select(Obstacle)).all()
        assert (obstacle.text, obstacle.remedy) == ("Lite tid om morgenen", "Fem minutter på møtet")
