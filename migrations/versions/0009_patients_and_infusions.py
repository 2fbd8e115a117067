"""patients grouping submissions, infusions, staff's links and merges

Every submitted intake is placed by the rule a new one follows: it joins the patient its
date of birth, names (without case or accents, trimmed) and phone match exactly, else it
starts a new one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 07:00:00.000000

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _name_key(name):
    if not name or not name.strip():
        return None
    decomposed = unicodedata.normalize('NFKD', name.strip().casefold())
    return ''.join(c for c in decomposed if not unicodedata.combining(c))[:100]


def upgrade():
    op.create_table(
        'patient',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dob', sa.String(length=10), nullable=True),
        sa.Column('first_key', sa.String(length=100), nullable=True),
        sa.Column('last_key', sa.String(length=100), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('baseline_id', sa.Integer(), nullable=True),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['merged_into_id'], ['patient.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_patient_match', 'patient', ['dob', 'last_key', 'first_key', 'phone'])
    op.create_table(
        'infusion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('given_on', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id']),
        sa.ForeignKeyConstraint(['recorded_by'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_infusion_patient_id', 'infusion', ['patient_id'])
    op.create_table(
        'patient_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('moved', sa.JSON(), nullable=False),
        sa.Column('to_patient_id', sa.Integer(), nullable=False),
        sa.Column('made_by', sa.Integer(), nullable=True),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['made_by'], ['staff_user.id']),
        sa.ForeignKeyConstraint(['to_patient_id'], ['patient.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_patient_change_to_patient_id', 'patient_change', ['to_patient_id'])
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_submission_patient_id', ['patient_id'])
        batch_op.create_foreign_key('fk_submission_patient_id', 'patient', ['patient_id'],
                                    ['id'])
    _place_submitted_intakes()


def _place_submitted_intakes():
    bind = op.get_bind()
    submission = sa.table('submission', sa.column('id', sa.Integer),
                          sa.column('questionnaire', sa.String),
                          sa.column('answers', sa.JSON), sa.column('patient_id', sa.Integer),
                          sa.column('submitted_at', sa.DateTime))
    patient = sa.table('patient', sa.column('id', sa.Integer), sa.column('dob', sa.String),
                       sa.column('first_key', sa.String), sa.column('last_key', sa.String),
                       sa.column('phone', sa.String), sa.column('created_at', sa.DateTime))
    rows = bind.execute(sa.select(submission.c.id, submission.c.answers)
                        .where(submission.c.submitted_at.is_not(None),
                               submission.c.questionnaire == 'intake')
                        .order_by(submission.c.submitted_at, submission.c.id)).all()
    placed = {}
    for row_id, answers in rows:
        key = (answers.get('dob'), _name_key(answers.get('first_name')),
               _name_key(answers.get('last_name')), answers.get('phone'))
        patient_id = placed.get(key) if all(key) else None
        if patient_id is None:
            patient_id = bind.execute(patient.insert().values(
                dob=key[0], first_key=key[1], last_key=key[2], phone=key[3],
                created_at=sa.func.now()).returning(patient.c.id)).scalar_one()
            if all(key):
                placed[key] = patient_id
        bind.execute(submission.update().where(submission.c.id == row_id)
                     .values(patient_id=patient_id))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint('fk_submission_patient_id', type_='foreignkey')
        batch_op.drop_index('ix_submission_patient_id')
        batch_op.drop_column('patient_id')
    op.drop_index('ix_patient_change_to_patient_id', table_name='patient_change')
    op.drop_table('patient_change')
    op.drop_index('ix_infusion_patient_id', table_name='infusion')
    op.drop_table('infusion')
    op.drop_index('ix_patient_match', table_name='patient')
    op.drop_table('patient')
