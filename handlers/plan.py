"""Find solutions together: ``/parts plan`` in a case's thread (or ``/parts plan #12 …``).

* ``/parts plan`` – show the plan (or, from an earlier step, start the plan step: owner or trio);
* ``mål <text>`` – the goal; ``nådd <text>`` – how we are when the goal is reached;
* ``hindring <obstacle> | tiltak <how we get past it>``;
* ``tiltak <owner> <day> <text>`` – an action, e.g. ``tiltak Kari fredag Lage tavle`` (``meg`` = yourself);
* ``enig`` / ``merknad <note>`` / ``uenig <note>`` – a representative's stance; ``støtt`` /
  ``kommentar <note>`` – staff; ``beslutt`` – the leder decides; ``godkjenn`` – whichever of these fits
  your role; ``ferdig <nr>`` – an action is done;
* ``fjern tiltak|hindring <nr>``;
* ``avslutt`` – close the case with the answers to "Hvordan har vi det når målet er nådd?";
* ``indikator <nr> <indikator>`` – the check-in indicator an action should improve (``ingen`` clears it):
  the case then shows that indicator's trend before and after the action (:mod:`bot.course.indicator`).

The head message's buttons open forms for the same things. Only the case's steerers change the plan, and
every change starts a new revision, so stances given before it no longer count (see
:mod:`bot.toolbox.decision`); when the leder decides, the case moves to its last step.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.chat.context import FieldError, HandlerContext, UserError, in_field
from bot.chat.model import Action, Block, Button, Command, Form, FormField, Option, Reply, Submission, Text
from bot.chat.router import Router
from bot.chat.steps import StepHooks
from bot.course import indicator as indicators
from bot.dates import parse as dates
from bot.storage.models import Member, Membership, Unit
from bot.toolbox import access, cases, decision, planning, voting
from bot.toolbox.models import Case
from bot.toolbox.models_plan import Plan
from handlers import followup

GOAL = ("mål", "målet", "maal", "goal")
OUTCOME = ("nådd", "nadd", "når", "oppnådd", "outcome", "reached")
OBSTACLE = ("hindring", "hinder", "obstacle")
ACTION = ("tiltak", "action", "oppgåve", "oppgave")
APPROVE = ("godkjenn", "godkjenne", "godkjent", "approve")
# Words for a voice on the plan → the stance stored (bot/toolbox/decision.py).
VOICE_WORDS = {
    "beslutt": "beslutt", "bestem": "beslutt", "decide": "beslutt",
    "enig": "enig", "einig": "enig", "agree": "enig",
    "merknad": "merknad", "merknader": "merknad", "remark": "merknad",
    "uenig": "uenig", "ueinig": "uenig", "disagree": "uenig",
    "støtt": "stoette", "støtte": "stoette", "stott": "stoette", "support": "stoette",
    "kommentar": "kommentar", "kommenter": "kommentar", "comment": "kommentar",
}  # fmt: skip
ANYWAY = ("likevel", "likevel.", "anyway")
DONE = ("ferdig", "utført", "gjort", "done")
REMOVE = ("fjern", "slett", "remove")
ME = ("meg", "eg", "me", "jeg")
INDICATOR = ("indikator", "indicator")
CLOSE = ("avslutt", "lukk", "close")
REMEDY_WORDS = (
    "tiltak",
    "løsning",
    "losning",
    "løysing",
    "loysing",
    "solution",
    "how",
    "slik",
    "korleis",
    "hvordan",
)


def _timezone(ctx: HandlerContext, case: Case) -> str:
    unit = ctx.session.get(Unit, case.unit_id)
    return unit.timezone if unit else ctx.settings.timezone


# --------------------------------------------------------------------------------------------------
# The plan as a step of the case
# --------------------------------------------------------------------------------------------------


def intro(ctx: HandlerContext, case: Case) -> Reply:
    planning.ensure_plan(ctx, case)
    lines = [ctx.t("plan.intro")]
    vote = voting.case_vote(ctx.session, case.id)
    top = voting.winners(ctx.session, vote) if vote else []
    if top:
        lines.append(ctx.t("plan.intro_top", options=", ".join(voting.option_line(ctx.t, o) for o in top)))
    lines.append(ctx.t("plan.intro_how"))
    return Reply(fallback=lines[0], blocks=tuple(Text(line) for line in lines))


def must_be_agreed(ctx: HandlerContext, case: Case) -> None:
    """The plan step closes only when the parties have agreed (the "next step" button included)."""
    plan = planning.plan_of(ctx.session, case.id)
    if plan is None or plan.status != "agreed":
        raise UserError("plan.not_agreed")


def agreed_intro(ctx: HandlerContext, case: Case) -> Reply:
    plan = planning.plan_of(ctx.session, case.id)
    lines = [ctx.t("plan.agreed_intro")]
    if plan is not None:
        lines.extend(
            planning.action_line(ctx.t, ctx.session, a) for a in planning.actions(ctx.session, plan.id)
        )
    lines.append(ctx.t("plan.agreed_followup"))
    return Reply(fallback=lines[0], blocks=(Text("\n".join(lines)),))


def head_section(ctx: HandlerContext, case: Case) -> list[Block]:
    plan = planning.plan_of(ctx.session, case.id)
    return planning.plan_blocks(ctx.t, ctx.session, plan) if plan is not None else []


def head_buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    plan = planning.plan_of(ctx.session, case.id)
    revision = plan.revision if plan else 0
    return [
        Button(ctx.t("plan.goal_button"), "plan.goal", str(case.id)),
        Button(ctx.t("plan.obstacle_button"), "plan.obstacle", str(case.id)),
        Button(ctx.t("plan.action_button"), "plan.action", str(case.id)),
        Button(ctx.t("plan.approve_button"), "plan.approve", f"{case.id}:{revision}", "primary"),
        Button(ctx.t("plan.voice_button"), "plan.voice", f"{case.id}:{revision}"),
    ]


def register_case_step(steps: StepHooks) -> None:
    steps.intros["plan"] = intro
    steps.exits["plan"] = must_be_agreed
    steps.intros["agreed"] = agreed_intro
    steps.head_buttons["plan"] = head_buttons
    steps.add_head_section(head_section)


# --------------------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------------------


def editable(ctx: HandlerContext, case: Case, *, change: bool = True) -> Plan:
    """The plan of a case in its plan step. ``change``: only the case's steerers (its starter and the
    parties of its unit) may change the content (SEC-16); stances and support are not changes."""
    cases.require_open(case)
    if case.step == "agreed":
        raise UserError("plan.frozen")
    if case.step != "plan":
        raise UserError("plan.wrong_step", number=case.id)
    plan = planning.ensure_plan(ctx, case)
    if change and not access.may_change_plan(ctx.session, ctx.organisation.id, ctx.member.id, plan):
        raise UserError("plan.change_not_allowed")
    return plan


def after_change(ctx: HandlerContext, case: Case, plan: Plan, reset: bool, key: str, **values: str) -> None:
    cases.add_participant(ctx, case)
    ctx.session.flush()
    ctx.private(ctx.t(key, number=case.id, **values))
    if reset:
        speaker = cases.for_case(ctx, case)
        cases.post_in_case(ctx, case, speaker.t("plan.approvals_reset", name=cases.name_of(ctx.member)))
    cases.refresh_head(ctx, case)


def members(ctx: HandlerContext, unit_id: int) -> list[Member]:
    """Who can own an action: everyone who has taken part in the unit's channel."""
    return list(
        ctx.session.scalars(
            select(Member)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.unit_id == unit_id)
            .order_by(Member.display_name, Member.id)
        )
    )


