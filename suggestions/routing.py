"""Routing suggestions: a linear classifier trained on the platform's own routed proposals. Pure: texts in, results out.

No Flask and no database here. The same ``Router`` serves every routing target (the category, the handling body):
the caller trains one per target from proposals that staff have already routed, and shows ``suggest()``'s top labels
to the staff, who confirm. Nothing here routes a proposal on its own.

How a proposal becomes features:
  prepare     NFKC (full width → half width), Traditional → Simplified (OpenCC t2s), lower case, runs of whitespace
              folded to one space. The title, when given, is put in front of the body (``TITLE_REPEAT`` times:
              titles are short and on topic, so they get more weight), and so are the body's first ``LEAD``
              characters once more (the opening usually states the problem; the rest is often background).
  features    two TF-IDF blocks (sublinear tf, L2-normalised), concatenated: jieba words (no HMM, dictionary loaded
              once per process, paddle mode never used) and character 1–2-grams (min_df 2). The character block
              catches words jieba splits differently and Traditional leftovers.
  classifier  LinearSVC (C 0.5, class weights balanced) fitted on all the data, wrapped in CalibratedClassifierCV
              with temperature scaling (one temperature fitted on 3-fold out-of-fold decision values, ensemble=False):
              ``suggest()`` gives probabilities and the ranking is the full-data SVC's own. With fewer than 3
              examples in some class the SVC's decision values go through a plain softmax instead (flagged by
              ``Router.calibrated``: those confidences are only a ranking aid).

Measured with ``python -m bench.routing`` on 1,842 labelled messages in 7 categories (see that module and the
accountability issue note for the figures and the settings that were tried).

The model file is written by ``Router.save`` with pickle (scikit-learn's documented persistence; load only files this
platform wrote itself: unpickling runs code) and is only readable by the same scikit-learn version.
"""
from __future__ import annotations

import functools
import os
import pickle
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.chinese import load_jieba, to_simplified

MIN_EXAMPLES = 10
"""Fewest routed proposals (over at least ``MIN_CLASSES`` labels) a router is trained from."""
MIN_CLASSES = 2
MIN_PER_CLASS = 2
"""Labels with fewer routed proposals than this are left out of training (they cannot be learnt or calibrated)."""
CALIBRATION_FOLDS = 3
TITLE_REPEAT = 2
LEAD = 80
FORMAT = 1

DEFAULTS = {
    "classifier": "svc",  # "svc" (LinearSVC, calibrated) or "lr" (multinomial LogisticRegression)
    "C": 0.5,
    "class_weight": "balanced",
    "char_ngrams": (1, 2),
    "char_min_df": 2,
    "words": True,
    "title_repeat": TITLE_REPEAT,
    "calibration": "temperature",  # CalibratedClassifierCV method for "svc": "temperature" or "sigmoid"
    "ensemble": False,  # CalibratedClassifierCV(ensemble=...): average the per-fold models, or refit one on all
    "word_bigrams": False,
    "word_weight": 1.0,  # weight of the word block relative to the character block
    "lead": LEAD,  # the body's first `lead` characters are repeated once (the opening usually states the problem)
}
"""The chosen configuration; ``Router.train(..., **options)`` overrides any of these (the benchmark does)."""


# --- text preparation ------------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """NFKC, Traditional → Simplified, lower case, whitespace runs folded to one space.

    >>> normalise("停車  難ＡＢＣ")
    '停车 难abc'
    """
    text = unicodedata.normalize("NFKC", text or "")
    return " ".join(to_simplified(text).lower().split())


def prepare(text: str, title: str = "", title_repeat: int = TITLE_REPEAT, lead: int = 0) -> str:
    """The document the classifier sees: the normalised title (repeated) in front of the normalised body."""
    title = normalise(title)
    body = normalise(text)
    parts = [title] * title_repeat if title else []
    if lead > 0 and body:
        parts.append(body[:lead])
    return " \n ".join(parts + [body] if body else parts)


@functools.lru_cache(maxsize=4096)
def _cut(doc: str) -> tuple[str, ...]:
    return tuple(w for w in load_jieba().lcut(doc, HMM=False) if any(ch.isalnum() for ch in w))


def words(doc: str) -> list[str]:
    """jieba words of a prepared document (no HMM), punctuation and spaces dropped. The word block's analyzer."""
    return list(_cut(doc))


def words_and_bigrams(doc: str) -> list[str]:
    """``words`` and each pair of adjacent words (joined by a space)."""
    w = _cut(doc)
    return list(w) + [f"{a} {b}" for a, b in zip(w, w[1:], strict=False)]


# --- the model -------------------------------------------------------------------------------------------------

