"""Step 2, "Finne blindsonen": questions we did not know we did not know – named or anonymous.

Named questions are shown at once. Anonymous ones wait in a pool and are released together once the pool
holds a whole batch (three by default, ``PARTSBOT_ANONYMOUS_BATCH`` for more) **from at least that many
different people**, in random order, stamped with the batch time. A single anonymous question in a small
staff group is easily traced to whoever was on shift when it appeared; in a batch it is one of several.

How an anonymous question is kept unlinkable (issue 10, SEC-02/03):

* The event's transaction writes only the private receipt (which names the asker, in the outbox until
  delivered). The question goes into the pool afterwards, in a transaction of its own that names nobody
  (:meth:`HandlerContext.detach`), so no transaction id is shared between the receipt and the question.
* That transaction locks the case, then **rewrites the whole pool** of the case: every pending question
  is deleted and written again, in random order, with new random ids. All pool rows therefore carry the
  same ``xmin`` and a random physical order and id, whoever asked which.
* Different people are counted without storing who: :class:`~bot.toolbox.models.AnonymousPool` keeps a
  sorted set of keyed hashes of member ids (HMAC under a key derived from a random per-batch salt and
  ``PARTSBOT_SECRET_KEY``). The row, salt included, is deleted when the batch is released, so the hashes
  cannot be recomputed afterwards. One person asking three questions adds one hash: a member can no longer
  flush a batch with questions of their own (the "n−1" attack, SEC-03), and closing the step never
  releases a batch that fewer people could have filled; leftovers are deleted then, unpublished.

While a batch is pending, someone holding both the database and ``PARTSBOT_SECRET_KEY`` can test whether
a given person has a question waiting (not which one). Without the secret key (development), the key is
derived from the salt alone and the database reader can do the same. Nothing of this survives a release.

Nothing here logs, and an anonymous asker is never added as a participant: both would link them to it.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm.attributes import flag_modified

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Block, Button, Message, Note, Reply, Text
from bot.chat.steps import StepHooks
from bot.toolbox import cases, chatter, entries, idea_hunt
from bot.toolbox.models import AnonymousPool, Case, PendingQuestion, Question

DEFAULT_BATCH = 3
ANONYMOUS_WORDS = ("anonym", "anonymt", "anonymous", "anon")
# Words that open a question (nb, nn, en), for messages that ask without a question mark.
QUESTION_WORDS = frozenset(
    {
        "hvem", "hva", "hvorfor", "hvordan", "når", "hvor", "hvilken", "hvilket", "hvilke",
        "kven", "kva", "kvifor", "korleis", "kor", "kvar", "kva-for",
        "who", "what", "why", "how", "when", "where", "which",
    }
)  # fmt: skip

# Shuffling must not be predictable from the submission order; the system source is cheap here.
_shuffle = random.SystemRandom().shuffle
# The pool's own reordering on every write (separate, so a test can fix the batch order alone).
_scramble = random.SystemRandom().shuffle


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
    # The asker sees it was taken as a question, and can take it back (a named question only: an
    # anonymous one has no author to do so).
    entries.receipt(ctx, case, entries.QUESTION, question.id, entries.question_label(ctx, case, question))
    cases.refresh_head(ctx, case)
    return question


def ask_anonymous(ctx: HandlerContext, case: Case, text: str) -> None:
    """An anonymous question: a private receipt without the text now; into the pool (and out in a batch
    when ready) in a transaction of its own."""
    cases.require_step(case, "blindspot")
    cleaned = ctx.text(text)
    ctx.private(ctx.t(_thanks_key(ctx), number=case.id, batch=batch_size(ctx)))
    case_id, member_id, batch = case.id, ctx.member.id, batch_size(ctx)

    def write(later: HandlerContext) -> None:
        add_to_pool(later, case_id, member_id, cleaned, batch)

    ctx.detach("blindspot.anonymous", write)


def _thanks_key(ctx: HandlerContext) -> str:
    # A question typed in a direct message stays in the platform's chat history under the person's name;
    # a form leaves no message. The receipt says which applies.
    return "blindspot.thanks_anonymous_typed" if ctx.place.is_direct else "blindspot.thanks_anonymous"


def _asker_key(pool: AnonymousPool, secret: str) -> bytes:
    return hmac.new(secret.encode(), bytes.fromhex(pool.salt), hashlib.sha256).digest()


def asker_hash(pool: AnonymousPool, secret: str, member_id: int) -> str:
    return hmac.new(_asker_key(pool, secret), str(member_id).encode(), hashlib.sha256).hexdigest()


def add_to_pool(ctx: HandlerContext, case_id: int, member_id: int, text: str, batch: int) -> None:
    """Add a question to the case's pool and release a batch when enough different people asked.

    Runs in a transaction that writes nothing about the asker (see the module docstring)."""
    case = ctx.session.scalars(
        select(Case).where(Case.id == case_id).with_for_update().execution_options(populate_existing=True)
    ).one()
    key = digest(case, text)
    known = ctx.session.scalar(
        select(func.count()).select_from(Question).where(Question.case_id == case.id, Question.digest == key)
    )
    pool = ctx.session.get(AnonymousPool, case.id)
    if pool is None:
        pool = AnonymousPool(case_id=case.id, salt=secrets.token_hex(32), askers=[])
        ctx.session.add(pool)
    items = [
        (q.text, q.digest)
        for q in ctx.session.scalars(select(PendingQuestion).where(PendingQuestion.case_id == case.id))
    ]
    # A repeat (double submit, or the same words from someone else) adds nothing and counts nobody: a
    # different receipt would tell the asker that somebody else had asked it.
    if not known and all(d != key for _, d in items):
        items.append((text, key))
        pool.askers = sorted({*pool.askers, asker_hash(pool, ctx.settings.secret_key, member_id)})
    else:
        pool.askers = list(pool.askers)
    _rewrite_pool(ctx, case, items)
    if len(pool.askers) >= batch and len(items) >= batch:
        release(ctx, case)


def _rewrite_pool(ctx: HandlerContext, case: Case, items: list[tuple[str, str]]) -> None:
    """Delete and write again every pending question of the case, shuffled, with new random ids."""
    ctx.session.execute(delete(PendingQuestion).where(PendingQuestion.case_id == case.id))
    ctx.session.flush()
    shuffled = list(items)
    _scramble(shuffled)
    for text, key in shuffled:
        ctx.session.add(PendingQuestion(id=secrets.token_hex(16), case_id=case.id, text=text, digest=key))
    # The pool row is written on every change too (``askers`` reassigned), so it moves with the items.
    flag_modified(ctx.session.get_one(AnonymousPool, case.id), "askers")
    ctx.session.flush()


def pending_count(ctx: HandlerContext, case: Case) -> int:
    count = ctx.session.scalar(
        select(func.count()).select_from(PendingQuestion).where(PendingQuestion.case_id == case.id)
    )
    return int(count or 0)


def distinct_askers(ctx: HandlerContext, case: Case) -> int:
    pool = ctx.session.get(AnonymousPool, case.id)
    return len(pool.askers) if pool else 0


def discard_pool(ctx: HandlerContext, case: Case) -> None:
    ctx.session.execute(delete(PendingQuestion).where(PendingQuestion.case_id == case.id))
    ctx.session.execute(delete(AnonymousPool).where(AnonymousPool.case_id == case.id))


def release(ctx: HandlerContext, case: Case, *, refresh: bool = True) -> int:
    """Publish the whole pool as one shuffled batch and throw the pool's key away."""
    pool = list(ctx.session.scalars(select(PendingQuestion).where(PendingQuestion.case_id == case.id)))
    if not pool:
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
    discard_pool(ctx, case)
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    title = speaker.t("blindspot.batch_title", batch=batch, count=len(texts))
    lines = "\n".join(speaker.t("blindspot.batch_line", text=t) for t in texts)
    cases.post_in_case(ctx, case, Reply(fallback=title, blocks=(Text(f"*{title}*\n{lines}"),)))
    if refresh:
        cases.refresh_head(ctx, case)
    return len(texts)


