"""A proposal form or API submission sent again (its answer lost to a restart, a timeout, a killed worker) finds the
proposal its first sending saved: one row, and the author is shown that proposal. A request that fails after its
write was committed is answered "saved", never "Nothing was saved"."""
import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.web import saved_then
from suggestions.models import Suggestion
from tests.api.helpers import api_post, bearer, make_token
from tests.conftest import login
from tests.factories import make_campaign, make_category, make_user

FORM = {"title": "建议在锦绣华庭小区增设停车位", "body": "锦绣华庭小区车位严重不足，建议建设立体停车场。", "category": "transport",
        "message_type": "suggestion"}


def proposals_titled(title: str) -> list[Suggestion]:
    return list(db.session.scalars(sa.select(Suggestion).where(Suggestion.title == title)))


def form_key(client, campaign_id: int) -> str:
    page = client.get(f"/suggestions/new/{campaign_id}").get_data(as_text=True)
    return re.search(r'name="submission_key"[^>]*value="([^"]+)"', page).group(1)


def test_the_same_form_sent_twice_saves_one_proposal_and_shows_it(app, client):
    campaign = make_campaign()
    login(client, make_user())
    key = form_key(client, campaign.id)
    assert key != form_key(client, campaign.id)  # every form shown gets its own key

    first = client.post(f"/suggestions/new/{campaign.id}", data={**FORM, "submission_key": key})
    again = client.post(f"/suggestions/new/{campaign.id}", data={**FORM, "submission_key": key})
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    [saved] = proposals_titled(FORM["title"])
    assert first.headers["Location"].endswith(f"/suggestions/{saved.id}") and saved.submission_key == key
    assert "这条建议此前已经收到" in client.get(again.headers["Location"]).get_data(as_text=True)

    other_form = client.post(f"/suggestions/new/{campaign.id}",
                             data={**FORM, "submission_key": form_key(client, campaign.id)})
    assert other_form.status_code == 303 and len(proposals_titled(FORM["title"])) == 2  # a new form is a new one


def test_a_sending_that_loses_the_race_gets_the_first_one_and_its_transaction_stays_usable(app):
    """Two sendings at once both pass the lookup; the unique key refuses the second's row inside a savepoint, so
    it learns which proposal was saved and the rest of its transaction is untouched."""
    from suggestions import services

    campaign, author = make_campaign(), make_user()
    category = campaign.categories[0]
    first = services.submit_suggestion(author, campaign, title=FORM["title"], body=FORM["body"], category=category,
                                       message_type="suggestion", submission_key="race-key-0001")
    db.session.commit()
    with pytest.raises(services.AlreadySubmitted) as sent:
        services.submit_suggestion(author, campaign, title=FORM["title"], body=FORM["body"], category=category,
                                   message_type="suggestion", submission_key="race-key-0001")
    assert sent.value.suggestion.id == first.id
    db.session.commit()  # nothing half-written to roll back: the transaction is still open and clean
    assert [s.id for s in proposals_titled(FORM["title"])] == [first.id]


def test_another_author_with_the_same_key_saves_their_own(app, client):
    campaign = make_campaign()
    login(client, make_user())
    assert client.post(f"/suggestions/new/{campaign.id}", data={**FORM, "submission_key": "k" * 24}).status_code == 303
    login(client, make_user())
    assert client.post(f"/suggestions/new/{campaign.id}", data={**FORM, "submission_key": "k" * 24}).status_code == 303
    assert len(proposals_titled(FORM["title"])) == 2


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "<script>", "键" * 20, "a b c d e f g h"])
def test_a_made_up_key_is_ignored_not_refused(app, client, key):
    campaign = make_campaign()
    login(client, make_user())
    response = client.post(f"/suggestions/new/{campaign.id}", data={**FORM, "submission_key": key})
    assert response.status_code == 303
    [saved] = proposals_titled(FORM["title"])
    assert saved.submission_key is None