def find_owner(ctx: HandlerContext, words: list[str], unit_id: int) -> tuple[Member, list[str]]:
    """The owner named first in ``words`` (full name, a unique first name, or "meg"); returns the rest."""
    if words and words[0].lower() in ME:
        return ctx.member, words[1:]
    people = members(ctx, unit_id)
    for size in (3, 2, 1):
        name = " ".join(words[:size]).lower()
        if len(words) < size or not name:
            continue
        exact = [m for m in people if (m.display_name or m.user_id).lower() == name]
        first = [m for m in people if (m.display_name or m.user_id).lower().split()[0] == name]
        found = exact or first
        if len(found) == 1:
            return found[0], words[size:]
        if len(found) > 1:
            raise UserError(
                "plan.owner_ambiguous", name=name, names=", ".join(cases.name_of(m) for m in found)
            )
    names = ", ".join(cases.name_of(m) for m in people)
    raise UserError("plan.owner_unknown", name=(words[0] if words else "")[:40], names=names)


def parse_action(ctx: HandlerContext, case: Case, body: str) -> tuple[Member, date, str]:
    owner, rest = find_owner(ctx, body.split(), case.unit_id)
    zone = ZoneInfo(_timezone(ctx, case))
    # A wrong date ("31.02.", "1.11." that has passed) is named as such, not answered with the usage line.
    got = dates.take_when(" ".join(rest), ctx.now.astimezone(zone).date())
    if got is None or got[0].day is None or not got[1].strip():
        raise UserError("plan.action_usage")
    when, text = got
    return owner, _due(ctx, when, zone), text


