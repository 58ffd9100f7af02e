"""Clusters by issue, end to end, the way a body would use them: ``python -m bench.dedup issues-e2e FILE.csv
[--train-labels bench/labels/issue_pairs_provincial.csv | --train-pairs OTHER.csv] [--database-url URL]``.

FILE has columns title1, body1, title2, body2, label (../shared/data/issue_pairs_dev.csv). In a scratch instance
folder (SQLite by default), with the real ``flask`` commands in subprocesses:

1. ``flask db upgrade``; ``flask accounts create-body`` (a city's 12345 office);
2. the model: ``flask suggestions train-similarity --pairs P.csv`` on the project's own labelled pairs
   (``--train-labels``: message numbers joined with their texts into a scratch CSV, never into the repository)
   or another labelled file; with neither, the shipped default (trained on the demo's pairs) is used;
3. FILE's distinct messages (each title and body once, a made-up reference and time) written as a board's
   export and imported with ``flask analytics import-messages --body ID``;
4. ``flask suggestions cluster CAMPAIGN``;
5. for every labelled pair of FILE: do the two messages share a cluster? Pair precision and recall, and the
   largest clusters. The copies clustering alone (``JIANYAN_ISSUE_GROUPING=false``) is given beside it.
Prints figures; asserts nothing.
"""
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from bench.dedup_issues import read_labelled_ids, read_pairs

PROJECT = Path(__file__).resolve().parent.parent


def flask(env: dict[str, str], *args: str, last_lines: int = 1) -> str:
    """Run one ``flask`` command of the app in the scratch instance; its output."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return "\n".join(done.stdout.strip().splitlines()[-last_lines:])


def write_labelled_pairs(labels_path: str, data_folder: Path, out: Path) -> int:
    """The project's labelled pairs (message numbers) joined with their texts, as a pairs CSV in ``out``."""
    by_file, labels = read_labelled_ids(labels_path, data_folder)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title1", "body1", "title2", "body2", "label"])
        k = 0
        for texts, i, j in by_file:
            for a, b in zip(i.tolist(), j.tolist(), strict=True):
                writer.writerow([texts[a].title, texts[a].body, texts[b].title, texts[b].body, int(labels[k])])
                k += 1
    return k


def write_board_export(messages: list, out: Path) -> None:
    """The messages as a board's CSV export, with the default column names of ``import-messages``."""
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"])
        for k, message in enumerate(messages):
            when = f"2019/{1 + k // 28 % 12}/{1 + k % 28} 9:{k % 60:02d}:00"
            writer.writerow([f"E2E-{k:05d}", f"市民{k:05d}", message.title, when, message.body, "", ""])


def run_issues_e2e(path: str, train_labels: str | None, train_pairs: str | None, database_url: str | None) -> None:
    pairs, labels = read_pairs(path)
    messages = sorted({m for pair in pairs for m in pair}, key=lambda t: t.whole)
    with tempfile.TemporaryDirectory(prefix="jianyan-e2e-") as scratch:
        scratch = Path(scratch)
        env = {**os.environ, "JIANYAN_DATABASE_URL": database_url or f"sqlite:///{scratch / 'e2e.db'}",
               "JIANYAN_SECRET_KEY": "bench", "JIANYAN_SEARCH_INDEX_DIR": str(scratch / "search"),
               "JIANYAN_SIMILARITY_INDEX_DIR": str(scratch / "similarity"),
               "JIANYAN_ROUTER_DIR": str(scratch / "router"),
               "JIANYAN_SAME_ISSUE_MODEL": str(scratch / "same_issue_model.json")}
        flask(env, "db", "upgrade")
        body = flask(env, "accounts", "create-body", "江南市12345热线", "--kind", "department", "--level",
                     "municipal", "--region", "江南省江南市")
        body_id = int(body.split()[1].rstrip(":"))
        if train_labels:
            training = scratch / "training_pairs.csv"
            count = write_labelled_pairs(train_labels, Path(path).parent, training)
            print(f"model: trained on {count} pairs of {train_labels} (texts joined in a scratch file)")
        elif train_pairs:
            training = Path(train_pairs)
            print(f"model: trained on {train_pairs}")
        else:
            training = None
            print("model: the shipped default (suggestions/same_issue_model.json, the demo's own pairs)")
        if training:
            print("  " + flask(env, "suggestions", "train-similarity", "--pairs", str(training), "--no-staff"))
        export = scratch / "board.csv"
        write_board_export(messages, export)
        print("  " + flask(env, "analytics", "import-messages", str(export), "--body", str(body_id),
                           "--source", "E2E", "--no-index", last_lines=2).replace("\n", " "))
        engine = sa.create_engine(env["JIANYAN_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            campaign_id = connection.execute(sa.text("SELECT max(id) FROM campaigns")).scalar_one()
        for grouping in ("false", "true"):
            started = time.perf_counter()
            flask({**env, "JIANYAN_ISSUE_GROUPING": grouping}, "suggestions", "cluster", str(campaign_id))
            took = time.perf_counter() - started
            show(engine, campaign_id, messages, pairs, labels, "copies only" if grouping == "false" else
                 "by issue", took)
        engine.dispose()


def show(engine, campaign_id: int, messages: list, pairs: list, labels: np.ndarray, name: str, took: float) -> None:
    """Pair precision and recall of the stored clusters on FILE's labelled pairs."""
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT s.source_ref, m.cluster_id FROM suggestions s JOIN cluster_members m ON m.suggestion_id = s.id"
            " WHERE s.campaign_id = :c"), {"c": campaign_id}).all()
    by_ref = dict(rows)
    cluster_of = {(m.title, m.body): by_ref.get(f"E2E-{k:05d}") for k, m in enumerate(messages)}
    missing = sum(cluster is None for cluster in cluster_of.values())
    same = np.array([cluster_of[(a.title, a.body)] is not None and cluster_of[(a.title, a.body)]
                     == cluster_of[(b.title, b.body)] for a, b in pairs])
    true_positive = int((same & (labels == 1)).sum())
    precision = true_positive / max(int(same.sum()), 1)
    recall = true_positive / int(labels.sum())
    sizes = sorted(np.unique(list(by_ref.values()), return_counts=True)[1].tolist(), reverse=True)
    print(f"{name}: `flask suggestions cluster` {took:.1f} s; labelled pairs in one cluster: precision "
          f"{precision:.3f}, recall {recall:.3f} ({true_positive} of {int(labels.sum())} same-issue pairs, "
          f"{int(same.sum()) - true_positive} of {len(labels) - int(labels.sum())} others); "
          f"{len(sizes)} clusters, largest {sizes[:5]}" + (f"; {missing} messages not clustered" if missing else ""))