def build_pipeline(options: dict, n_per_class_min: int):
    """The scikit-learn Pipeline for ``options`` (see ``DEFAULTS``); it takes prepared documents."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    blocks = []
    if options["words"]:
        analyzer = words_and_bigrams if options["word_bigrams"] else words
        blocks.append(("words", TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32)))
    if options["char_ngrams"]:
        blocks.append(("chars", TfidfVectorizer(analyzer="char", ngram_range=tuple(options["char_ngrams"]),
                                                min_df=options["char_min_df"], sublinear_tf=True,
                                                dtype=np.float32)))
    if not blocks:
        raise ValueError("a router needs the word block, the character block or both")
    if options["classifier"] == "lr":
        classifier = LogisticRegression(C=options["C"], class_weight=options["class_weight"], max_iter=2000)
    elif options["classifier"] == "svc":
        classifier = LinearSVC(C=options["C"], class_weight=options["class_weight"])
        if n_per_class_min >= CALIBRATION_FOLDS:
            classifier = CalibratedClassifierCV(classifier, method=options["calibration"], cv=CALIBRATION_FOLDS,
                                                ensemble=options["ensemble"])
    else:
        raise ValueError(f"unknown classifier {options['classifier']!r}: 'svc' or 'lr'")
    weights = {"words": options["word_weight"], "chars": 1.0}
    return Pipeline([("features", FeatureUnion(blocks, transformer_weights=weights)), ("classifier", classifier)])


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def _check(texts: Sequence[str], labels: Sequence[str], titles: Sequence[str] | None) -> None:
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if titles is not None and len(titles) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(titles)} titles")


def _not_enough(n: int, n_classes: int) -> ValueError:
    return ValueError(f"not enough routed proposals to train: need at least {MIN_EXAMPLES} across {MIN_CLASSES} "
                      f"categories (each with at least {MIN_PER_CLASS}); have {n} across {n_classes}")


class Router:
    """A trained routing model: suggests labels (a category, a handling body) for a proposal's text and title."""

    def __init__(self, pipeline, options: dict, ignored: dict[str, int] | None = None):
        """Use ``Router.train`` or ``Router.load``; this wraps an already fitted pipeline."""
        self._pipeline = pipeline
        self.options = dict(options)
        self.ignored = dict(ignored or {})
        """Labels left out of training for having fewer than ``MIN_PER_CLASS`` examples, with their counts."""

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], titles: Sequence[str] | None = None,
              **options) -> Router:
        """Fit a router on routed proposals: body ``texts``, their ``labels`` and optionally their ``titles``.

        Blank labels count as not routed and are skipped; labels seen fewer than ``MIN_PER_CLASS`` times are left
        out (listed in ``router.ignored``). Raises ValueError, with a message fit for staff, when fewer than
        ``MIN_EXAMPLES`` proposals across ``MIN_CLASSES`` labels remain. ``options`` override ``DEFAULTS``.
        """
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"unknown router options: {', '.join(sorted(unknown))}")
        options = {**DEFAULTS, **options}
        _check(texts, labels, titles)
        labels = [str(label).strip() if label is not None else "" for label in labels]
        counts = Counter(label for label in labels if label)
        ignored = {label: n for label, n in counts.items() if n < MIN_PER_CLASS}
        keep = [i for i, label in enumerate(labels) if label and label not in ignored]
        n_classes = len(counts) - len(ignored)
        if len(keep) < MIN_EXAMPLES or n_classes < MIN_CLASSES:
            raise _not_enough(len(keep), n_classes)
        docs = [prepare(texts[i], titles[i] if titles is not None else "", options["title_repeat"], options["lead"])
                for i in keep]
        if not any(docs):
            raise ValueError("not enough routed proposals to train: all their texts are empty")
        y = [labels[i] for i in keep]
        pipeline = build_pipeline(options, min(counts[label] for label in set(y)))
        try:
            pipeline.fit(docs, y)
        except ValueError as e:
            if "empty vocabulary" in str(e):
                raise ValueError("not enough routed proposals to train: their texts have no words in common") from e
            raise
        return cls(pipeline, options, ignored)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels this router can suggest, in the model's (sorted) order."""
        return tuple(str(label) for label in self._pipeline.classes_)

    @property
    def calibrated(self) -> bool:
        """True when confidences are calibrated probabilities (CalibratedClassifierCV or LogisticRegression);
        False when they are a softmax of the SVC's decision values (too few examples to calibrate)."""
        return hasattr(self._pipeline[-1], "predict_proba")

    def _docs(self, texts: Sequence[str], titles: Sequence[str] | None) -> list[str]:
        if titles is not None and len(titles) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(titles)} titles")
        repeat, lead = self.options["title_repeat"], self.options["lead"]
        return [prepare(t, titles[i] if titles is not None else "", repeat, lead) for i, t in enumerate(texts)]

    def probabilities(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> np.ndarray:
        """An (n, len(labels)) array of confidences in [0, 1], each row summing to 1."""
        docs = self._docs(texts, titles)
        if self.calibrated:
            return self._pipeline.predict_proba(docs)
        scores = self._pipeline.decision_function(docs)
        if scores.ndim == 1:  # two classes: one margin for the second
            scores = np.column_stack([-scores, scores])
        return _softmax(scores)

    def predict(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> list[str]:
        """The most likely label of each text (with its title, if given)."""
        if len(texts) == 0:
            return []
        return [str(label) for label in self._pipeline.predict(self._docs(texts, titles))]

    def suggest(self, text: str, title: str = "", k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most likely labels for one proposal with their confidences, most likely first.

        Confidences are probabilities over all labels, so the ``k`` shown sum to at most 1.
        """
        row = self.probabilities([text], [title])[0]
        order = np.argsort(-row, kind="stable")[:max(k, 0)]
        labels = self.labels
        return [(labels[i], float(row[i])) for i in order]

    def save(self, path: str | os.PathLike) -> None:
        """Write the router to ``path`` (under the instance folder), atomically: readers never see half a file."""
        import sklearn
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        payload = {"format": FORMAT, "sklearn": sklearn.__version__, "router": self}
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".router-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> Router:
        """Read a router written by ``save``. Raises ValueError if the file is not one, or was written by another
        scikit-learn version (retrain then). Only load files this platform wrote itself."""
        import sklearn
        with open(path, "rb") as f:
            payload = pickle.load(f)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT or not isinstance(
                payload.get("router"), cls):
            raise ValueError(f"{os.fspath(path)} is not a routing model written by this version of Jianyan")
        if payload["sklearn"] != sklearn.__version__:
            raise ValueError(f"{os.fspath(path)} was trained with scikit-learn {payload['sklearn']}, this is "
                             f"{sklearn.__version__}: retrain the router")
        return payload["router"]


# --- evaluation ------------------------------------------------------------------------------------------------

@dataclass
class Report:
    """Quality and speed of a router on held-out messages (out-of-fold predictions for cross-validation)."""

    labels: list[str]
    macro_f1: float
    accuracy: float
    per_class: dict[str, dict[str, float]]  # label → precision, recall, f1, support
    confusion: list[list[int]]  # rows: true label, columns: predicted label, both in ``labels`` order
    n: int
    train_seconds: float  # total over folds for cross-validation
    predict_ms_per_message: float
    fold_macro_f1: list[float] = field(default_factory=list)
    top3_accuracy: float = 0.0


def _report(y_true: Sequence[str], y_pred: Sequence[str], top3: float, train_s: float, predict_s: float,
            folds: list[float]) -> Report:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per_class = {label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                 for i, label in enumerate(labels)}
    return Report(labels=labels,
                  macro_f1=float(f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro",
                                          zero_division=0)),
                  accuracy=float(accuracy_score(y_true, y_pred)), per_class=per_class,
                  confusion=confusion_matrix(y_true, y_pred, labels=labels).tolist(), n=len(y_true),
                  train_seconds=train_s, predict_ms_per_message=1000 * predict_s / max(len(y_true), 1),
                  fold_macro_f1=folds, top3_accuracy=top3)


def _top3_hits(router: Router, texts, titles, y_true) -> int:
    proba = router.probabilities(texts, titles)
    labels = np.array(router.labels)
    top = labels[np.argsort(-proba, axis=1)[:, :3]]
    return int(sum(t in row for t, row in zip(y_true, top, strict=True)))


def evaluate(router: Router, texts: Sequence[str], labels: Sequence[str],
             titles: Sequence[str] | None = None, train_seconds: float = 0.0) -> Report:
    """Score a trained router on held-out ``texts`` with their true ``labels``."""
    _check(texts, labels, titles)
    t = time.perf_counter()
    predicted = router.predict(texts, titles)
    predict_s = time.perf_counter() - t
    top3 = _top3_hits(router, texts, titles, labels) / max(len(labels), 1)
    return _report(list(labels), predicted, top3, train_seconds, predict_s, [])


def cross_validate(texts: Sequence[str], labels: Sequence[str], titles: Sequence[str] | None = None,
                   folds: int = 5, seed: int = 0, **options) -> Report:
    """Stratified ``folds``-fold cross-validation of ``Router.train(..., **options)``.

    Metrics are computed on the pooled out-of-fold predictions (``fold_macro_f1`` has each fold's own macro-F1).
    """
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    _check(texts, labels, titles)
    labels = [str(label).strip() for label in labels]
    smallest = min(Counter(labels).values(), default=0)
    if smallest < folds:
        raise ValueError(f"every label needs at least {folds} examples for {folds}-fold cross-validation; "
                         f"the rarest has {smallest}")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    y_true, y_pred, fold_f1 = [], [], []
    train_s = predict_s = 0.0
    top3 = 0
    for train_idx, test_idx in splitter.split(np.zeros(len(labels)), labels):
        pick = lambda seq, idx: [seq[i] for i in idx] if seq is not None else None  # noqa: E731
        t = time.perf_counter()
        router = Router.train(pick(texts, train_idx), pick(labels, train_idx), pick(titles, train_idx), **options)
        train_s += time.perf_counter() - t
        t = time.perf_counter()
        predicted = router.predict(pick(texts, test_idx), pick(titles, test_idx))
        predict_s += time.perf_counter() - t
        truth = pick(labels, test_idx)
        top3 += _top3_hits(router, pick(texts, test_idx), pick(titles, test_idx), truth)
        fold_f1.append(float(f1_score(truth, predicted, average="macro", zero_division=0)))
        y_true += truth
        y_pred += predicted
    return _report(y_true, y_pred, top3 / len(y_true), train_s, predict_s, fold_f1)