def _due(ctx: HandlerContext, when: dates.When, zone: ZoneInfo) -> date:
    """The due day, questioned when it has passed: never silently moved to next year."""
    assert when.day is not None
    if when.day < ctx.now.astimezone(zone).date():
        if when.year_given:
            raise UserError("plan.due_past", day=planning.show_day(ctx.t, when.day))
        dates.check_future(when, ctx.now, zone, key="plan.due_past")
    return when.day


def add_action(
    ctx: HandlerContext, case: Case, owner: Member, day: date, text: str, indicator: str | None = None
) -> None:
    plan = editable(ctx, case)
    reset = planning.add_action(ctx, plan, text, owner, day, _timezone(ctx, case), indicator)
    # The confirmation repeats owner and date, so a misread date is seen at once.
    after_change(
        ctx,
        case,
        plan,
        reset,
        "plan.action_added",
        owner=cases.name_of(owner),
        due=planning.show_day(ctx.t, day),
    )


def speak(ctx: HandlerContext, case: Case, word: str, note: str, revision: int | None = None) -> None:
    """A voice on the plan: the leder decides ("beslutt"), a representative records a stance ("enig",
    "merknad", "uenig"), anyone else supports or comments. "godkjenn" means the right one of these for
    the person's role in the case's unit."""
    plan = editable(ctx, case, change=False)
    if revision is not None and revision != plan.revision:
        raise UserError("plan.stale", revision=plan.revision)
    leader = access.is_leader(ctx.session, plan.unit_id, ctx.member.id)
    representative = access.is_representative(ctx.session, plan.unit_id, ctx.member.id)
    kind = VOICE_WORDS.get(word, word)
    if kind == "godkjenn":
        kind = "beslutt" if leader else "enig" if representative else "stoette"
    speaker = cases.for_case(ctx, case)
    name = cases.name_of(ctx.member)
    if kind in ("beslutt", "beslutt_likevel"):
        decision.decide(ctx, plan, anyway=kind == "beslutt_likevel" or note.strip().lower() in ANYWAY)
        cases.add_participant(ctx, case)
        cases.post_in_case(ctx, case, speaker.t("plan.decided", name=name))
        cases.advance(ctx, case, "agreed")
        ctx.private(ctx.t("plan.thanks_decision", number=case.id))
        return
    if kind in decision.STANCES:
        roles = decision.take_stance(ctx, plan, kind, note)
        names = ", ".join(speaker.t(f"roles.names.{role}") for role in roles)
        text = speaker.t(f"plan.stance_posted.{kind}", name=name, roles=names, note=note.strip())
    elif kind in decision.STAFF_VOICES:
        decision.staff_voice(ctx, plan, kind, note)
        text = speaker.t(f"plan.staff_posted.{kind}", name=name, note=note.strip())
    else:
        raise UserError("plan.usage_long")
    cases.add_participant(ctx, case)
    cases.post_in_case(ctx, case, text)
    cases.refresh_head(ctx, case)
    ctx.private(ctx.t("plan.thanks_stance", number=case.id))


def link_indicator(ctx: HandlerContext, case: Case, body: str) -> None:
    """Name the check-in indicator an action should improve. Follow-up, not a change of the plan: the
    stances given stay valid. For the case's steerers."""
    number, _, word = body.partition(" ")
    plan = planning.plan_of(ctx.session, case.id)
    chosen = indicators.indicator_of(word)
    clear = word.strip().lower() in indicators.NONE_WORDS
    if plan is None or not number.lstrip("#").isdigit() or (chosen is None and not clear):
        raise UserError("indicator.usage")
    if not access.may_change_plan(ctx.session, ctx.organisation.id, ctx.member.id, plan):
        raise UserError("plan.change_not_allowed")
    item = planning.find_action(ctx.session, plan, int(number.lstrip("#")))
    if item.indicator == chosen:
        raise UserError("errors.duplicate")
    item.indicator = chosen
    ctx.session.flush()
    if chosen is None:
        ctx.private(ctx.t("indicator.cleared", number=item.number))
    else:
        name = ctx.t(f"checkin.indicators.{chosen}").lower()
        ctx.private(ctx.t("indicator.saved", number=item.number, indicator=name))
    cases.refresh_head(ctx, case)


