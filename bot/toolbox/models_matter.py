"""Confidential matters: what a staff member tells the verneombud (or a tillitsvalgt) alone.

Forskrift om organisering, ledelse og medvirkning § 3-17: what staff tell the verneombud must not reach
the leader without consent. A matter is seen by its starter and by the holders of the chosen role in its
unit, nobody else; the representative may bring it to the trio as a parties-only case, without the
starter's name unless the starter agreed (``name_shared``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow
from bot.storage.personal import declare


class Matter(Base):
    __tablename__ = "confidential_matter"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    # verneombud or tillitsvalgt: whose holders in the unit see it.
    to_role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    name_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # The parties-only case it was brought to, if any.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("toolbox_case.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatterNote(Base):
    """A private answer in a matter, by its starter or a representative."""

    __tablename__ = "confidential_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(
        ForeignKey("confidential_matter.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# What these tables hold about a person, and what erasure does with it (bot/storage/personal.py).
declare(Matter, "started_by_id", "reassign", "matters")
declare(MatterNote, "author_id", "reassign", "texts")
