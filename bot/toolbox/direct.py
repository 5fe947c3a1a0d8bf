"""A case from a direct message: ``#8 <svar>`` written to the bot counts as a message in case 8's thread.

A parties-only case has no thread in the channel: its questions reach the parties as direct messages,
and before this the only way to answer was ``/parts problem presiser #8 …`` (ux.md item 10). Now the
same words work in every step, from any personal chat with the bot, for whoever may see the case:

* what the step takes from its thread is taken (an answer, a blind-spot question, an idea, dots);
* in the define and blind-spot steps – where the step's own reply does not repeat it – what was written
  is passed on to the case's audience, in the thread or, for a parties-only case, to each party, so the
  others read it as if it had been written in the thread; that is also how a blind-spot question is
  discussed there. Dots in a vote are never passed on (results stay hidden until the vote closes);
* ``#8 anonym …`` in the blind-spot step is an anonymous question, exactly as ``/parts blindsone anonym 8
  …`` typed in a direct message (nothing of it is passed on);
* agreement and emoji get a short private word instead of silence – a direct message always gets an
  answer.
"""

from __future__ import annotations

import re

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Message
from bot.toolbox import blindspot, cases, chatter
from bot.toolbox.models import Case

# Steps whose thread handler does not itself show the others what was written.
ECHOED_STEPS = ("define", "blindspot")
_NUMBERS = re.compile(r"(?:#?\d+[\s,;.]*)+")


def case_message(ctx: HandlerContext, case: Case, text: str) -> None:
    body = text.strip()
    if not body:
        raise UserError("errors.empty_text")
    first = body.split(maxsplit=1)
    if first[0].lower().strip(":,") in blindspot.ANONYMOUS_WORDS:
        if case.step != "blindspot":
            # Never stored or passed on under the name of someone who asked to be anonymous.
            step = cases.step_label(ctx, case.step)
            raise UserError("direct.anonymous_not_now", number=case.id, step=step)
        blindspot.ask_anonymous(ctx, case, first[1] if len(first) > 1 else "")
        return
    if case.step != "vote" and _NUMBERS.fullmatch(body):
        # "#1 #1": dots, but the case is not voting – never an answer or an idea.
        raise UserError("direct.not_voting", number=case.id, step=cases.step_label(ctx, case.step))
    if chatter.is_chatter(body) and not (case.step == "vote" and cases.VOTE_NUMBER.search(body)):
        ctx.private(ctx.t("direct.not_taken", number=case.id))
        return
    handler = ctx.steps.thread_handlers.get(case.step)
    if handler is None:
        raise UserError("case.thread_quiet", step=cases.step_label(ctx, case.step))
    before = len(ctx.effects)
    handler(ctx, case, Message(actor=ctx.actor, place=ctx.place, text=body))
    if case.step not in ECHOED_STEPS:
        return
    # Passed on ahead of the bot's own reply to it (the receipt, the next question).
    handled = ctx.effects[before:]
    del ctx.effects[before:]
    speaker = cases.for_case(ctx, case)
    cases.post_in_case(ctx, case, speaker.t("direct.echo", name=cases.name_of(ctx.member), text=body))
    ctx.effects.extend(handled)
    if not handled:
        # The step kept nothing (a remark in the blind-spot step): passed on, and the writer is told so.
        ctx.private(ctx.t("direct.passed_on", number=case.id))
