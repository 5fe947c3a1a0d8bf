"""What the database holds about a person, and how to hand it out or take it away (GDPR art. 15 and 17).

Each area declares, beside its own tables, what it keeps about a person and what erasure does with it,
by marking the columns that point at a member (:func:`declare`):

* ``reassign`` – the row stays and points at the organisation's "former colleague" placeholder: named
  texts (a question, an idea, a case's statement), ownership of an action, an approval, an audit entry.
  Readers then see "en tidligere kollega" where the name was;
* ``delete`` – the row goes: roles, memberships, "has answered" markers, participation, dots;
* ``blank`` – a platform id in a table that is not ours to reshape (bolt's installer user id) is emptied.

:func:`export_person` and :func:`erase_person` walk every declared column of the whole schema, so a table
another part of Partsbot adds is covered as soon as its columns are declared; ``tests/test_personal_data``
fails for a column pointing at ``member`` that is not declared. Rows that name a person without a foreign
key are handled here too: waiting outbox items, stored conversation references of their personal chat,
platform admin records. Anonymous check-in answers and anonymous questions are not linked to anyone, so
they can be neither exported nor erased per person, and the export says so.

Also here: :func:`delete_organisation` (an uninstalled workspace or tenant, after its grace period),
:func:`delete_unit`, :func:`anonymise` (a closed case after the retention time) and :func:`export_unit`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Column, Table, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.models import (
    Base,
    ConversationReference,
    KeyValue,
    Member,
    Membership,
    Organisation,
    OutboxItem,
    PostedMessage,
    Unit,
)

Policy = Literal["reassign", "delete", "blank"]
INFO_KEY = "personal"
# The placeholder every erased person's named texts point at, one per organisation.
FORMER_USER_ID = "former-colleague"


def declare(model: Any, column: str, policy: Policy, what: str) -> None:
    """Declare that ``model.column`` holds something about a person: ``what`` names it in an export
    (a prompt key under ``privacy.what``), ``policy`` says what erasure does."""
    table = cast(Table, model.__table__ if hasattr(model, "__table__") else model)
    cast(Column[Any], table.c[column]).info[INFO_KEY] = (policy, what)


@dataclass(frozen=True)
class Declared:
    table: Table
    column: Column[Any]
    policy: Policy
    what: str


def declared(tables: Iterable[Table] | None = None) -> list[Declared]:
    found = []
    for table in tables if tables is not None else Base.metadata.sorted_tables:
        for column in table.columns:
            info = column.info.get(INFO_KEY)
            if info is not None:
                found.append(Declared(table, column, info[0], info[1]))
    return found


def undeclared_member_columns(tables: Iterable[Table]) -> list[str]:
    """``table.column`` of every foreign key to ``member`` without a declaration (the test's list)."""
    return [
        f"{table.name}.{column.name}"
        for table in tables
        for column in table.columns
        if any(fk.column.table.name == "member" for fk in column.foreign_keys) and INFO_KEY not in column.info
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _rows(session: Session, table: Table, where: Any) -> list[dict[str, Any]]:
    return [
        {k: _plain(v) for k, v in row.items()}
        for row in session.execute(select(table).where(where)).mappings()
    ]


# --------------------------------------------------------------------------------------------------
# A person
# --------------------------------------------------------------------------------------------------


@dataclass
class Export:
    person: dict[str, Any]
    # what → table → rows
    data: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {what: sum(len(rows) for rows in tables.values()) for what, tables in self.data.items()}

    def as_json(self, note: str) -> str:
        body = {"person": self.person, "data": self.data, "not_included": note}
        return json.dumps(body, ensure_ascii=False, indent=2, default=str)


def export_person(session: Session, member: Member) -> Export:
    org = session.get(Organisation, member.organisation_id)
    person = {
        "platform": org.platform if org else "",
        "workspace": org.external_id if org else "",
        "user_id": member.user_id,
        "display_name": member.display_name,
        "language": member.language,
        "created_at": _plain(member.created_at),
    }
    found = Export(person)
    for item in declared():
        # "blank" columns hold the platform's user id, not a member id.
        key = member.user_id if item.policy == "blank" else member.id
        rows = _rows(session, item.table, item.column == key)
        if rows:
            found.data.setdefault(item.what, {}).setdefault(item.table.name, []).extend(rows)
    return found


def placeholder(session: Session, organisation_id: int, name: str) -> Member:
    """The organisation's "former colleague", created on first use."""
    found = session.scalar(
        select(Member).where(Member.organisation_id == organisation_id, Member.user_id == FORMER_USER_ID)
    )
    if found is None:
        found = Member(organisation_id=organisation_id, user_id=FORMER_USER_ID, display_name=name)
        session.add(found)
        session.flush()
    return found


def _apply(session: Session, item: Declared, where: Any, former: Member) -> int:
    """Apply ``item``'s erasure policy to the rows ``where`` selects; returns how many rows changed."""
    table, column = item.table, item.column
    if item.policy == "delete":
        return int(getattr(session.execute(delete(table).where(where)), "rowcount", 0) or 0)
    if item.policy == "blank":
        return int(
            getattr(session.execute(update(table).where(where).values({column.name: ""})), "rowcount", 0) or 0
        )
    keys = list(table.primary_key.columns)
    changed = 0
    for row in session.execute(select(*keys).where(where)).all():
        match = [k == v for k, v in zip(keys, row, strict=True)]
        savepoint = session.begin_nested()
        try:
            session.execute(update(table).where(*match).values({column.name: former.id}))
            savepoint.commit()
        except IntegrityError:
            # The placeholder already has such a row (two former colleagues approved the same plan):
            # one is enough to keep the history readable.
            savepoint.rollback()
            session.execute(delete(table).where(*match))
        changed += 1
    return changed


def erase_person(session: Session, member: Member, former_name: str) -> dict[str, int]:
    """Erase ``member``: named texts go to the former-colleague placeholder, roles and markers go, the
    member row and everything naming their platform id go. Returns rows changed per ``what``."""
    if member.user_id == FORMER_USER_ID:
        return {}
    former = placeholder(session, member.organisation_id, former_name)
    done: dict[str, int] = {}
    for item in declared():
        if item.table.name == "member" or item.policy == "blank":
            continue  # "blank" columns hold platform ids: _forget_platform_id below
        changed = _apply(session, item, item.column == member.id, former)
        if changed:
            done[item.what] = done.get(item.what, 0) + changed
    org = session.get_one(Organisation, member.organisation_id)
    done["platform_traces"] = _forget_platform_id(session, org, member.user_id)
    session.delete(member)
    session.flush()
    return done


def _forget_platform_id(session: Session, org: Organisation, user_id: str) -> int:
    """Rows that name the person's platform id without a foreign key."""
    removed = 0
    lane = f"{org.platform}:{org.external_id}"
    needle = json.dumps(user_id)  # as it appears inside stored JSON
    for waiting in session.scalars(select(OutboxItem).where(OutboxItem.lane == lane)):
        if needle in waiting.effect:
            session.delete(waiting)
            removed += 1
    for ref in session.scalars(
        select(ConversationReference).where(
            ConversationReference.platform == org.platform, ConversationReference.workspace == org.external_id
        )
    ):
        if ref.scope == f"user:{user_id}" or needle in json.dumps(ref.data):
            session.delete(ref)
            removed += 1
    for state in session.scalars(select(KeyValue)):
        if needle in state.value:  # local state naming them (the console's current person)
            session.delete(state)
            removed += 1
    for table in Base.metadata.sorted_tables:
        columns = table.c
        if {"platform", "workspace", "user_id"} <= set(columns.keys()) and table.name != "member":
            result = session.execute(
                delete(table).where(
                    columns.platform == org.platform,
                    columns.workspace == org.external_id,
                    columns.user_id == user_id,
                )
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
    for item in declared():
        if item.policy == "blank" and "team_id" in item.table.c:
            result = session.execute(
                update(item.table)
                .where(item.table.c.team_id == org.external_id, item.column == user_id)
                .values({item.column.name: ""})
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


# --------------------------------------------------------------------------------------------------
# A unit, a subtree, an organisation
# --------------------------------------------------------------------------------------------------


def _children(table: Table) -> Iterator[tuple[Table, Column[Any], Column[Any]]]:
    """(child table, its foreign key column, the referenced column of ``table``), never back to member."""
    for child in Base.metadata.sorted_tables:
        for column in child.columns:
            for fk in column.foreign_keys:
                if fk.column.table is table and child is not table:
                    yield child, column, fk.column


def subtree(session: Session, root: Table, where: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of ``root`` matching ``where`` and every row below them by foreign keys."""
    found: dict[str, list[dict[str, Any]]] = {}
    queue: list[tuple[Table, Any]] = [(root, where)]
    while queue:
        table, condition = queue.pop(0)
        rows = _rows(session, table, condition)
        if not rows:
            continue
        found.setdefault(table.name, []).extend(rows)
        for child, column, referenced in _children(table):
            if child.name in ("member",):
                continue  # people belong to the organisation, not to a unit or a case
            values = [r[referenced.name] for r in rows]
            queue.append((child, column.in_(values)))
    return found


def anonymise(session: Session, root: Table, where: Any, organisation_id: int, former_name: str) -> int:
    """Point every person-column in ``root``'s subtree at the former-colleague placeholder (or delete the
    rows whose policy is delete). Used for closed cases after the retention time."""
    former = placeholder(session, organisation_id, former_name)
    rows = subtree(session, root, where)
    changed = 0
    for item in declared():
        if item.table.name not in rows or item.policy == "blank":
            continue
        keys = list(item.table.primary_key.columns)
        if len(keys) != 1:
            continue
        ids = [r[keys[0].name] for r in rows[item.table.name]]
        person_rows = keys[0].in_(ids) & (item.column.is_not(None)) & (item.column != former.id)
        changed += _apply(session, item, person_rows, former)
    return changed


def export_unit(session: Session, unit: Unit) -> dict[str, Any]:
    data = subtree(session, Unit.__table__, Unit.id == unit.id)  # type: ignore[arg-type]
    member_ids = list(session.scalars(select(Membership.member_id).where(Membership.unit_id == unit.id)))
    data["member"] = _rows(session, Member.__table__, Member.id.in_(member_ids))  # type: ignore[arg-type]
    return data


def delete_unit(session: Session, unit: Unit, former_name: str) -> int:
    """Delete a unit and everything under it; people left without any unit are erased as well."""
    org = session.get_one(Organisation, unit.organisation_id)
    member_ids = list(session.scalars(select(Membership.member_id).where(Membership.unit_id == unit.id)))
    session.execute(
        delete(PostedMessage).where(
            PostedMessage.platform == org.platform,
            PostedMessage.workspace == org.external_id,
            PostedMessage.channel == unit.channel_id,
        )
    )
    session.execute(
        delete(ConversationReference).where(
            ConversationReference.platform == org.platform,
            ConversationReference.workspace == org.external_id,
            ConversationReference.scope == f"channel:{unit.channel_id}",
        )
    )
    session.delete(unit)
    session.flush()
    erased = 0
    for member_id in member_ids:
        left = session.scalar(
            select(func.count()).select_from(Membership).where(Membership.member_id == member_id)
        )
        member = session.get(Member, member_id)
        if member is not None and not left:
            erase_person(session, member, former_name)
            erased += 1
    return erased


def delete_organisation(session: Session, org: Organisation) -> None:
    """Everything of a workspace or tenant: its rows (by foreign key) and its platform bookkeeping."""
    platform, workspace = org.platform, org.external_id
    session.execute(delete(OutboxItem).where(OutboxItem.lane == f"{platform}:{workspace}"))
    for model in (ConversationReference, PostedMessage):
        session.execute(delete(model).where(model.platform == platform, model.workspace == workspace))
    for table in Base.metadata.sorted_tables:
        columns = table.c
        if {"platform", "workspace"} <= set(columns.keys()) and table.name not in (
            "conversation_reference",
            "posted_message",
        ):
            session.execute(delete(table).where(columns.platform == platform, columns.workspace == workspace))
        elif platform == "slack" and "team_id" in columns and table.name.startswith("slack_"):
            session.execute(delete(table).where(columns.team_id == workspace))
    session.delete(org)
    session.flush()


# --------------------------------------------------------------------------------------------------
# Uninstalled organisations
# --------------------------------------------------------------------------------------------------

UNINSTALL_GRACE = timedelta(days=30)


def schedule_deletion(session: Session, platform: str, workspace: str, now: datetime) -> datetime | None:
    """The app was removed: the organisation's data is deleted after :data:`UNINSTALL_GRACE` unless it is
    installed again. Returns when (None if the organisation never used the bot)."""
    org = session.scalar(
        select(Organisation).where(Organisation.platform == platform, Organisation.external_id == workspace)
    )
    if org is None:
        return None
    if org.delete_after is None:
        org.delete_after = now + UNINSTALL_GRACE
    return org.delete_after


def cancel_deletion(session: Session, platform: str, workspace: str) -> bool:
    """Installed again (or used again): nothing is deleted."""
    org = session.scalar(
        select(Organisation).where(Organisation.platform == platform, Organisation.external_id == workspace)
    )
    if org is None or org.delete_after is None:
        return False
    org.delete_after = None
    return True


def delete_due_organisations(session: Session, now: datetime) -> int:
    due = list(
        session.scalars(
            select(Organisation).where(
                Organisation.delete_after.is_not(None), Organisation.delete_after <= now
            )
        )
    )
    for org in due:
        delete_organisation(session, org)
    return len(due)
