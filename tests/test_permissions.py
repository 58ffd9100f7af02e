"""The role × action matrix: every staff and moderation action, tried by every kind of user.

Allowed cells change the state and write an audit row naming the actor; refused cells answer 403
(or send an anonymous visitor to the login page) and change nothing.
"""
import pytest
import sqlalchemy as sa

from accounts import regions
from accounts.models import Body, Membership
from campaigns.models import Campaign
from core.audit import AuditLog
from core.extensions import db
from demo.catalogue import DIVISIONS
from editions.services import add_operator, all_editions, create_edition
from moderation import services as moderation_services
from moderation.models import Report
from suggestions import services
from suggestions.models import Reply, Suggestion
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_category, make_staff, make_suggestion, make_user

ROLES = ["anonymous", "citizen", "author", "staff_own_body", "manager_own_body", "staff_other_body",
         "manager_other_body", "operator_own_edition", "operator_other_edition", "moderator", "admin"]
CAMPAIGN_ACTIONS = ["create_campaign", "edit_campaign", "open_campaign", "close_campaign", "archive_campaign"]
BODY_ACTIONS = ["add_member", "add_body"]  # a body's staff, and a new body in the region (issue 16: editions)
PROPOSAL_ACTIONS = ["publish", "reject", "accept", "reply", "close_proposal"]
MODERATION_ACTIONS = ["hide", "unhide"]
# The moderation queue's buttons (POST /moderation/decide with one item).
QUEUE_ACTIONS = ["queue_publish", "queue_reject", "queue_hide", "queue_restore", "queue_dismiss"]

ALLOWED = {
    # An edition's operators run the campaigns and staff of every body in its region, and add bodies there;
    # they do not handle proposals (that takes a place in the body's staff).
    **{a: {"manager_own_body", "operator_own_edition", "admin"} for a in CAMPAIGN_ACTIONS + ["add_member"]},
    "add_body": {"operator_own_edition", "admin"},
    **{a: {"staff_own_body", "manager_own_body", "admin"} for a in PROPOSAL_ACTIONS},
    # Screening decisions: the campaign body's staff, and moderators (pre-moderation queues).
    **{a: {"staff_own_body", "manager_own_body", "moderator", "admin"}
       for a in ("publish", "reject", "queue_publish", "queue_reject")},
    **{a: {"moderator", "admin"} for a in MODERATION_ACTIONS + ["queue_hide", "queue_restore", "queue_dismiss"]},
}


def _setup(action: str, body, staff_own):
    """Build the state the action needs; return (url, form data, a function reading the state)."""
    if action == "add_member":
        newcomer = make_user()
        return (f"/accounts/bodies/{body.id}/staff", {"username": newcomer.username, "role": "staff"},
                lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Membership)))
    if action == "add_body":
        data = {"body-name": "青溪县数据局", "body-kind": "department", "body-level": "county",
                "body-region": "江南省临川市青溪县"}
        return "/r/990100/bodies", data, lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Body))
    if action == "create_campaign":
        category = make_category()
        data = {"body_id": body.id, "title": "县城停车难问题建议征集", "categories": [category.id],
                "opens_at": "2026-01-01T09:00", "closes_at": "2027-01-01T09:00", "open_now": "y"}
        return "/campaigns/new", data, lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Campaign))
    if action == "edit_campaign":
        campaign = make_campaign(body)
        data = {"title": "改过的标题", "categories": [c.id for c in campaign.categories], "opens_at": "2026-01-01T09:00"}
        return f"/campaigns/{campaign.id}/edit", data, lambda: db.session.get(Campaign, campaign.id).title
    if action in ("open_campaign", "close_campaign", "archive_campaign"):
        status = {"open_campaign": "draft", "close_campaign": "open", "archive_campaign": "closed"}[action]
        campaign = make_campaign(body, status=status)
        verb = action.split("_")[0]
        return f"/campaigns/{campaign.id}/{verb}", {}, lambda: db.session.get(Campaign, campaign.id).status
    if action.startswith("queue_"):
        return _setup_queue(action, body)
    campaign = make_campaign(body, screening=(action == "publish"))
    suggestion = make_suggestion(campaign)
    if action == "close_proposal":
        services.reply_to_suggestion(staff_own, suggestion, decision="explained", content="您好，已按规定办理，特此说明。")
    if action == "unhide":
        services.hide_suggestion(make_user(role="moderator"), suggestion, "测试隐藏")
    verb = {"close_proposal": "close"}.get(action, action)
    data = {"reject-reason": "off_topic", "hide-reason": "包含他人电话号码",
            "decision": "adopted", "content": "您好，您的建议已采纳，我们将于下月组织实施。"}

    def state():
        s = db.session.get(Suggestion, suggestion.id)
        return s.status, db.session.scalar(sa.select(sa.func.count()).select_from(Reply))
    return f"/suggestions/{suggestion.id}/{verb}", data, state


