"""import batches and the remembered id mapping (bridge import ultimate-multisite)

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-01 03:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.adapters.storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("network", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("catalog_before", sa.Integer(), nullable=True),
        sa.Column("catalog_after", sa.Integer(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "undone_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "import_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("last_batch_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("bridge_id", sa.String(length=100), nullable=False),
        sa.Column("written", sa.JSON(), nullable=False),
        sa.Column("written_version", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_import_records_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_records")),
    )
    op.create_index(
        op.f("ix_import_records_batch_id"), "import_records", ["batch_id"], unique=False
    )
    op.create_index(
        "uq_import_records_source_kind_source_id",
        "import_records",
        ["source", "kind", "source_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_import_records_source_kind_source_id", table_name="import_records")
    op.drop_index(op.f("ix_import_records_batch_id"), table_name="import_records")
    op.drop_table("import_records")
    op.drop_table("import_batches")
