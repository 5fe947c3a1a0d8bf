"""The course demo's second kindergarten: reflections pooled over an exchange group, and module 6's
experience exchange between Solsikken and Blåbær (:mod:`bot.demo.course` calls in at three places).

Blåbær barnehage sits in another channel of the same console workspace, on the same course dates, in
Solsikken's exchange group (joined with the code Kari's command printed). Its own nudges are sent by the
same scheduler but not narrated (only Solsikken's are); its colleagues answer the reflections, so the
staff gatherings' digests reach ten answers by others than each trio pooled, while the trio modules'
three-and-three do not – both outcomes are shown. Before module 6 both trios choose what to share, the
other party confirms, the pages go to #utveksling, and a question from Blåbær is answered by Solsikken's
trio in the page's thread.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.adapters.console.chat import WORKSPACE, slug
from bot.chat.model import Actor, Place, Submission
from bot.course.models_exchange import ReflectionRound
from bot.course.reflection import trio_module
from bot.i18n import raw, t
from bot.storage.models import Unit

if TYPE_CHECKING:
    from bot.demo.course import CourseDemo

CHANNEL = "blaabaer"
EXCHANGE_CHANNEL = "utveksling"
HOME = "personalet"
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")


def _list(language: str, key: str) -> list[str]:
    value = raw(language, key)
    return [str(v) for v in value] if isinstance(value, list) else []


def first_unit_only(key: str) -> bool:
    """Narrate only Solsikken's jobs (run 1, unit 1); Blåbær's go out all the same."""
    parts = key.split(":")
    if parts[0] in ("run", "checkin", "checkin-reminder", "summary") and len(parts) > 1:
        return parts[1] == "1"
    return True


def _name_unit(demo: CourseDemo, channel: str, name: str) -> None:
    with demo.run.bot.db.transaction() as session:
        unit = session.scalar(select(Unit).where(Unit.channel_id == channel))
        if unit is not None:
            unit.name = name


async def setup(demo: CourseDemo) -> None:
    """Blåbær's team enrols on the same dates; Kari makes the group, Eva joins with the code, and Kari
    names #utveksling the exchange channel. Printed in full: it is the start of the demo."""
    chat, lang = demo.run.chat, demo.language
    demo.run.say("course_demo_exchange.second")
    await chat.handle_line(f"/kanal {CHANNEL}")
    team = _list(lang, "course_demo_exchange.team")
    for line in team:
        await chat.handle_line(line)
    _name_unit(demo, CHANNEL, t(lang, "course_demo_exchange.unit"))
    leader = team[0].split()[1]
    await chat.handle_line(f"/som {leader}")
    await chat.handle_line(str(raw(lang, "course_demo.enrol")))
    await chat.handle_line(f"/kanal {HOME}")
    await chat.handle_line(f"/som {demo.names[0]}")
    made = await demo.type_as(demo.names[0], "/parts utveksling ny")
    chat.write(made.rstrip())
    code = CODE.findall(made)[0]
    await chat.handle_line(f"/kanal {CHANNEL}")
    await chat.handle_line(f"/som {leader}")
    await chat.handle_line(f"/parts utveksling bli med {code}")
    await chat.handle_line(f"/kanal {EXCHANGE_CHANNEL}")
    await chat.handle_line(f"/som {demo.names[0]}")
    await chat.handle_line("/parts utveksling kanal")
    await chat.handle_line(f"/kanal {HOME}")


def _others(language: str) -> list[str]:
    return [line.split()[1] for line in _list(language, "course_demo_exchange.team")]


def _round_ids(demo: CourseDemo, module: int) -> dict[int, int]:
    with demo.run.bot.db.transaction() as session:
        rows = session.scalars(select(ReflectionRound).where(ReflectionRound.module == module))
        return {r.run_id: r.id for r in rows}


async def answer_reflections(demo: CourseDemo, module: int) -> None:
    """The people each module was for answer, in both kindergartens: five of six after a staff gathering,
    the three of each trio after a digital module."""
    rounds = _round_ids(demo, module)
    answers = _list(demo.language, f"course_demo_exchange.reflections.m{module}")
    # After a staff gathering five of Solsikken's six and eight of Blåbær's nine answer: thirteen, of
    # which ten were written by others than each trio – the digest's threshold for both.
    teams = ((1, demo.names, 5), (2, _others(demo.language), 8))
    count = 0
    for run_id, names, staff in teams:
        people = names[:3] if trio_module(module) else names[:staff]
        for n, name in enumerate(people):
            # Solsikken's people take the first texts of the list, Blåbær's the next ones.
            index = n + (run_id - 1) * (3 if trio_module(module) else 5)
            text = answers[index % len(answers)] if answers else name
            user = slug(name)
            place = Place("console", WORKSPACE, f"dm-{user}", None, is_direct=True)
            event = Submission(
                Actor(user, name), place, "reflection.answer", {"text": text}, str(rounds[run_id])
            )
            out = demo.run.chat.out
            demo.run.chat.out = io.StringIO()
            try:
                await demo.run.bot.handle(event)
            finally:
                demo.run.chat.out = out
            count += 1
    demo.run.say("course_demo_exchange.reflected", count=count)


