"""Operations: /healthz and /readyz, and a request id in every log line of a request (and of the jobs it queued)."""
import json
import logging

import pytest
from flask import request

from app import create_app
from core import jobs, logs
from core.extensions import db
from search.indexing import drain, get_backend
from tests.conftest import RedisServer, base_config, login
from tests.factories import make_campaign, make_suggestion, make_user


def test_health_and_readiness_on_the_embedded_default(app, client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    make_suggestion(make_campaign(), make_user())  # queued for the search index, not drained yet
    db.session.commit()
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    ready = answer.get_json()
    assert ready["ready"] is True and ready["database"] == {"ok": True} and ready["jobs"] == {"mode": "inline"}
    assert ready["search_queue"]["depth"] == 1 and ready["search_queue"]["oldest_seconds"] >= 0
    drain(get_backend())
    assert client.get("/readyz").get_json()["search_queue"] == {"depth": 0, "oldest_seconds": None}


@pytest.mark.redis
def test_a_stopped_redis_makes_the_server_unready_but_alive(app, client, tmp_path):
    server = RedisServer(str(tmp_path))
    try:
        app.config["JOBS_REDIS_URL"] = server.url
        ready = client.get("/readyz").get_json()
        assert ready["ready"] is True and ready["jobs"]["ok"] is True and ready["jobs"]["waiting"] == 0
        with app.test_request_context("/"):
            assert jobs.enqueue(waiting_job) == "queued"
        ready = client.get("/readyz").get_json()
        assert ready["jobs"]["waiting"] == 1 and ready["jobs"]["oldest_waiting_seconds"] >= 0
        assert ready["jobs"]["queues"]["default"]["waiting"] == 1
    finally:
        server.stop()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    ready = answer.get_json()
    assert ready["ready"] is False and ready["jobs"]["ok"] is False and ready["database"]["ok"] is True
    assert client.get("/healthz").status_code == 200


@jobs.job(when_queue_down="later")
def waiting_job() -> None:
    """A job that is never run here: the test only counts it waiting."""


@pytest.mark.redis
def test_a_request_id_is_echoed_or_made_and_follows_the_jobs_it_queued(app, client, redis_url, caplog):
    caplog.set_level(logging.INFO)
    given = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a9c"})
    assert given.headers["X-Request-Id"] == "lb-7f3a9c"
    made = client.get("/healthz").headers["X-Request-Id"]
    assert len(made) == 32 and made != "lb-7f3a9c"
    forged = client.get("/healthz", headers={"X-Request-Id": "x\" level=ERROR forged"}).headers["X-Request-Id"]
    assert len(forged) == 32 and "forged" not in forged  # a header that is no id is not written to the logs
    lines = [r for r in caplog.records if r.getMessage().startswith("GET /healthz 200")]
    assert [r.request_id for r in lines] == ["lb-7f3a9c", made, forged]
    assert all(getattr(r, "request_id", None) for r in caplog.records)

    app.config["JOBS_REDIS_URL"] = redis_url
    campaign = make_campaign()
    login(client, make_user())
    response = client.post(f"/suggestions/new/{campaign.id}", headers={"X-Request-Id": "submit-42"},
                           data={"title": "建议在锦绣华庭小区增设停车位", "body": "锦绣华庭小区车位严重不足，建议建设立体停车场。",
                                 "category": "transport", "message_type": "suggestion"})
    assert response.status_code == 303 and response.headers["X-Request-Id"] == "submit-42"
    queued = jobs.queue("default").get_jobs()
    assert queued and {job.meta["request_id"] for job in queued} == {"submit-42"}


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "POST %s %s", ("/suggestions/new/1", 303), None)
    record.request_id, record.status = "submit-42", 303
    line = json.loads(logs.formatter("json").format(record))
    assert line["request_id"] == "submit-42" and line["message"] == "POST /suggestions/new/1 303"
    assert line["level"] == "INFO" and line["status"] == 303
    assert "[submit-42]" in logs.formatter("text").format(record)


def test_production_settings_trusted_proxy_and_hsts(tmp_path):
    def site(**settings):
        application = create_app({**base_config(f"sqlite:///{tmp_path / 'p.db'}"), **settings})
        application.add_url_rule("/test-address", "test_address",
                                 lambda: {"address": request.remote_addr, "scheme": request.scheme})
        return application.test_client().get("/test-address", headers={"X-Forwarded-For": "203.0.113.9",
                                                                        "X-Forwarded-Proto": "https"})
    direct = site()
    assert direct.get_json() == {"address": "127.0.0.1", "scheme": "http"}  # a visitor cannot claim an address
    assert "Strict-Transport-Security" not in direct.headers
    behind_proxy = site(TRUSTED_PROXIES=1, HSTS_SECONDS=31536000)
    assert behind_proxy.get_json() == {"address": "203.0.113.9", "scheme": "https"}
    assert behind_proxy.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_metrics_for_prometheus_count_requests_and_queues_for_the_machine_only(app, client):
    assert client.get("/").status_code == 200
    page = client.get("/metrics")
    assert page.status_code == 200 and page.mimetype == "text/plain"
    text = page.get_data(as_text=True)
    assert 'jianyan_requests_total{endpoint="home",method="GET",status="200"}' in text
    assert "jianyan_request_duration_seconds_bucket" in text and 'jianyan_queue_depth{queue="search"}' in text
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code == 404
