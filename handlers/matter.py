"""Confidential routes: ``/parts til verneombudet <tekst>`` and ``/parts til tillitsvalgt <tekst>``.

What a staff member tells the verneombud must not reach the leader without consent (forskrift om
organisering, ledelse og medvirkning § 3-17). A matter is seen by its starter and the holders of the
chosen role in the unit – not the leader, not other staff (:func:`bot.toolbox.access.may_see_matter`);
it never appears in channels, lists of cases, App Home or summaries.

* ``/parts til verneombudet <tekst>`` (``tillitsvalgt``, ``hovedverneombudet``) – start a matter
* ``/parts fortrolig`` – the matters I can see
* ``/parts fortrolig svar <nr> <tekst>`` – answer privately (starter or representative)
* ``/parts fortrolig navn <nr>`` – the starter lets the representative name them to the trio
* ``/parts fortrolig partene <nr> [tekst]`` – the representative brings it to the trio as a parties-only
  case, started on the starter's behalf, without their name unless they agreed
"""

from __future__ import annotations

from sqlalchemy import select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Action, Button, Buttons, Command, Form, FormField, Reply, Submission, Text
from bot.chat.router import Router
from bot.roles import members_with_role, parse_role
from bot.storage.models import Member
from bot.toolbox import access, cases
from bot.toolbox.models_matter import Matter, MatterNote
from bot.toolbox.records import name_of

# "til verneombudet", "til den tillitsvalde", "to the safety representative" …
_FILLER = ("den", "det", "the", "our", "vårt", "vår", "vårt", "min", "mitt")
_DEFINITE = {
    "verneombudet": "verneombud", "verneombodet": "verneombud", "hovedverneombudet": "hovedverneombud",
    "hovudverneombodet": "hovedverneombud", "tillitsvalgte": "tillitsvalgt", "tillitsvalde": "tillitsvalgt",
}  # fmt: skip
ROUTES = ("verneombud", "hovedverneombud", "tillitsvalgt")
REPLY = ("svar", "answer", "reply")
NAME = ("navn", "namn", "name")
RAISE = ("partene", "partane", "parties", "trio")
MAX_TEXT = 2000


def route_of(text: str) -> tuple[str, str]:
    """``"verneombudet Det er …"`` → ("verneombud", "Det er …")."""
    words = text.split()
    while words and words[0].lower() in _FILLER:
        words = words[1:]
    for size in (2, 1):
        head = " ".join(words[:size]).lower().strip(":,.")
        role = _DEFINITE.get(head) or parse_role(head)
        if role in ROUTES:
            return role, " ".join(words[size:])
    raise UserError("matter.usage")


def _matter(ctx: HandlerContext, word: str) -> Matter:
    """A matter by number, if this person may see it; otherwise the same answer as for no matter."""
    number = word.lstrip("#Ff")
    matter = ctx.session.get(Matter, int(number)) if number.isdigit() and len(number) < 10 else None
    if matter is None or not access.may_see_matter(ctx.session, ctx.organisation.id, ctx.member.id, matter):
        raise UserError("matter.unknown", number=word[:12])
    return matter


def _representatives(ctx: HandlerContext, matter: Matter) -> list[Member]:
    return members_with_role(ctx.session, matter.unit_id, matter.to_role)


def _role_name(ctx: HandlerContext, role: str) -> str:
    return ctx.t(f"roles.names.{role}")


def _buttons(ctx: HandlerContext, matter: Matter, *, representative: bool) -> Buttons:
    buttons = [Button(ctx.t("matter.reply_button"), "matter.reply", str(matter.id), "primary")]
    if representative and matter.case_id is None:
        buttons.append(Button(ctx.t("matter.raise_button"), "matter.raise", str(matter.id)))
    return Buttons(tuple(buttons))


def start(ctx: HandlerContext, args: str) -> None:
    unit = ctx.require_unit()
    role, text = route_of(args)
    cleaned = ctx.text(text, MAX_TEXT)
    people = [m for m in members_with_role(ctx.session, unit.id, role) if m.id != ctx.member.id]
    if not people:
        raise UserError("matter.nobody", role=_role_name(ctx, role), unit=unit.name)
    matter = Matter(
        unit_id=unit.id, started_by_id=ctx.member.id, to_role=role, text=cleaned, created_at=ctx.now
    )
    ctx.session.add(matter)
    ctx.session.flush()
    for person in people:
        speaker = cases.in_language(ctx, ctx.language_of(person))
        title = speaker.t(
            "matter.received", number=matter.id, name=name_of(ctx.member), role=_role_name(speaker, role)
        )
        ctx.direct(
            person,
            Reply(
                fallback=title,
                blocks=(
                    Text(f"*{title}*\n{cleaned}"),
                    Text(speaker.t("matter.received_note")),
                    _buttons(speaker, matter, representative=True),
                ),
            ),
        )
    ctx.private(
        ctx.t(
            "matter.sent",
            number=matter.id,
            role=_role_name(ctx, role),
            names=", ".join(name_of(m) for m in people),
        )
    )


