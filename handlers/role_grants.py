"""``/parts rolle``: ask for a role, confirm or decline a representative's claim, hand a role over, step
down, object, and read the history. The rules live in :mod:`bot.grants`; this module speaks with people.

* ``/parts rolle`` – who holds which role here, and whose claims wait
* ``/parts rolle verneombud`` – ask for a role (a party role waits for the leder; see bot/grants.py)
* ``/parts rolle bekreft <navn>`` / ``avslå <navn>`` – the leder answers a claim (also buttons in a DM)
* ``/parts rolle gi <rolle> <navn>`` – the holder hands a role over
* ``/parts rolle fjern <rolle>`` – step down, or withdraw a claim
* ``/parts rolle innsigelse <navn>`` – object to a claim or a grant (the leder is told)
* ``/parts rolle historikk`` – the audit trail
"""

from __future__ import annotations

import dataclasses
import weakref
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import grants
from bot.chat.context import HandlerContext, UserError
from bot.chat.model import (
    Action,
    Actor,
    Button,
    Buttons,
    Command,
    Effect,
    Header,
    Note,
    Place,
    Post,
    Reply,
    Text,
)
from bot.chat.router import who_and_where
from bot.chat.steps import StepHooks
from bot.grants import RoleRefused
from bot.i18n import normalise_language, t
from bot.roles import (
    is_staff_title,
    members_by_role,
    members_with_role,
    parse_roles,
    roles_of,
    suggest_role,
)
from bot.settings import Settings
from bot.storage.models import PARTY_ROLES, ROLES, Member, Membership, Organisation, Unit
from bot.storage.models_roles import RoleClaim, RoleReview

CONFIRM = ("bekreft", "godkjenn", "stadfest", "confirm", "approve")
DECLINE = ("avslå", "avsla", "avvis", "decline", "reject")
HANDOVER = ("gi", "gje", "overlat", "overlat", "give", "handover", "hand")
REMOVE = ("fjern", "gå", "trekk", "remove", "drop", "stepdown")
OPERATOR = ("tildel", "grant")
OBJECT = ("innsigelse", "innvending", "protest", "object", "objection")
HISTORY = ("historikk", "logg", "history", "log")
ALL = ("alle", "all")


def role_name(ctx: HandlerContext, role: str) -> str:
    return ctx.t(f"roles.names.{role}")


def _name(member: Member | None) -> str:
    return (member.display_name or member.user_id) if member else "?"


def _refused(ctx: HandlerContext, err: RoleRefused) -> UserError:
    values = {k: role_name(ctx, str(v)) if k in ("role", "other") else v for k, v in err.values.items()}
    return UserError(err.key, **values)


def _speaker(ctx: HandlerContext, member: Member) -> HandlerContext:
    """The same context in ``member``'s language, for a direct message to them."""
    language = ctx.language_of(member)
    return ctx if language == ctx.language else dataclasses.replace(ctx, language=language)


def _members(ctx: HandlerContext, unit_id: int) -> list[Member]:
    return list(
        ctx.session.scalars(
            select(Member)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.unit_id == unit_id)
            .order_by(Member.display_name, Member.id)
        )
    )


def find_member(ctx: HandlerContext, text: str, unit: Unit) -> Member:
    """A member of the unit by full name, a unique first name, a platform id or a mention (<@U123>)."""
    wanted = text.strip().strip("<>@").split("|", 1)[0].strip().lower()
    if not wanted:
        raise UserError("roles.name_missing")
    people = _members(ctx, unit.id)
    exact = [m for m in people if _name(m).lower() == wanted or m.user_id.lower() == wanted]
    first = [m for m in people if _name(m).lower().split()[:1] == [wanted]]
    found = exact or first
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise UserError("roles.name_ambiguous", name=text[:40], names=", ".join(_name(m) for m in found))
    raise UserError("roles.name_unknown", name=text[:40], unit=unit.name)


# --------------------------------------------------------------------------------------------------
# Telling people
# --------------------------------------------------------------------------------------------------


def _announce(ctx: HandlerContext, unit: Unit, key: str, **values: str) -> None:
    """Role changes are announced in the unit's channel: everyone may see them and object."""
    ctx.post(ctx.t(key, unit=unit.name, **values))


def _tell_parties_of_new_access(ctx: HandlerContext, unit: Unit, member: Member, role: str) -> None:
    if role not in PARTY_ROLES:
        return
    for other in grants.parties_to_tell(ctx.session, unit.id, member.id):
        if other.id == ctx.member.id:
            continue  # the one who granted it knows
        speaker = _speaker(ctx, other)
        ctx.direct(
            other,
            speaker.t("roles.new_access", name=_name(member), role=role_name(speaker, role), unit=unit.name),
        )


