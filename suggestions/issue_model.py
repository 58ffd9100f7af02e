"""The same-issue model the platform uses: which file, and retraining it (``flask suggestions train-similarity``).

The model is ``SAME_ISSUE_MODEL`` (instance/same_issue_model.json) when that file exists, otherwise the one shipped
with the code (``same_issue.SHIPPED_MODEL``, trained on the demo's own labelled pairs). Retraining reads labelled
pairs from CSV files (columns title1, body1, title2, body2, label), the demo's pairs when asked, and the staff's
own decisions on the platform: a proposal kept in a cluster (confirmed, merged) is the same issue as its
representative, one moved out is not the same issue as the members it left.
"""
import os
import threading
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from core.extensions import db
from suggestions.issue_text_words import Text
from suggestions.models import ClusterPin, PinKind, Suggestion
from suggestions.same_issue import SHIPPED_MODEL, SameIssueModel, connected_groups, group_weights, train_model

BALANCED_SOURCES = {"demo.issue_pairs"}
"""Sources whose pairs are drawn balanced by construction. Every other source (a file of labelled pairs, the staff's
decisions) is weighed so that each group of its connected pairs counts once (``same_issue.group_weights``): such
files are labelled around hot issues, and one complaint campaign would otherwise outweigh many issues."""

_loaded: dict[str, tuple[float, SameIssueModel]] = {}
_lock = threading.Lock()


def model_path() -> Path:
    """The file in use: the instance's own model, or the shipped default."""
    own = Path(current_app.config["SAME_ISSUE_MODEL"])
    return own if own.exists() else SHIPPED_MODEL


def current_model() -> SameIssueModel:
    """The model in use, loaded once per process and again when its file changes."""
    path = model_path()
    changed = os.stat(path).st_mtime
    with _lock:
        held = _loaded.get(str(path))
        if held is None or held[0] != changed:
            held = (changed, SameIssueModel.load(path))
            _loaded[str(path)] = held
    return held[1]


def staff_decision_pairs(limit: int = 50_000) -> list[tuple[Text, Text, int]]:
    """Labelled pairs from the staff's cluster decisions: kept together (1) and moved apart (0)."""
    first, second = aliased(Suggestion), aliased(Suggestion)
    rows = db.session.execute(
        sa.select(first.title, first.body, second.title, second.body, ClusterPin.kind)
        .join(first, first.id == ClusterPin.suggestion_id).join(second, second.id == ClusterPin.other_id)
        .where(ClusterPin.kind.in_([PinKind.TOGETHER, PinKind.APART])).order_by(ClusterPin.id.desc()).limit(limit))
    return [(Text(t1, b1), Text(t2, b2), int(kind == PinKind.TOGETHER)) for t1, b1, t2, b2, kind in rows]


def retrain(sources: dict[str, list[tuple[Text, Text, int]]], output: Path) -> SameIssueModel:
    """Train a model on the labelled pairs of every source (name → pairs) and save it to ``output``."""
    labelled = [pair for pairs in sources.values() for pair in pairs]
    weights = np.concatenate([np.ones(len(pairs)) if name in BALANCED_SOURCES else group_weights(connected_groups(
        [(a, b) for a, b, _ in pairs])) for name, pairs in sources.items()]) if labelled else None
    model = train_model(labelled, {"sources": {name: len(pairs) for name, pairs in sources.items()}}, weights)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".partial")
    model.save(partial)
    partial.replace(output)  # a serving process never reads half a file
    return model