def mark_done(ctx: HandlerContext, case: Case, word: str) -> None:
    plan = planning.plan_of(ctx.session, case.id)
    if plan is None or not word.lstrip("#").isdigit():
        raise UserError("plan.done_usage")
    item = planning.mark_done(ctx, plan, int(word.lstrip("#")))
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    cases.post_in_case(
        ctx, case, speaker.t("plan.done", name=cases.name_of(ctx.member), number=item.number, text=item.text)
    )
    cases.refresh_head(ctx, case)
    followup.after_done(ctx, case, plan)


# --------------------------------------------------------------------------------------------------
# Commands, forms, buttons
# --------------------------------------------------------------------------------------------------


def command(ctx: HandlerContext, cmd: Command) -> None:
    case, rest = cases.resolve_case(ctx, cmd.args, ctx.t("plan.usage"))
    word, _, body = rest.strip().partition(" ")
    word, body = word.lower(), body.strip()
    if not word:
        if cases.STEPS.index(case.step) < cases.STEPS.index("plan"):
            cases.jump_to(ctx, case, "plan")
            return
        plan = planning.ensure_plan(ctx, case)
        blocks = planning.plan_blocks(ctx.t, ctx.session, plan)
        ctx.private(Reply(fallback=ctx.t("plan.usage"), blocks=(*blocks, Text(ctx.t("plan.intro_how")))))
    elif word in GOAL or word in OUTCOME:
        plan = editable(ctx, case)
        goal, outcome = (body, None) if word in GOAL else (None, body)
        before = plan.revision
        reset = planning.set_goal(ctx, plan, goal, outcome)
        if plan.revision == before:
            raise UserError("errors.duplicate")
        after_change(ctx, case, plan, reset, "plan.goal_saved" if word in GOAL else "plan.outcome_saved")
    elif word in OBSTACLE:
        text, bar, remedy = body.partition("|")
        remedy_words = remedy.split()
        if remedy_words and remedy_words[0].lower().strip(":") in REMEDY_WORDS:
            remedy = " ".join(remedy_words[1:])
        if not bar or not text.strip() or not remedy.strip():
            raise UserError("plan.obstacle_usage")
        plan = editable(ctx, case)
        after_change(ctx, case, plan, planning.add_obstacle(ctx, plan, text, remedy), "plan.obstacle_added")
    elif word in ACTION:
        add_action(ctx, case, *parse_action(ctx, case, body))
    elif word in APPROVE or word in VOICE_WORDS:
        speak(ctx, case, "godkjenn" if word in APPROVE else word, body)
    elif word in DONE:
        mark_done(ctx, case, body)
    elif word in INDICATOR:
        link_indicator(ctx, case, body)
    elif word in CLOSE:
        followup.close_case(ctx, case)
    elif word in REMOVE:
        kind, _, number = body.partition(" ")
        kinds = {**dict.fromkeys(ACTION, "action"), **dict.fromkeys(OBSTACLE, "obstacle")}
        if kind.lower() not in kinds or not number.strip().lstrip("#").isdigit():
            raise UserError("plan.remove_usage")
        plan = editable(ctx, case)
        reset = planning.remove_item(ctx, plan, kinds[kind.lower()], int(number.strip().lstrip("#")))
        after_change(ctx, case, plan, reset, "plan.removed")
    else:
        raise UserError("plan.usage_long")


def goal_form(ctx: HandlerContext, case: Case) -> Form:
    plan = editable(ctx, case)
    return Form(
        form_id="plan.goal",
        title=ctx.t("plan.form.goal_title"),
        submit_label=ctx.t("plan.form.submit"),
        context=str(case.id),
        intro=ctx.t("plan.form.goal_intro"),
        fields=(
            FormField(
                "goal",
                ctx.t("plan.form.goal"),
                "multiline",
                optional=True,
                initial=plan.goal,
                max_length=1000,
            ),
            FormField(
                "outcome",
                ctx.t("plan.form.outcome"),
                "multiline",
                optional=True,
                initial=plan.outcome,
                max_length=1000,
            ),
        ),
    )


