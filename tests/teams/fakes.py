"""A fake Bot Connector, Activities as Teams sends them, and a driver that talks to the real server.

The fake records what the bot sends – ``POST /v3/conversations/{id}/activities[/{activityId}]`` (new
messages and replies in a reply chain), ``PUT`` to the same (updates) and ``POST /v3/conversations``
(a new personal chat) – and answers ``{"id": …}`` like the Bot Connector does. It also stands in for the
person's OneDrive: ``PUT /upload/{name}`` keeps the bytes of a file uploaded after a file-consent card.
Faults (429 with Retry-After, 403, 502, …) can be queued for the next calls. It also serves a team's
roster, ``GET /v3/conversations/{id}/pagedmembers``, in pages with a continuation token (``roster``,
``page_size``), with every field Teams sends about a person (e-mail, UPN, directory id) so tests can check
what is kept.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.adapters.teams import TeamsWebAdapter
from bot.core import Partsbot
from tests.node_tools import CARD_VALIDATOR, NODE, cards_cannot_be_validated

ROOT = Path(__file__).resolve().parent.parent.parent
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_LIMIT = 28_000

TENANT = "5f1c0a6e-0d3b-4c1e-9a57-3c2f0b7d9e11"
BOT = {"id": "28:partsbot-app-id", "name": "Partsbot"}
CHANNEL = "19:solsikken-general@thread.tacv2"
TEAM = "19:solsikken-team@thread.tacv2"


@dataclass(frozen=True)
class Person:
    key: str
    name: str

    @property
    def id(self) -> str:
        return f"29:{self.key}"

    @property
    def account(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "aadObjectId": f"aad-{self.key}"}

    @property
    def chat(self) -> str:
        """Their personal chat with the bot, as Teams names it once it exists."""
        return f"a:personal-{self.key}"

    @property
    def roster_entry(self) -> dict[str, str]:
        """The person as ``pagedmembers`` lists them: more than a message carries."""
        return {
            **self.account,
            "givenName": self.name.split()[0],
            "email": f"{self.key}@solsikken.example",
            "userPrincipalName": f"{self.key}@solsikken.example",
            "tenantId": TENANT,
            "userRole": "user",
        }


KARI = Person("kari", "Kari Nordmann")
OLA = Person("ola", "Ola Hansen")
AISHA = Person("aisha", "Aisha Berg")


@dataclass
class Call:
    method: str
    conversation: str | None
    activity_id: str | None
    body: dict[str, Any]
    status: int = 200
    # The id the fake answered with: the new message's id (or the new chat's id for CREATE).
    returned: str | None = None

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for a in self.body.get("attachments") or [] if a.get("contentType") == CARD_TYPE]

    @property
    def text(self) -> str:
        """Every text on the message's cards, for simple assertions."""
        return "\n".join(_texts(self.cards))


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key in ("text", "title", "value", "label", "placeholder"):
            if isinstance(node.get(key), str):
                yield node[key]
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeConnector:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        # Faults for particular calls later on, by their index in ``calls``.
        self.scheduled: dict[int, Fault] = {}
        self.url = ""
        self._ids = itertools.count(1_700_000_000_001)
        # Files put into "OneDrive" after a consent card: (name, headers, bytes).
        self.uploads: list[tuple[str, dict[str, str], bytes]] = []
        # Team or conversation id → its members as Teams lists them; reads recorded as (id, token).
        self.roster: dict[str, list[dict[str, Any]]] = {}
        self.roster_reads: list[tuple[str, str | None]] = []
        self.page_size = 2

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_put("/upload/{name}", self._upload)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_route("*", "/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_route("*", "/v3/conversations/{conversation}/activities/{activity}", self._activity)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._members)
        return app

    async def _members(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        token = request.query.get("continuationToken")
        self.roster_reads.append((conversation, token))
        everyone = self.roster.get(conversation)
        if everyone is None:
            return web.json_response({"error": {"code": "NotFound", "message": "no such team"}}, status=404)
        start = int(token or 0)
        page: dict[str, Any] = {"members": everyone[start : start + self.page_size]}
        if start + self.page_size < len(everyone):
            page["continuationToken"] = str(start + self.page_size)
        return web.json_response(page)

    @property
    def service_url(self) -> str:
        return self.url + "/"

    def fail_next(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.faults.extend(Fault(status, headers) for _ in range(times))

    def fail_call(self, number: int, status: int) -> None:
        """Fail the ``number``-th call from now (1 = the next one), leaving the ones before it alone."""
        self.scheduled[len(self.calls) + number - 1] = Fault(status)

    def _fault(self, request: web.Request) -> web.Response | None:
        fault = self.scheduled.pop(len(self.calls) - 1, None)
        if fault is None and self.faults:
            fault = self.faults.pop(0)
        if fault is None:
            return None
        self.calls[-1].status = fault.status
        return web.json_response(
            {"error": {"code": "Fault", "message": f"fake {fault.status}"}},
            status=fault.status,
            headers=fault.headers,
        )

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.uploads.append((request.match_info["name"], dict(request.headers), data))
        return web.json_response({"id": "onedrive-item"}, status=201)

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call("CREATE", None, None, body))
        failure = self._fault(request)
        if failure is not None:
            return failure
        member = body["members"][0]["id"]
        self.calls[-1].returned = f"a:personal-{member.removeprefix('29:')}"
        return web.json_response({"id": self.calls[-1].returned})

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        conversation = request.match_info["conversation"]
        activity_id = request.match_info.get("activity")
        self.calls.append(Call(request.method, conversation, activity_id, body))
        failure = self._fault(request)
        if failure is not None:
            return failure
        if request.method == "PUT":
            return web.json_response({"id": activity_id})
        self.calls[-1].returned = str(next(self._ids))
        return web.json_response({"id": self.calls[-1].returned})

    # Reading what was sent -----------------------------------------------------------------------

    def delivered(self) -> list[Call]:
        return [c for c in self.calls if c.status < 400]

    def posts_to(self, conversation: str) -> list[Call]:
        return [c for c in self.delivered() if c.method == "POST" and c.conversation == conversation]

    def updates(self) -> list[Call]:
        return [c for c in self.delivered() if c.method == "PUT"]

    def creates(self) -> list[Call]:
        return [c for c in self.delivered() if c.method == "CREATE"]

    def all_cards(self) -> list[dict[str, Any]]:
        return [card for call in self.calls for card in call.cards]

    def assert_cards_valid(self) -> None:
        """Every card under 28 kB and parsed cleanly by Microsoft's ``adaptivecards`` package (where it is
        not installed: a warning, and in CI a failure – see tests/node_tools.py)."""
        cards = self.all_cards()
        for card in cards:
            size = len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            assert size < CARD_LIMIT, f"card of {size} bytes"
        if cards and not cards_cannot_be_validated():
            problems = validate_cards(cards)
            assert problems == [], problems


def validate_cards(cards: list[dict[str, Any]]) -> list[str]:
    """Errors Microsoft's parser reports for ``cards`` (an empty list when all are fine)."""
    assert NODE is not None
    result = subprocess.run(
        [NODE, str(CARD_VALIDATOR)],
        input=json.dumps(cards),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [f"card {r['index']}: {error}" for r in json.loads(result.stdout) for error in r["errors"]]


# --------------------------------------------------------------------------------------------------
# Activities as Teams sends them
# --------------------------------------------------------------------------------------------------

_activity_ids = itertools.count(1_600_000_000_001)
MENTION = "<at>Partsbot</at>"


def _base(service_url: str, person: Person, conversation: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": str(next(_activity_ids)),
        "timestamp": "2026-11-24T09:30:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": person.account,
        "recipient": BOT,
        "conversation": conversation,
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "nb-NO",
        **extra,
    }


def channel_conversation(thread: str) -> dict[str, Any]:
    return {
        "id": f"{CHANNEL};messageid={thread}",
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": TENANT,
    }


def channel_message(
    service_url: str, person: Person, text: str, *, thread: str | None = None, mention: bool = True
) -> dict[str, Any]:
    """A post in the channel (a new reply chain rooted at itself) or a reply in the chain ``thread``."""
    activity_id = str(next(_activity_ids))
    activity = _base(service_url, person, channel_conversation(thread or activity_id))
    activity.update(
        id=activity_id,
        type="message",
        text=f"{MENTION} {text}" if mention else text,
        textFormat="plain",
        entities=[{"type": "mention", "mentioned": BOT, "text": MENTION}] if mention else [],
    )
    activity["channelData"].update(
        teamsChannelId=CHANNEL, teamsTeamId=TEAM, channel={"id": CHANNEL}, team={"id": TEAM}
    )
    return activity


def personal_conversation(person: Person) -> dict[str, Any]:
    return {"id": person.chat, "conversationType": "personal", "tenantId": TENANT}


def personal_message(service_url: str, person: Person, text: str) -> dict[str, Any]:
    activity = _base(service_url, person, personal_conversation(person))
    activity.update(type="message", text=text, textFormat="plain")
    return activity


def card_submit(
    service_url: str,
    person: Person,
    data: dict[str, Any],
    *,
    reply_to: str,
    thread: str | None = None,
    personal: bool = False,
    inputs: dict[str, Any] | None = None,
    chat_of: Person | None = None,
) -> dict[str, Any]:
    """An ``Action.Submit`` press: the action's data merged with the card's input values.

    ``chat_of`` sends it from that person's personal chat instead – a forged activity (Teams sends a press
    only from the conversation the card is in), for checks behind the card's signature."""
    conversation = personal_conversation(person) if personal else channel_conversation(thread or reply_to)
    if chat_of is not None:
        conversation = personal_conversation(chat_of)
    activity = _base(service_url, person, conversation)
    activity.update(type="message", replyToId=reply_to, value={**data, **(inputs or {})})
    return activity


def file_consent(
    service_url: str, person: Person, context: dict[str, Any], *, accept: bool, upload_url: str
) -> dict[str, Any]:
    """The person's answer to a file-consent card in their personal chat, as Teams sends it."""
    activity = _base(service_url, person, personal_conversation(person))
    value: dict[str, Any] = {
        "type": "fileUpload",
        "action": "accept" if accept else "decline",
        "context": context,
    }
    if accept:
        value["uploadInfo"] = {
            "contentUrl": "https://contoso-my.sharepoint.com/personal/kari/Documents/hms.pdf",
            "name": "hms.pdf",
            "uploadUrl": upload_url,
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
            "fileType": "pdf",
        }
    activity.update(type="invoke", name="fileConsent/invoke", value=value)
    return activity


def submit_data(call: Call, title: str) -> dict[str, Any]:
    """The ``data`` of the Action.Submit titled ``title`` on the cards of ``call``."""
    for action in _actions(call.cards):
        if action.get("title") == title:
            return dict(action["data"])
    raise AssertionError(f"no action {title!r} in {call.text}")


def _actions(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "Action.Submit":
            yield node
        for value in node.values():
            yield from _actions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _actions(item)


class TeamsDriver:
    """POSTs Activities to the real server's ``/api/messages`` and waits for the deliveries they cause."""

    def __init__(
        self, client: TestClient, connector: FakeConnector, adapter: TeamsWebAdapter, bot: Partsbot
    ) -> None:
        self.client = client
        self.connector = connector
        self.adapter = adapter
        self.bot = bot

    @property
    def service_url(self) -> str:
        return self.connector.service_url

    async def send(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        response = await self.client.post("/api/messages", json=activity, headers=headers or {})
        await response.read()
        await self.adapter.drain()
        return response.status

    async def say(self, person: Person, text: str, **kw: Any) -> dict[str, Any]:
        activity = channel_message(self.service_url, person, text, **kw)
        status = await self.send(activity)
        assert status == 200, status
        return activity

    async def say_privately(self, person: Person, text: str) -> dict[str, Any]:
        activity = personal_message(self.service_url, person, text)
        status = await self.send(activity)
        assert status == 200, status
        return activity

    def mark(self) -> int:
        return len(self.connector.calls)

    def since(self, mark: int) -> list[Call]:
        return self.connector.calls[mark:]
