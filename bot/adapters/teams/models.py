"""Teams' own table: files waiting for a person's consent.

A bot can put a file into a Teams personal chat only after the person accepts a file-consent card (Teams
then gives an upload URL in their OneDrive). Until they answer, the file waits here – bytes and all, never
in the card – and it is deleted as soon as they accept (after the upload) or decline, or when it is older
than :data:`bot.adapters.teams.files.KEEP`. ``platform``/``workspace``/``user_id`` make erasure of the
person remove it too (bot/storage/personal.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class TeamsPendingFile(Base):
    __tablename__ = "teams_pending_file"
    __table_args__ = (Index("ix_teams_pending_file_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), default="teams")
    workspace: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(128))
    # A random token the consent card carries: the row id alone would be guessable.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
