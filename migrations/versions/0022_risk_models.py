"""risk_models and shadow_scores: models retrained on the line's labels, shadow scoring, promotion

Revision ID: 0022_risk_models
Revises: 0021_risk_labels
Create Date: 2026-12-04 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_risk_models'
down_revision = '0021_risk_labels'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'risk_models',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.Column('trained_on', sa.JSON(), nullable=False),
        sa.Column('evaluation', sa.JSON(), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_risk_models_live', 'risk_models', ['status'], unique=True,
                    sqlite_where=sa.text("status = 'live'"), postgresql_where=sa.text("status = 'live'"))
    op.create_index('uq_risk_models_shadow', 'risk_models', ['status'], unique=True,
                    sqlite_where=sa.text("status = 'shadow'"), postgresql_where=sa.text("status = 'shadow'"))
    op.create_table(
        'shadow_scores',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('model_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=10), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('probability', sa.Float(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['model_id'], ['risk_models.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id', 'model_id', name='uq_shadow_scores_message_model'),
    )
    op.create_index('ix_shadow_scores_model', 'shadow_scores', ['model_id'], unique=False)


def downgrade():
    op.drop_index('ix_shadow_scores_model', table_name='shadow_scores')
    op.drop_table('shadow_scores')
    op.drop_index('uq_risk_models_shadow', table_name='risk_models')
    op.drop_index('uq_risk_models_live', table_name='risk_models')
    op.drop_table('risk_models')
