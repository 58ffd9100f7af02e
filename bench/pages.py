"""Pages benchmark: the site served as `make run` serves it (gunicorn, 2 workers x 4 threads) over N proposals,
loaded by wrk, on PostgreSQL (the million) or the embedded default (SQLite and Whoosh).

    python -m bench.pages --n 1000000 [--keep] [--duration 20] [--connections 16]
    python -m bench.pages --backend sqlite --n 100000 [--keep]
    python -m bench.pages --campaigns 1000 [--keep]   # the million over 1,000 open campaigns (its own database)
    python -m bench.pages --hot [--keep]        # 200 citizens voting on one proposal with 200,000 supports

The load generator is wrk (Debian's `apt-get install wrk`): written in C, it costs little of the two cores the
server shares with it, keeps 16 connections busy, and its Lua hooks let one run cycle through many paths (20
proposal pages, several queries, 200 voters' sessions) and print p50/p95/p99. Locust would spend a core of its own
in Python; oha has no per-request scripting.

Data: bench.analytics's fill (30 campaigns, 200,000 citizens, replies, ratings, 2 supports a proposal) with
texts drawn from a phrase bank, then the cluster batch of every campaign (clusters and each proposal's related
proposals), each campaign's saved similarity index, the search index and the figures. `--keep` reuses the data
of the previous run (tables made by `create_all`, not migrations: after a schema change, fill again or alter the
tables as the migration does).

For each page it prints req/s, p50, p95, p99, errors, the SQL statements one view runs, and the first view after
a restart; the first typing hint in every campaign and each serving process's memory (RSS and PSS) after them;
then the memory again after the load (RSS, PSS and the process's own anonymous memory). Prints figures; asserts nothing.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from bench.analytics import create_database
from bench.pages_data import derive, prepare_hot_voters, prepare_postgres, prepare_sqlite

ROOT = Path(__file__).resolve().parents[1]
DONE_LUA = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %.3f, "p50": %.2f, "p95": %.2f, "p99": %.2f, ' ..
    '"errors": %d, "non2xx": %d}\\n', summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""
PATHS_LUA = """
local paths, index = {}, 0
for path in string.gmatch(os.getenv("BENCH_PATHS"), "[^\\n]+") do paths[#paths + 1] = path end
request = function()
  index = index + 1
  return wrk.format("GET", paths[(index % #paths) + 1])
end
""" + DONE_LUA
VOTE_LUA = """
local voters, index, offset = {}, 0, 0
for line in string.gmatch(os.getenv("BENCH_VOTERS"), "[^\\n]+") do
  local cookie, token = string.match(line, "([^\\t]+)\\t([^\\t]+)")
  voters[#voters + 1] = {cookie = cookie, token = token, value = "withdraw"}
end
local path = os.getenv("BENCH_VOTE_PATH")
init = function(args) offset = math.random(0, #voters - 1) end
request = function()
  index = index + 1
  local voter = voters[((index + offset) % #voters) + 1]
  voter.value = voter.value == "support" and "withdraw" or "support"
  return wrk.format("POST", path, {["Cookie"] = voter.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded"}, "csrf_token=" .. voter.token .. "&value=" .. voter.value)
end
""" + DONE_LUA


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn as `make run` starts it (gunicorn.conf.py: 2 workers x 4 threads, access log), on the given
    database."""

    def __init__(self, env: dict):
        self.env, self.port, self.process = env, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}", "app:create_app()"],
            cwd=ROOT, env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL, stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "a"),
            start_new_session=True)
        for _ in range(600):
            try:
                urllib.request.urlopen(self.url + "/static/css/app.css", timeout=2)  # noqa: S310 - local
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)

    def workers(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]


def memory(pid: int) -> tuple[float, float, float]:
    """(RSS, PSS, anonymous) of a process in MiB. RSS and PSS include the pages of the mapped similarity index
    folders a process has read (file-backed: shared with the other processes and given back under pressure);
    anonymous memory is the process's own."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in ("Rss:", "Pss:", "Anonymous:"):
            values[parts[0]] = int(parts[1]) / 1024
    return values.get("Rss:", 0.0), values.get("Pss:", 0.0), values.get("Anonymous:", 0.0)


def print_memory(server, when: str) -> None:
    for pid in server.workers():
        rss, pss, anonymous = memory(pid)
        print(f"serving process {pid} {when}: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB, own (anonymous) "
              f"{anonymous:.0f} MiB")


def first_view(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - local
        response.read()
    return (time.perf_counter() - started) * 1000


def run_wrk(url: str, paths: list[str], duration: int, connections: int, script: str = PATHS_LUA,
            extra_env: dict | None = None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    env = {**os.environ, "BENCH_PATHS": "\n".join(paths), **(extra_env or {})}
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", handle.name,
                          url], capture_output=True, text=True, env=env).stdout
    os.unlink(handle.name)
    line = [x for x in out.splitlines() if x.startswith("{")][-1]
    result = json.loads(line)
    result["rps"] = result["requests"] / result["seconds"]
    return result


def count_queries(app, paths: list[str]) -> int:
    """SQL statements one view of the first path runs (through the test client, in this process)."""
    from core.extensions import db
    counted = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args, **kwargs: counted.append(1)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    cache_seconds, app.config["PAGE_CACHE_SECONDS"] = app.config.get("PAGE_CACHE_SECONDS", 0), 0  # count real work
    try:
        client = app.test_client()
        client.get(paths[0])  # warm: the rollup, templates
        counted.clear()
        client.get(paths[0])
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
        app.config["PAGE_CACHE_SECONDS"] = cache_seconds
    return len(counted)


def pages(ids: list[int], campaign_id: int) -> dict[str, list[str]]:
    return {
        "/": ["/"],
        f"/campaigns/{campaign_id} page 1": [f"/campaigns/{campaign_id}"],
        f"/campaigns/{campaign_id} page 500": [f"/campaigns/{campaign_id}?page=500"],
        "a proposal page (20)": [f"/suggestions/{i}" for i in ids],
        "/search/?q=建议 (every proposal)": ["/search/?q=%E5%BB%BA%E8%AE%AE"],
        "search, 6 queries": ["/search/?q=" + urllib.request.quote(q) for q in
                              ("停车", "路灯 人民路", "电梯", "护学岗 城南小学", "噪音", "建议 垃圾")],
        "/analytics/": ["/analytics/"],
        "typing hints (6 drafts)": [f"/suggestions/similar?campaign={campaign_id}&title=" + urllib.request.quote(t)
                                    for t in ("人民路停车位不够", "小区加装电梯", "城南小学门口太危险", "夜市噪音太大",
                                              "公交线路太少", "路灯坏了没人修")],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--keep", action="store_true", help="reuse the data of the previous run")
    parser.add_argument("--derive", action="store_true", help="with --keep: redo clusters, search index, figures")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-page-cache", action="store_true",
                        help="serve every request afresh (PAGE_CACHE_SECONDS=0): what a page itself costs")
    parser.add_argument("--hot", action="store_true", help="200 citizens voting on one proposal (200,000 supports)")
    parser.add_argument("--campaigns", type=int, default=30,
                        help="open campaigns the proposals are spread over (PostgreSQL; its own database)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    workdir = Path(tempfile.gettempdir()) / "jianyan-bench-pages"
    workdir.mkdir(exist_ok=True)
    if args.backend == "postgres":
        database = "jianyan_bench_pages" if args.campaigns == 30 else f"jianyan_bench_pages_c{args.campaigns}"
        url = create_database(args.admin_url, database) if not args.keep else \
            sa.engine.make_url(args.admin_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(
                database=database).render_as_string(hide_password=False)
        env = {"JIANYAN_DATABASE_URL": url, "JIANYAN_SEARCH_BACKEND": "postgres"}
    else:
        url = f"sqlite:///{workdir / 'jianyan.db'}"
        env = {"JIANYAN_DATABASE_URL": url, "JIANYAN_SEARCH_INDEX_DIR": str(workdir / "search-index")}
        if not args.keep:
            for stale in (workdir / "jianyan.db", workdir / "search-index"):
                shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
    env.update({"JIANYAN_SECRET_KEY": "bench-pages", "JIANYAN_ROUTER_DIR": str(workdir / "router"),
                "JIANYAN_SIMILARITY_INDEX_DIR": str(workdir / "similarity")})
    if args.no_page_cache:
        env["JIANYAN_PAGE_CACHE_SECONDS"] = "0"
    os.environ.update(env)
    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-pages", "RATELIMIT_ENABLED": False,
                      "LOG_LEVEL": "WARNING",  # the views counted in this process need not print their requests
                      "SEARCH_BACKEND": env.get("JIANYAN_SEARCH_BACKEND", "whoosh"),
                      "SEARCH_INDEX_DIR": env.get("JIANYAN_SEARCH_INDEX_DIR", str(workdir / "search-index"))})
    if not args.keep:
        started = time.perf_counter()
        if args.backend == "postgres":
            prepare_postgres(app, args.n, args.campaigns)
        else:
            prepare_sqlite(app, args.n)
        print(f"prepared {args.n:,} proposals in {time.perf_counter() - started:.0f} s")
    elif args.derive:
        with app.app_context():
            derive(postgres_search=args.backend == "postgres")
    if args.hot:
        hot(app, env, args)
        return
    with app.app_context():
        from core.extensions import db
        campaign_id = 2
        ids = list(db.session.scalars(sa.text(
            "SELECT id FROM suggestions WHERE campaign_id = :c AND public "
            "ORDER BY (CAST(id AS BIGINT) * 7919) % 100003 LIMIT 20"),
            {"c": campaign_id}))
        load = os.getloadavg()[0]
    server = Server(env)
    server.start()
    table = pages(ids, campaign_id)
    firsts = {label: first_view(server.url + paths[0]) for label, paths in table.items()}
    hint_firsts = sorted(first_view(f"{server.url}/suggestions/similar?campaign={c}&title="
                                    + urllib.request.quote("小区停车位不够，晚上车停满消防通道"))
                         for c in range(1, args.campaigns + 1))
    print(f"\nfirst typing hint in each of the {args.campaigns} campaigns after the restart: median "
          f"{hint_firsts[len(hint_firsts) // 2]:.1f} ms, max {hint_firsts[-1]:.1f} ms")
    print_memory(server, "after a hint in every campaign")
    print(f"\n{args.n:,} proposals on {args.backend}; wrk -t2 -c{args.connections} -d{args.duration}s; "
          f"page cache {'off' if args.no_page_cache else 'on (10 s)'}; load before: {load:.2f}")
    print(f"{'page':38s} {'req/s':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'errors':>7s} "
          f"{'SQL':>4s} {'first view ms':>14s}")
    for label, paths in table.items():
        result = run_wrk(server.url, paths, args.duration, args.connections)
        queries = count_queries(app, paths)
        print(f"{label:38s} {result['rps']:7.1f} {result['p50']:8.1f} {result['p95']:8.1f} {result['p99']:8.1f} "
              f"{result['errors'] + result['non2xx']:7d} {queries:4d} {firsts[label]:14.1f}")
    print_memory(server, "after the load")
    server.stop()
    print(f"load after: {os.getloadavg()[0]:.2f}")


def hot(app, env: dict, args) -> None:
    """200 citizens support and withdraw on one proposal that already has 200,000 supports, for 60 s."""
    proposal_id, voters = prepare_hot_voters(app)
    # 200 sessions stand for many citizens: each casts ~90 votes a minute here, where the site lets one account
    # cast 30 (VOTE_RATE_LIMIT); with the limit on, 429s would be measured instead of the vote path.
    env = {**env, "JIANYAN_VOTE_RATE_LIMIT": "100000 per minute"}
    print("per-account vote limit raised for this run (200 sessions stand for many citizens)")
    server = Server(env)
    server.start()
    sessions = []
    for username, password in voters:
        sessions.append(_login(server.url, username, password))
    result = run_wrk(server.url, [], 60, args.connections, script=VOTE_LUA, extra_env={
        "BENCH_VOTERS": "\n".join(f"{cookie}\t{token}" for cookie, token in sessions),
        "BENCH_VOTE_PATH": f"/suggestions/{proposal_id}/vote"})
    server.stop()
    with app.app_context():
        from core.extensions import db
        row = db.session.execute(sa.text(
            "SELECT support_count, oppose_count, (SELECT count(*) FROM votes WHERE suggestion_id = :p AND value = 1) "
            "AS supports, (SELECT count(*) FROM votes WHERE suggestion_id = :p AND value = -1) AS opposes "
            "FROM suggestions WHERE id = :p"), {"p": proposal_id}).one()
        drift = db.session.scalar(sa.text(
            "SELECT count(*) FROM suggestions s WHERE support_count <> (SELECT count(*) FROM votes v "
            "WHERE v.suggestion_id = s.id AND v.value = 1) AND s.id = :p"), {"p": proposal_id})
    print(f"hot proposal {proposal_id}: {result['requests']:,} votes in {result['seconds']:.1f} s = "
          f"{result['rps']:.1f} votes/s; p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
          f"p99 {result['p99']:.1f} ms; errors {result['errors']}, refused {result['non2xx']}")
    print(f"counters: support {row.support_count:,} = vote rows {row.supports:,}: {row.support_count == row.supports};"
          f" oppose {row.oppose_count} = {row.opposes}; proposals whose counter differs: {drift}")


def _login(url: str, username: str, password: str) -> tuple[str, str]:
    """A logged-in session's cookie and its CSRF token."""
    import requests
    browser = requests.Session()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(url + "/accounts/login").text).group(1)
    response = browser.post(url + "/accounts/login", data={"csrf_token": token, "username": username,
                                                           "password": password}, allow_redirects=False)
    if response.status_code != 303:
        raise SystemExit(f"login of {username} failed: {response.status_code}")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(url + "/suggestions/mine").text).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    return cookie, token


if __name__ == "__main__":
    sys.exit(main())
