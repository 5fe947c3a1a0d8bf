"""Dot voting: ``/parts stemme`` (aliases ``røyste``, ``vote``, ``prikkstemming``).

In a case (its thread, or ``/parts stemme #12``) the vote runs over the case's ideas: from the idea hunt
``/parts stemme [budget] [cap] [deadline]`` opens the vote step (the owner or the trio), later the same
command shows your own ballot, and ``/parts stemme lukk`` closes the vote and moves the case on to the
plan. Outside a case ``/parts stemme [budget] [cap]`` opens a form for a standalone vote over a list.

Dots are given with the + and − buttons on your private ballot, or by writing the numbers in the thread
("#2 #2 #5": two dots on 2, one on 5; "0" takes all back). Each change states the end result, so a
double-click or a repeated message changes nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.chat.context import HandlerContext, UserError, in_field
from bot.chat.model import (
    Action,
    Block,
    Button,
    Command,
    Form,
    FormField,
    Message,
    Reply,
    Submission,
    Text,
)
from bot.chat.router import Router
from bot.chat.steps import StepHooks
from bot.dates.days import parse_deadline
from bot.storage.models import Unit
from bot.toolbox import access, cases, idea_hunt, voting
from bot.toolbox.models import Case, Idea
from bot.toolbox.models_plan import Vote

CLOSE_WORDS = ("lukk", "steng", "avslutt", "close", "end")
# A standalone vote with the same title from the same person this soon is a repeated submission.
REPEAT_WINDOW = timedelta(minutes=10)


def _timezone(ctx: HandlerContext, unit_id: int) -> str:
    unit = ctx.session.get(Unit, unit_id)
    return unit.timezone if unit else ctx.settings.timezone


def parse_settings(ctx: HandlerContext, words: list[str], timezone: str) -> tuple[int, int, datetime | None]:
    """``5 2 fredag`` → budget 5, cap 2, deadline through Friday. Missing numbers take the defaults."""
    numbers: list[int] = []
    while words and words[0].isdigit() and len(numbers) < 2:
        numbers.append(int(words.pop(0)))
    if not numbers and not words:
        return voting.DEFAULT_BUDGET, voting.DEFAULT_CAP, None
    budget = numbers[0] if numbers else voting.DEFAULT_BUDGET
    cap = numbers[1] if len(numbers) > 1 else min(voting.DEFAULT_CAP, budget)
    voting.check_settings(budget, cap)
    deadline = None
    if words:
        deadline = parse_deadline(" ".join(words), ctx.now, timezone)
    return budget, cap, deadline


# --------------------------------------------------------------------------------------------------
# The vote as a step of a case
# --------------------------------------------------------------------------------------------------


def case_vote(ctx: HandlerContext, case: Case) -> Vote | None:
    return voting.case_vote(ctx.session, case.id)


def open_case_vote(ctx: HandlerContext, case: Case, budget: int, cap: int, deadline: datetime | None) -> Vote:
    """The vote over the case's ideas (refused when there are none); a vote the case has is kept."""
    existing = case_vote(ctx, case)
    if existing is not None:
        return existing
    # Struck ideas and "men …" ideas nobody rephrased stay off the ballot; a built-on idea carries its
    # chain, in the case's language, into the vote, its result and the plan.
    ideas = [
        idea
        for idea in ctx.session.scalars(select(Idea).where(Idea.case_id == case.id).order_by(Idea.number))
        if idea_hunt.on_ballot(idea)
    ]
    if not ideas:
        raise UserError("vote.no_ideas", number=case.id)
    timezone = _timezone(ctx, case.unit_id)
    speaker = cases.for_case(ctx, case)
    return voting.open_vote(
        ctx.session,
        unit_id=case.unit_id,
        owner_id=case.started_by_id,
        title=case.title,
        options=[(idea.number, idea_hunt.ballot_label(speaker, idea), idea.id) for idea in ideas],
        budget=budget,
        cap=cap,
        deadline=deadline or idea_hunt.default_deadline(ctx.now, ZoneInfo(timezone)),
        now=ctx.now,
        case_id=case.id,
    )


