"""risk_labels: adults' "needed an adult now" / "false alarm" on messages and conversations

Revision ID: 0021_risk_labels
Revises: 0020_languages
Create Date: 2026-12-04 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_risk_labels'
down_revision = '0020_languages'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'risk_labels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('verdict', sa.String(length=12), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_risk_labels_conversation', 'risk_labels', ['conversation_id'], unique=False)
    op.create_index('uq_risk_labels_message', 'risk_labels', ['message_id'], unique=True,
                    sqlite_where=sa.text('message_id IS NOT NULL'), postgresql_where=sa.text('message_id IS NOT NULL'))
    op.create_index('uq_risk_labels_conversation', 'risk_labels', ['conversation_id'], unique=True,
                    sqlite_where=sa.text('message_id IS NULL'), postgresql_where=sa.text('message_id IS NULL'))


def downgrade():
    op.drop_index('uq_risk_labels_conversation', table_name='risk_labels')
    op.drop_index('uq_risk_labels_message', table_name='risk_labels')
    op.drop_index('ix_risk_labels_conversation', table_name='risk_labels')
    op.drop_table('risk_labels')
