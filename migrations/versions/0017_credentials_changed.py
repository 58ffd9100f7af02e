"""credentials changed: a credentials version on users, and the version each API token was made under

A password change or reset, or a deactivation, moves `users.credentials_version` on; a token works only while
it carries the user's current one (api/tokens.py). Existing rows start at 0 on both sides, so every token that
works before the upgrade works after it. Only columns added with ALTER: neither table is rebuilt.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credentials_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credentials_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch would rebuild `users`, which most tables refer to.
    op.drop_column('api_tokens', 'credentials_version')
    op.drop_column('users', 'credentials_version')