def intro(ctx: HandlerContext, case: Case) -> Reply:
    """Entering the vote step opens the vote with the default settings, unless the command that started
    the step (``/parts stemme 5 2 fredag``) opened it with its own just before."""
    vote = open_case_vote(ctx, case, voting.DEFAULT_BUDGET, voting.DEFAULT_CAP, None)
    timezone = _timezone(ctx, case.unit_id)
    options = "\n".join(voting.option_line(ctx.t, o) for o in voting.options_of(ctx.session, vote.id))
    text = ctx.t("vote.case_intro", rules=voting.rules_text(ctx.t, vote, timezone))
    return Reply(fallback=text, blocks=(Text(text), Text(options), Text(ctx.t("vote.case_how"))))


def head_section(ctx: HandlerContext, case: Case) -> list[Block]:
    vote = case_vote(ctx, case)
    if vote is None:
        return []
    if case.step == "vote":
        timezone = _timezone(ctx, case.unit_id)
        return [Text(ctx.t("vote.case_head")), *voting.status_blocks(ctx.t, ctx.session, vote, timezone)]
    top = voting.winners(ctx.session, vote)
    if not top:
        return [Text(ctx.t("vote.case_head_none"))]
    return [Text(ctx.t("vote.case_head_done", options=", ".join(voting.option_line(ctx.t, o) for o in top)))]


def head_buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    vote = case_vote(ctx, case)
    if vote is None:
        return []
    buttons = [Button(ctx.t("vote.ballot_button"), "vote.ballot", str(vote.id), "primary")]
    if vote.status == "open" and voting.voter_count(ctx.session, vote.id) == 0:
        # Until the first dot the steerers may change budget, cap and deadline (the head is redrawn when
        # the first person votes, and the button goes).
        buttons.append(Button(ctx.t("vote.rules_button"), "vote.rules", str(vote.id)))
    return buttons


def rules_form(ctx: HandlerContext, case: Case, vote: Vote) -> Form:
    """ "Endre reglene": budget, cap and deadline of a case's vote, as `/parts stemme 5 2 fredag` does."""
    timezone = _timezone(ctx, case.unit_id)
    return Form(
        form_id="vote.rules",
        title=ctx.t("vote.rules_form.title"),
        submit_label=ctx.t("vote.rules_form.submit"),
        context=str(vote.id),
        intro=ctx.t("vote.rules_form.intro", rules=voting.rules_text(ctx.t, vote, timezone)),
        fields=(
            FormField("budget", ctx.t("vote.form.budget"), "number", initial=str(vote.budget)),
            FormField("cap", ctx.t("vote.form.cap"), "number", initial=str(vote.cap)),
            FormField(
                "deadline",
                ctx.t("vote.form.deadline"),
                optional=True,
                hint=ctx.t("vote.rules_form.deadline_hint"),
            ),
        ),
    )


def _open_case_vote(ctx: HandlerContext, value: str) -> tuple[Vote, Case]:
    vote, case = _vote(ctx, value)
    if case is None or vote.status != "open":
        raise UserError("vote.closed")
    cases.require_open(case)
    cases.require_steer(ctx, case)
    if voting.voter_count(ctx.session, vote.id) > 0:
        raise UserError("vote.already_voting")
    return vote, case


def submit_rules(ctx: HandlerContext, sub: Submission) -> None:
    vote, case = _open_case_vote(ctx, sub.context)
    with in_field("budget"):
        budget = _number(sub.values.get("budget", ""), "vote.bad_budget")
        if not 1 <= budget <= voting.MAX_BUDGET:
            raise UserError("vote.bad_budget", limit=voting.MAX_BUDGET)
    with in_field("cap"):
        cap = _number(sub.values.get("cap", ""), "vote.bad_cap")
        voting.check_settings(budget, cap)
    deadline = None
    if sub.values.get("deadline", "").strip():
        with in_field("deadline"):
            deadline = parse_deadline(sub.values["deadline"], ctx.now, _timezone(ctx, case.unit_id))
    ctx.checked()
    reconfigure(ctx, case, vote, (budget, cap, deadline))
    ctx.private(ctx.t("vote.rules_saved", number=case.id))


