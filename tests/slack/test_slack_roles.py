"""Granted roles and confidentiality over Slack's real entry point (signed requests, a fake Web API).

A member who claims a party role sees nothing until the leder confirms; the App Home follows the one
access policy (and its roles line is checked exactly: code.md A-6); a parties-only case stays invisible to
staff and to a party of another unit; a confidential matter to the verneombud is invisible to the leader
on every path – commands with numbers, forged buttons and forms, the App Home, lists and the summary.
"""

from __future__ import annotations

import json
from typing import Any

from tests.slack.fakes import CHANNEL, Call, FakeSlack, SlackDriver

SECRET = "Konflikt mellom to ansatte om turnus"
CONFIDENTIAL = "Jeg blir snakket nedsettende til av en kollega"
OTHER = "C0ELSEWHERE"


def _since(fake: FakeSlack, mark: int, method: str | None = None) -> list[Call]:
    return [c for c in fake.calls[mark:] if c.status == 200 and (method is None or c.method == method)]


def _said(fake: FakeSlack, mark: int) -> str:
    """Everything the bot sent (posts, private answers, updates, views) since ``mark``, as one text."""
    return json.dumps([c.body for c in _since(fake, mark) if c.method != "users.info"], ensure_ascii=False)


def _button_in(fake: FakeSlack, channel: str, action_id: str) -> dict[str, Any]:
    for call in reversed(fake.of("chat.postMessage")):
        if call.body.get("channel") != channel:
            continue
        for block in call.body.get("blocks") or []:
            for element in block.get("elements") or []:
                if str(element.get("action_id", "")).split("#")[0] == action_id:
                    return dict(element)
    raise AssertionError(f"no {action_id} button sent to {channel}")


async def _do(slack: SlackDriver, text: str, user: str = "UKARI", channel: str = CHANNEL) -> str:
    mark = len(slack.fake.calls)
    response = await slack.command(text, user=user, channel=channel)
    assert response.status == 200
    await slack.idle()
    return _said(slack.fake, mark)


async def _home(slack: SlackDriver, user: str) -> str:
    mark = len(slack.fake.calls)
    before = len(slack.fake.of("views.publish"))
    await slack.event(
        {"type": "app_home_opened", "user": user, "tab": "home", "event_ts": f"17000001.{mark}"}
    )
    published = (await slack.fake.wait_for("views.publish", count=before + 1))[-1]
    assert published.body["user_id"] == user
    return json.dumps(published.body["view"], ensure_ascii=False)


async def test_a_claim_gives_nothing_until_confirmed_and_app_home_follows_the_policy(
    slack: SlackDriver,
) -> None:
    fake = slack.fake
    assert "Du er nå leder" in await _do(slack, "rolle leder")  # Kari is a workspace admin
    await _do(slack, f"problem --parter {SECRET}", user="USIRI")
    out = await _do(slack, "rolle verneombud", user="UPER")
    assert "velges av de ansatte" in out and "Per sier at hen er verneombud" in out
    # Per, with a pending claim: commands with the number, the list, a forged button, the App Home.
    assert SECRET not in await _do(slack, "problem #1", user="UPER")
    assert SECRET not in await _do(slack, "saker", user="UPER")
    mark = len(fake.calls)
    await slack.click("case.history", "1", user="UPER")
    await slack.idle()
    assert SECRET not in _said(fake, mark)
    home = await _home(slack, "UPER")
    assert SECRET not in home
    assert f"• {CHANNEL}: ingen rolle ennå" in home
    assert "venter på bekreftelse fra leder: verneombud" in home
    # Kari confirms with the button in her direct message.
    button = _button_in(fake, "DKARI", "roles.confirm")
    mark = len(fake.calls)
    await slack.click("roles.confirm", button["value"], user="UKARI", channel="DKARI")
    await slack.idle()
    assert "Per er nå verneombud i" in _said(fake, mark)
    home = await _home(slack, "UPER")
    assert SECRET in home
    assert f"• {CHANNEL}: verneombud" in home  # the rendered roles line itself (code.md A-6)
    assert "venter på bekreftelse" not in home
    # The button cannot be used twice, or by someone else.
    mark = len(fake.calls)
    await slack.click("roles.confirm", button["value"], user="USIRI", channel="DSIRI")
    await slack.idle()
    assert "allerede besvart eller trukket" in _said(fake, mark)


