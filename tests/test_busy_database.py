"""When SQLite's write lock cannot be had in time, the answer is 503 with Retry-After, not a 500."""
import sqlite3

from app import create_app
from core.extensions import db
from tests.conftest import CsrfClient, base_config, login
from tests.factories import make_campaign, make_suggestion, make_user


def test_locked_database_answers_503_and_saves_nothing(tmp_path):
    path = tmp_path / "busy.db"
    app = create_app({**base_config(f"sqlite:///{path}"), "SQLITE_BUSY_TIMEOUT_MS": 200})
    app.test_client_class = CsrfClient
    with app.app_context():
        db.create_all()
        suggestion_id = make_suggestion(make_campaign()).id
        voter = make_user()
        client = app.test_client()
        login(client, voter)
        token = client.csrf_token()
        db.session.close()

        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock for the whole request
        try:
            response = client.post(f"/suggestions/{suggestion_id}/vote", data={"value": "support",
                                                                               "csrf_token": token})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert "系统繁忙" in response.get_data(as_text=True)
        assert db.session.execute(db.text("SELECT count(*) FROM votes")).scalar() == 0
        db.session.remove()
        db.engine.dispose()
