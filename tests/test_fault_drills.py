"""The fault drills of bench.faults, short (a few seconds of load each), as CI runs them: gunicorn as `make run`
starts it, real clients voting and submitting through the forms, and one fault each. After each: no vote or
proposal a client was told was saved is missing, none is saved twice, counters equal the vote rows, nothing is
half-written, no answer is a 500, and the site answers again by itself. Outcomes only, never timings.

They run with JIANYAN_TEST_FAULTS=1 or when JIANYAN_TEST_REQUIRE names "faults" (CI), and then fail instead of
skipping when something they need is missing (root for the tmpfs mount, PostgreSQL's initdb, redis-server).
"""
import os
import shutil

import pytest

from bench import faults
from bench.faults_support import PG_BIN
from tests.conftest import FAULTS, REQUIRED

pytestmark = [pytest.mark.faults,
              pytest.mark.skipif(not FAULTS, reason="fault drills: set JIANYAN_TEST_FAULTS=1 (CI requires them)")]


def needs(ok: bool, what: str) -> None:
    if not ok:
        if "faults" in REQUIRED:
            pytest.fail(f"the fault drills are required but {what}")
        pytest.skip(what)


@pytest.fixture
def options():
    chosen = faults.Options(seconds=3, clients=4, outage=3, proposals=60, limits_return=False)
    yield chosen
    shutil.rmtree(chosen.folder, ignore_errors=True)


def assert_nothing_lost(report: faults.Report) -> None:
    report.print()  # the figures in the test's output
    assert report.problems == []
    assert report.writes_confirmed["vote"] > 0 and report.writes_confirmed["submit"] > 0
    assert "500" not in report.answers and report.good_after_fault


def test_workers_killed_during_votes_and_submissions(options):
    report = faults.drill_kill_worker(options)
    assert_nothing_lost(report)


def test_postgres_restarted_during_writes(options):
    needs(os.path.exists(PG_BIN / "initdb"), f"{PG_BIN / 'initdb'} is missing")
    report = faults.drill_pg_restart(options)
    assert_nothing_lost(report)
    # Requests that met the restart were told to try again (503 with Retry-After) or lost their connection; a
    # write committed before its failure was found again by the resend (the audit counts it saved once).
    assert set(report.answers) <= {"2xx", "3xx", "503", "connection error"}


def test_redis_stopped_the_site_keeps_answering_and_jobs_catch_up(options):
    needs(shutil.which("redis-server") is not None, "redis-server is not installed")
    report = faults.drill_redis_stop(options)
    assert_nothing_lost(report)
    assert report.first_failure is None  # nothing failed while Redis was down
    assert any(note.startswith("search index caught up") for note in report.notes)


def test_full_index_disk_keeps_writes_and_search_answering(options):
    needs(os.geteuid() == 0, "mounting a tmpfs needs root")
    report = faults.drill_full_disk(options)
    assert_nothing_lost(report)
    assert report.first_failure is None
    assert any(note.startswith("search index caught up") for note in report.notes)


def test_sqlite_locked_answers_503_with_retry_after(options):
    report = faults.drill_sqlite_locked(options)
    assert_nothing_lost(report)
    assert report.answers["503"] > 0 and report.retry_after_missing == 0