def on_close(ctx: HandlerContext, case: Case) -> None:
    """Closing the step releases a batch only under the usual rule (enough different people, which would
    already have released it); anything left is deleted unpublished, and the closer is told how many."""
    if distinct_askers(ctx, case) >= batch_size(ctx) and pending_count(ctx, case) >= batch_size(ctx):
        release(ctx, case, refresh=False)
    held = pending_count(ctx, case)
    discard_pool(ctx, case)
    if held:
        ctx.private(ctx.t("blindspot.held_back", count=held))


def is_question(text: str) -> bool:
    """A message that asks: it ends with a question mark (emoji after it aside) or opens with a question
    word. Anything else in the thread is an answer or a remark about the questions: discussion."""
    # Emoji, spaces and closing marks may follow: "… fått? 😬" ends with a question mark.
    for char in reversed(text.strip()):
        if char == "?":
            return True
        if char.isalnum():
            break
    words = chatter.words_of(text)
    return bool(words) and words[0] in QUESTION_WORDS


def on_message(ctx: HandlerContext, case: Case, msg: Message) -> None:
    """A question in the thread is a named blind-spot question. Answers and remarks – people discussing
    the questions, anonymous ones included – stay conversation: nothing is stored, nothing is answered,
    so a discussion never turns into new questions and never touches the anonymous pool."""
    words = msg.text.split(maxsplit=1)
    if words and words[0].lower().strip(":,") in ANONYMOUS_WORDS:
        # "anonym …" written in the thread: everyone has seen who wrote it, so it is neither stored as
        # anonymous nor, against the person's wish, under their name (SEC-07).
        raise UserError("blindspot.typed_in_view", number=case.id)
    idea = chatter.marked_idea(msg.text)
    if idea is not None:
        idea_hunt.keep_for_later(ctx, case, idea)
    elif is_question(msg.text):
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
