"""The App Home tab: my roles, my open cases, actions I own, the course schedule.

The home view is a list of sections, each a function that gets a :class:`HomeViewer` (database session,
who is looking, their language, now) and returns *neutral* blocks (:mod:`bot.chat.model`). The list is
:data:`SECTIONS`, written out in order; :func:`build_home` takes another list where a caller wants one (a
test, or later a Teams personal tab), so no module state is filled by decorators at import time.

Built in: my roles, my open cases, actions I own, the course modules to come. The sections have no Slack
code; they could move to ``bot/chat`` for a Teams home tab (a personal tab) later.

A section that fails is logged and left out: a half-written table elsewhere must not empty the whole tab.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.model import Block, Divider, Header, Note, Text
from bot.grants import claims_of
from bot.i18n import clock, normalise_language, t
from bot.roles import roles_of
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Member, Membership, Organisation, Unit
from bot.toolbox import access

log = logging.getLogger(__name__)

# Lines per list section; the rest is counted in a note (the view holds at most 100 blocks).
HOME_LIST_LIMIT = 15
MODULE_KINDS = ("digital", "staff", "exchange")


@dataclass(frozen=True)
class HomeViewer:
    """Who looks at the home tab. ``member`` is None for someone who never used Partsbot."""

    session: Session
    settings: Settings
    organisation: Organisation | None
    member: Member | None
    user_id: str
    language: str
    now: datetime

    def t(self, key: str, **values: object) -> str:
        return t(self.language, key, **values)

    @property
    def units(self) -> list[Unit]:
        """The kindergartens (channels) this person has acted in."""
        if self.member is None:
            return []
        return list(
            self.session.scalars(
                select(Unit)
                .join(Membership, Membership.unit_id == Unit.id)
                .where(Membership.member_id == self.member.id)
                .order_by(Unit.name)
            )
        )


Section = Callable[[HomeViewer], Sequence[Block]]


def roles_section(viewer: HomeViewer) -> Sequence[Block]:
    blocks: list[Block] = [Text(f"*{viewer.t('slack.home.roles_title')}*")]
    units = viewer.units
    if viewer.member is None or not units:
        blocks.append(Text(viewer.t("slack.home.no_units")))
        return blocks
    lines = []
    for unit in units:
        held = roles_of(viewer.session, unit.id, viewer.member.id)
        names = ", ".join(viewer.t(f"roles.names.{r}") for r in held)
        lines.append(
            viewer.t("slack.home.role_line", unit=unit.name, roles=names or viewer.t("slack.home.no_role"))
        )
        waiting = [c.role for c in claims_of(viewer.session, unit.id, viewer.member.id)]
        if waiting:
            lines.append(
                viewer.t(
                    "slack.home.role_pending",
                    roles=", ".join(viewer.t(f"roles.names.{r}") for r in waiting),
                )
            )
    blocks.append(Text("\n".join(lines)))
    return blocks


def _my_unit_ids(viewer: HomeViewer) -> list[int]:
    return [unit.id for unit in viewer.units]


def cases_section(viewer: HomeViewer) -> Sequence[Block]:
    """Open cases in my kindergartens; cases for the parties only are shown to the parties and the starter."""
    from bot.toolbox.models import STEPS, Case

    unit_ids = _my_unit_ids(viewer)
    if viewer.member is None or not unit_ids:
        return []
    names = {unit.id: unit.name for unit in viewer.units}
    # The one access policy (bot/toolbox/access.py), as a query: no second copy of the visibility rule here.
    visible = viewer.session.scalars(
        select(Case)
        .where(
            Case.unit_id.in_(unit_ids),
            Case.closed_at.is_(None),
            access.visible_case_clause(viewer.session, viewer.member.id),
        )
        .order_by(Case.updated_at.desc())
    ).all()
    blocks: list[Block] = [Text(f"*{viewer.t('slack.home.cases_title')}*")]
    if not visible:
        blocks.append(Text(viewer.t("slack.home.no_cases")))
        return blocks
    lines = [
        viewer.t(
            "slack.home.case_line",
            number=case.id,
            title=case.title,
            step=viewer.t(f"case.steps.{case.step}") if case.step in STEPS else case.step,
            unit=names.get(case.unit_id, ""),
        )
        for case in visible[:HOME_LIST_LIMIT]
    ]
    blocks.append(Text("\n".join(lines)))
    if len(visible) > HOME_LIST_LIMIT:
        blocks.append(Note(viewer.t("slack.home.more", count=len(visible) - HOME_LIST_LIMIT)))
    return blocks


def actions_section(viewer: HomeViewer) -> Sequence[Block]:
    """Actions I own that are not done, soonest first."""
    from bot.toolbox.models import Case
    from bot.toolbox.models_plan import ActionItem, Plan

    if viewer.member is None:
        return []
    # Only actions of cases I may still see, in units I belong to (a parties-only plan stays private
    # even to an owner who has since lost the role that let them see it).
    actions = viewer.session.scalars(
        select(ActionItem)
        .join(Plan, Plan.id == ActionItem.plan_id)
        .join(Case, Case.id == Plan.case_id)
        .where(
            ActionItem.owner_id == viewer.member.id,
            ActionItem.done_at.is_(None),
            Case.unit_id.in_(_my_unit_ids(viewer)),
            access.visible_case_clause(viewer.session, viewer.member.id),
        )
        .order_by(ActionItem.due, ActionItem.id)
    ).all()
    if not actions:
        return []
    today = viewer.now.astimezone(viewer.settings.zone).date()
    lines = []
    for action in actions[:HOME_LIST_LIMIT]:
        key = "slack.home.action_line_late" if action.due < today else "slack.home.action_line"
        lines.append(viewer.t(key, text=action.text, due=action.due.strftime("%d.%m.%Y")))
    blocks: list[Block] = [Text(f"*{viewer.t('slack.home.actions_title')}*"), Text("\n".join(lines))]
    if len(actions) > HOME_LIST_LIMIT:
        blocks.append(Note(viewer.t("slack.home.more", count=len(actions) - HOME_LIST_LIMIT)))
    return blocks


def course_section(viewer: HomeViewer) -> Sequence[Block]:
    """The course modules still to come in my kindergartens' active course runs."""
    from bot.course.models import CourseModule, CourseRun

    units = {unit.id: unit for unit in viewer.units}
    if not units:
        return []
    rows = viewer.session.execute(
        select(CourseModule, CourseRun.unit_id)
        .join(CourseRun, CourseRun.id == CourseModule.run_id)
        .where(
            CourseRun.unit_id.in_(units), CourseRun.status == "active", CourseModule.starts_at >= viewer.now
        )
        .order_by(CourseModule.starts_at)
    ).all()
    if not rows:
        return []
    lines = []
    for module, unit_id in rows[:HOME_LIST_LIMIT]:
        unit = units[unit_id]
        local = module.starts_at.astimezone(ZoneInfo(unit.timezone or viewer.settings.timezone))
        kind_key = f"slack.home.module_kinds.{module.kind}"
        kind = viewer.t(kind_key) if module.kind in MODULE_KINDS else module.kind
        lines.append(
            viewer.t(
                "slack.home.module_line",
                number=module.number,
                kind=kind,
                when=local.strftime("%d.%m.%Y ") + clock(viewer.language, local.time()),
                unit=unit.name,
            )
        )
    return [Text(f"*{viewer.t('slack.home.course_title')}*"), Text("\n".join(lines))]


