"""submissions

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 17:58:45.092026

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=11), nullable=False),
    sa.Column('draft_key', sa.String(length=43), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('questionnaire_version', sa.String(length=16), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('completed_steps', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('resume_token_hash', sa.String(length=64), nullable=True),
    sa.Column('resume_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resume_failures', sa.Integer(), nullable=False),
    sa.Column('score', sa.JSON(), nullable=True),
    sa.Column('rules_version', sa.String(length=64), nullable=True),
    sa.Column('routing', sa.String(length=16), nullable=True),
    sa.Column('score_history', sa.JSON(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('draft_key'),
    sa.UniqueConstraint('reference'),
    sa.UniqueConstraint('resume_token_hash')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_routing'), ['routing'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_submitted_at'), ['submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_urgent'), ['urgent'], unique=False)




def downgrade():

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_urgent'))
        batch_op.drop_index(batch_op.f('ix_submission_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_submission_status'))
        batch_op.drop_index(batch_op.f('ix_submission_routing'))

    op.drop_table('submission')