def _setup_queue(action: str, body):
    verb = action.removeprefix("queue_")
    campaign = make_campaign(body, screening=verb in ("publish", "reject"))
    suggestion = make_suggestion(campaign)
    if verb in ("hide", "dismiss"):
        moderation_services.report(make_user(), suggestion, "abusive")
    if verb == "restore":
        moderation_services.hide(make_user(role="moderator"), suggestion, "测试隐藏")

    def state():
        s = db.session.get(Suggestion, suggestion.id)
        return s.status, db.session.scalar(sa.select(sa.func.count()).select_from(Report)
                                           .where(Report.resolved_at.is_(None)))
    item = f"suggestions-{suggestion.id}"  # a single decision takes the reason given for its own item
    return "/moderation/decide", {"single": f"{verb}:{item}", f"reject_reason-{item}": "off_topic"}, state


def _user_for(role: str, body, other_body, staff_own, author):
    makers = {"anonymous": lambda: None, "citizen": make_user, "author": lambda: author,
              "staff_own_body": lambda: staff_own, "manager_own_body": lambda: make_staff(body, role="manager"),
              "staff_other_body": lambda: make_staff(other_body),
              "manager_other_body": lambda: make_staff(other_body, role="manager"),
              "operator_own_edition": lambda: _operator(body), "operator_other_edition": lambda: _operator(other_body),
              "moderator": lambda: make_user(role="moderator"), "admin": lambda: make_user(role="admin")}
    return makers[role]()


def _editions():
    """The demo's fictional province with two local editions: 临川 (the body's) and 云岭 (the other body's)."""
    regions.load_divisions(DIVISIONS)
    for code, name in (("990100", "临川市人民建议征集平台"), ("990200", "云岭市民意直通车")):
        create_edition(None, code=code, name=name, short_name=name[:2])


def _operator(body):
    """An operator of the edition ``body`` lies in."""
    user = make_user()
    edition = next(e for e in all_editions() if body.region_code.startswith(e.prefix))
    add_operator(None, edition, user)
    return user


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", CAMPAIGN_ACTIONS + BODY_ACTIONS + PROPOSAL_ACTIONS + MODERATION_ACTIONS
                         + QUEUE_ACTIONS)