async def test_a_party_of_another_unit_and_staff_never_see_a_parties_only_case(slack: SlackDriver) -> None:
    await _do(slack, "rolle leder")
    await _do(slack, "rolle leder", channel=OTHER)  # Kari leads both kindergartens
    await _do(slack, f"problem --parter {SECRET}", user="USIRI")
    await _do(slack, "rolle ansatt", user="UOLA")  # Ola works here as staff …
    await _do(slack, "rolle verneombud", user="UOLA", channel=OTHER)  # … and is verneombud elsewhere
    await _do(slack, "rolle bekreft Ola", channel=OTHER)
    for channel in (CHANNEL, OTHER):
        assert SECRET not in await _do(slack, "problem #1", user="UOLA", channel=channel)
        assert SECRET not in await _do(slack, "saker", user="UOLA", channel=channel)
    assert SECRET not in await _home(slack, "UOLA")
    assert SECRET in await _home(slack, "UKARI")


async def test_a_confidential_matter_is_invisible_to_the_leader_on_every_path(slack: SlackDriver) -> None:
    fake = slack.fake
    await _do(slack, "rolle leder")
    await _do(slack, "rolle verneombud", user="UOLA")
    await _do(slack, "rolle bekreft Ola")
    mark = len(fake.calls)
    out = await _do(slack, f"til verneombudet {CONFIDENTIAL}", user="UPER")
    to_ola = [c for c in _since(fake, mark, "chat.postMessage") if c.body.get("channel") == "DOLA"]
    assert to_ola and CONFIDENTIAL in json.dumps(to_ola[0].body, ensure_ascii=False)
    assert not [c for c in _since(fake, mark, "chat.postMessage") if c.body.get("channel") == "DKARI"]
    assert not [c for c in _since(fake, mark, "chat.postMessage") if c.body.get("channel") == CHANNEL]
    assert "Sendt fortrolig til verneombud (Ola) som F1." in out
    # Ola opens the reply form; the leader then forges the button and replays Ola's form as herself.
    reply = _button_in(fake, "DOLA", "matter.reply")
    mark = len(fake.calls)
    await slack.click("matter.reply", reply["value"], user="UOLA", channel="DOLA")
    [opened] = await fake.wait_for("views.open")
    view = opened.body["view"]
    mark = len(fake.calls)
    for forged in (
        slack.click("matter.reply", reply["value"], user="UKARI", channel="DKARI"),
        slack.click("matter.raise", reply["value"], user="UKARI", channel="DKARI"),
        slack.submit(view, {"text": "Fortell meg mer"}, user="UKARI"),
    ):
        assert (await forged).status == 200
        await slack.idle()
    said = _said(fake, mark)
    assert CONFIDENTIAL not in said
    refusals = [
        c
        for c in _since(fake, mark, "chat.postEphemeral")
        if "Jeg finner ingen fortrolig sak" in c.body["text"]
    ]
    assert [c.body["user"] for c in refusals] == ["UKARI"] * 3
    assert not _since(fake, mark, "views.open")
    # Commands with the number, the list, the App Home and the summary.
    for text in (
        "fortrolig svar 1 Hva gjelder det?",
        "fortrolig partene 1",
        "fortrolig",
        "saker",
        "oppsummering",
    ):
        assert CONFIDENTIAL not in await _do(slack, text)
    assert CONFIDENTIAL not in await _home(slack, "UKARI")
    # Ola answers privately: Per gets it, Kari does not.
    mark = len(fake.calls)
    await _do(slack, "fortrolig svar 1 Takk for at du sa fra.", user="UOLA")
    dms = {c.body.get("channel") for c in _since(fake, mark, "chat.postMessage")}
    assert "DPER" in dms and "DKARI" not in dms
