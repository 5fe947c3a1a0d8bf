"""Issue 13 in Slack, over signed requests: a case run from buttons and modals (the plan's "Si din mening"
modal, with the error at the field), the one rule for "which case" (a short choice with buttons), ending
a case, and a one-word statement questioned before it becomes a case."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.toolbox.models import Case
from bot.toolbox.models_plan import Stance
from tests.slack.fakes import SlackDriver
from tests.slack.test_slack_case import (
    _buttons,
    _command,
    _head,
    _in_thread,
    _modal,
    _private,
    _reply,
    _since,
    _staffed,
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
    assert _private(fake, 0, "UPER") is not None
    assert "Velg et av svarene" not in "\n".join(_text(c) for c in fake.privates("UPER"))
    fake.assert_valid_block_kit()
