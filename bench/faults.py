"""Fault drills: the site served as `make run` serves it (gunicorn, gunicorn.conf.py: 2 workers x 4 threads) under
real clients (threads, each a requests.Session that logs in through the form and votes and submits with the
form's CSRF token), while one fault is injected:

  kill_worker    kill -9 one gunicorn worker during votes and submissions (SQLite, as `make run`)
  pg_restart     `pg_ctl restart -m fast` of a PostgreSQL cluster of the drill's own (initdb in a temp folder)
  redis_stop     stop the drill's own redis-server (rate limits, page cache, jobs; a `flask jobs worker` runs)
                 for ~10 s, then start it again on the same port
  full_disk      the Whoosh index on a small tmpfs (`mount -t tmpfs`, root only) filled to ENOSPC, then freed
  sqlite_locked  another process holds SQLite's write lock longer than the busy timeout, twice

Each drill prints what the clients saw (answers by class, connection errors), when the failures came and when the
first good answer after them came (seconds from the fault), the machine's load (os.getloadavg), and an audit of
the database afterwards: every vote and proposal a client was told was saved exists exactly once, no proposal
title twice, counters equal the vote rows, every proposal has its audit row, nothing refers to a missing row.
A client retries a write that failed (connection error, 5xx) as a browser's "resend" would: the same form, the
same submission key. The exit status is 1 when a drill lost or duplicated a write, or answered 500 (none of
these drills may).

    .venv/bin/python -m bench.faults [DRILL ...] [--seconds 6] [--clients 8]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.faults_audit import (
    Client,
    Report,
    audit,
    index_caught_up,
    tally,
    wait_for,
)
from bench.faults_support import (
    ROOT,
    WRITE_DEADLINE_SECONDS,
    Seed,
    Server,
    TempPostgres,
    TempRedis,
    prepare_database,
    site_env,
    stop_group,
)


@dataclass
class Options:
    seconds: float = 6.0  # load before and after the fault, together
    clients: int = 8
    outage: float = 10.0  # how long Redis stays stopped, the disk full, the lock held in total
    proposals: int = 300
    limits_return: bool = True  # redis_stop: also wait (up to 60 s) for the rate limits to count in Redis again
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="jianyan-faults-")))


def under_load(url: str, seed: Seed, options: Options, report: Report, database_url: str, inject, undo=None,
               hold: float = 0.0, search: bool = False) -> list[Client]:
    """Clients write for half of ``options.seconds``; ``inject()``; after ``hold`` seconds ``undo()``; the other
    half; then one more client logs in, votes and submits; then tally and audit."""
    stop = threading.Event()
    clients = [Client(url, name, seed, stop, n, search=search) for n, name in enumerate(seed.usernames)]
    started = time.monotonic()
    for client in clients:
        client.start()
    # The fault must meet writes, not logins: on a busy machine logging in can take longer than the first half.
    for client in clients:
        client.logged_in.wait(60)
    time.sleep(options.seconds / 2)
    fault_at = time.monotonic()
    inject()
    if undo is not None:
        time.sleep(hold)
        undo()
    fault_until = time.monotonic()
    time.sleep(options.seconds / 2)
    stop.set()
    for client in clients:
        client.join(WRITE_DEADLINE_SECONDS + 40)
    # Once the load has stopped, a newcomer logs in, votes and submits: the site must serve it by itself.
    newcomer = Client(url, seed.usernames[0], seed, threading.Event(), len(clients) + 100)
    newcomer.login()
    newcomer.vote()
    newcomer.submit(0)
    clients.append(newcomer)
    report.load = os.getloadavg()
    tally(report, clients, fault_at, fault_until, started)
    audit(database_url, clients, report)
    if report.answers.get("500"):
        report.problems.append(f"{report.answers['500']} answer(s) 500")
    if report.retry_after_missing:
        report.problems.append(f"{report.retry_after_missing} answer(s) 503 without Retry-After")
    if report.writes_unresolved:
        report.problems.append(f"{report.writes_unresolved} write(s) still failing after {WRITE_DEADLINE_SECONDS} s")
    if not report.good_after_fault or (report.first_failure is not None and report.recovered_after is None):
        report.problems.append("no good answer after the fault")
    report.client_errors and report.problems.append("a client stopped with an error")
    return clients


def sqlite_site(options: Options, name: str, **settings) -> tuple[str, Seed, Server]:
    folder = options.folder / name
    folder.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{folder / 'site.db'}"
    seed = prepare_database(database_url, folder, options.clients, options.proposals)
    return database_url, seed, Server(site_env(database_url, folder, **settings), folder / "server.log")


def drill_kill_worker(options: Options) -> Report:
    """kill -9 each gunicorn worker in turn (0.5 s apart) while clients vote and submit; gunicorn's master starts
    new ones."""
    report = Report("kill_worker", "kill -9 of each of the two gunicorn workers in turn, 0.5 s apart "
                                   "(SQLite, as make run)")
    database_url, seed, server = sqlite_site(options, "kill_worker")
    victims = server.workers()

    def kill_each():
        for victim in victims:
            os.kill(victim, signal.SIGKILL)
            time.sleep(0.5)
    try:
        under_load(server.url, seed, options, report, database_url, kill_each)
        workers = server.workers()
        replaced = len(workers) == 2 and not set(victims) & set(workers)
        report.notes.append(f"workers after the drill: {len(workers)} "
                            f"({'both replaced' if replaced else 'NOT replaced'})")
        if not replaced:
            report.problems.append("gunicorn did not replace the killed workers")
    finally:
        server.stop()
    return report


def drill_pg_restart(options: Options) -> Report:
    """`pg_ctl restart -m fast` of the drill's own PostgreSQL while clients vote and submit."""
    report = Report("pg_restart", "pg_ctl restart -m fast of the site's PostgreSQL (a temp cluster of its own)")
    folder = options.folder / "pg_restart"
    postgres = TempPostgres(folder)
    try:
        seed = prepare_database(postgres.url, folder, options.clients, options.proposals)
        server = Server(site_env(postgres.url, folder), folder / "server.log")
        try:
            took = []

            def restart():
                begun = time.monotonic()
                postgres.restart()
                took.append(time.monotonic() - begun)
            under_load(server.url, seed, options, report, postgres.url, restart)
            report.notes.append(f"pg_ctl restart took {took[0]:.2f} s")
        finally:
            server.stop()
    finally:
        postgres.stop()
    return report


