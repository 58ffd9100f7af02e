"""editions: a region's own portal (name, short name, colour, host name) on the one platform, and its operators
(issue 16)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 23:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'editions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('short_name', sa.String(length=20), nullable=False),
        sa.Column('name_en', sa.String(length=160), nullable=False),
        sa.Column('short_name_en', sa.String(length=40), nullable=False),
        sa.Column('colour', sa.String(length=7), nullable=False),
        sa.Column('host', sa.String(length=253), nullable=True),
        sa.Column('logo', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['code'], ['regions.code'], name=op.f('fk_editions_code_regions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_editions')),
        sa.UniqueConstraint('code', name=op.f('uq_editions_code')),
        sa.UniqueConstraint('host', name=op.f('uq_editions_host')),
    )
    op.create_table(
        'edition_operators',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('edition_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_edition_operators_user_id_users')),
        sa.ForeignKeyConstraint(['edition_id'], ['editions.id'],
                                name=op.f('fk_edition_operators_edition_id_editions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_edition_operators')),
        sa.UniqueConstraint('user_id', 'edition_id', name=op.f('uq_edition_operators_user_id_edition_id')),
    )
    op.create_index(op.f('ix_edition_operators_user_id'), 'edition_operators', ['user_id'])
    op.create_index(op.f('ix_edition_operators_edition_id'), 'edition_operators', ['edition_id'])


def downgrade():
    op.drop_table('edition_operators')
    op.drop_table('editions')
