"""regions: China's administrative divisions as data; a body's division and its name in pinyin (issue 16)

The divisions themselves are loaded by ``flask accounts load-regions`` (accounts/regions.py), not here: a migration
holds the schema, and the data file can be refreshed without a new revision. Existing bodies get their pinyin from
the application the next time their name is saved; ``load-regions`` fills it for all that lack it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 23:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'regions',
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('path', sa.String(length=80), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('parent_code', sa.String(length=12), nullable=True),
        sa.Column('name_en', sa.String(length=160), nullable=False),
        sa.Column('spelled', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['parent_code'], ['regions.code'], name=op.f('fk_regions_parent_code_regions')),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_regions')),
    )
    op.create_index(op.f('ix_regions_path'), 'regions', ['path'])
    op.create_index(op.f('ix_regions_parent_code'), 'regions', ['parent_code'])
    op.create_index(op.f('ix_regions_spelled'), 'regions', ['spelled'])
    with op.batch_alter_table('bodies') as batch:
        batch.add_column(sa.Column('region_code', sa.String(length=12), nullable=True))
        batch.add_column(sa.Column('spelled', sa.String(length=400), server_default='', nullable=False))
        batch.create_foreign_key(batch.f('fk_bodies_region_code_regions'), 'regions', ['region_code'], ['code'])
        batch.create_index(batch.f('ix_bodies_region_code'), ['region_code'])


def downgrade():
    with op.batch_alter_table('bodies') as batch:
        batch.drop_index(batch.f('ix_bodies_region_code'))
        batch.drop_constraint(batch.f('fk_bodies_region_code_regions'), type_='foreignkey')
        batch.drop_column('spelled')
        batch.drop_column('region_code')
    op.drop_table('regions')
