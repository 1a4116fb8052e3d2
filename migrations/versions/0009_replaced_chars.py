"""messages.replaced_chars: characters of a texter's text that could not be stored and were replaced

Revision ID: 0009_replaced_chars
Revises: 0008_sessions
Create Date: 2026-12-03 13:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_replaced_chars'
down_revision = '0008_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaced_chars', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('replaced_chars')
