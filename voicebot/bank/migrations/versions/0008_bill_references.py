"""bill references: the number a biller knows a bill by (a mobile number), so a caller can pay
the bill of a number they name; such a bill need not belong to one of the bank's customers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bills") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=20), nullable=True))
        batch.alter_column("customer_id", existing_type=sa.Integer(), nullable=True)
        batch.create_index("ix_bills_reference", ["reference"])


def downgrade() -> None:
    op.execute("DELETE FROM bills WHERE customer_id IS NULL")
    with op.batch_alter_table("bills") as batch:
        batch.drop_index("ix_bills_reference")
        batch.alter_column("customer_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("reference")