def answer(ctx: HandlerContext, matter: Matter, text: str) -> None:
    cleaned = ctx.text(text, MAX_TEXT)
    ctx.session.add(
        MatterNote(matter_id=matter.id, author_id=ctx.member.id, text=cleaned, created_at=ctx.now)
    )
    ctx.session.flush()
    starter = ctx.session.get(Member, matter.started_by_id) if matter.started_by_id else None
    readers = [
        m for m in [starter, *_representatives(ctx, matter)] if m is not None and m.id != ctx.member.id
    ]
    for person in {m.id: m for m in readers}.values():
        speaker = cases.in_language(ctx, ctx.language_of(person))
        representative = person.id != matter.started_by_id
        title = speaker.t("matter.note", number=matter.id, name=name_of(ctx.member))
        ctx.direct(
            person,
            Reply(
                fallback=title,
                blocks=(
                    Text(f"*{title}*\n{cleaned}"),
                    _buttons(speaker, matter, representative=representative),
                ),
            ),
        )
    ctx.private(ctx.t("matter.answered", number=matter.id))


def share_name(ctx: HandlerContext, matter: Matter) -> None:
    if matter.started_by_id != ctx.member.id:
        raise UserError("matter.only_starter")
    matter.name_shared = True
    for person in _representatives(ctx, matter):
        speaker = cases.in_language(ctx, ctx.language_of(person))
        ctx.direct(person, speaker.t("matter.name_shared", number=matter.id, name=name_of(ctx.member)))
    ctx.private(ctx.t("matter.name_shared_you", number=matter.id))


def bring_to_parties(ctx: HandlerContext, matter: Matter, text: str) -> None:
    """The representative opens a parties-only case on the starter's behalf."""
    if matter.started_by_id == ctx.member.id or not access.holds_role(
        ctx.session, matter.unit_id, ctx.member.id, matter.to_role
    ):
        raise UserError("matter.only_representative", role=_role_name(ctx, matter.to_role))
    if matter.case_id is not None:
        raise UserError("matter.already_raised", number=matter.id, case=matter.case_id)
    starter = ctx.session.get(Member, matter.started_by_id) if matter.started_by_id else None
    who = name_of(starter) if matter.name_shared and starter else ctx.t("matter.someone")
    statement = ctx.text(text or matter.text, MAX_TEXT)
    unit_ctx = ctx
    if ctx.unit is None or ctx.unit.id != matter.unit_id:
        raise UserError("matter.wrong_unit")
    case = cases.open_case(unit_ctx, statement, parties_only=True)
    matter.case_id = case.id
    speaker = cases.for_case(ctx, case)
    cases.post_in_case(
        ctx,
        case,
        speaker.t(
            "matter.on_behalf", name=name_of(ctx.member), role=_role_name(speaker, matter.to_role), who=who
        ),
    )
    if starter is not None:
        told = cases.in_language(ctx, ctx.language_of(starter))
        key = "matter.raised_named" if matter.name_shared else "matter.raised_anonymous"
        ctx.direct(
            starter, told.t(key, number=matter.id, case=case.id, role=_role_name(told, matter.to_role))
        )


def listing(ctx: HandlerContext) -> Reply:
    unit = ctx.require_unit()
    rows = [
        m
        for m in ctx.session.scalars(
            select(Matter).where(Matter.unit_id == unit.id).order_by(Matter.id.desc())
        )
        if access.may_see_matter(ctx.session, ctx.organisation.id, ctx.member.id, m)
    ]
    title = ctx.t("matter.list_title")
    if not rows:
        return Reply(fallback=title, blocks=(Text(f"*{title}*\n{ctx.t('matter.list_empty')}"),))
    lines = [
        ctx.t(
            "matter.list_line",
            number=m.id,
            role=_role_name(ctx, m.to_role),
            text=cases.short(m.text, 80),
            case=f" → #{m.case_id}" if m.case_id else "",
        )
        for m in rows[:20]
    ]
    return Reply(fallback=title, blocks=(Text(f"*{title}*\n" + "\n".join(lines)),))


def reply_form(ctx: HandlerContext, matter: Matter) -> Form:
    return Form(
        form_id="matter.reply",
        title=ctx.t("matter.form_title"),
        submit_label=ctx.t("matter.form_submit"),
        context=str(matter.id),
        fields=(FormField("text", ctx.t("matter.form_text"), "multiline", max_length=MAX_TEXT),),
    )


def register(router: Router) -> None:
    @router.command("til", "to", help_key="matter.help")
    def til(ctx: HandlerContext, cmd: Command) -> None:
        start(ctx, cmd.args)

    @router.command("fortrolig", "fortruleg", "confidential", listed=False)
    def fortrolig(ctx: HandlerContext, cmd: Command) -> None:
        word, _, rest = cmd.args.strip().partition(" ")
        word, rest = word.lower(), rest.strip()
        number, _, text = rest.partition(" ")
        if not word:
            ctx.private(listing(ctx))
        elif word in REPLY:
            answer(ctx, _matter(ctx, number), text)
        elif word in NAME:
            share_name(ctx, _matter(ctx, number))
        elif word in RAISE:
            bring_to_parties(ctx, _matter(ctx, number), text.strip())
        else:
            raise UserError("matter.usage_more")

    @router.action("matter.reply")
    def reply_button(ctx: HandlerContext, action: Action) -> None:
        ctx.open_form(reply_form(ctx, _matter(ctx, action.value)))

    @router.form("matter.reply")
    def reply_submitted(ctx: HandlerContext, sub: Submission) -> None:
        answer(ctx, _matter(ctx, sub.context), sub.values.get("text", ""))

    @router.action("matter.raise")
    def raise_button(ctx: HandlerContext, action: Action) -> None:
        bring_to_parties(ctx, _matter(ctx, action.value), "")