def _ask_leaders(ctx: HandlerContext, unit: Unit, claim: RoleClaim, member: Member) -> None:
    leaders = members_with_role(ctx.session, unit.id, "leder")
    for leader in leaders:
        speaker = _speaker(ctx, leader)
        text = speaker.t(
            "roles.confirm_request", name=_name(member), role=role_name(speaker, claim.role), unit=unit.name
        )
        ctx.direct(
            leader,
            Reply(
                fallback=text,
                blocks=(
                    Text(text),
                    Buttons(
                        (
                            Button(
                                speaker.t("roles.confirm_button"), "roles.confirm", str(claim.id), "primary"
                            ),
                            Button(speaker.t("roles.decline_button"), "roles.decline", str(claim.id)),
                        )
                    ),
                ),
            ),
        )


# --------------------------------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------------------------------


def overview(ctx: HandlerContext) -> Reply:
    unit = ctx.require_unit()
    lines = []
    by_role = members_by_role(ctx.session, unit.id)
    for role in ROLES:
        people = by_role.get(role, [])
        if role == "ansatt" and not people:
            continue
        names = ", ".join(_name(p) for p in people) or ctx.t("roles.nobody")
        lines.append(ctx.t("roles.overview_line", role=ctx.t(f"roles.plural.{role}"), names=names))
    claims = grants.pending_claims(ctx.session, unit.id)
    if claims:
        waiting = ", ".join(
            f"{_name(ctx.session.get(Member, c.member_id))} ({role_name(ctx, c.role)})" for c in claims
        )
        lines.append(ctx.t("roles.overview_pending", names=waiting))
    title = ctx.t("roles.overview_title", unit=unit.name)
    return Reply(
        fallback=title, blocks=(Header(title), Text("\n".join(lines)), Note(ctx.t("roles.no_roles_hint")))
    )


def ask_for(ctx: HandlerContext, words: str) -> None:
    unit = ctx.require_unit()
    if is_staff_title(words):
        raise UserError("roles.staff_title")
    wanted, rest = parse_roles(words)
    if not wanted or rest:
        word = (rest or words).split()[0] if (rest or words).split() else words
        if is_staff_title(rest or words):
            raise UserError("roles.staff_title")
        suggestion = suggest_role(word)
        if suggestion is not None:
            raise UserError("roles.did_you_mean", role=word[:40], suggestion=suggestion)
        names = ", ".join(role_name(ctx, r) for r in ROLES)
        raise UserError("roles.unknown", role=word[:40], roles=names)
    admin = grants.is_platform_admin(ctx.session, ctx.organisation, ctx.member.user_id, ctx.actor.is_admin)
    for role in wanted:
        try:
            outcome = grants.request(ctx.session, unit, ctx.member, role, platform_admin=admin, now=ctx.now)
        except RoleRefused as err:
            raise _refused(ctx, err) from None
        name = role_name(ctx, role)
        if outcome.granted and role == "ansatt":
            # Not announced: being staff is not news, and must not read like a hiring notice.
            ctx.private(ctx.t("roles.staff_noted", unit=unit.name))
        elif outcome.granted:
            ctx.private(ctx.t("roles.granted_you", role=name, unit=unit.name))
            _announce(ctx, unit, "roles.announce_setup", name=_name(ctx.member), role=name)
            _tell_parties_of_new_access(ctx, unit, ctx.member, role)
        else:
            leaders = ", ".join(_name(m) for m in members_with_role(ctx.session, unit.id, "leder"))
            if role == "leder":
                ctx.private(
                    ctx.t("roles.pending_leader", unit=unit.name, leaders=leaders or ctx.t("roles.nobody"))
                )
            else:
                key = "roles.pending" if leaders else "roles.pending_no_leader"
                ctx.private(ctx.t(key, role=name, unit=unit.name, leaders=leaders))
            _announce(ctx, unit, "roles.announce_claim", name=_name(ctx.member), role=name)
            claim = ctx.session.scalar(
                select(RoleClaim).where(
                    RoleClaim.unit_id == unit.id, RoleClaim.member_id == ctx.member.id, RoleClaim.role == role
                )
            )
            if claim is not None and role != "leder":
                _ask_leaders(ctx, unit, claim, ctx.member)


