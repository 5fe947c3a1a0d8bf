"""HØRA: ``/parts høra`` (aliases ``møte``, ``hora``, ``meeting``) plans a meeting with a form – Hensikt,
Ønsket resultat, agenda items with kind and minutes, day, time and length – and posts the agenda.

``/parts høra sak 3`` (or the command typed in a case's thread) puts a case on the agenda;
``/parts høra resultat <nr> ja|delvis|nei [kommentar]`` or the buttons in the follow-up message record
whether the desired result was reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.chat.context import HandlerContext, UserError, in_field
from bot.chat.model import Action, Command, Form, FormField, Reply, Submission
from bot.chat.router import Router
from bot.dates import parse as dates
from bot.dates.calendar import local_at
from bot.dates.days import local_today
from bot.i18n import plural
from bot.toolbox import access, cases
from bot.toolbox.hora import (
    MAX_MINUTES,
    MAX_TITLE,
    agenda_safe,
    create_meeting,
    head_key,
    overrun,
    parse_agenda,
    parse_result,
    record_result,
    render_meeting,
)
from bot.toolbox.models import Case
from bot.toolbox.models_plan import Meeting
from bot.toolbox.planning import show_moment

MAX_AGENDA_TEXT = 3000
CASE_STEPS = ("define", "blindspot", "ideas", "vote", "plan", "agreed")


@dataclass(frozen=True)
class Prefill:
    """What a HØRA form starts with: from a case (its problem and step) or a staff gathering's draft."""

    purpose: str = ""
    desired: str = ""
    agenda: str = ""
    day: str = ""
    time: str = ""
    minutes: int = 60


def from_case(ctx: HandlerContext, case: Case) -> Prefill:
    """A meeting about a case: Hensikt, Ønsket resultat and the agenda item follow from where it stands."""
    step = case.step if case.step in CASE_STEPS else "define"
    title = agenda_safe(case.title)
    return Prefill(
        purpose=ctx.t("hora.from_case.purpose", id=case.id, title=title),
        desired=ctx.t(f"hora.from_case.desired.{step}"),
        agenda=ctx.t(f"hora.from_case.item.{step}", id=case.id, title=title),
    )


def meeting_form(ctx: HandlerContext, case_id: int | None, prefill: Prefill | None = None) -> Form:
    t = ctx.t
    if prefill is None:
        case = ctx.session.get(Case, case_id) if case_id else None
        prefill = from_case(ctx, case) if case is not None else Prefill()
    return Form(
        form_id="hora.create",
        title=t("hora.form.title"),
        submit_label=t("hora.form.submit"),
        intro=t("hora.form.intro"),
        context=str(case_id or ""),
        fields=(
            FormField(
                "purpose",
                t("hora.form.purpose"),
                max_length=MAX_TITLE,
                hint=t("hora.form.purpose_hint"),
                initial=prefill.purpose,
            ),
            FormField(
                "desired",
                t("hora.form.desired"),
                max_length=MAX_TITLE,
                hint=t("hora.form.desired_hint"),
                initial=prefill.desired,
            ),
            FormField(
                "agenda",
                t("hora.form.agenda"),
                "multiline",
                max_length=MAX_AGENDA_TEXT,
                hint=t("hora.form.agenda_hint"),
                initial=prefill.agenda,
            ),
            FormField("day", t("hora.form.day"), "date", hint=t("hora.form.day_hint"), initial=prefill.day),
            FormField("time", t("hora.form.time"), hint=t("hora.form.time_hint"), initial=prefill.time),
            FormField(
                "length",
                t("hora.form.length"),
                "number",
                initial=str(prefill.minutes),
                hint=t("hora.form.length_hint"),
            ),
            FormField(
                "case",
                t("hora.form.case"),
                optional=True,
                initial=str(case_id or ""),
                hint=t("hora.form.case_hint"),
            ),
        ),
    )


def linkable_case(ctx: HandlerContext, number: int) -> Case:
    """A case that may go on an agenda: one the organiser sees, and not a parties-only case, because the
    agenda is posted where everyone reads it."""
    case = cases.load_case(ctx, number)
    if case.parties_only:
        raise UserError("hora.case_parties_only", id=case.id)
    return case


def _case_line(ctx: HandlerContext, case_id: int) -> str | None:
    case = ctx.session.get(Case, case_id)
    if case is None or case.parties_only:
        return None
    return ctx.t("hora.case_line", id=case.id, text=case.title)


def _case_number(word: str) -> int:
    cleaned = word.strip().lstrip("#")
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise UserError("hora.bad_case", value=word[:20])
    return int(cleaned)


