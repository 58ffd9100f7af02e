"""Proposal services on real databases: submission, votes, status moves and their audit rows."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.audit import AuditLog
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from suggestions import services
from suggestions.models import Reply, Status, Suggestion, Vote
from tests.factories import make_body, make_campaign, make_category, make_staff, make_suggestion, make_user


def audit_actions(target) -> list[str]:
    return list(db.session.scalars(sa.select(AuditLog.action).where(
        AuditLog.target_type == target.__tablename__, AuditLog.target_id == target.id).order_by(AuditLog.id)))


def test_submit_publishes_and_audits(app):
    suggestion = make_suggestion()
    assert suggestion.status == Status.PUBLISHED
    assert suggestion.published_at is not None
    assert audit_actions(suggestion) == ["suggestion.submit"]


def test_screening_campaign_keeps_proposal_pending_until_published(app):
    body = make_body()
    campaign = make_campaign(body, screening=True)
    suggestion = make_suggestion(campaign)
    assert suggestion.status == Status.PENDING
    services.publish_suggestion(make_staff(body), suggestion)
    assert suggestion.status == Status.PUBLISHED
    assert audit_actions(suggestion) == ["suggestion.submit", "suggestion.publish"]


def test_submit_to_closed_campaign_is_refused(app):
    campaign = make_campaign(status="closed")
    with pytest.raises(Conflict):
        make_suggestion(campaign)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 0


def test_submit_with_category_of_another_campaign_is_refused(app):
    campaign = make_campaign()
    other = make_category("education", "教育文体", "Education")
    with pytest.raises(InvalidInput):
        services.submit_suggestion(make_user(), campaign, title="关于增设护学岗的建议", body="学校门口拥堵，建议增设护学岗。",
                                   category=other, message_type="suggestion")


def test_vote_is_changeable_and_withdrawable_with_one_row(app):
    suggestion = make_suggestion()
    voter = make_user()
    services.vote(voter, suggestion, 1)
    services.vote(voter, suggestion, 1)
    assert (suggestion.support_count, suggestion.oppose_count) == (1, 0)
    services.vote(voter, suggestion, -1)
    assert (suggestion.support_count, suggestion.oppose_count) == (0, 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
    services.withdraw_vote(voter, suggestion)
    assert (suggestion.support_count, suggestion.oppose_count) == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_oppose_refused_where_campaign_does_not_allow_it(app):
    suggestion = make_suggestion(make_campaign(allow_oppose=False))
    with pytest.raises(Conflict):
        services.vote(make_user(), suggestion, -1)


def test_author_cannot_vote_on_own_proposal(app):
    suggestion = make_suggestion()
    with pytest.raises(Conflict):
        services.vote(suggestion.author, suggestion, 1)


def test_database_refuses_a_second_vote_row(app):
    suggestion = make_suggestion()
    voter = make_user()
    db.session.add(Vote(suggestion_id=suggestion.id, user_id=voter.id, value=1))
    db.session.flush()
    db.session.add(Vote(suggestion_id=suggestion.id, user_id=voter.id, value=-1))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_reply_accepts_then_replies_then_closes_with_audit(app):
    body = make_body()
    staff = make_staff(body)
    suggestion = make_suggestion(make_campaign(body))
    services.reply_to_suggestion(staff, suggestion, decision="adopted", content="您好，您的建议已采纳，将于下月实施。")
    assert suggestion.status == Status.REPLIED
    assert suggestion.handling_body_id == body.id
    services.close_suggestion(staff, suggestion)
    assert suggestion.status == Status.CLOSED
    assert audit_actions(suggestion) == ["suggestion.submit", "suggestion.accept", "suggestion.reply",
                                         "suggestion.close"]
    reply = db.session.scalar(sa.select(Reply))
    assert reply.decision == "adopted" and reply.author_id == staff.id


def test_staff_of_another_body_cannot_reply(app):
    suggestion = make_suggestion(make_campaign(make_body()))
    outsider = make_staff(make_body())
    with pytest.raises(NotAllowed):
        services.reply_to_suggestion(outsider, suggestion, decision="adopted", content="您好，您的建议已采纳。谢谢！")
    assert suggestion.status == Status.PUBLISHED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reply)) == 0


def test_hide_and_unhide_restore_previous_status(app):
    body = make_body()
    suggestion = make_suggestion(make_campaign(body))
    services.accept_suggestion(make_staff(body), suggestion)
    moderator = make_user(role="moderator")
    services.hide_suggestion(moderator, suggestion, "含有个人信息")
    assert suggestion.status == Status.HIDDEN
    services.unhide_suggestion(moderator, suggestion)
    assert suggestion.status == Status.ACCEPTED


def test_recount_rebuilds_counters_from_vote_rows(app):
    suggestion = make_suggestion()
    for _ in range(3):
        services.vote(make_user(), suggestion, 1)
    suggestion.support_count = 99
    db.session.flush()
    assert services.recount_votes() == 1
    assert suggestion.support_count == 3


def test_votes_close_with_the_campaign(app):
    campaign = make_campaign()
    suggestion = make_suggestion(campaign)
    with pytest.raises(Conflict):
        services.vote(make_user(), suggestion, 1, now=utcnow() + timedelta(days=31))


def test_votes_cannot_be_withdrawn_after_the_campaign_closes(app):
    suggestion = make_suggestion(make_campaign())
    voter = make_user()
    services.vote(voter, suggestion, 1)
    with pytest.raises(Conflict):
        services.withdraw_vote(voter, suggestion, now=utcnow() + timedelta(days=31))
    assert suggestion.support_count == 1
