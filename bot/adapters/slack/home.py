"""The App Home tab: my roles, my open cases, actions I own, the course schedule.

The home view is a list of sections, each a function that gets a :class:`HomeViewer` (database session,
who is looking, their language, now) and returns *neutral* blocks (:mod:`bot.chat.model`), so areas other
than Slack can add sections without Slack code:

* register with :func:`home_section` (``@home_section("cases", order=20)``), or
* define ``home_blocks(viewer) -> Sequence[Block]`` in a module listed in :data:`HOME_SECTION_MODULES`;
  a module that does not exist (yet) is skipped.

A section that fails is logged and left out: a half-written table elsewhere must not empty the whole tab.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.model import Block, Divider, Header, Note, Text
from bot.i18n import normalise_language, t
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import ROLES, Member, Membership, Organisation, RoleAssignment, Unit

log = logging.getLogger(__name__)

# Modules that may offer ``home_blocks(viewer)``: the toolbox (open cases, actions I own) and the course
# (schedule). Listed here so that adding a section needs no change in the Slack adapter beyond this line.
HOME_SECTION_MODULES: tuple[str, ...] = ("bot.toolbox.home", "bot.course.home")


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
_SECTIONS: list[tuple[int, str, Section]] = []


def home_section(name: str, order: int = 50) -> Callable[[Section], Section]:
    """Add a section to the home tab; lower ``order`` comes first (roles are 10)."""

    def register(func: Section) -> Section:
        _SECTIONS[:] = [s for s in _SECTIONS if s[1] != name]
        _SECTIONS.append((order, name, func))
        return func

    return register


def _discovered() -> list[tuple[int, str, Section]]:
    found: list[tuple[int, str, Section]] = []
    for index, module_name in enumerate(HOME_SECTION_MODULES):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that area has no home section (yet)
            log.exception("home section module %s failed to import", module_name)
            continue
        except Exception:
            log.exception("home section module %s failed to import", module_name)
            continue
        func = getattr(module, "home_blocks", None)
        if callable(func):
            found.append((int(getattr(module, "HOME_ORDER", 20 + index * 10)), module_name, func))
    return found


@home_section("roles", order=10)
def roles_section(viewer: HomeViewer) -> Sequence[Block]:
    blocks: list[Block] = [Text(f"*{viewer.t('slack.home.roles_title')}*")]
    units = viewer.units
    if viewer.member is None or not units:
        blocks.append(Text(viewer.t("slack.home.no_units")))
        return blocks
    lines = []
    for unit in units:
        roles = set(
            viewer.session.scalars(
                select(RoleAssignment.role).where(
                    RoleAssignment.unit_id == unit.id, RoleAssignment.member_id == viewer.member.id
                )
            )
        )
        names = ", ".join(viewer.t(f"roles.names.{r}") for r in ROLES if r in roles)
        lines.append(
            viewer.t("slack.home.role_line", unit=unit.name, roles=names or viewer.t("slack.home.no_role"))
        )
    blocks.append(Text("\n".join(lines)))
    return blocks


def build_home(
    session: Session, settings: Settings, workspace: str, user_id: str, now: datetime
) -> list[Block]:
    """The home tab's neutral blocks for one person."""
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
    for _order, name, section in sorted([*_SECTIONS, *_discovered()], key=lambda s: (s[0], s[1])):
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
    db: Database, settings: Settings, workspace: str, user_id: str, now: datetime
) -> list[Block]:
    with db.transaction() as session:
        return build_home(session, settings, workspace, user_id, now)