def submit(ctx: HandlerContext, values: dict[str, str], context: str) -> None:
    unit = ctx.require_unit()
    with in_field("purpose"):
        purpose = ctx.text(values.get("purpose", ""), MAX_TITLE)
    with in_field("desired"):
        desired = ctx.text(values.get("desired", ""), MAX_TITLE)
    with in_field("agenda"):
        items = parse_agenda(ctx.text(values.get("agenda", ""), MAX_AGENDA_TEXT))
    today = local_today(ctx.now, unit.timezone)
    with in_field("day"):
        when = dates.parse_when(values.get("day", ""), today)
        if when.day is None:
            raise UserError("hora.bad_day", value=values.get("day", "")[:30])
        day = when.day
    with in_field("time"):
        # "torsdag kl 13.30" in the day field is fine too: the time field may then stay empty.
        clock = dates.parse_clock(values["time"]) if values.get("time", "").strip() else when.clock
        if clock is None:
            raise UserError("hora.bad_time", value=values.get("time", "")[:30])
        starts_at = local_at(day, clock, unit.timezone)
        if starts_at <= ctx.now:
            raise UserError("hora.in_past", when=show_moment(ctx.t, starts_at, unit.timezone))
    with in_field("length"):
        length_text = values.get("length", "").strip().removesuffix("min").strip()
        if not length_text.isdigit() or not 5 <= int(length_text) <= MAX_MINUTES:
            raise UserError("hora.bad_length", value=values.get("length", "")[:30], limit=MAX_MINUTES)
    case_text = (values.get("case") or context or "").strip()
    with in_field("case"):
        case = linkable_case(ctx, _case_number(case_text)) if case_text else None
    ctx.checked()  # a dry run of the form stops before it takes a meeting number
    meeting, created = create_meeting(
        ctx.session,
        unit=unit,
        organiser=ctx.member,
        purpose=purpose,
        desired_result=desired,
        items=items,
        starts_at=starts_at,
        length_minutes=int(length_text),
        case_id=case.id if case else None,
        now=ctx.now,
    )
    if not created:
        ctx.private(ctx.t("hora.already", id=meeting.id))
        return
    post_meeting(ctx, meeting)
    if case is not None:
        cases.post_in_case(
            ctx, case, ctx.t("hora.in_case", when=show_moment(ctx.t, starts_at, unit.timezone))
        )
    ctx.private(ctx.t("hora.created", id=meeting.id))
    over = overrun(ctx.session, meeting)
    if over:
        minutes = plural(ctx.language, "counts.minutes", over)
        ctx.private(ctx.t("hora.over_time_warning", over=minutes, length=meeting.length_minutes))


def _render(ctx: HandlerContext, meeting: Meeting) -> Reply:
    unit = ctx.require_unit()
    case_line = _case_line(ctx, meeting.case_id) if meeting.case_id else None
    return render_meeting(ctx.session, ctx.t, meeting, unit.timezone, case_line)


def post_meeting(ctx: HandlerContext, meeting: Meeting) -> None:
    ctx.post(_render(ctx, meeting), key=head_key(meeting.id))


def _meeting(ctx: HandlerContext, value: str) -> Meeting:
    meeting = ctx.session.get(Meeting, int(value)) if value.isdigit() and len(value) < 10 else None
    # Scoped to the caller's organisation and units (SEC-13): a meeting elsewhere is "unknown".
    if (
        meeting is None
        or not access.may_see_meeting(ctx.session, ctx.organisation.id, ctx.member.id, meeting)
        or (ctx.unit is not None and meeting.unit_id != ctx.unit.id)
    ):
        raise UserError("hora.unknown", value=value[:20])
    return meeting


def answer(ctx: HandlerContext, meeting: Meeting, result: str, comment: str) -> None:
    cleaned = ctx.text(comment, MAX_TITLE * 2) if comment.strip() else ""
    changed = record_result(meeting, ctx.member, result, cleaned, ctx.now)
    if not changed:
        ctx.private(ctx.t("errors.duplicate"))
        return
    ctx.session.flush()
    ctx.private(ctx.t("hora.result_thanks", result=ctx.t(f"hora.results.{result}"), id=meeting.id))
    ctx.update(head_key(meeting.id), _render(ctx, meeting))
    case = ctx.session.get(Case, meeting.case_id) if meeting.case_id else None
    if case is not None:
        # The case's thread is its history: the meeting's answer belongs there, next to the steps.
        unit = ctx.require_unit()
        text = ctx.t(
            "hora.result_in_case",
            when=show_moment(ctx.t, meeting.starts_at, unit.timezone),
            desired=meeting.desired_result,
            result=ctx.t(f"hora.results.{result}"),
        )
        cases.post_in_case(ctx, case, text + (f" – «{cleaned}»" if cleaned else ""))


def register(router: Router) -> None:
    @router.command("høra", "hora", "møte", "mote", "meeting", "hoera", help_key="hora.help")
    def hora(ctx: HandlerContext, cmd: Command) -> None:
        words = cmd.args.split()
        first = words[0].lower() if words else ""
        if first in ("resultat", "result", "svar"):
            if len(words) < 3 or parse_result(words[2]) is None:
                raise UserError("hora.result_usage")
            answer(
                ctx, _meeting(ctx, words[1].lstrip("#")), parse_result(words[2]) or "", " ".join(words[3:])
            )
        elif first in ("sak", "case"):
            if len(words) != 2:
                raise UserError("hora.usage")
            ctx.open_form(meeting_form(ctx, linkable_case(ctx, _case_number(words[1])).id))
        elif not words:
            ctx.require_unit()
            current = cases.case_from_thread(ctx)
            ctx.open_form(meeting_form(ctx, current.id if current else None))
        else:
            raise UserError("hora.usage")

    @router.form("hora.create", check=True)
    def create(ctx: HandlerContext, sub: Submission) -> None:
        submit(ctx, sub.values, sub.context)

    @router.action("hora.result")
    def result_button(ctx: HandlerContext, action: Action) -> None:
        meeting_id, _, result = action.value.partition(":")
        if result not in ("yes", "partly", "no"):
            raise UserError("errors.unknown_action")
        answer(ctx, _meeting(ctx, meeting_id), result, "")