def _confirm_claim(ctx: HandlerContext, unit: Unit, claim: RoleClaim) -> None:
    member = ctx.session.get(Member, claim.member_id)
    role = claim.role
    try:
        grants.confirm(ctx.session, unit.id, claim, ctx.member, ctx.now)
    except RoleRefused as err:
        raise _refused(ctx, err) from None
    name = role_name(ctx, role)
    ctx.private(ctx.t("roles.confirmed_you", name=_name(member), role=name))
    _announce(ctx, unit, "roles.announce_confirmed", name=_name(member), role=name, by=_name(ctx.member))
    if member is not None:
        ctx.direct(member, ctx.t("roles.confirmed_them", role=name, unit=unit.name, by=_name(ctx.member)))
        _tell_parties_of_new_access(ctx, unit, member, role)


def confirm(ctx: HandlerContext, who: str) -> None:
    unit = ctx.require_unit()
    if "leder" not in roles_of(ctx.session, unit.id, ctx.member.id):
        raise UserError("roles.confirm_not_leader")
    claims = grants.pending_claims(ctx.session, unit.id)
    if who.strip().lower() in ALL:
        chosen = [c for c in claims if c.role != "leder"]
    else:
        member = find_member(ctx, who, unit)
        chosen = [c for c in claims if c.member_id == member.id]
    if not chosen:
        raise UserError("roles.no_claim", name=who[:40] or "-")
    for claim in chosen:
        _confirm_claim(ctx, unit, claim)


def decline(ctx: HandlerContext, who: str) -> None:
    unit = ctx.require_unit()
    member = find_member(ctx, who, unit)
    chosen = [c for c in grants.pending_claims(ctx.session, unit.id) if c.member_id == member.id]
    if not chosen:
        raise UserError("roles.no_claim", name=who[:40])
    for claim in chosen:
        _decline_claim(ctx, unit, claim)


def _decline_claim(ctx: HandlerContext, unit: Unit, claim: RoleClaim) -> None:
    member = ctx.session.get(Member, claim.member_id)
    name = role_name(ctx, claim.role)
    try:
        grants.decline(ctx.session, unit.id, claim, ctx.member, ctx.now)
    except RoleRefused as err:
        raise _refused(ctx, err) from None
    ctx.private(ctx.t("roles.declined_you", name=_name(member), role=name))
    _announce(ctx, unit, "roles.announce_declined", name=_name(member), role=name)
    if member is not None:
        ctx.direct(member, ctx.t("roles.declined_them", role=name, unit=unit.name))


def hand_over(ctx: HandlerContext, rest: str) -> None:
    unit = ctx.require_unit()
    wanted, who = parse_roles(rest)
    if len(wanted) != 1 or not who:
        raise UserError("roles.handover_usage")
    role = wanted[0]
    receiver = find_member(ctx, who, unit)
    try:
        grants.hand_over(ctx.session, unit.id, role, ctx.member, receiver, ctx.now)
    except RoleRefused as err:
        raise _refused(ctx, err) from None
    name = role_name(ctx, role)
    ctx.private(ctx.t("roles.handed_over_you", name=_name(receiver), role=name))
    _announce(
        ctx, unit, "roles.announce_handed_over", giver=_name(ctx.member), name=_name(receiver), role=name
    )
    ctx.direct(receiver, ctx.t("roles.confirmed_them", role=name, unit=unit.name, by=_name(ctx.member)))
    _tell_parties_of_new_access(ctx, unit, receiver, role)


def step_down(ctx: HandlerContext, rest: str) -> None:
    unit = ctx.require_unit()
    wanted, extra = parse_roles(rest)
    if len(wanted) != 1 or extra:
        raise UserError("roles.remove_usage")
    role = wanted[0]
    if not grants.remove(ctx.session, unit.id, ctx.member.id, role, ctx.member.id, grants.VIA_SELF, ctx.now):
        raise UserError("roles.not_held", role=role_name(ctx, role))
    name = role_name(ctx, role)
    ctx.private(ctx.t("roles.removed_you", role=name, unit=unit.name))
    if role != "ansatt":
        _announce(ctx, unit, "roles.announce_removed", name=_name(ctx.member), role=name)


def object_to(ctx: HandlerContext, who: str) -> None:
    unit = ctx.require_unit()
    member = find_member(ctx, who, unit)
    roles = [c.role for c in grants.claims_of(ctx.session, unit.id, member.id)] + [
        r for r in roles_of(ctx.session, unit.id, member.id) if r in PARTY_ROLES
    ]
    if not roles:
        raise UserError("roles.nothing_to_object", name=_name(member))
    for role in roles:
        grants.object_to(ctx.session, unit.id, ctx.member, member, role, ctx.now)
    names = ", ".join(role_name(ctx, r) for r in roles)
    ctx.private(ctx.t("roles.objection_noted", name=_name(member), role=names))
    for leader in members_with_role(ctx.session, unit.id, "leder"):
        if leader.id != member.id:
            ctx.direct(
                leader,
                ctx.t(
                    "roles.objection_to_leader",
                    objector=_name(ctx.member),
                    name=_name(member),
                    role=names,
                    unit=unit.name,
                ),
            )