def test_an_api_submission_sent_again_with_its_idempotency_key_answers_the_saved_one(app, client):
    campaign = make_campaign()
    make_category()
    secret = make_token(make_user())
    db.session.commit()
    body = {"campaign_id": campaign.id, **FORM}
    headers = {**bearer(secret), "Idempotency-Key": "retry-7f3a9c2e41"}
    first = client.post("/api/v1/proposals", csrf=False, json=body, headers=headers)
    again = client.post("/api/v1/proposals", csrf=False, json=body, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"] and again.headers["Location"] == first.headers["Location"]
    assert len(proposals_titled(FORM["title"])) == 1
    without_key = api_post(client, "/api/v1/proposals", secret, json=body)
    assert without_key.status_code == 201 and len(proposals_titled(FORM["title"])) == 2


def add_failing_after_commit_route(app):
    """A route that saves a category, says where it is shown, commits, and then fails while making the page."""
    def save_then_fail():
        make_category(code="after_commit", name="提交后失败", name_en="After commit")
        saved_then("/campaigns/")
        db.session.commit()
        raise RuntimeError("the page could not be made")
    app.add_url_rule("/test-save-then-fail", "save_then_fail", save_then_fail, methods=["POST"])


def test_a_failure_after_the_commit_is_answered_saved(app, client):
    add_failing_after_commit_route(app)
    login(client, make_user())
    page = client.post("/test-save-then-fail")
    assert page.status_code == 303 and page.headers["Location"] == "/campaigns/"
    assert "您的操作已保存" in client.get("/campaigns/").get_data(as_text=True)
    fetched = client.post("/test-save-then-fail", headers={"X-Requested-With": "fetch"})
    assert fetched.status_code == 200 and fetched.get_json()["saved"] is True
    assert fetched.get_json()["location"] == "/campaigns/"


def test_a_failure_before_any_commit_still_says_nothing_was_saved(app, client):
    def fail():
        raise RuntimeError("before anything was saved")
    app.add_url_rule("/test-fail", "fail", fail, methods=["POST"])
    login(client, make_user())
    response = client.post("/test-fail")
    assert response.status_code == 500 and "未保存任何内容" in response.get_data(as_text=True)


def test_a_connection_lost_after_the_commit_is_answered_saved_not_a_bare_500(app, client, backend):
    """PostgreSQL only: the session's server process ends right after the commit (as in a restart); the next query
    fails, and so would the rollback at the request's end. The author is told it was saved."""
    if backend != "postgres":
        pytest.skip("ends a PostgreSQL server process")

    def save_then_lose_connection():
        make_category(code="lost_after_commit", name="提交后断开", name_en="Lost after commit")
        saved_then("/campaigns/")
        db.session.commit()
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        other = sa.create_engine(db.engine.url)
        with other.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.dispose()
        db.session.scalar(sa.text("SELECT 1"))  # the connection is gone
        return "not reached"
    app.add_url_rule("/test-save-then-lose", "save_then_lose", save_then_lose_connection, methods=["POST"])
    login(client, make_user())
    response = client.post("/test-save-then-lose")
    assert response.status_code == 303 and response.headers["Location"] == "/campaigns/"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("categories"))
                             .where(sa.column("code") == "lost_after_commit")) == 1
    assert client.get("/healthz").status_code == 200 and client.get("/campaigns/").status_code == 200


def test_a_connection_lost_after_the_answer_was_made_does_not_fail_the_request(app, client, backend):
    """PostgreSQL only: after the commit the page reads once more (a transaction begins) and then the session's
    server process ends; the view answers. Closing the session at the request's end rolls back on the dead
    connection: that error must not replace the answer (it reached gunicorn as a bare 500)."""
    if backend != "postgres":
        pytest.skip("ends a PostgreSQL server process")

    def save_read_then_lose_connection():
        make_category(code="lost_at_teardown", name="结束时断开", name_en="Lost at teardown")
        saved_then("/campaigns/")
        db.session.commit()
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))  # a new transaction, left open
        other = sa.create_engine(db.engine.url)
        with other.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.dispose()
        return "saved", 200
    app.add_url_rule("/test-lose-at-teardown", "lose_at_teardown", save_read_then_lose_connection, methods=["POST"])
    login(client, make_user())
    response = client.post("/test-lose-at-teardown")
    assert response.status_code == 200 and response.get_data(as_text=True) == "saved"
    assert client.get("/campaigns/").status_code == 200
