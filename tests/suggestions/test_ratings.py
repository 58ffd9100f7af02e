"""The author rates each official reply once; "the problem is not solved" reopens the proposal once for a
second reply; satisfaction per body is public."""
import re

import pytest
import sqlalchemy as sa

from core.audit import AuditLog
from core.extensions import db
from core.workdays import add_working_days
from suggestions import services
from suggestions.deadlines import extend_deadline
from suggestions.models import Rating, Status
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

REPLY = "您好！经核查，该路段的路灯已列入本年度维修计划，预计下月完成更换。"


def replied(body=None):
    body = body or make_body(name="青溪县城市管理局")
    author = make_user()
    suggestion = make_suggestion(make_campaign(body), author)
    staff = make_staff(body)
    services.reply_to_suggestion(staff, suggestion, decision="adopted", content=REPLY)
    return suggestion, author, staff


def rate(client, suggestion, **data):
    return client.post(f"/suggestions/{suggestion.id}/rate", data=data)


def test_not_solved_reopens_once_and_only_once(app, client):
    suggestion, author, staff = replied()
    first_due = suggestion.reply_due_on
    login(client, author)
    page = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert "评价答复" in page
    response = rate(client, suggestion, satisfaction="unsatisfied", reasons=["not_solved", "too_slow"],
                    comment="路灯至今未修")
    assert response.status_code == 303
    db.session.expire_all()
    assert suggestion.status == Status.ACCEPTED and suggestion.reopened_at is not None
    assert suggestion.reply_due_on is not None and suggestion.reply_due_on >= first_due
    assert "已重新办理" in client.get(response.headers["Location"]).get_data(as_text=True)
    # The body replies a second time; the author is still not satisfied: no second reopening.
    services.reply_to_suggestion(staff, suggestion, decision="explained", content=REPLY + "已安排专人跟进。")
    db.session.commit()
    assert rate(client, suggestion, satisfaction="unsatisfied", reasons=["not_solved"]).status_code == 303
    db.session.expire_all()
    assert suggestion.status == Status.REPLIED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 2
    reopened = [a.detail["reopened"] for a in db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "reply.rate").order_by(AuditLog.id))]
    assert reopened == [True, False]


@pytest.mark.parametrize("case", ["not_author", "second_rating", "bad_level", "bad_reason", "no_reply"])
def test_bad_ratings_are_refused_and_write_nothing(app, client, case):
    suggestion, author, _staff = replied()
    data = {"satisfaction": "satisfied"}
    user, expected, message = author, 303, ""
    if case == "not_author":
        user, expected = make_user(), 403
    elif case == "second_rating":
        login(client, author)
        assert rate(client, suggestion, satisfaction="satisfied").status_code == 303
        message = "已经评价"
    elif case == "bad_level":
        data, expected, message = {"satisfaction": "delighted"}, 422, "请选择满意程度"
    elif case == "bad_reason":
        data = {"satisfaction": "unsatisfied", "reasons": ["bribery"]}
        message = "请从列表中选择理由"
    else:
        suggestion = make_suggestion(make_campaign(), author)
        message = "没有可评价的答复"
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Rating))
    login(client, user)
    response = rate(client, suggestion, **data)
    assert response.status_code == expected
    if message:
        page = client.get(response.headers["Location"]) if expected == 303 else response
        assert message in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == before


def test_satisfaction_per_body_is_public(app, client):
    body = make_body(name="青溪县城市管理局")
    for satisfaction in ("satisfied", "basically_satisfied", "unsatisfied", "satisfied"):
        suggestion, author, _staff = replied(body)
        login(client, author)
        assert rate(client, suggestion, satisfaction=satisfaction).status_code == 303
    client.post("/accounts/logout")
    page = app.test_client().get("/suggestions/timeliness").get_data(as_text=True)
    row = re.search(r"<td>青溪县城市管理局</td><td>(\d+)</td><td>(\d+)%</td>", page)
    assert row and row.groups() == ("4", "75")
    assert "满意" in app.test_client().get(f"/suggestions/{suggestion.id}").get_data(as_text=True)


def test_a_reopened_proposal_shows_one_deadline_history_in_order(app, client):
    """After a "not solved" rating the page showed 答复期限 2026-12-18 beside 延长至 2027-01-08 unexplained: the
    extension and the reopening now read as one history, oldest first, ending with the deadline in force."""
    body = make_body(name="青溪县城市管理局")
    author, staff = make_user(), make_staff(body)
    suggestion = make_suggestion(make_campaign(body), author)
    services.accept_suggestion(staff, suggestion)
    db.session.commit()
    extended_to = add_working_days(suggestion.reply_due_on, 5)
    extend_deadline(staff, suggestion, extended_to, "需会同水务公司现场勘查")
    services.reply_to_suggestion(staff, suggestion, decision="adopted", content=REPLY)
    db.session.commit()
    login(client, author)
    rate(client, suggestion, satisfaction="unsatisfied", reasons=["not_solved"])
    db.session.expire_all()
    html = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    history = re.sub(r"<[^>]+>", "", html[html.index('id="deadline-history"'):html.index("</ol>", html.index(
        'id="deadline-history"'))])
    extension_at, reopened_at = history.index("延长至"), history.index("重新办理")
    assert extension_at < reopened_at
    assert f"再次答复期限为 {suggestion.reply_due_on.isoformat()}" in history
    assert f"答复期限：{suggestion.reply_due_on.isoformat()}" in re.sub(r"<[^>]+>", "", html)
