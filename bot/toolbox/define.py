"""Step 1, "Definer riktig problem": from what people notice to the problem worth solving.

In the thread the bot asks one question at a time and waits for an answer: symptom or problem? what is
the cause – then "why?" again, up to five times in all (5 hvorfor) – what effect do we want? how do we want
it to be? and finally a sharper problem statement. Which question is open is kept on the case
(``pending_prompt``), so whoever answers first moves the conversation on. Every answer is kept as a
:class:`~bot.toolbox.models.CaseVersion`; a new statement never replaces the earlier ones.
"""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Block, Button, Message, Reply, Text
from bot.chat.steps import StepHooks
from bot.toolbox import cases, chatter, entries, idea_hunt
from bot.toolbox.models import Case

# The 5 whys: the cause question counts as the first "why".
MAX_WHYS = 5
WHY_KINDS = ("cause", "why")
# Words that close the open question without an answer ("we have found the cause", "skip this one").
SKIP_WORDS = frozenset(
    {"videre", "vidare", "neste", "next", "ferdig", "done", "skip", "hopp over", "hopp", "stopp", "stop"}
)


def why_count(ctx: HandlerContext, case: Case) -> int:
    return len(cases.versions(ctx.session, case, *WHY_KINDS))


def _after(ctx: HandlerContext, case: Case, prompt: str, skipped: bool) -> str | None:
    """The question after ``prompt`` has been answered (or skipped)."""
    if prompt in WHY_KINDS:
        if skipped or why_count(ctx, case) >= MAX_WHYS:
            return "effect"
        return "why"
    order = ("symptom", "cause", "effect", "wish", "statement")
    index = order.index(prompt)
    return order[index + 1] if index + 1 < len(order) else None


def question(ctx: HandlerContext, case: Case) -> Reply:
    """The open question, as the bot asks it in the thread."""
    prompt = case.pending_prompt
    if prompt is None:
        return Reply.text(ctx.t("case.define.done"))
    if prompt == "why":
        chain = cases.versions(ctx.session, case, *WHY_KINDS)
        text = ctx.t(
            "case.define.ask.why",
            last=(chain[-1].text if chain else case.statement).rstrip(" ."),
            n=len(chain) + 1,
            max=MAX_WHYS,
        )
    else:
        # The statement is quoted mid-sentence, so its own full stop goes ("«… hva»?", not "«… hva.»?").
        text = ctx.t(f"case.define.ask.{prompt}", statement=case.statement.rstrip("."))
    return Reply(fallback=text, blocks=(Text(text), Text(ctx.t("case.define.answer_hint"))))


def intro(ctx: HandlerContext, case: Case) -> Reply:
    """Entering the define step: the method in two lines, then the first question."""
    case.pending_prompt = "symptom"
    first = question(ctx, case)
    return Reply(fallback=first.fallback, blocks=(Text(ctx.t("case.define.intro")), *first.blocks))


def answer(ctx: HandlerContext, case: Case, text: str) -> None:
    """Someone answers the open question in the thread; they see privately what it became ("Lagt til som
    årsak 2"), with a button to take it back."""
    cases.require_step(case, "define")
    prompt = case.pending_prompt
    if prompt is None:
        raise UserError("case.define.no_question", number=case.id)
    cleaned = ctx.text(text)
    skipped = cleaned.lower().strip(" .!") in SKIP_WORDS
    if not skipped:
        if prompt == "statement":
            _store_statement(ctx, case, cleaned)
        else:
            version = cases.add_version(ctx, case, prompt, cleaned)
            label = entries.version_label(ctx, case, version)
            entries.receipt(ctx, case, entries.VERSION, version.id, label)
        cases.add_participant(ctx, case)
    case.pending_prompt = _after(ctx, case, prompt, skipped)
    ctx.session.flush()
    cases.post_in_case(ctx, case, question(cases.for_case(ctx, case), case))
    cases.refresh_head(ctx, case)


def ask_again(ctx: HandlerContext, case: Case, prompt: str) -> None:
    """An answer to ``prompt`` was taken back or struck while it was the latest: the question is open
    again (the why chain goes back one step)."""
    if case.step != "define":
        return
    if prompt in WHY_KINDS:
        prompt = "why" if why_count(ctx, case) else "cause"
    case.pending_prompt = prompt
    ctx.session.flush()
    cases.post_in_case(ctx, case, question(cases.for_case(ctx, case), case))


def _store_statement(ctx: HandlerContext, case: Case, text: str) -> None:
    cases.add_version(ctx, case, "statement", text)
    case.statement = text
    # The title follows the refined problem, so the case list, the vote and a HØRA agenda show the wording
    # people agreed on; the first one stays under "Tidligere formuleringer" and in the history.
    case.title = cases.short(text, cases.TITLE_LENGTH)
    speaker = cases.for_case(ctx, case)
    # Numbered among the statements only: "version 3" of the problem, whatever was answered in between.
    n = len(cases.versions(ctx.session, case, "statement"))
    cases.post_in_case(
        ctx, case, speaker.t("case.define.refined", name=cases.name_of(ctx.member), n=n, statement=text)
    )


def refine(ctx: HandlerContext, case: Case, text: str) -> None:
    """``/parts problem presiser …`` or the form: a sharper statement; the earlier ones stay visible."""
    cases.require_step(case, "define", "blindspot")
    cleaned = ctx.text(text)
    if cleaned == case.statement:
        raise UserError("errors.duplicate")
    if case.pending_prompt == "statement":
        # The refinement answers the bot's last question, so the thread need not ask it again.
        case.pending_prompt = None
    _store_statement(ctx, case, cleaned)
    cases.add_participant(ctx, case)
    ctx.session.flush()
    cases.refresh_head(ctx, case)


def on_message(ctx: HandlerContext, case: Case, msg: Message) -> None:
    """A message in the thread answers the open question – unless it says it is an idea ("Idé: …",
    "Hva med …"), which is kept for the idea hunt. With no question open, a proposal is kept as an idea
    and anything else is left as conversation, with a private word on how to refine the problem."""
    answering = case.pending_prompt is not None
    if chatter.proposes(msg.text, answering=answering):
        idea_hunt.keep_for_later(ctx, case, chatter.marked_idea(msg.text) or msg.text)
        return
    answer(ctx, case, msg.text)


def head_section(ctx: HandlerContext, case: Case) -> list[Block]:
    """What the define step found so far: the latest answer per question and the whole why chain."""
    found = cases.versions(ctx.session, case, "symptom", "effect", "wish", *WHY_KINDS)
    if not found:
        return []
    lines: list[str] = []
    latest = {v.kind: v for v in found}
    if "symptom" in latest:
        lines.append(ctx.t("case.define.head.symptom", text=latest["symptom"].text))
    chain = [v for v in found if v.kind in WHY_KINDS]
    if chain:
        lines.append(ctx.t("case.define.head.why_title", count=len(chain), max=MAX_WHYS))
        lines.extend(
            ctx.t("case.define.head.why_line", n=i, text=v.text) for i, v in enumerate(chain, start=1)
        )
    for kind in ("effect", "wish"):
        if kind in latest:
            lines.append(ctx.t(f"case.define.head.{kind}", text=latest[kind].text))
    return [Text("\n".join(lines))]


def head_buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    return [Button(ctx.t("case.define.refine_button"), "case.refine", str(case.id), "primary")]


def register(steps: StepHooks) -> None:
    steps.intros["define"] = intro
    steps.thread_handlers["define"] = on_message
    steps.head_buttons["define"] = head_buttons
    steps.add_head_section(head_section)