def drill_redis_stop(options: Options) -> Report:
    """Stop the site's Redis (rate limits, page cache, jobs) for ``options.outage`` s during load, then start it
    again; a `flask jobs worker` runs throughout. Afterwards the search queue must drain by itself."""
    report = Report("redis_stop", f"the site's Redis (rate limits, page cache, job queue) stopped for "
                                  f"{options.outage:.0f} s, then started again")
    folder = options.folder / "redis_stop"
    folder.mkdir(parents=True, exist_ok=True)
    redis_server = TempRedis(folder)
    settings = {"RATELIMIT_STORAGE_URI": redis_server.url(0), "PAGE_CACHE_URL": redis_server.url(1),
                "JOBS_REDIS_URL": redis_server.url(2)}
    database_url = f"sqlite:///{folder / 'site.db'}"
    worker_log = open(folder / "worker.log", "a")  # noqa: SIM115 - open while the worker runs
    worker = None
    try:
        seed = prepare_database(database_url, folder, options.clients, options.proposals, index=True)
        env = site_env(database_url, folder, **settings)
        server = Server(env, folder / "server.log")
        worker = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "--app", "app", "jobs", "worker"], cwd=ROOT,
                                  env={**os.environ, **env}, stdout=worker_log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            wait_for_worker(redis_server, worker, folder / "worker.log")
            under_load(server.url, seed, options, report, database_url, redis_server.stop, redis_server.start,
                       hold=options.outage, search=True)
            report.notes.append(f"job worker {'still running' if worker.poll() is None else 'EXITED'} after the drill")
            if worker.poll() is not None:
                report.problems.append(f"the job worker exited ({worker.returncode}) and did not come back")
            probe = Client(server.url, seed.usernames[0], seed, threading.Event(), 999)
            probe.login()
            probe.submit(0)  # one more submission after the drill: its job drains whatever the queue holds
            took, detail = wait_for(lambda: index_caught_up(database_url, folder / "index"), 60)
            report.notes.append(f"search index caught up {took:.1f} s after a submission once Redis was back"
                                if took is not None else f"search index NOT caught up after 60 s ({detail})")
            if took is None:
                report.problems.append(f"the search index did not catch up: {detail}")
            if options.limits_return:
                took = limits_back_in_redis(probe, redis_server)
                report.notes.append(f"rate limits counted in Redis again {took:.0f} s after the drill's load ended"
                                    if took is not None else "rate limits NOT back in Redis after 60 s")
                if took is None:
                    report.problems.append("the rate limits did not return to Redis")
        finally:
            server.stop()
    finally:
        try:
            if worker is not None:
                stop_group(worker)
        finally:
            worker_log.close()
            redis_server.stop()
    return report


def limits_back_in_redis(probe: Client, redis_server: TempRedis) -> float | None:
    """Seconds until a vote's rate-limit counter lands in Redis again (Flask-Limiter tries the store again after
    1, 2, 4 … 32 s); the restarted Redis is empty, so any key in its database 0 was written since."""
    import redis
    client = redis.Redis.from_url(redis_server.url(0))

    def counted():
        probe.vote()
        return bool(client.keys("*")), ""
    took, _detail = wait_for(counted, 60)
    return took


def wait_for_worker(redis_server: TempRedis, worker: subprocess.Popen, log_path: Path) -> None:
    """Wait until the job worker has registered with Redis (it loads jieba first: seconds on a busy machine)."""
    import redis
    client = redis.Redis.from_url(redis_server.url(2))
    deadline = time.monotonic() + 90
    while not client.smembers("rq:workers"):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the job worker did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.2)