# The home tab, top to bottom.
SECTIONS: tuple[tuple[str, Section], ...] = (
    ("roles", roles_section),
    ("cases", cases_section),
    ("actions", actions_section),
    ("course", course_section),
)


def build_home(
    session: Session,
    settings: Settings,
    workspace: str,
    user_id: str,
    now: datetime,
    sections: Sequence[tuple[str, Section]] | None = None,
) -> list[Block]:
    """The home tab's neutral blocks for one person: ``sections`` (default :data:`SECTIONS`), in order."""
    organisation = session.scalar(
        select(Organisation).where(Organisation.platform == "slack", Organisation.external_id == workspace)
    )
    member = None
    if organisation is not None:
        member = session.scalar(
            select(Member).where(Member.organisation_id == organisation.id, Member.user_id == user_id)
        )
    home_unit = session.get(Unit, member.home_unit_id) if member and member.home_unit_id else None
    language = normalise_language(
        (member.language if member else None)
        or (home_unit.language if home_unit else None)
        or settings.language
    )
    viewer = HomeViewer(session, settings, organisation, member, user_id, language, now)
    blocks: list[Block] = [Header(viewer.t("slack.home.title")), Text(viewer.t("slack.home.intro"))]
    for name, section in SECTIONS if sections is None else sections:
        savepoint = session.begin_nested()
        try:
            part = list(section(viewer))
            savepoint.commit()
        except Exception:
            savepoint.rollback()
            log.exception("home section %s failed for %s/%s", name, workspace, user_id)
            continue
        if part:
            blocks.append(Divider())
            blocks.extend(part)
    blocks.extend([Divider(), Note(viewer.t("slack.home.help_hint"))])
    return blocks


def home_blocks_for(
    db: Database,
    settings: Settings,
    workspace: str,
    user_id: str,
    now: datetime,
    sections: Sequence[tuple[str, Section]] | None = None,
) -> list[Block]:
    with db.transaction() as session:
        return build_home(session, settings, workspace, user_id, now, sections)
