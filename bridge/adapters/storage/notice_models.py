"""The notices tables (issue 17): one row per notice to a membership's owner, pushed to the
plugin until it says it has it. On the same `Base` as every other row (`models.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.adapters.storage.models import Base


class NoticeRow(Base):
    """A notice: its stable id is the plugin's key against mailing twice."""

    __tablename__ = "notices"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    site_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_notices_unsent", "sent_at", "site_id"),)


class NoticeSwitchRow(Base):
    """The operator's switch for one kind of notice (console Settings); none: config.yaml's."""

    __tablename__ = "notice_switches"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    on: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
