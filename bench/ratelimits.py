"""What a rate limit costs per request in each store: `python -m bench.ratelimits [--redis redis://127.0.0.1:6379/14]`.

Prints, for memory (one process only), the SQLite file (the embedded default) and Redis (when reachable):
- one counter increment (``FixedWindowRateLimiter.hit``) and one read (``test``), alone and with a second process
  incrementing the same counters at the same time (two gunicorn workers);
- a whole limited request through Flask's test client: a login form sent empty (refused before any password
  hashing, so the time is routing, the form, the two login limits and the page), against the same request with
  limits switched off.
Figures only; nothing is asserted.
"""
import argparse
import multiprocessing
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

import core.ratelimit_sqlite  # noqa: F401 - the sqlite:// scheme

ROUNDS = 2000


def _hits(uri: str, rounds: int, keys: str) -> float:
    limiter = FixedWindowRateLimiter(storage_from_string(uri))
    item = RateLimitItemPerMinute(10**9)
    started = time.perf_counter()
    for n in range(rounds):
        limiter.hit(item, f"{keys}:{n % 50}")
    return (time.perf_counter() - started) / rounds


def _reads(uri: str, rounds: int, keys: str) -> float:
    limiter = FixedWindowRateLimiter(storage_from_string(uri))
    item = RateLimitItemPerMinute(10**9)
    started = time.perf_counter()
    for n in range(rounds):
        limiter.test(item, f"{keys}:{n % 50}")
    return (time.perf_counter() - started) / rounds


def _in_other_process(uri: str, rounds: int, keys: str) -> None:
    _hits(uri, rounds, keys)


def store_costs(uri: str) -> tuple[float, float, float]:
    """µs per increment alone, per read, per increment while another process increments the same keys."""
    keys = f"bench-{uuid.uuid4().hex[:8]}"
    _hits(uri, 200, keys)  # open connections, create the table
    alone, reads = _hits(uri, ROUNDS, keys), _reads(uri, ROUNDS, keys)
    if uri.startswith("memory://"):
        return alone * 1e6, reads * 1e6, float("nan")
    other = multiprocessing.Process(target=_in_other_process, args=(uri, ROUNDS * 2, keys))
    other.start()
    contended = _hits(uri, ROUNDS, keys)
    other.join()
    return alone * 1e6, reads * 1e6, contended * 1e6


def login_client(storage_uri: str | None, folder: Path):
    """A test client of a site whose limits are on with ``storage_uri`` (off for None), all limits out of reach."""
    from app import create_app
    from core.extensions import db
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / f'site-{uuid.uuid4().hex[:6]}.db'}",
                "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": storage_uri is not None,
                "RATELIMIT_STORAGE_URI": storage_uri or "memory://", "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex[:8],
                "LOGIN_ADDRESS_RATE_LIMIT": "1000000 per minute", "LOGIN_ACCOUNT_RATE_LIMIT": "1000000 per minute",
                "SEARCH_INDEX_DIR": str(folder / "index"), "PAGE_CACHE_SECONDS": 0}
    app = create_app(settings)
    with app.app_context():
        db.create_all()
    return app.test_client()


def request_costs(stores: dict, folder: Path, rounds: int = 400) -> dict:
    """Median ms of an empty login form (422) per store, the stores taking turns so that a machine busy with
    other work slows them alike."""
    clients = {name: login_client(uri, folder) for name, uri in stores.items()}
    times = {name: [] for name in clients}
    for _ in range(rounds):
        for name, client in clients.items():
            started = time.perf_counter()
            response = client.post("/accounts/login", data={"username": "li_ming", "password": ""})
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 422
    return {name: statistics.median(found[rounds // 5:]) * 1000 for name, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="a Redis to measure (skipped if down)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ratelimits-"))
    stores = {"memory (one process)": "memory://", "SQLite file (default)": f"sqlite:///{folder / 'ratelimits.db'}"}
    try:
        storage_from_string(args.redis).storage.ping()
        stores["Redis"] = args.redis
    except Exception as error:  # noqa: BLE001 - report and measure the others
        print(f"Redis at {args.redis} not measured: {error}")
    requests = request_costs({"(limits off)": None, **stores}, folder)
    print(f"{'store':24} {'hit µs':>8} {'read µs':>8} {'hit µs, 2 processes':>20} {'login form ms':>14}")
    print(f"{'(limits off)':24} {'':>8} {'':>8} {'':>20} {requests['(limits off)']:14.2f}")
    for name, uri in stores.items():
        hit, read, contended = store_costs(uri)
        print(f"{name:24} {hit:8.1f} {read:8.1f} {contended:20.1f} {requests[name]:14.2f}")


if __name__ == "__main__":
    main()
