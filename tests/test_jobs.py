"""Background jobs on a real Redis (a redis-server of the test's own) run by real worker processes
(`flask jobs worker`): a submission's request leaves placement, related proposals and indexing to a worker; pages
never rebuild the figures; mail is delivered by a worker; a killed worker's job is retried by another one; an
unreachable queue loses nothing. The embedded default (no queue) is what the rest of the suite runs on."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq.registry import StartedJobRegistry

from analytics import rollup
from core import jobs
from core.extensions import db
from core.mail import OutboxMessage
from core.worker import make_worker
from search.backend import SearchQuery
from search.indexing import drain, get_backend
from suggestions import clustering
from suggestions.models import ClusterMember, RelatedProposal, Suggestion
from tests.conftest import free_port, login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

ROOT = Path(__file__).resolve().parents[1]
PARKING = ("建议在锦绣华庭小区增设停车位",
           "锦绣华庭小区车位严重不足，晚上很多车只能停在消防通道上，存在安全隐患，建议利用小区东侧空地建设立体停车场。")
PARKING_REWORDED = ("锦绣华庭小区停车难，建议增设停车位",
                    "尊敬的领导您好！锦绣华庭小区车位严重不足，晚上很多车辆只能停在消防通道上，存在很大安全隐患，"
                    "建议利用小区东侧的空地建设立体停车场。谢谢！")
SCHOOL = ("建议在城南小学门口增设护学岗", "每天上下学时段城南小学门口车辆拥堵，学生过马路很危险，建议增设护学岗并施划斑马线。")
NOISE = ("人民路夜市噪音扰民", "人民路夜市每天营业到凌晨两点，噪音很大，附近居民无法休息，建议规范夜市的营业时间。")


def start_worker(app, redis_url: str, log: Path, *args: str, **env: str) -> subprocess.Popen:
    """`flask jobs worker` in a process of its own, on the test's database, search index and Redis. The test's
    session ends its transaction first: on SQLite it would hold the write lock the worker needs."""
    db.session.rollback()
    environment = {**os.environ, "JIANYAN_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "JIANYAN_SECRET_KEY": "test-secret", "JIANYAN_SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
                   "JIANYAN_ROUTER_DIR": app.config["ROUTER_DIR"], "JIANYAN_JOBS_REDIS_URL": redis_url,
                   "JIANYAN_JOBS_MAINTENANCE_SECONDS": "1", "JIANYAN_JOBS_ABANDONED_GRACE_SECONDS": "1",
                   "JIANYAN_SIMILARITY_INDEX_DIR": app.config["SIMILARITY_INDEX_DIR"],
                   "JIANYAN_SAME_ISSUE_MODEL": app.config["SAME_ISSUE_MODEL"],
                   "JIANYAN_SQLITE_BUSY_TIMEOUT_MS": "60000", "PYTHONFAULTHANDLER": "1", **env}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "jobs", "worker", *args], cwd=ROOT,
                            env=environment, start_new_session=True, stdout=log.open("ab"), stderr=subprocess.STDOUT)


BURST_SECONDS = 120  # a burst worker's limit for the few jobs a test queues (a few seconds each)


def run_burst_worker(app, redis_url: str, tmp_path: Path, **env: str) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(app, redis_url, log, "--burst", **env)
    try:
        code = worker.wait(BURST_SECONDS)
    except subprocess.TimeoutExpired:
        waits = database_waits(app)
        try:
            os.killpg(worker.pid, signal.SIGABRT)  # PYTHONFAULTHANDLER: the worker writes every thread's stack to its log
            worker.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):  # it ended meanwhile, or did not end
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
        raise AssertionError(f"the worker still ran after {BURST_SECONDS} s; database sessions: {waits}\n{log.read_text()[-12000:]}") from None
    assert code == 0, log.read_text()[-3000:]
    db.session.rollback()
    db.session.expire_all()


def database_waits(app) -> list:
    """What each other session of the test's PostgreSQL database is doing and waiting on (for a failure's message)."""
    if db.engine.dialect.name != "postgresql":
        return []
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(
            "SELECT pid, application_name, state, wait_event_type, wait_event, pg_blocking_pids(pid), left(query, 200)"
            " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]


def waiting_jobs(name: str = "default") -> list[str]:
    return [job.func_name for job in jobs.queue(name).get_jobs()]


def found(text: str) -> list[int]:
    return [hit.id for hit in get_backend().search(SearchQuery(text=text)).hits]


def submit(client, campaign, text) -> Suggestion:
    response = client.post(f"/suggestions/new/{campaign.id}", data={"title": text[0], "body": text[1],
                                                                    "category": "transport",
                                                                    "message_type": "suggestion"})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return db.session.get(Suggestion, int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]))


def clustered_campaign():
    """A campaign already clustered once (placement joins an existing clustering), its proposals indexed."""
    campaign = make_campaign()
    first = [make_suggestion(campaign, make_user(), title=t, body=b) for t, b in (PARKING, SCHOOL, NOISE)]
    db.session.commit()
    clustering.cluster_campaign(campaign)
    db.session.commit()
    drain(get_backend())
    return campaign, first


@pytest.mark.redis
def test_with_a_queue_a_submission_is_placed_and_indexed_by_a_worker(app, client, redis_url, tmp_path):
    campaign, (parking, *_rest) = clustered_campaign()
    app.config["JOBS_REDIS_URL"] = redis_url
    login(client, make_user())
    started = time.perf_counter()
    new = submit(client, campaign, PARKING_REWORDED)
    assert time.perf_counter() - started < 5
    # The request committed the proposal and queued the work; nothing of it was done inline.
    assert sorted(waiting_jobs()) == ["search.indexing.drain_search_queue", "suggestions.clustering.place_proposal"]
    assert db.session.get(ClusterMember, new.id) is None
    assert db.session.scalars(sa.select(RelatedProposal).where(RelatedProposal.suggestion_id == new.id)).all() == []
    assert found("停车难") == []

    run_burst_worker(app, redis_url, tmp_path)
    assert db.session.get(ClusterMember, new.id).cluster_id == db.session.get(ClusterMember, parking.id).cluster_id
    related = db.session.scalars(sa.select(RelatedProposal.related_id)
                                 .where(RelatedProposal.suggestion_id == new.id)).all()
    assert related == [parking.id]
    assert found("停车难") == [new.id]
    assert jobs.queue_status(app)["queues"]["default"]["failed"] == 0
    page = client.get(f"/suggestions/{new.id}").get_data(as_text=True)
    assert f"/suggestions/{parking.id}" in page  # the stored related proposal, on the page


@pytest.mark.redis
def test_with_a_queue_pages_never_rebuild_the_figures_and_mail_goes_through_a_worker(
        app, client, redis_url, tmp_path, smtp_server):
    port, inbox = smtp_server
    app.config.update(JOBS_REDIS_URL=redis_url, ANALYTICS_MAX_AGE_SECONDS=300)
    body = make_body()
    author = make_user()
    author.email = "author@example.cn"
    suggestion = make_suggestion(make_campaign(body), author)
    staff = make_staff(body)
    db.session.commit()
    for _ in range(2):
        assert client.get("/analytics/").status_code == 200
    assert rollup.refreshed_at() is None  # not rebuilt by the page...
    assert waiting_jobs().count("analytics.rollup.refresh_figures") == 1  # ...but queued, once
    login(client, staff)
    assert client.post(f"/suggestions/{suggestion.id}/accept").status_code == 303
    assert "core.mail.deliver_outbox" in waiting_jobs()
    assert db.session.scalar(sa.select(OutboxMessage.sent_at)) is None

    run_burst_worker(app, redis_url, tmp_path, JIANYAN_MAIL_PORT=str(port))
    assert rollup.refreshed_at() is not None
    assert [to for to, _text in inbox.messages] == [["author@example.cn"]]
    assert db.session.scalar(sa.select(OutboxMessage.sent_at)) is not None


@pytest.mark.redis
def test_a_killed_workers_job_is_retried_by_another_worker(app, client, redis_url, tmp_path, backend):
    campaign, (parking, *_rest) = clustered_campaign()
    # Retries without delay: a retry after a delay waits for RQ's scheduler, whose lock the killed worker held
    # (it expires after a minute).
    app.config.update(JOBS_REDIS_URL=redis_url, JOBS_TIMEOUT_SECONDS=4, JOBS_RETRY_INTERVALS=[0, 0])
    login(client, make_user())
    new = submit(client, campaign, PARKING_REWORDED)
    place = next(job for job in jobs.queue("default").get_jobs() if job.func_name.endswith("place_proposal"))
    db.session.rollback()
    lock = hold_write_lock(app, backend)  # the job will wait for it, mid-way
    try:
        first = start_worker(app, redis_url, tmp_path / "first.log")
        started = StartedJobRegistry(queue=jobs.queue("default"))
        for _ in range(300):
            if place.id in started.get_job_ids():
                break
            time.sleep(0.1)
        else:
            raise AssertionError((tmp_path / "first.log").read_text()[-3000:])
        time.sleep(0.5)
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its scheduler die mid-job
        first.wait(10)
    finally:
        lock.close()
    second = start_worker(app, redis_url, tmp_path / "second.log")
    try:
        for _ in range(400):
            place.refresh()
            if place.get_status() == "finished":
                break
            time.sleep(0.1)
        else:
            raise AssertionError((tmp_path / "second.log").read_text()[-3000:])
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)
    assert place.retries_left == 1  # one retry used: the abandoned run
    db.session.rollback()
    assert db.session.get(ClusterMember, new.id).cluster_id == db.session.get(ClusterMember, parking.id).cluster_id
    assert found("停车难") == [new.id]


class _Lock:
    def __init__(self, close):
        self.close = close


def hold_write_lock(app, backend) -> _Lock:
    """Block the placement job's writes from another connection until ``close``."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if backend == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        return _Lock(lambda: (connection.rollback(), connection.close()))
    engine = sa.create_engine(url)
    connection = engine.connect()
    transaction = connection.begin()
    connection.exec_driver_sql("LOCK TABLE related_proposals IN ACCESS EXCLUSIVE MODE")
    return _Lock(lambda: (transaction.rollback(), connection.close(), engine.dispose()))


