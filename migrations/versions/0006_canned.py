"""saved replies (canned responses); transfer notes (kind, recipient) on conversation notes

Revision ID: 0006_canned
Revises: 0005_console
Create Date: 2026-11-25 11:44:01.038368

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_canned'
down_revision = '0005_console'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('canned_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_canned_responses_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_responses')),
    sa.UniqueConstraint('title', name=op.f('uq_canned_responses_title'))
    )
    with op.batch_alter_table('conversation_notes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), server_default='whisper', nullable=False))
        batch_op.add_column(sa.Column('recipient_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_conversation_notes_recipient_id_users'), 'users', ['recipient_id'], ['id'])



def downgrade():
    with op.batch_alter_table('conversation_notes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_conversation_notes_recipient_id_users'), type_='foreignkey')
        batch_op.drop_column('recipient_id')
        batch_op.drop_column('kind')

    op.drop_table('canned_responses')
