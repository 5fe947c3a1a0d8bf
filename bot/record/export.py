"""``partsbot export``: the HMS record of one unit as a file, for the operator or the leader's archive."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import normalise_language
from bot.record import hms
from bot.record.files import Format, write
from bot.storage.db import Database
from bot.storage.models import Unit


class UnitNotFound(LookupError):
    """The unit reference matches no unit, or several."""


def find_unit(session: Session, ref: str) -> Unit:
    """A unit by its id, or by its exact name when that name is unique."""
    if ref.isdigit():
        unit = session.get(Unit, int(ref))
        if unit is None:
            raise UnitNotFound(f"no unit with id {ref}")
        return unit
    found = list(session.scalars(select(Unit).where(Unit.name == ref).order_by(Unit.id)))
    if not found:
        raise UnitNotFound(f"no unit is called {ref!r}")
    if len(found) > 1:
        ids = ", ".join(str(u.id) for u in found)
        raise UnitNotFound(f"several units are called {ref!r} (ids {ids}); give the id")
    return found[0]


def export_unit(
    db: Database,
    ref: str,
    fmt: Format,
    out: Path,
    *,
    language: str | None = None,
    for_trio: bool = False,
    now: datetime | None = None,
) -> Path:
    """Write the record of the unit ``ref`` to ``out`` (a folder or a file name) and return the path."""
    moment = now or datetime.now(UTC)
    with db.transaction() as session:
        unit = find_unit(session, ref)
        unit_id = unit.id
        lang = normalise_language(language or unit.language)
        record = hms.collect(session, unit, moment, lang, for_trio=for_trio)
    if out.is_dir():
        out = out / f"hms-{unit_id}-{moment.astimezone(UTC):%Y%m%d}.{fmt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    return write(record, fmt, out)
