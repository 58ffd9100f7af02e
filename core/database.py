"""Engine tuning: SQLite pragmas and write transactions that take the lock up front.

SQLite upgrades a read transaction to a write one only if nobody else wrote in between, and fails
at once with "database is locked" otherwise, whatever the busy timeout. So every transaction that
may write starts with ``BEGIN IMMEDIATE`` (SQLAlchemy's documented pysqlite recipe); GET and HEAD
requests keep plain deferred transactions so reads never queue behind writers.
"""
import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def configure_sqlite(engine: sa.Engine, busy_timeout_ms: int) -> None:
    """Install WAL, foreign keys, a busy timeout and IMMEDIATE write transactions on a SQLite engine."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        if has_request_context() and request.method in SAFE_METHODS:
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_for(session, model):
    """An INSERT for ``model`` in the session's dialect, which offers ``on_conflict_do_nothing`` and
    ``on_conflict_do_update`` (PostgreSQL and SQLite spell them alike)."""
    return (postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def is_lock_timeout(error: Exception) -> bool:
    """True for the errors that mean the database lock could not be had in time (answer 503, not 500)."""
    text = str(getattr(error, "orig", error)).lower()
    return "database is locked" in text or "lock timeout" in text or "could not obtain lock" in text


UNREACHABLE = ("connection refused", "server closed the connection", "terminating connection",
               "the database system is starting up", "the database system is shutting down",
               "could not connect", "connection failed", "connection is closed", "consuming input failed")


def is_unreachable(error: Exception) -> bool:
    """True for the errors that mean the database server went away or is restarting (answer 503: the pool
    reconnects by itself once it is back), not for a mistake in a query."""
    if getattr(error, "connection_invalidated", False):
        return True
    text = str(getattr(error, "orig", error)).lower()
    return any(words in text for words in UNREACHABLE)