def test_without_a_queue_the_request_does_it_all_after_its_commit(app, client):
    campaign, (parking, *_rest) = clustered_campaign()
    login(client, make_user())
    new = submit(client, campaign, PARKING_REWORDED)
    assert db.session.get(ClusterMember, new.id).cluster_id == db.session.get(ClusterMember, parking.id).cluster_id
    assert db.session.scalar(sa.select(RelatedProposal.related_id)
                             .where(RelatedProposal.suggestion_id == new.id)) == parking.id
    assert found("停车难") == [new.id]


def test_an_unreachable_queue_loses_nothing(app, client, smtp_server):
    port, inbox = smtp_server
    campaign, (parking, *_rest) = clustered_campaign()
    app.config.update(JOBS_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", ANALYTICS_MAX_AGE_SECONDS=300)
    author = make_user()
    author.email = "author@example.cn"
    login(client, author)
    new = submit(client, campaign, PARKING_REWORDED)  # the request succeeds...
    # ...and what a citizen waits for was done in it: placed, related proposals stored, indexed.
    assert db.session.get(ClusterMember, new.id).cluster_id == db.session.get(ClusterMember, parking.id).cluster_id
    assert db.session.scalar(sa.select(RelatedProposal.related_id).where(RelatedProposal.suggestion_id == new.id))
    assert found("停车难") == [new.id]
    # Mail waits in the outbox for the periodic delivery, figures for their periodic refresh; pages still answer.
    login(client, make_staff(campaign.body))
    assert client.post(f"/suggestions/{new.id}/accept").status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.sent_at.is_(None))) == 1
    assert client.get("/analytics/").status_code == 200 and rollup.refreshed_at() is None
    app.config["MAIL_PORT"] = port
    result = app.test_cli_runner().invoke(args=["mail", "send-outbox"])
    assert "1 messages sent" in result.output and len(inbox.messages) == 1


