"""Two service calls in two real transactions that have both read before either writes (PostgreSQL: on SQLite a
write transaction takes the lock at BEGIN IMMEDIATE, so two of them never interleave)."""
import threading

from core.extensions import db


def run_together(app, calls, *, after, commit_on: tuple = ()) -> list:
    """Run each of ``calls`` in its own thread, application context and transaction, committing what it did
    (also when it raised one of ``commit_on``, as a view does after a counted wrong try; otherwise rolling back).
    Every call waits for the others once the read ``after`` names (module, function name) has returned in it,
    so that all have read before any goes on. Returns what each call returned, or the exception it raised."""
    module, name = after
    original = getattr(module, name)
    barrier = threading.Barrier(len(calls), timeout=30)

    def read_then_wait(*args, **kwargs):
        result = original(*args, **kwargs)
        barrier.wait()
        return result

    results: list = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            try:
                results[index] = call()
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - the caller asserts on what each call raised
                if isinstance(error, commit_on):
                    db.session.commit()
                else:
                    db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    setattr(module, name, read_then_wait)
    try:
        threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        setattr(module, name, original)
    return results
