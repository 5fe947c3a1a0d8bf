"""Step 2, "Finne blindsonen": questions we did not know we did not know – named or anonymous.

Named questions are shown at once. Anonymous ones wait in a pool that knows neither who asked nor when
(:class:`~bot.toolbox.models.PendingQuestion`) and are released together once the pool holds a whole
batch (three by default, ``PARTSBOT_ANONYMOUS_BATCH`` for more), in random order, stamped with the batch
time. A single anonymous question in a small staff group is easily traced to whoever was on shift when it
appeared; in a batch it is one of several.

When the step closes, what is left in the pool is released if it is at least :data:`CLOSE_RELEASE_MIN`
questions (two can no longer be told apart by timing, since they appear together at a moment the person
closing the step chose). A single leftover question stays unpublished: the person closing the step is told
that one question was held back, and every anonymous asker is told up front that this can happen.

Nothing here logs, and an anonymous asker is never added as a participant: both would link them to it.
"""

from __future__ import annotations

import hashlib
import random

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Block, Button, Message, Note, Reply, Text
from bot.chat.steps import StepHooks
from bot.toolbox import cases
from bot.toolbox.models import Case, PendingQuestion, Question

DEFAULT_BATCH = 3
CLOSE_RELEASE_MIN = 2
# Shuffling must not be predictable from the submission order; the system source is cheap here.
_shuffle = random.SystemRandom().shuffle


def batch_size(ctx: HandlerContext) -> int:
    """Anonymous questions per batch: never fewer than the default, however the setting reads."""
    raw = ctx.settings.extra.get("PARTSBOT_ANONYMOUS_BATCH", "")
    return max(DEFAULT_BATCH, int(raw)) if raw.strip().isdigit() else DEFAULT_BATCH


def digest(case: Case, text: str) -> str:
    """Recognise a repeated anonymous question without knowing who sent it: same case, same words."""
    normalised = " ".join(text.casefold().split())
    return hashlib.sha256(f"{case.id}\n{normalised}".encode()).hexdigest()


def intro(ctx: HandlerContext, case: Case) -> Reply:
    text = ctx.t("blindspot.intro", batch=batch_size(ctx), number=case.id)
    return Reply(fallback=text, blocks=(Text(text), Note(ctx.t("blindspot.intro_note", number=case.id))))


def ask_named(ctx: HandlerContext, case: Case, text: str, *, echo: bool) -> Question:
    """A question with the asker's name. ``echo`` posts it in the thread (it came from a form or command;
    a thread message is already there for everyone to read)."""
    cases.require_step(case, "blindspot")
    cleaned = ctx.text(text)
    repeated = ctx.session.scalar(
        select(Question.id).where(
            Question.case_id == case.id, Question.author_id == ctx.member.id, Question.text == cleaned
        )
    )
    if repeated is not None:
        raise UserError("errors.duplicate")
    question = Question(
        case_id=case.id,
        text=cleaned,
        author_id=ctx.member.id,
        anonymous=False,
        released=True,
        released_at=ctx.now,
        created_at=ctx.now,
    )
    ctx.session.add(question)
    cases.add_participant(ctx, case)
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    if echo:
        cases.post_in_case(
            ctx, case, speaker.t("blindspot.named", name=cases.name_of(ctx.member), text=cleaned)
        )
    else:
        ctx.private(ctx.t("blindspot.thanks_named", number=case.id))
    cases.refresh_head(ctx, case)
    return question