def obstacle_form(ctx: HandlerContext, case: Case) -> Form:
    editable(ctx, case)
    return Form(
        form_id="plan.obstacle",
        title=ctx.t("plan.form.obstacle_title"),
        submit_label=ctx.t("plan.form.submit"),
        context=str(case.id),
        fields=(
            FormField("text", ctx.t("plan.form.obstacle"), max_length=1000),
            FormField("remedy", ctx.t("plan.form.remedy"), max_length=1000),
        ),
    )


def action_form(ctx: HandlerContext, case: Case) -> Form:
    editable(ctx, case)
    options = tuple(Option(cases.name_of(m), str(m.id)) for m in members(ctx, case.unit_id)[:100])
    return Form(
        form_id="plan.action",
        title=ctx.t("plan.form.action_title"),
        submit_label=ctx.t("plan.form.submit"),
        context=str(case.id),
        fields=(
            FormField("text", ctx.t("plan.form.action"), max_length=1000),
            FormField("owner", ctx.t("plan.form.owner"), "select", options=options),
            FormField("due", ctx.t("plan.form.due"), "date", hint=ctx.t("plan.form.due_hint")),
            FormField(
                "indicator",
                ctx.t("indicator.field"),
                "select",
                optional=True,
                options=tuple(Option(ctx.t(f"checkin.indicators.{i}"), i) for i in indicators.INDICATORS),
                hint=ctx.t("indicator.field_hint"),
            ),
        ),
    )


def voice_kinds(ctx: HandlerContext, plan: Plan) -> tuple[str, ...]:
    """What this person can say about the plan, in the order offered: the leder decides, a representative
    records a stance, everyone else supports or comments (the same rules as the typed words)."""
    kinds: list[str] = []
    if access.is_leader(ctx.session, plan.unit_id, ctx.member.id):
        kinds.append("beslutt")
    if access.stance_roles(ctx.session, ctx.organisation.id, ctx.member.id, plan):
        kinds.extend(decision.STANCES)
    else:
        kinds.extend(decision.STAFF_VOICES)
    return tuple(kinds)


def voice_form(ctx: HandlerContext, case: Case, revision: int | None) -> Form:
    """ "Si din mening": a stance with a note (or support, a comment, the decision) without typing a
    command – the button beside "Godkjenn", which takes the one-click voice for the person's role."""
    plan = editable(ctx, case, change=False)
    if revision is not None and revision != plan.revision:
        raise UserError("plan.stale", revision=plan.revision)
    options = tuple(Option(ctx.t(f"plan.voice_form.kinds.{k}"), k) for k in voice_kinds(ctx, plan))
    return Form(
        form_id="plan.voice",
        title=ctx.t("plan.voice_form.title"),
        submit_label=ctx.t("plan.voice_form.submit"),
        context=f"{case.id}:{plan.revision}",
        intro=ctx.t("plan.voice_form.intro", number=case.id, revision=plan.revision),
        fields=(
            FormField("kind", ctx.t("plan.voice_form.kind"), "select", options=options),
            FormField(
                "note",
                ctx.t("plan.voice_form.note"),
                "multiline",
                optional=True,
                max_length=decision.MAX_NOTE,
                hint=ctx.t("plan.voice_form.note_hint"),
            ),
        ),
    )


def submit_voice(ctx: HandlerContext, case: Case, revision: int | None, values: dict[str, str]) -> None:
    kind, note = values.get("kind", "").strip(), values.get("note", "").strip()
    plan = editable(ctx, case, change=False)
    if kind not in voice_kinds(ctx, plan):
        raise FieldError("kind", "plan.voice_form.pick")
    if kind in decision.NEEDS_NOTE and not note:
        raise FieldError("note", f"plan.stance_needs_note_form.{kind}")
    if len(note) > decision.MAX_NOTE:
        raise FieldError("note", "errors.too_long", limit=decision.MAX_NOTE, length=len(note))
    ctx.checked()
    speak(ctx, case, kind, note, revision)


