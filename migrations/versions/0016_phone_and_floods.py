"""phone and floods: verified mobile numbers and their codes, the SMS outbox, campaigns that ask for a number,
network keys on votes and submissions, held votes, and flood groups

Only new tables, columns added with ALTER and new indexes: neither `users` nor `suggestions` is rebuilt.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 03:07:29.051622

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_number', sa.String(length=20), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_outbox'))
    )
    op.create_table('phone_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_phone_codes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_codes'))
    )
    with op.batch_alter_table('phone_codes', schema=None) as batch_op:
        batch_op.create_index('ix_phone_codes_number_created', ['number', 'created_at'], unique=False)
        batch_op.create_index('ix_phone_codes_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('verified_phones',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('verified_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_verified_phones_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_verified_phones')),
    sa.UniqueConstraint('number', name=op.f('uq_verified_phones_number'))
    )
    op.create_table('flood_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_at', sa.DateTime(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_flood_groups_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_flood_groups_decided_by_id_users')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_flood_groups_suggestion_id_suggestions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flood_groups'))
    )
    with op.batch_alter_table('flood_groups', schema=None) as batch_op:
        batch_op.create_index('ix_flood_groups_campaign', ['campaign_id'], unique=False)
        batch_op.create_index('ix_flood_groups_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_flood_groups_suggestion', ['suggestion_id'], unique=False)

    op.create_table('flood_submissions',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['flood_groups.id'], name=op.f('fk_flood_submissions_group_id_flood_groups')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_flood_submissions_suggestion_id_suggestions')),
    sa.PrimaryKeyConstraint('group_id', 'suggestion_id', name=op.f('pk_flood_submissions'))
    )
    with op.batch_alter_table('flood_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_flood_submissions_suggestion', ['suggestion_id'], unique=False)

    op.create_table('flood_votes',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['flood_groups.id'], name=op.f('fk_flood_votes_group_id_flood_groups')),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_flood_votes_vote_id_votes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'vote_id', name=op.f('pk_flood_votes'))
    )
    with op.batch_alter_table('flood_votes', schema=None) as batch_op:
        batch_op.create_index('ix_flood_votes_vote', ['vote_id'], unique=False)

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_to_submit', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('phone_to_vote', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_key', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_suggestions_created', ['created_at'], unique=False)

    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_key', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('held_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_votes_created_suggestion', ['created_at', 'suggestion_id'], unique=False)



def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch would rebuild `suggestions`, whose generated column
    # and foreign keys SQLite cannot copy.
    op.drop_index('ix_votes_created_suggestion', table_name='votes')
    op.drop_column('votes', 'held_at')
    op.drop_column('votes', 'network_key')
    op.drop_index('ix_suggestions_created', table_name='suggestions')
    op.drop_column('suggestions', 'network_key')
    op.drop_column('campaigns', 'phone_to_vote')
    op.drop_column('campaigns', 'phone_to_submit')
    op.drop_index('ix_flood_votes_vote', table_name='flood_votes')
    op.drop_table('flood_votes')
    op.drop_index('ix_flood_submissions_suggestion', table_name='flood_submissions')
    op.drop_table('flood_submissions')
    op.drop_index('ix_flood_groups_suggestion', table_name='flood_groups')
    op.drop_index('ix_flood_groups_status_created', table_name='flood_groups')
    op.drop_index('ix_flood_groups_campaign', table_name='flood_groups')
    op.drop_table('flood_groups')
    op.drop_table('verified_phones')
    op.drop_index('ix_phone_codes_user_created', table_name='phone_codes')
    op.drop_index('ix_phone_codes_number_created', table_name='phone_codes')
    op.drop_table('phone_codes')
    op.drop_table('sms_outbox')