def test_role_action_matrix(client, action, role):
    _editions()
    body, other_body = make_body(region="江南省临川市青溪县"), make_body(region="江南省云岭市丰源县")
    staff_own = make_staff(body)
    url, data, state = _setup(action, body, staff_own)
    latest = db.session.scalar(sa.select(Suggestion).order_by(Suggestion.id.desc()).limit(1))
    author = latest.author if latest is not None and "/campaigns" not in url else make_user()
    actor = _user_for(role, body, other_body, staff_own, author)
    db.session.commit()
    if actor is not None:
        login(client, actor)
    before_state = state()
    before_audit = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))

    response = client.post(url, data=data)
    db.session.expire_all()

    if role in ALLOWED[action]:
        assert response.status_code == 303, response.get_data(as_text=True)[:800]
        assert state() != before_state
        last = db.session.scalar(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
        assert last.actor_id == actor.id
    else:
        if actor is None:
            assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
        elif action in ("publish", "unhide") and role in ("citizen", "staff_other_body", "manager_other_body",
                                                           "operator_own_edition", "operator_other_edition"):
            # A pending or hidden proposal is invisible to them: 404, so its existence does not leak.
            assert response.status_code == 404
        else:
            assert response.status_code == 403, response.get_data(as_text=True)[:800]
        assert state() == before_state
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == before_audit


# --- staff who lose their rights: demoted, removed from the body, deactivated --------------------------------------
#
# A body manager is logged in (their session works), then someone else demotes them to citizen, removes them from
# the body, or deactivates their account. Their very next request, from the same browser, is refused and changes
# nothing; a deactivated account's API token stops working too, while a demoted or removed person keeps what every
# citizen may do (supporting a proposal through the API).

CHANGES = ["demoted", "removed", "deactivated"]
FORMER_STAFF_ACTIONS = ["inbox", "staff_page", "create_campaign", "edit_campaign", "close_campaign", "publish",
                        "accept", "reply", "api_support"]


def _take_rights_away(app, change: str, body, former, manager, admin) -> None:
    """The change, made through the pages by an administrator or another manager of the body."""
    other = app.test_client()
    if change == "demoted":
        login(other, admin)
        response = other.post(f"/accounts/admin/users/{former.id}/role", data={"role": "citizen"})
    elif change == "removed":
        login(other, manager)
        membership = former.memberships[0]
        response = other.post(f"/accounts/bodies/{body.id}/staff/{membership.id}/remove")
    else:
        login(other, admin)
        response = other.post(f"/accounts/admin/users/{former.id}/deactivate", data={"reason": "调离岗位"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("action", FORMER_STAFF_ACTIONS)
def test_former_staff_are_refused_at_their_next_request(app, client, change, action):
    from tests.api.helpers import api_post, make_token

    body = make_body()
    former = make_staff(body, role="manager")
    manager, admin = make_staff(body, role="manager"), make_user(role="admin")
    secret = make_token(former)
    if action == "api_support":
        target = make_suggestion(make_campaign(body))
        url, data = f"/api/v1/proposals/{target.id}/support", None

        def state():
            return db.session.get(Suggestion, target.id).support_count
    elif action in ("inbox", "staff_page"):
        url, data = {"inbox": "/suggestions/inbox", "staff_page": f"/accounts/bodies/{body.id}/staff"}[action], None

        def state():
            return None
    else:
        url, data, state = _setup({"close_campaign": "close_campaign"}.get(action, action), body, former)
    db.session.commit()
    login(client, former)
    assert client.get("/suggestions/inbox").status_code == 200  # the session works before the change

    _take_rights_away(app, change, body, former, manager, admin)
    db.session.expire_all()
    before_state = state()
    before_audit = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))

    if action == "api_support":
        response = api_post(client, url, secret)
    elif data is None:
        response = client.get(url)
    else:
        response = client.post(url, data=data)
    db.session.expire_all()

    if action == "api_support" and change != "deactivated":
        assert response.status_code == 200  # still a citizen: supporting stays open to them
        assert state() == before_state + 1
        return
    if action == "api_support":
        assert response.status_code == 401
    elif change == "deactivated":  # every request of a deactivated account is anonymous
        assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    elif action == "publish":  # a pending proposal is invisible to a citizen: 404, so its existence does not leak
        assert response.status_code == 404
    else:
        assert response.status_code == 403, response.get_data(as_text=True)[:800]
    assert state() == before_state
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == before_audit


def test_a_demoted_moderator_can_no_longer_hide(app, client):
    moderator, admin = make_user(role="moderator"), make_user(role="admin")
    suggestion = make_suggestion()
    db.session.commit()
    login(client, moderator)
    other = login(app.test_client(), admin)
    assert other.post(f"/accounts/admin/users/{moderator.id}/role", data={"role": "citizen"}).status_code == 303
    response = client.post(f"/suggestions/{suggestion.id}/hide", data={"hide-reason": "包含他人电话号码"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "published"
