"""``python -m bench.dedup command --n 100000``: the product's own ``flask suggestions cluster`` on the planted
corpus (``bench.dedup_corpus``), as a body would run it, not the engine alone: the proposals are written into a
scratch SQLite instance as one campaign (a one-message board export through ``flask analytics import-messages``
makes the body, campaign and category; the rest are inserted in bulk, as importing a hundred thousand one by one
takes six minutes), then the command runs once per ``--processes`` value, copies only and by issue.

Printed for each run: wall time, peak memory of the largest process (the command or one of its forked workers),
clusters of two or more, planted pairs' precision and recall in the stored clusters, and whether the stored
clusters equal those of the first run of the same kind. Each run starts as a campaign's first clustering does (the
words kept for the same-issue score and the keywords' digests are deleted first); with ``--again`` the same command
then runs a second time, keeping them, as the nightly re-clustering of an unchanged campaign does. ``--folder DIR``
keeps the instance for another run."""
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from bench.dedup_corpus import corpus, planted_pair_scores
from bench.dedup_e2e import flask, write_board_export


def run_command(n: int, seed: int, processes: list[int], folder: str | None, kinds: list[str],
                again: bool = False) -> None:
    scratch = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="bench-cluster-command-"))
    scratch.mkdir(parents=True, exist_ok=True)
    database = scratch / "jianyan.db"
    env = {**os.environ, "JIANYAN_DATABASE_URL": f"sqlite:///{database}", "JIANYAN_SECRET_KEY": "bench",
           "JIANYAN_SEARCH_INDEX_DIR": str(scratch / "search"), "JIANYAN_SIMILARITY_INDEX_DIR": str(scratch / "sim"),
           "JIANYAN_ROUTER_DIR": str(scratch / "router"), "JIANYAN_ISSUE_GROUPING_MAX_PROPOSALS": str(n)}
    texts, origin = corpus(n, seed)
    engine = sa.create_engine(env["JIANYAN_DATABASE_URL"])
    campaign_id = _campaign_of(engine) if database.exists() else None
    if campaign_id is None or _proposals(engine, campaign_id) != n:
        started = time.perf_counter()
        campaign_id = _fill(env, engine, scratch, texts)
        print(f"instance: {n} proposals (seed {seed}) written in {time.perf_counter() - started:.0f} s ({scratch})")
    else:
        flask(env, "db", "upgrade")
        print(f"instance: reusing {scratch} ({n} proposals)")
    first: dict[str, frozenset] = {}
    for kind in kinds:
        for count in processes:
            with engine.begin() as connection:  # as a campaign's first clustering: no words, no keywords kept
                connection.execute(sa.text("DELETE FROM issue_words"))
                connection.execute(sa.text("UPDATE clusters SET keywords_digest = NULL"))
            for run in ("first run", "again")[:2 if again else 1]:
                _run(env, engine, campaign_id, kind, count, origin, first, run)
    engine.dispose()


def _run(env: dict, engine, campaign_id: int, kind: str, count: int, origin: list[int], first: dict,
         run: str) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    flask({**env, "JIANYAN_ISSUE_GROUPING": {"copies": "false", "issue": "true"}[kind]}, "suggestions", "cluster",
          str(campaign_id), "--processes", str(count))
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    stored = _stored_clusters(engine, campaign_id)
    precision, recall = planted_pair_scores(_labels(engine, campaign_id, stored, len(origin)), origin)
    same = first.setdefault(kind, stored) == stored
    print(f"{'by issue' if kind == 'issue' else 'copies only'}, {count} processes, {run}: {took:.1f} s, largest "
          f"process {'at most ' if peak == before else ''}{peak / 2**20:.2f} GiB; "
          f"{sum(len(g) > 1 for g in stored)} clusters of two or more, largest "
          f"{sorted(map(len, stored), reverse=True)[:5]}; planted pairs precision {precision:.4f}, recall "
          f"{recall:.4f}; the same clusters as the first {kind} run: {'yes' if same else 'NO'}")


def _fill(env: dict, engine, scratch: Path, texts: list[str]) -> int:
    from bench.dedup import _as_proposal

    flask(env, "db", "upgrade")
    body = flask(env, "accounts", "create-body", "江南市12345热线", "--kind", "department", "--level", "municipal",
                 "--region", "江南省江南市")
    export = scratch / "board.csv"
    write_board_export([_as_proposal(texts[0])], export)
    flask(env, "analytics", "import-messages", str(export), "--body", body.split()[1].rstrip(":"),
          "--source", "BENCH", "--no-index", last_lines=2)
    with engine.begin() as connection:
        first = connection.execute(sa.text("SELECT * FROM suggestions ORDER BY id LIMIT 1")).mappings().one()
        rows = []
        for k, text in enumerate(texts[1:], start=1):
            proposal = _as_proposal(text)
            rows.append({**first, "id": first["id"] + k, "title": proposal.title[:120], "body": proposal.body,
                         "source_ref": f"E2E-{k:07d}", "submission_key": None})
        columns = [column for column in first if column != "public"]  # computed by the database
        insert = sa.text(f"INSERT INTO suggestions ({', '.join(columns)}) VALUES "
                         f"({', '.join(':' + column for column in columns)})")
        rows = [{column: row[column] for column in columns} for row in rows]
        for start in range(0, len(rows), 20_000):
            connection.execute(insert, rows[start:start + 20_000])
        return first["campaign_id"]


def _campaign_of(engine) -> int | None:
    with engine.connect() as connection:
        try:
            return connection.execute(sa.text("SELECT max(campaign_id) FROM suggestions")).scalar()
        except sa.exc.OperationalError:
            return None


def _proposals(engine, campaign_id: int) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM suggestions WHERE campaign_id = :c AND public"),
                                  {"c": campaign_id}).scalar_one()


def _stored_clusters(engine, campaign_id: int) -> frozenset:
    groups = defaultdict(set)
    with engine.connect() as connection:
        for cluster_id, suggestion_id in connection.execute(sa.text(
                "SELECT m.cluster_id, m.suggestion_id FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
                "WHERE c.campaign_id = :c"), {"c": campaign_id}):
            groups[cluster_id].add(suggestion_id)
    return frozenset(frozenset(g) for g in groups.values())


def _labels(engine, campaign_id: int, stored: frozenset, n: int) -> list[int]:
    """Each corpus text's cluster (a number), in corpus order (ids were written in that order)."""
    with engine.connect() as connection:
        ids = [row[0] for row in connection.execute(sa.text(
            "SELECT id FROM suggestions WHERE campaign_id = :c ORDER BY id"), {"c": campaign_id})]
    position = {suggestion_id: k for k, suggestion_id in enumerate(ids)}
    labels = [-1] * n
    for number, group in enumerate(stored):
        for suggestion_id in group:
            labels[position[suggestion_id]] = number
    assert -1 not in labels, "a proposal without a cluster"
    return labels


if __name__ == "__main__":
    sys.exit("run it as: python -m bench.dedup command --n 100000")
