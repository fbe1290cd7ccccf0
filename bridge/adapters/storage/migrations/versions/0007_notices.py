"""notices to the membership's owner and the operator's switches (issue 17)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 04:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.adapters.storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "sent_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_notices_membership_id_memberships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index(op.f("ix_notices_membership_id"), "notices", ["membership_id"], unique=False)
    op.create_index("ix_notices_unsent", "notices", ["sent_at", "site_id"], unique=False)
    op.create_table(
        "notice_switches",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("on", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_notice_switches")),
    )


def downgrade() -> None:
    op.drop_table("notice_switches")
    op.drop_index("ix_notices_unsent", table_name="notices")
    op.drop_index(op.f("ix_notices_membership_id"), table_name="notices")
    op.drop_table("notices")
