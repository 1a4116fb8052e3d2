"""duty of care: report decisions and emergency records

Revision ID: 0015_reports
Revises: 0014_wellbeing
Create Date: 2026-12-03 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_reports'
down_revision = '0014_wellbeing'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=12), nullable=False),
    sa.Column('owed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('reported_to', sa.String(length=40), nullable=True),
    sa.Column('reported_to_other', sa.String(length=200), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('not_required_why', sa.Text(), nullable=True),
    sa.Column('consulted_with', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('legal_hold', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_report_decisions_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_report_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_report_decisions_marked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_decisions')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_report_decisions_conversation_id'))
    )
    with op.batch_alter_table('report_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_report_decisions_open', ['decided_at', 'owed_at'], unique=False)

    op.create_table('emergency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('contacted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('legal_hold', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_emergency_records_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_emergency_records_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_records'))
    )
    with op.batch_alter_table('emergency_records', schema=None) as batch_op:
        batch_op.create_index('ix_emergency_records_conversation', ['conversation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('emergency_records', schema=None) as batch_op:
        batch_op.drop_index('ix_emergency_records_conversation')
    op.drop_table('emergency_records')
    with op.batch_alter_table('report_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_report_decisions_open')
    op.drop_table('report_decisions')