def ask_anonymous(ctx: HandlerContext, case: Case, text: str) -> None:
    """An anonymous question: into the pool, a private receipt without the text, a batch when ready."""
    cases.require_step(case, "blindspot")
    cleaned = ctx.text(text)
    key = digest(case, cleaned)
    known = ctx.session.scalar(
        select(func.count())
        .select_from(PendingQuestion)
        .where(PendingQuestion.case_id == case.id, PendingQuestion.digest == key)
    ) or ctx.session.scalar(
        select(func.count()).select_from(Question).where(Question.case_id == case.id, Question.digest == key)
    )
    # A repeat (double submit, or the same words from someone else) gets the same receipt and adds
    # nothing: a different answer would tell the asker that somebody else had asked it.
    if not known:
        savepoint = ctx.session.begin_nested()
        try:
            ctx.session.add(PendingQuestion(case_id=case.id, text=cleaned, digest=key))
            ctx.session.flush()
            savepoint.commit()
        except IntegrityError:
            # Two identical submissions racing. Caught here, not by the router, whose log line would
            # carry the statement's parameters – the question's text.
            savepoint.rollback()
    ctx.private(ctx.t("blindspot.thanks_anonymous", number=case.id, batch=batch_size(ctx)))
    release(ctx, case, batch_size(ctx))


def pending_count(ctx: HandlerContext, case: Case) -> int:
    count = ctx.session.scalar(
        select(func.count()).select_from(PendingQuestion).where(PendingQuestion.case_id == case.id)
    )
    return int(count or 0)


def release(ctx: HandlerContext, case: Case, minimum: int, *, refresh: bool = True) -> int:
    """Publish the pool as one shuffled batch if it holds at least ``minimum`` questions."""
    pool = list(ctx.session.scalars(select(PendingQuestion).where(PendingQuestion.case_id == case.id)))
    if len(pool) < minimum:
        return 0
    _shuffle(pool)
    last = ctx.session.scalar(select(func.max(Question.batch)).where(Question.case_id == case.id))
    batch = int(last or 0) + 1
    texts = []
    for item in pool:
        ctx.session.add(
            Question(
                case_id=case.id,
                text=item.text,
                author_id=None,
                anonymous=True,
                released=True,
                released_at=ctx.now,
                batch=batch,
                digest=item.digest,
                created_at=ctx.now,
            )
        )
        texts.append(item.text)
        ctx.session.delete(item)
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    title = speaker.t("blindspot.batch_title", batch=batch, count=len(texts))
    lines = "\n".join(speaker.t("blindspot.batch_line", text=t) for t in texts)
    cases.post_in_case(ctx, case, Reply(fallback=title, blocks=(Text(f"*{title}*\n{lines}"),)))
    if refresh:
        cases.refresh_head(ctx, case)
    return len(texts)


def on_close(ctx: HandlerContext, case: Case) -> None:
    # The step change refreshes the head right after, so the release need not.
    release(ctx, case, CLOSE_RELEASE_MIN, refresh=False)
    held = pending_count(ctx, case)
    if held:
        ctx.private(ctx.t("blindspot.held_back", count=held))


def on_message(ctx: HandlerContext, case: Case, msg: Message) -> None:
    ask_named(ctx, case, msg.text, echo=False)


def head_section(ctx: HandlerContext, case: Case) -> list[Block]:
    rows = ctx.session.execute(
        select(Question.anonymous, func.count())
        .where(Question.case_id == case.id)
        .group_by(Question.anonymous)
    ).all()
    counts = {bool(anonymous): int(count) for anonymous, count in rows}
    if not counts and case.step != "blindspot":
        return []
    return [
        Note(
            ctx.t(
                "blindspot.head",
                count=counts.get(False, 0) + counts.get(True, 0),
                anonymous=counts.get(True, 0),
            )
        )
    ]


def head_buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    return [
        Button(ctx.t("blindspot.ask_button"), "blindspot.ask", str(case.id), "primary"),
        Button(ctx.t("case.define.refine_button"), "case.refine", str(case.id)),
    ]


def register(steps: StepHooks) -> None:
    steps.intros["blindspot"] = intro
    steps.exits["blindspot"] = on_close
    steps.thread_handlers["blindspot"] = on_message
    steps.head_buttons["blindspot"] = head_buttons
    steps.add_head_section(head_section)