def on_message(ctx: HandlerContext, case: Case, msg: Message) -> None:
    vote = case_vote(ctx, case)
    if vote is None:
        raise UserError("vote.unknown")
    vote_by_numbers(ctx, vote, msg.text)


def register_case_step(steps: StepHooks) -> None:
    steps.intros["vote"] = intro
    steps.exits["vote"] = voting.finish_case_vote
    steps.thread_handlers["vote"] = on_message
    steps.head_buttons["vote"] = head_buttons
    steps.add_head_section(head_section)


def close_case_vote(ctx: HandlerContext, case: Case) -> None:
    """The owner or the trio closes the vote: the case moves on to the plan (the exit hook closes it)."""
    cases.require_steer(ctx, case)
    if case.step != "vote":
        raise UserError("vote.closed")
    cases.advance(ctx, case, "plan")
    ctx.private(ctx.t("vote.closed_by_you"))


# --------------------------------------------------------------------------------------------------
# Casting
# --------------------------------------------------------------------------------------------------


def _vote(ctx: HandlerContext, value: str) -> tuple[Vote, Case | None]:
    """The vote a button or thread is about, if this person may see it."""
    vote = ctx.session.get(Vote, int(value)) if value.isdigit() and len(value) < 10 else None
    if vote is None:
        raise UserError("vote.unknown")
    if vote.case_id is not None:
        return vote, cases.load_case(ctx, vote.case_id)
    if ctx.unit is None or vote.unit_id != ctx.unit.id:
        raise UserError("vote.unknown")
    return vote, None


def after_change(ctx: HandlerContext, vote: Vote, case: Case | None, voters_before: int) -> None:
    ctx.private(voting.ballot(ctx.t, ctx.session, vote, ctx.member.id))
    if voting.voter_count(ctx.session, vote.id) == voters_before:
        return  # the heads only show how many voted: nothing to update
    if case is not None:
        cases.refresh_head(ctx, case)
    else:
        voting.update_standalone_head(ctx, vote)


def vote_by_numbers(ctx: HandlerContext, vote: Vote, text: str) -> None:
    numbers = voting.parse_numbers(text)
    if numbers is None:
        raise UserError("vote.thread_hint")
    vote, case = _vote(ctx, str(vote.id))
    before = voting.voter_count(ctx.session, vote.id)
    wanted = voting.ballot_from_numbers(ctx.session, vote, numbers)
    if not voting.set_ballot(ctx.session, vote.id, ctx.member.id, wanted, ctx.now):
        raise UserError("errors.duplicate")
    after_change(ctx, vote, case, before)


def set_button(ctx: HandlerContext, value: str) -> None:
    parts = value.split(":")
    if len(parts) != 3 or not all(p.isdigit() and len(p) < 10 for p in parts):
        raise UserError("errors.unknown_action")
    vote, case = _vote(ctx, parts[0])
    before = voting.voter_count(ctx.session, vote.id)
    if not voting.set_dots(ctx.session, vote.id, ctx.member.id, int(parts[1]), int(parts[2]), ctx.now):
        raise UserError("errors.duplicate")
    after_change(ctx, vote, case, before)


# --------------------------------------------------------------------------------------------------
# Standalone votes
# --------------------------------------------------------------------------------------------------


def vote_form(ctx: HandlerContext, budget: int, cap: int, deadline: str) -> Form:
    t = ctx.t
    return Form(
        form_id="vote.create",
        title=t("vote.form.title"),
        submit_label=t("vote.form.submit"),
        intro=t("vote.form.intro"),
        # What the command said, used for fields left empty (the console cannot show initial values).
        context=f"{budget}:{cap}:{deadline}",
        fields=(
            FormField("title", t("vote.form.question"), max_length=200, hint=t("vote.form.question_hint")),
            FormField(
                "options",
                t("vote.form.options"),
                "multiline",
                max_length=4000,
                hint=t("vote.form.options_hint"),
            ),
            FormField("budget", t("vote.form.budget"), "number", optional=True, initial=str(budget)),
            FormField("cap", t("vote.form.cap"), "number", optional=True, initial=str(cap)),
            FormField(
                "deadline",
                t("vote.form.deadline"),
                optional=True,
                initial=deadline,
                hint=t("vote.form.deadline_hint"),
            ),
        ),
    )


