"""The SQLite rate-limit storage (core/ratelimit_sqlite.py) that the embedded default shares between gunicorn's
workers: increments from several processes at once are counted exactly once each, and windows end on time."""
import multiprocessing
import time

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from core.ratelimit_sqlite import SQLiteStorage


def _increment(uri: str, times: int, results) -> None:
    storage = storage_from_string(uri)
    results.extend([storage.incr("login-account:li_ming:0", 600) for _ in range(times)])


def test_four_processes_count_every_increment_once(tmp_path):
    uri = f"sqlite:///{tmp_path / 'ratelimits.db'}"
    with multiprocessing.Manager() as manager:
        results = manager.list()
        processes = [multiprocessing.Process(target=_increment, args=(uri, 100, results)) for _ in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        assert [process.exitcode for process in processes] == [0] * 4
        counts = sorted(results)
    assert counts == list(range(1, 401))  # each increment saw its own count: none lost, none doubled
    storage = storage_from_string(uri)
    assert isinstance(storage, SQLiteStorage) and storage.get("login-account:li_ming:0") == 400


def test_a_window_ends_on_time_and_a_new_one_starts(tmp_path):
    storage = storage_from_string(f"sqlite:///{tmp_path / 'ratelimits.db'}")
    limiter = FixedWindowRateLimiter(storage)
    two_per_second = RateLimitItemPerSecond(2, 1)
    assert [limiter.hit(two_per_second, "address:192.0.2.1") for _ in range(3)] == [True, True, False]
    assert limiter.hit(two_per_second, "address:192.0.2.2")  # another key has its own count
    assert 0 < limiter.get_window_stats(two_per_second, "address:192.0.2.1").reset_time - time.time() <= 1
    time.sleep(1.1)
    assert limiter.test(two_per_second, "address:192.0.2.1")
    assert limiter.hit(two_per_second, "address:192.0.2.1")
    assert storage.get(two_per_second.key_for("address:192.0.2.1")) == 1
    storage.clear(two_per_second.key_for("address:192.0.2.1"))
    assert storage.get(two_per_second.key_for("address:192.0.2.1")) == 0
    assert storage.check() and storage.reset() == 1


def test_an_unusable_file_is_reported_as_unhealthy(tmp_path):
    (tmp_path / "a-file").write_text("")
    assert not storage_from_string(f"sqlite:///{tmp_path / 'a-file' / 'ratelimits.db'}").check()
