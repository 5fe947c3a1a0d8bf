"""HØRA: ``/parts høra`` (aliases ``møte``, ``hora``, ``meeting``) plans a meeting with a form – Hensikt,
Ønsket resultat, agenda items with kind and minutes, day, time and length – and posts the agenda.

``/parts høra sak 3`` (or the command typed in a case's thread) puts a case on the agenda;
``/parts høra ledermøte|hms|trio [sak 3]`` plans another kind of meeting than the personalmøte. A trio
meeting (partsmøte) is planned and seen only by leder, verneombud and tillitsvalgt: its agenda, its
follow-up and what it writes back to a case go to them as direct messages, and it may hold a parties-only
case (which then makes the trio meeting the default);
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
from bot.roles import party_members
from bot.storage.models import Member
from bot.toolbox import access, cases
from bot.toolbox.hora import (
    MAX_MINUTES,
    MAX_TITLE,
    MEETING_KINDS,
    TRIO,
    agenda_safe,
    create_meeting,
    head_key,
    kind_name,
    meeting_kind,
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


def form_context(kind: str, case_id: int | None) -> str:
    return f"{kind}:{case_id or ''}"


def parse_context(context: str) -> tuple[str, str]:
    """``"trio:3"`` → ``("trio", "3")``; a form opened before meetings had kinds carries only the case."""
    kind, colon, case = context.partition(":")
    if not colon:
        return "staff", context
    return (kind if kind in MEETING_KINDS else "staff"), case


def meeting_form(
    ctx: HandlerContext, case_id: int | None, prefill: Prefill | None = None, kind: str = "staff"
) -> Form:
    t = ctx.t
    if prefill is None:
        case = ctx.session.get(Case, case_id) if case_id else None
        prefill = from_case(ctx, case) if case is not None else Prefill()
    return Form(
        form_id="hora.create",
        title=t("hora.form.title"),
        submit_label=t("hora.form.submit"),
        intro=t("hora.form_kind", kind=kind_name(t, kind)) + " " + t("hora.form.intro"),
        context=form_context(kind, case_id),
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


def linkable_case(ctx: HandlerContext, number: int, kind: str = "staff") -> Case:
    """A case that may go on an agenda: one the organiser sees, and a parties-only case only on a trio
    meeting, because every other agenda is posted where everyone reads it."""
    case = cases.load_case(ctx, number)
    if case.parties_only and kind != TRIO:
        raise UserError("hora.case_parties_only", id=case.id)
    return case


def require_kind(ctx: HandlerContext, kind: str) -> None:
    """Only the trio of the unit plans a trio meeting (checked in the unit, like everything else)."""
    unit = ctx.require_unit()
    if kind == TRIO and not access.may_plan_trio_meeting(
        ctx.session, ctx.organisation.id, ctx.member.id, unit.id
    ):
        raise UserError("hora.trio_only")


def _case_line(ctx: HandlerContext, meeting: Meeting) -> str | None:
    case = ctx.session.get(Case, meeting.case_id) if meeting.case_id else None
    if case is None or (case.parties_only and meeting.kind != TRIO):
        return None
    return ctx.t("hora.case_line", id=case.id, text=case.title)


def trio(ctx: HandlerContext, unit_id: int) -> list[Member]:
    """The people a trio meeting is for: the holders of the party roles in its unit."""
    people: dict[int, Member] = {}
    for members in party_members(ctx.session, unit_id).values():
        people.update({m.id: m for m in members})
    return list(people.values())


def _case_number(word: str) -> int:
    cleaned = word.strip().lstrip("#")
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise UserError("hora.bad_case", value=word[:20])
    return int(cleaned)


def submit(ctx: HandlerContext, values: dict[str, str], context: str) -> None:
    unit = ctx.require_unit()
    kind, context = parse_context(context)
    require_kind(ctx, kind)
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
        case = linkable_case(ctx, _case_number(case_text), kind) if case_text else None
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
        kind=kind,
    )
    if not created:
        ctx.private(ctx.t("hora.already", id=meeting.id))
        return
    post_meeting(ctx, meeting)
    if case is not None:
        speaker = cases.for_case(ctx, case)
        tell_case(
            ctx, meeting, case, speaker.t("hora.in_case", when=show_moment(ctx.t, starts_at, unit.timezone))
        )
    ctx.private(ctx.t("hora.created", id=meeting.id))
    over = overrun(ctx.session, meeting)
    if over:
        minutes = plural(ctx.language, "counts.minutes", over)
        ctx.private(ctx.t("hora.over_time_warning", over=minutes, length=meeting.length_minutes))


def _render(ctx: HandlerContext, meeting: Meeting) -> Reply:
    unit = ctx.require_unit()
    return render_meeting(ctx.session, ctx.t, meeting, unit.timezone, _case_line(ctx, meeting))


def post_meeting(ctx: HandlerContext, meeting: Meeting) -> None:
    """The agenda in the channel; a trio meeting's agenda to each of the trio, in their own language."""
    if meeting.kind == TRIO:
        for member in trio(ctx, meeting.unit_id):
            ctx.direct(member, _render(cases.in_language(ctx, ctx.language_of(member)), meeting))
        return
    ctx.post(_render(ctx, meeting), key=head_key(meeting.id))


def show_again(ctx: HandlerContext, meeting: Meeting) -> None:
    """The agenda with the result: updated in place, or sent again to the trio (a direct message per
    person cannot be updated)."""
    if meeting.kind == TRIO:
        post_meeting(ctx, meeting)
        return
    ctx.update(head_key(meeting.id), _render(ctx, meeting))


def tell_case(ctx: HandlerContext, meeting: Meeting, case: Case, text: str) -> None:
    """Write what a meeting did into the case's history. A trio meeting's words reach the trio only – not
    the starter of a parties-only case, nor anyone else: the trio meeting is theirs."""
    if meeting.kind == TRIO:
        for member in trio(ctx, case.unit_id):
            ctx.direct(member, text)
        return
    cases.post_in_case(ctx, case, text)


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
    show_again(ctx, meeting)
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
        tell_case(ctx, meeting, case, text + (f" – «{cleaned}»" if cleaned else ""))


def register(router: Router) -> None:
    @router.command("høra", "hora", "møte", "mote", "meeting", "hoera", help_key="hora.help")
    def hora(ctx: HandlerContext, cmd: Command) -> None:
        words = cmd.args.split()
        kind = meeting_kind(words[0]) if words else None
        if kind is not None:
            words = words[1:]
        first = words[0].lower() if words else ""
        if first in ("resultat", "result", "svar") and kind is None:
            if len(words) < 3 or parse_result(words[2]) is None:
                raise UserError("hora.result_usage")
            answer(
                ctx, _meeting(ctx, words[1].lstrip("#")), parse_result(words[2]) or "", " ".join(words[3:])
            )
        elif first in ("sak", "case"):
            if len(words) != 2:
                raise UserError("hora.usage")
            case = cases.load_case(ctx, _case_number(words[1]))
            if kind is None:
                # A parties-only case goes to the trio's own meeting: the only agenda it may stand on.
                kind = TRIO if case.parties_only else "staff"
            require_kind(ctx, kind)
            ctx.open_form(meeting_form(ctx, linkable_case(ctx, case.id, kind).id, kind=kind))
        elif not words:
            kind = kind or "staff"
            require_kind(ctx, kind)
            current = cases.case_from_thread(ctx)
            ctx.open_form(meeting_form(ctx, current.id if current else None, kind=kind))
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
