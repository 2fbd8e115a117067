"""follow-up invitations, a patient's stop, outbox headers, a resume link's first use

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('infusion_id', sa.Integer(), nullable=False),
        sa.Column('after_days', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=True),
        sa.Column('draft_id', sa.Integer(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['infusion_id'], ['infusion.id']),
        sa.ForeignKeyConstraint(['draft_id'], ['submission.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_invitation_infusion_id', 'invitation', ['infusion_id'])
    op.create_index('ix_invitation_state_due', 'invitation', ['state', 'due_on'])
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitations_stopped_at', sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=True))
    with op.batch_alter_table('resume_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('used_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('resume_link', schema=None) as batch_op:
        batch_op.drop_column('used_at')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('headers')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_column('invitations_stopped_at')
    op.drop_index('ix_invitation_state_due', table_name='invitation')
    op.drop_index('ix_invitation_infusion_id', table_name='invitation')
    op.drop_table('invitation')
