"""A storage for the `limits` library (and so Flask-Limiter) that keeps rate-limit counters in a SQLite file, so
that every worker process on one machine counts together without a server.

`limits` ships memory (one process), Redis, Memcached and MongoDB storages; the embedded default (`make run`:
gunicorn with two workers, no Redis) needs counters that both workers share, and a file beside the database is
the one thing it always has. Subclassing ``limits.storage.Storage`` registers the ``sqlite://`` scheme, so
``RATELIMIT_STORAGE_URI = "sqlite:////path/to/ratelimits.db"`` selects it like any other storage.

Only the fixed-window strategy (Flask-Limiter's default, the one Jianyan uses) is supported: a counter per key with
the time its window ends. One ``INSERT … ON CONFLICT … RETURNING`` increments a counter atomically, whichever
process or thread runs it; SQLite serialises the writers (WAL, a busy timeout). The file is its own database, not
the application's, so a login never waits for the application's write lock. Counters are not precious: the
file may be deleted at any time (everyone starts afresh), and expired rows are purged now and then.
"""
import os
import sqlite3
import threading
import time
from urllib.parse import urlparse

from limits.storage import Storage

BUSY_TIMEOUT_MS = 5000
PURGE_EVERY = 1000  # increments (per process) between deletions of expired counters

_SCHEMA = ("CREATE TABLE IF NOT EXISTS counters "
           "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID")
# A counter whose window has ended starts again at ``amount`` with a new window; otherwise it grows.
_INCREMENT = """
INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END,
    expires_at = CASE WHEN expires_at <= :now THEN :now + :expiry ELSE expires_at END
RETURNING count
"""


class SQLiteStorage(Storage):
    """Fixed-window counters in a SQLite file shared by every process that opens it (``sqlite:///PATH``)."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        self.path = urlparse(uri).path
        if not self.path or self.path == "/":
            raise ValueError("a sqlite:// rate-limit storage needs a file: sqlite:////absolute/path/ratelimits.db")
        self._local = threading.local()
        self._increments = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sqlite3.Error, OSError

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use; a process forked after opening one opens its own)."""
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL: no fsync per increment; a crash may lose a few
            connection.execute(_SCHEMA)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter of ``key`` (a new window of ``expiry`` seconds if none is running)."""
        connection = self._connection()
        now = time.time()
        count = connection.execute(_INCREMENT, {"key": key, "amount": amount, "now": now, "expiry": expiry}
                                   ).fetchone()[0]
        self._increments += 1
        if self._increments % PURGE_EVERY == 0:
            connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        return count

    def get(self, key: str) -> int:
        row = self._connection().execute("SELECT count FROM counters WHERE key = ? AND expires_at > ?",
                                         (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._connection().execute("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
                                         (key, now)).fetchone()
        return row[0] if row else now

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except (sqlite3.Error, OSError):
            return False
        return True

    def reset(self) -> int:
        return self._connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))