def history(ctx: HandlerContext) -> Reply:
    unit = ctx.require_unit()
    title = ctx.t("roles.history_title", unit=unit.name)
    events = grants.history(ctx.session, unit.id)
    if not events:
        return Reply(fallback=title, blocks=(Header(title), Text(ctx.t("roles.history_empty"))))
    people: dict[int, str] = {}

    def who(member_id: int | None) -> str:
        if member_id is None:
            return ctx.t("roles.history_operator")
        if member_id not in people:
            people[member_id] = _name(ctx.session.get(Member, member_id))
        return people[member_id]

    zone = ctx.settings.zone
    lines = []
    for event in events:
        when = event.created_at.astimezone(zone).strftime("%d.%m.%Y %H:%M")
        text = ctx.t(
            f"roles.history.{event.kind}",
            member=who(event.member_id),
            actor=who(event.actor_id),
            role=role_name(ctx, event.role),
            via=ctx.t(f"roles.via.{event.via}") if event.via else "",
        )
        lines.append(ctx.t("roles.history_line", when=when, text=text))
    return Reply(fallback=title, blocks=(Header(title), Text("\n".join(lines))))


def rolle(ctx: HandlerContext, args: str) -> None:
    word, _, rest = args.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if not word:
        ctx.private(overview(ctx))
    elif word in CONFIRM:
        confirm(ctx, rest)
    elif word in DECLINE:
        decline(ctx, rest)
    elif word in HANDOVER:
        hand_over(ctx, rest)
    elif word in REMOVE:
        step_down(ctx, rest)
    elif word in OBJECT:
        object_to(ctx, rest)
    elif word in HISTORY:
        ctx.private(history(ctx))
    elif word in OPERATOR:
        # The console is run by its operator on their own machine; elsewhere the operator uses
        # `partsbot roles grant` on the server.
        if ctx.organisation.platform != "console":
            raise UserError("roles.operator_only")
        roles, extra = parse_roles(rest)
        if not roles or extra:
            raise UserError("roles.remove_usage")
        ctx.effects.extend(
            grant_as_operator(ctx.session, ctx.settings, ctx.event, roles, ctx.now, ctx.steps)  # type: ignore[arg-type]
        )
    else:
        ask_for(ctx, args)


# --------------------------------------------------------------------------------------------------
# Buttons: checked against the claim's own unit, whatever the value says
# --------------------------------------------------------------------------------------------------


def _claim_from_value(ctx: HandlerContext, value: str) -> tuple[Unit, RoleClaim]:
    claim = ctx.session.get(RoleClaim, int(value)) if value.isdigit() else None
    unit = ctx.session.get(Unit, claim.unit_id) if claim is not None else None
    if claim is None or unit is None or unit.organisation_id != ctx.organisation.id:
        raise UserError("roles.claim_gone")
    return unit, claim


def confirm_button(ctx: HandlerContext, action: Action) -> None:
    unit, claim = _claim_from_value(ctx, action.value)
    _confirm_claim(ctx, unit, claim)


def decline_button(ctx: HandlerContext, action: Action) -> None:
    unit, claim = _claim_from_value(ctx, action.value)
    _decline_claim(ctx, unit, claim)


# --------------------------------------------------------------------------------------------------
# Roles that existed before grants: the leder is asked once
# --------------------------------------------------------------------------------------------------


def review_reply(ctx: HandlerContext, unit: Unit) -> Reply | None:
    from bot.roles import party_members

    present = party_members(ctx.session, unit.id)
    lines = [
        f"• {_name(m)} – {role_name(ctx, role)}"
        for role, people in present.items()
        if role != "leder"
        for m in people
    ]
    if not lines:
        return None
    text = ctx.t("roles.review", unit=unit.name, people="\n".join(lines))
    return Reply(
        fallback=text,
        blocks=(
            Text(text),
            Buttons((Button(ctx.t("roles.review_ok"), "roles.review_ok", str(unit.id), "primary"),)),
        ),
    )


# Per database, the units whose review is settled (no review row, or asked already): one query fewer for
# every later event there. Safe to remember: review rows are only made by migration 0008, which runs before
# a process handles anything, and ``asked_at`` is never emptied again.
_SETTLED: weakref.WeakKeyDictionary[object, set[int]] = weakref.WeakKeyDictionary()