def show(demo: CourseDemo, hidden: str, head: str) -> None:
    """Print the message that starts with ``head`` from what a compact tick printed to nobody."""
    if head not in hidden:
        return
    body = hidden.split(head, 1)[1].split(" Partsbot:", 1)[0]
    lines = body.rstrip().splitlines()
    # The next message's heading ("[direktemelding til …]") is cut off; drop its first half.
    if lines and lines[-1].startswith("["):
        lines = lines[:-1]
    demo.run.chat.write(head + "\n" + "\n".join(lines))


async def exchange(demo: CourseDemo, hidden: str) -> None:
    """Module 6's exchange, in full: both trios choose and confirm, then a question and its answer."""
    chat, lang = demo.run.chat, demo.language
    kari, ola, siri = demo.names[0], demo.names[1], demo.names[2]
    eva, tor = _others(lang)[0], _others(lang)[1]
    demo.run.say("course_demo_exchange.pages")
    button = t(lang, "exchange.choose_button")
    # Solsikken shares its case, the plan and the check-in, not the evaluation; Blåbær its case.
    for chooser, confirmer, picks in (
        (siri, kari, ("ja", "ja", "ja", "nei")),
        (tor, eva, ("ja", "ja", "ja")),
    ):
        head = f"[{t(lang, 'console.dm_to', name=chooser)}] Partsbot:"
        show(demo, hidden, head)
        draft = hidden.split(head, 1)[1] if head in hidden else ""
        numbers = re.findall(r"\[(\d+)\] " + re.escape(button), draft)
        if not numbers:
            continue
        # The console presses a button where the person is: in their own kindergarten's channel.
        home = HOME if chooser in demo.names else CHANNEL
        await chat.handle_line(f"/kanal {home}")
        await chat.handle_line(f"/som {chooser}")
        await chat.handle_line(numbers[0])
        before = len(demo.transcript.getvalue())
        for pick in picks:
            if chat.pending_form is None:
                break
            await chat.handle_line(pick)
        request = demo.transcript.getvalue()[before:]
        approve = re.findall(r"\[(\d+)\] " + re.escape(t(lang, "exchange.confirm_button")), request)
        if approve:
            await chat.handle_line(f"/som {confirmer}")
            await chat.handle_line(approve[-1])
    # Eva asks Solsikken about its page in the exchange channel; Ola answers.
    page = demo.transcript.getvalue()
    asks = re.findall(r"\[(\d+)\] " + re.escape(t(lang, "exchange.ask_button")), page)
    if not asks:
        return
    await chat.handle_line(f"/som {eva}")
    await chat.handle_line(f"/kanal {EXCHANGE_CHANNEL}")
    before = len(demo.transcript.getvalue())
    await chat.handle_line(asks[0])
    await chat.handle_line(str(raw(lang, "course_demo_exchange.question")))
    replies = re.findall(
        r"\[(\d+)\] " + re.escape(t(lang, "exchange.reply_button")), demo.transcript.getvalue()[before:]
    )
    if replies:
        await chat.handle_line(f"/som {ola}")
        await chat.handle_line(replies[0])
        await chat.handle_line(str(raw(lang, "course_demo_exchange.answer")))
    await chat.handle_line(f"/kanal {HOME}")


async def react(demo: CourseDemo, key: str, hidden: str) -> None:
    """What the second kindergarten and the trios do when one of Solsikken's jobs went out."""
    parts = key.split(":")
    if parts[0] != "run" or parts[1] != "1":
        return
    kind, module = parts[2], int(parts[3][1:])
    lang = demo.language
    if kind == "reflect":
        await answer_reflections(demo, module)
    elif kind == "tool" and module == 3:
        # Blåbær's verneombud starts its case too – after Solsikken's, which keeps case number 1.
        line = str(raw(lang, "course_demo_exchange.case"))
        name = _others(lang)[1]
        await demo.type_as(name, f"/kanal {CHANNEL}", line, f"/kanal {HOME}")
        demo.run.say("course_demo_exchange.typed", name=name, line=line)
    elif kind == "reflection-digest" and module in (2, 3):
        # Module 1's reflections (three and three, after a trio module) are withheld; module 2's (five and
        # five after the staff gatherings, pooled over the group) are shown.
        show(demo, hidden, f"[{t(lang, 'console.dm_to', name=demo.names[0])}] Partsbot:")
    elif kind == "exchange-page":
        await exchange(demo, hidden)
    elif kind == "shared-results":
        show(demo, hidden, f"[{t(lang, 'console.dm_to', name=demo.names[3])}] Partsbot:")