def fill(path: Path) -> int:
    """Write zeros into ``path`` until the file system is full (ENOSPC); returns the bytes written."""
    written, chunk = 0, b"\0" * 65536
    with open(path, "wb", buffering=0) as handle:
        while True:
            try:
                written += handle.write(chunk)
            except OSError:
                break
        for size in (4096, 512, 1):  # the last partial blocks
            try:
                while True:
                    written += handle.write(b"\0" * size)
            except OSError:
                pass
    return written


def drill_full_disk(options: Options) -> Report:
    """The Whoosh index on a small tmpfs, filled to ENOSPC during load, freed after ``options.outage`` s."""
    report = Report("full_disk", f"the search index's file system (tmpfs, 16 MB) full for {options.outage:.0f} s")
    folder = options.folder / "full_disk"
    mount = folder / "index-disk"
    mount.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True,
                            text=True)
    if result.returncode:
        raise RuntimeError(f"mount -t tmpfs failed (the drill needs root): {result.stderr.strip()}")
    try:
        index_dir, filler = mount / "index", mount / "filler"
        database_url = f"sqlite:///{folder / 'site.db'}"
        seed = prepare_database(database_url, folder, options.clients, options.proposals)
        prepare_index(database_url, folder, index_dir)
        server = Server(site_env(database_url, folder, index_dir=index_dir), folder / "server.log")
        try:
            written = []
            under_load(server.url, seed, options, report, database_url, lambda: written.append(fill(filler)),
                       filler.unlink, hold=options.outage, search=True)
            report.notes.append(f"filler written until ENOSPC: {written[0] / 1e6:.1f} MB")
            probe = Client(server.url, seed.usernames[0], seed, threading.Event(), 999)
            probe.login()
            probe.submit(0)  # the next submission after space returned drains the queue
            took, detail = wait_for(lambda: index_caught_up(database_url, index_dir), 60)
            report.notes.append(f"search index caught up {took:.1f} s after the next submission"
                                if took is not None else f"search index NOT caught up after 60 s ({detail})")
            if took is None:
                report.problems.append(f"the search index did not catch up: {detail}")
        finally:
            server.stop()
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    return report


def prepare_index(database_url: str, folder: Path, index_dir: Path) -> None:
    """Build the Whoosh index in ``index_dir`` as `make run` does (`flask search catch-up`)."""
    from app import create_app
    from core.extensions import db
    from search.indexing import catch_up, get_backend
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "fault-drill",
                      "SEARCH_INDEX_DIR": str(index_dir), "ROUTER_DIR": str(folder / "router"),
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        catch_up(get_backend(), progress=False)
        db.session.remove()
        db.engine.dispose()


def drill_sqlite_locked(options: Options) -> Report:
    """Another process holds SQLite's write lock longer than the busy timeout (300 ms here), twice, while the
    clients write: the writes that cannot get the lock answer 503 with Retry-After, never 500."""
    report = Report("sqlite_locked", f"another process holds SQLite's write lock {options.outage / 2:.1f} s, twice "
                                     f"(busy timeout 300 ms)")
    database_url, seed, server = sqlite_site(options, "sqlite_locked", SQLITE_BUSY_TIMEOUT_MS=300)
    path = database_url[len("sqlite:///"):]

    def hold_twice():
        holder = subprocess.Popen([sys.executable, "-c", (
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "for _ in range(2):\n"
            "    c.execute('BEGIN IMMEDIATE'); time.sleep(float(sys.argv[2])); c.execute('ROLLBACK'); time.sleep(1)\n"
        ), path, str(options.outage / 2)])
        holder.wait(options.outage + 30)
    try:
        under_load(server.url, seed, options, report, database_url, hold_twice)
        if not report.answers.get("503"):
            report.notes.append("no request met the held lock (no 503): the drill did not exercise the fault")
            report.problems.append("no answer 503: the lock was never met")
    finally:
        server.stop()
    return report


DRILLS = {"kill_worker": drill_kill_worker, "pg_restart": drill_pg_restart, "redis_stop": drill_redis_stop,
          "full_disk": drill_full_disk, "sqlite_locked": drill_sqlite_locked}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("drills", nargs="*", metavar="DRILL",
                        help=f"any of {', '.join(DRILLS)} (default: all)")
    parser.add_argument("--seconds", type=float, default=6.0, help="load around the fault (default 6)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--outage", type=float, default=10.0,
                        help="seconds Redis stays stopped / the disk full / the lock held in total (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the drills' folder (server and worker logs)")
    args = parser.parse_args(argv)
    unknown = set(args.drills) - set(DRILLS)
    if unknown:
        parser.error(f"unknown drill(s): {', '.join(sorted(unknown))}")
    options = Options(seconds=args.seconds, clients=args.clients, outage=args.outage)
    print(f"fault drills in {options.folder}; {os.cpu_count()} cores; load before: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    failed = False
    for name in args.drills or list(DRILLS):
        report = DRILLS[name](options)
        report.print()
        failed = failed or bool(report.problems)
    if not args.keep:
        shutil.rmtree(options.folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
