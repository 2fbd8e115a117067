"""staff

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 18:22:45.826823

"""
import json
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('object', sa.String(length=128), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('hmac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    audit_head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('hmac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # The one head row the appenders lock.
    op.bulk_insert(audit_head, [{'id': 1, 'count': 0, 'hmac': ''}])
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.JSON(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('submission_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=True),
    sa.Column('flag_code', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('submission_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_event_submission_id'), ['submission_id'], unique=False)

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_rank', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('first_name_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('last_name_key', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_submission_first_name_key'), ['first_name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_last_name_key'), ['last_name_key'], unique=False)
        batch_op.create_index('ix_submission_queue', ['queue_rank', 'submitted_at', 'id'], unique=False)

    # Rows stored before this revision get their worklist rank and name keys.
    rank = {'URGENT': 0, 'HOLD': 1, 'REVIEW-FLAGS': 2, 'REVIEW-NO-FLAGS': 3}
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, answers, routing, urgent FROM submission")).mappings().all()
    for row in rows:
        answers = row['answers']
        if isinstance(answers, str):
            answers = json.loads(answers)
        connection.execute(sa.text(
            "UPDATE submission SET queue_rank = :rank, first_name_key = :first, "
            "last_name_key = :last WHERE id = :id"), {
            'id': row['id'],
            'rank': rank.get(row['routing'], 0 if row['urgent'] else None),
            'first': _name_key(answers.get('first_name')),
            'last': _name_key(answers.get('last_name')),
        })


def _name_key(name):
    """As models.name_key was when this revision was written."""
    if not name:
        return None
    decomposed = unicodedata.normalize('NFKD', name.casefold())
    return ''.join(c for c in decomposed if not unicodedata.combining(c))[:100]




def downgrade():

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_queue')
        batch_op.drop_index(batch_op.f('ix_submission_last_name_key'))
        batch_op.drop_index(batch_op.f('ix_submission_first_name_key'))
        batch_op.drop_column('last_name_key')
        batch_op.drop_column('first_name_key')
        batch_op.drop_column('queue_rank')

    with op.batch_alter_table('submission_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_event_submission_id'))

    op.drop_table('submission_event')
    op.drop_table('staff_user')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')