@pytest.mark.redis
def test_status_lists_waiting_and_failed_jobs(app, redis_url):
    app.config.update(JOBS_REDIS_URL=redis_url, JOBS_RETRY_INTERVALS=[])
    runner = app.test_cli_runner()
    jobs.queue("default").enqueue_call("suggestions.clustering.no_such_job", args=(1,))
    with app.test_request_context("/"):
        assert jobs.enqueue(rollup.refresh_figures) == "queued"
        assert jobs.enqueue(rollup.refresh_figures) == "waiting"  # one waits at a time
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    assert "default: 2 waiting (oldest 0 s), 0 running, 0 scheduled, 0 failed" in result.output
    make_worker(app, ["default"]).work(burst=True)
    db.session.rollback()
    result = runner.invoke(args=["jobs", "status"])
    assert "default: 0 waiting (oldest -), 0 running, 0 scheduled, 1 failed" in result.output
    assert "suggestions.clustering.no_such_job(1,)" in result.output and "no_such_job" in result.output.splitlines()[2].split(")", 1)[1]
    assert rollup.refreshed_at() is not None  # the other job ran


def test_without_a_queue_the_jobs_commands_explain_themselves(app):
    for command in ("status", "worker", "cron"):
        result = app.test_cli_runner().invoke(args=["jobs", command])
        assert result.exit_code != 0 and "JOBS_REDIS_URL is not set" in result.output


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["sqlite"])
def test_cron_queues_the_periodic_jobs(app, redis_url, tmp_path):
    environment = {**os.environ, "JIANYAN_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "JIANYAN_SECRET_KEY": "test-secret", "JIANYAN_JOBS_REDIS_URL": redis_url}
    cron = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "jobs", "cron"], cwd=ROOT,
                            env=environment, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        app.config["JOBS_REDIS_URL"] = redis_url
        for _ in range(200):
            if len(waiting_jobs()) >= 3:
                break
            time.sleep(0.1)
    finally:
        os.killpg(cron.pid, signal.SIGTERM)
        assert cron.wait(20) == 0  # stops cleanly
    # The jobs due every minute or so start at once; the daily ones (reminders, batches) wait for their hour.
    assert sorted(waiting_jobs()) == ["analytics.rollup.refresh_figures", "core.mail.deliver_outbox",
                                      "search.indexing.catch_up_search"]
    assert waiting_jobs("batch") == []
