"""spool_erasures: texters erased while texts of theirs may still wait in a spool

Revision ID: 0016_spool_erasures
Revises: 0015_reports
Create Date: 2026-12-03 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_spool_erasures'
down_revision = '0015_reports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'spool_erasures',
        sa.Column('texter_key', sa.String(length=64), nullable=False),
        sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('texter_key'),
    )


def downgrade():
    op.drop_table('spool_erasures')