def ask_review_once(ctx: HandlerContext) -> None:
    """When a leder of a migrated unit acts, ask them (once) to confirm the representatives kept from
    before roles were granted. Called by the router for every event of a leder; cheap when nothing waits."""
    if ctx.unit is None:
        return
    settled = _SETTLED.setdefault(ctx.session.get_bind(), set())
    if ctx.unit.id in settled:
        return
    review = ctx.session.get(RoleReview, ctx.unit.id)
    if review is None or review.asked_at is not None:
        settled.add(ctx.unit.id)
        return
    if "leder" not in roles_of(ctx.session, ctx.unit.id, ctx.member.id):
        return
    review.asked_at = ctx.now
    reply = review_reply(ctx, ctx.unit)
    if reply is None:
        review.done_at = ctx.now
        return
    ctx.direct(ctx.member, reply)


def review_ok(ctx: HandlerContext, action: Action) -> None:
    unit = ctx.session.get(Unit, int(action.value)) if action.value.isdigit() else None
    if unit is None or unit.organisation_id != ctx.organisation.id:
        raise UserError("errors.unknown_action")
    if "leder" not in roles_of(ctx.session, unit.id, ctx.member.id):
        raise UserError("roles.confirm_not_leader")
    review = ctx.session.get(RoleReview, unit.id)
    if review is not None and review.done_at is None:
        review.done_at = ctx.now
        from bot.roles import party_members

        for role, people in party_members(ctx.session, unit.id).items():
            for member in people:
                if role != "leder":
                    grants.record(
                        ctx.session,
                        unit.id,
                        "confirmed",
                        role,
                        member.id,
                        ctx.member.id,
                        grants.VIA_LEADER,
                        ctx.now,
                    )
    ctx.private(ctx.t("roles.review_done", unit=unit.name))


# --------------------------------------------------------------------------------------------------
# The operator: `partsbot roles grant` and the console's `/som <navn> <rolle>`
# --------------------------------------------------------------------------------------------------


def grant_as_operator(
    session: Session, settings: Settings, event: Command, roles: list[str], now: datetime, steps: StepHooks
) -> list[Effect]:
    """Grant ``roles`` to the event's actor in the event's unit as the operator (no claim, but still no
    conflicting roles), announced and written to the audit trail like any grant. Returns the effects."""
    organisation, member, unit = who_and_where(session, settings, event)
    if unit is None:
        raise UserError("errors.no_unit")
    ctx = HandlerContext(
        session=session,
        settings=settings,
        now=now,
        event=event,
        organisation=organisation,
        member=member,
        unit=unit,
        language=normalise_language(member.language or unit.language),
        steps=steps,
    )
    for role in roles:
        if role in roles_of(session, unit.id, member.id):
            continue
        try:
            grants.operator_grant(session, unit, member, role, now)
        except RoleRefused as err:
            raise _refused(ctx, err) from None
        if role != "ansatt":
            _announce(ctx, unit, "roles.announce_setup", name=_name(member), role=role_name(ctx, role))
            _tell_parties_of_new_access(ctx, unit, member, role)
    session.flush()
    return ctx.effects


def operator_command(
    session: Session,
    settings: Settings,
    steps: StepHooks,
    *,
    grant: bool,
    place: Place,
    user_id: str,
    role: str,
    now: datetime,
    name: str = "",
) -> tuple[str, list[Effect]]:
    """``partsbot roles grant|revoke``: the operator gives or takes a role in an existing unit (found by
    platform, workspace and channel). Returns a line for the operator and the announcements to send."""
    unit = session.scalar(
        select(Unit)
        .join(Organisation, Organisation.id == Unit.organisation_id)
        .where(
            Organisation.platform == place.platform,
            Organisation.external_id == place.workspace,
            Unit.channel_id == place.channel,
        )
    )
    if unit is None:
        raise UserError("roles.operator_no_unit", channel=place.channel)
    event = Command(Actor(user_id, name), place.channel_only, "rolle", role)
    if grant:
        effects = grant_as_operator(session, settings, event, [role], now, steps)
        return f"granted {role} to {user_id} in {place.channel}", effects
    _organisation, member, _unit = who_and_where(session, settings, event)
    if not grants.remove(session, unit.id, member.id, role, None, grants.VIA_OPERATOR, now):
        raise UserError("roles.operator_not_held", role=role, user=user_id)
    language = normalise_language(member.language or unit.language)
    text = t(
        language,
        "roles.announce_removed",
        name=_name(member),
        role=t(language, f"roles.names.{role}"),
        unit=unit.name,
    )
    return f"revoked {role} from {user_id} in {place.channel}", [Post(place.channel_only, Reply.text(text))]
