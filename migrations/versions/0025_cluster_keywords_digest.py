"""clusters.keywords_digest: what a cluster's keywords were drawn from, so that a batch draws them again only when
its members' texts (or the way keywords are drawn) changed

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 01:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keywords_digest', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.drop_column('keywords_digest')
