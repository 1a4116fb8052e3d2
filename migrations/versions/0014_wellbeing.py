"""volunteer wellbeing: shift check-outs and debrief tasks

Revision ID: 0014_wellbeing
Revises: 0012_channel
Create Date: 2026-12-03 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_wellbeing'
down_revision = '0012_channel'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'shift_checkouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('feeling', sa.Integer(), nullable=False),
        sa.Column('wants_adult', sa.Boolean(), nullable=False),
        sa.Column('shift_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_shift_checkouts_user', 'shift_checkouts', ['user_id', 'id'])
    op.create_table(
        'debrief_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('checkout_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['volunteer_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['checkout_id'], ['shift_checkouts.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_debrief_tasks_open', 'debrief_tasks', ['done_at', 'id'])


def downgrade():
    op.drop_index('ix_debrief_tasks_open', table_name='debrief_tasks')
    op.drop_table('debrief_tasks')
    op.drop_index('ix_shift_checkouts_user', table_name='shift_checkouts')
    op.drop_table('shift_checkouts')