def _number(text: str, key: str) -> int:
    cleaned = text.strip()
    if not cleaned.isdigit() or len(cleaned) > 3:
        raise UserError(key, limit=voting.MAX_BUDGET, budget=voting.MAX_BUDGET)
    return int(cleaned)


def create_standalone(ctx: HandlerContext, values: dict[str, str], context: str) -> None:
    unit = ctx.require_unit()
    given = dict(zip(("budget", "cap", "deadline"), context.split(":", 2), strict=False))
    fields = ("title", "options", "budget", "cap", "deadline")
    values = {key: values.get(key, "").strip() or given.get(key, "") for key in fields}
    title = ctx.text(values.get("title", ""), 200)
    lines = [
        re.sub(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s*", "", line).strip()
        for line in re.split(r"[\n;]", values.get("options", ""))
    ]
    labels = [ctx.text(line, voting.MAX_LABEL) for line in lines if line]
    budget = _number(values.get("budget", ""), "vote.bad_budget")
    cap = _number(values.get("cap", ""), "vote.bad_cap")
    deadline = None
    if values.get("deadline", "").strip():
        with in_field("deadline"):
            deadline = parse_deadline(values["deadline"], ctx.now, unit.timezone)
    repeated = ctx.session.scalar(
        select(Vote.id).where(
            Vote.unit_id == unit.id,
            Vote.owner_id == ctx.member.id,
            Vote.title == title,
            Vote.case_id.is_(None),
            Vote.created_at >= ctx.now - REPEAT_WINDOW,
        )
    )
    if repeated is not None:
        raise UserError("vote.repeated", number=repeated)
    ctx.checked()  # a dry run of the form stops before it takes a vote number
    vote = voting.open_vote(
        ctx.session,
        unit_id=unit.id,
        owner_id=ctx.member.id,
        title=title,
        options=[(i, label, None) for i, label in enumerate(labels, start=1)],
        budget=budget,
        cap=cap,
        deadline=deadline,
        now=ctx.now,
    )
    tr, _ = voting.unit_translator(ctx.session, unit.id)
    ctx.post(voting.render_head(tr, ctx.session, vote, unit.timezone), key=voting.head_key(vote.id))
    ctx.private(ctx.t("vote.created", number=vote.id))


def close_standalone(ctx: HandlerContext, vote: Vote) -> None:
    if not access.may_close_vote(ctx.session, ctx.organisation.id, ctx.member.id, vote):
        raise UserError("vote.close_not_allowed")
    if voting.close(ctx.session, vote.id, ctx.member.id, ctx.now) is None:
        raise UserError("vote.closed")
    voting.announce_standalone_close(ctx, vote)


def close_any(ctx: HandlerContext, vote: Vote, case: Case | None) -> None:
    if case is not None:
        close_case_vote(ctx, case)
    else:
        close_standalone(ctx, vote)


def _open_standalone(ctx: HandlerContext) -> Vote:
    unit = ctx.require_unit()
    open_votes = list(
        ctx.session.scalars(
            select(Vote).where(Vote.unit_id == unit.id, Vote.case_id.is_(None), Vote.status == "open")
        )
    )
    if len(open_votes) != 1:
        raise UserError("vote.which")
    return open_votes[0]


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


def command(ctx: HandlerContext, cmd: Command) -> None:
    standalone_id = voting.vote_id_from_key(ctx.thread_key)
    number, rest = cases.split_case_ref(cmd.args)
    closing = bool(rest.split()) and rest.split()[0].lower() in CLOSE_WORDS
    if standalone_id is not None and number is None:
        case = None  # in a standalone vote's thread: that vote
    else:
        # Outside a case, "lukk" closes the unit's standalone vote; anything else may start one.
        usage = ctx.t("vote.usage_case")
        new = None if closing else "case.pick_new.vote"
        case, rest = cases.which_case(ctx, cmd.args, usage, new=new, none_ok=closing, bare=False)
    words = rest.split()
    if case is None:
        if standalone_id is not None:
            vote, _ = _vote(ctx, str(standalone_id))
            if closing:
                close_standalone(ctx, vote)
            else:
                ctx.private(voting.ballot(ctx.t, ctx.session, vote, ctx.member.id))
        elif closing:
            close_standalone(ctx, _open_standalone(ctx))
        else:
            budget, cap, _ = parse_settings(ctx, words, ctx.require_unit().timezone)
            ctx.open_form(vote_form(ctx, budget, cap, " ".join(w for w in words if not w.isdigit())))
        return
    if closing:
        close_case_vote(ctx, case)
    elif case.step in ("define", "blindspot", "ideas"):
        budget, cap, deadline = parse_settings(ctx, words, _timezone(ctx, case.unit_id))
        cases.require_steer(ctx, case)
        open_case_vote(ctx, case, budget, cap, deadline)
        cases.jump_to(ctx, case, "vote")
        ctx.private(ctx.t("vote.started", number=case.id))
    elif case.step == "vote":
        current = case_vote(ctx, case)
        if current is None:
            raise UserError("vote.unknown")
        if words:
            reconfigure(ctx, case, current, parse_settings(ctx, words, _timezone(ctx, case.unit_id)))
        else:
            ctx.private(voting.ballot(ctx.t, ctx.session, current, ctx.member.id))
    else:
        raise UserError("vote.closed")


def reconfigure(
    ctx: HandlerContext, case: Case, vote: Vote, settings: tuple[int, int, datetime | None]
) -> None:
    """New budget, cap or deadline – only before anyone has voted, so nobody's dots become invalid."""
    cases.require_steer(ctx, case)
    vote = voting.lock(ctx.session, vote.id)
    if voting.voter_count(ctx.session, vote.id) > 0:
        raise UserError("vote.already_voting")
    vote.budget, vote.cap = settings[0], settings[1]
    vote.deadline = settings[2] or vote.deadline
    speaker = cases.for_case(ctx, case)
    rules = voting.rules_text(speaker.t, vote, _timezone(ctx, case.unit_id))
    cases.post_in_case(ctx, case, speaker.t("vote.changed", rules=rules))
    cases.refresh_head(ctx, case)


def register(router: Router) -> None:
    register_case_step(router.steps)

    @router.command("stemme", "stem", "røyste", "royste", "vote", "prikkstemming", help_key="vote.help")
    def stemme(ctx: HandlerContext, cmd: Command) -> None:
        command(ctx, cmd)

    @router.action("vote.ballot")
    def show_ballot(ctx: HandlerContext, action: Action) -> None:
        vote, _ = _vote(ctx, action.value)
        if vote.status != "open":
            raise UserError("vote.closed")
        ctx.private(voting.ballot(ctx.t, ctx.session, vote, ctx.member.id))

    @router.action("vote.set")
    def set_dots(ctx: HandlerContext, action: Action) -> None:
        set_button(ctx, action.value)

    @router.action("vote.close")
    def close_button(ctx: HandlerContext, action: Action) -> None:
        vote, case = _vote(ctx, action.value)
        close_any(ctx, vote, case)

    @router.action("vote.rules")
    def rules_button(ctx: HandlerContext, action: Action) -> None:
        vote, case = _open_case_vote(ctx, action.value)
        ctx.open_form(rules_form(ctx, case, vote))

    @router.form("vote.rules", check=True)
    def rules_submitted(ctx: HandlerContext, sub: Submission) -> None:
        submit_rules(ctx, sub)

    @router.form("vote.create", check=True)
    def create(ctx: HandlerContext, sub: Submission) -> None:
        create_standalone(ctx, sub.values, sub.context)

    @router.thread("vote")
    def thread_message(ctx: HandlerContext, msg: Message) -> None:
        vote_id = voting.vote_id_from_key(ctx.thread_key)
        if vote_id is None:
            return
        vote, _ = _vote(ctx, str(vote_id))
        vote_by_numbers(ctx, vote, msg.text)