def submit_action(ctx: HandlerContext, case: Case, values: dict[str, str]) -> None:
    owner_id = values.get("owner", "")
    owner = ctx.session.get(Member, int(owner_id)) if owner_id.isdigit() else None
    if owner is None or owner not in members(ctx, case.unit_id):
        raise FieldError("owner", "plan.owner_unknown", name=owner_id[:20], names="")
    zone = ZoneInfo(_timezone(ctx, case))
    with in_field("due"):
        when = dates.parse_when(values.get("due", ""), ctx.now.astimezone(zone).date())
        if when.day is None:
            raise UserError("plan.bad_day", value=values.get("due", "")[:30])
        due = _due(ctx, when, zone)
    chosen = values.get("indicator", "").strip()
    if chosen and chosen not in indicators.INDICATORS:
        raise FieldError("indicator", "indicator.usage")
    with in_field("text"):
        add_action(ctx, case, owner, due, values.get("text", ""), chosen or None)


def register(router: Router) -> None:
    register_case_step(router.steps)

    @router.command("plan", "planen", "løsning", "solutions", help_key="plan.help")
    def plan_command(ctx: HandlerContext, cmd: Command) -> None:
        command(ctx, cmd)

    @router.action("plan.goal")
    def goal_button(ctx: HandlerContext, action: Action) -> None:
        ctx.open_form(goal_form(ctx, cases.case_from_value(ctx, action.value)))

    @router.action("plan.obstacle")
    def obstacle_button(ctx: HandlerContext, action: Action) -> None:
        ctx.open_form(obstacle_form(ctx, cases.case_from_value(ctx, action.value)))

    @router.action("plan.action")
    def action_button(ctx: HandlerContext, action: Action) -> None:
        ctx.open_form(action_form(ctx, cases.case_from_value(ctx, action.value)))

    @router.action("plan.approve")
    def approve_button(ctx: HandlerContext, action: Action) -> None:
        revision = action.value.partition(":")[2]
        case = cases.case_from_value(ctx, action.value)
        speak(ctx, case, "godkjenn", "", int(revision) if revision.isdigit() else None)

    @router.action("plan.voice")
    def voice_button(ctx: HandlerContext, action: Action) -> None:
        revision = action.value.partition(":")[2]
        case = cases.case_from_value(ctx, action.value)
        ctx.open_form(voice_form(ctx, case, int(revision) if revision.isdigit() else None))

    @router.form("plan.voice", check=True)
    def submit_voice_form(ctx: HandlerContext, sub: Submission) -> None:
        revision = sub.context.partition(":")[2]
        case = cases.case_from_value(ctx, sub.context)
        submit_voice(ctx, case, int(revision) if revision.isdigit() else None, sub.values)

    @router.form("plan.goal", check=True)
    def submit_goal(ctx: HandlerContext, sub: Submission) -> None:
        case = cases.case_from_value(ctx, sub.context)
        plan = editable(ctx, case)
        goal, outcome = (sub.values.get(k, "").strip() or None for k in ("goal", "outcome"))
        if goal is None and outcome is None:
            raise FieldError("goal", "plan.need_one")
        for name, value in (("goal", goal), ("outcome", outcome)):
            if value is not None:
                with in_field(name):
                    ctx.text(value, planning.MAX_PLAN_TEXT)
        before = plan.revision
        reset = planning.set_goal(ctx, plan, goal, outcome)
        if plan.revision == before:
            raise UserError("errors.duplicate")
        after_change(ctx, case, plan, reset, "plan.goal_saved")

    @router.form("plan.obstacle", check=True)
    def submit_obstacle(ctx: HandlerContext, sub: Submission) -> None:
        case = cases.case_from_value(ctx, sub.context)
        plan = editable(ctx, case)
        for name in ("text", "remedy"):
            with in_field(name):
                ctx.text(sub.values.get(name, ""), planning.MAX_PLAN_TEXT)
        reset = planning.add_obstacle(ctx, plan, sub.values.get("text", ""), sub.values.get("remedy", ""))
        after_change(ctx, case, plan, reset, "plan.obstacle_added")

    @router.form("plan.action", check=True)
    def submit_action_form(ctx: HandlerContext, sub: Submission) -> None:
        submit_action(ctx, cases.case_from_value(ctx, sub.context), sub.values)
