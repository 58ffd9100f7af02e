"""accounts lifecycle: password-reset tokens, sensitive outbox messages, display names without login names

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 02:02:38.861001

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('password_reset_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_reset_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_tokens_token_hash'))
    )
    with op.batch_alter_table('password_reset_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_password_reset_tokens_user_created', ['user_id', 'created_at'], unique=False)

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sensitive', sa.Boolean(), server_default=sa.false(), nullable=False))

    # A display name may now be empty (the public name is then a pseudonym). Registration used to copy the
    # username into it, which showed login names publicly: those copies are cleared.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('display_name', existing_type=sa.String(length=40), existing_nullable=False,
                              server_default='')
    op.execute("UPDATE users SET display_name = '' WHERE display_name = username")


def downgrade():
    op.execute("UPDATE users SET display_name = username WHERE display_name = ''")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('display_name', existing_type=sa.String(length=40), existing_nullable=False,
                              server_default=None)

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('sensitive')

    with op.batch_alter_table('password_reset_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_password_reset_tokens_user_created')

    op.drop_table('password_reset_tokens')
