"""Fitting a `LinearTextModel` on labelled sources and choosing its thresholds.

Features are hashed once for every example (stateless, so any subset of rows can be fitted
without hashing again). Each example is scored as the detector scores it: the highest
probability over its pieces (views and paragraphs). Thresholds come from cross-validation on
the rows being fitted only: the quarantine threshold keeps the out-of-fold false positives of
those rows at or under `quarantine_fp`, the reject threshold at or under `reject_fp`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from workers.curation.textmodel import DEFAULT_PARAMS, LinearTextModel, fit_features, vectorize
from workers.curation.training.corpora import Source, fingerprint

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Task:
    """One detector's learning problem."""

    name: str
    positive: frozenset[str]  # source labels that are the positive class
    negative: frozenset[str]
    pieces: Callable[[str], list[str]]  # raw text -> prepared pieces; [0] is what is fitted
    rule: Callable[[str], bool] | None = None  # a precise rule that flags by itself
    alpha: float = 2e-5  # l2 penalty of the logistic regression
    quarantine_fp: float = 0.01
    reject_fp: float = 0.002
    cv_folds: int = 3
    # Cross-validate by origin (each validation fold holds whole upstream sets), so that the
    # thresholds are chosen on data unlike what the fold was fitted on, as new data will be.
    group_cv: bool = True
    seed: int = 13
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    # Origins this task never fits on: measured as data it has not seen, in every fold and by
    # the shipped model (sources that would teach it the wrong lesson, kept as a check).
    never_fitted: frozenset[str] = frozenset()

    def uses(self, source: Source) -> bool:
        return source.label in self.positive or source.label in self.negative

    def fits(self, source: Source) -> bool:
        return self.uses(source) and source.origin not in self.never_fitted


@dataclass(slots=True)
class Matrix:
    """Every example of a task's sources, hashed once."""

    names: list[str]  # source name per example
    origins: npt.NDArray[np.str_]
    y: IntArray
    fitted: sp.csr_matrix  # features of each example's first piece
    pieces: sp.csr_matrix  # features of every piece
    starts: IntArray  # first piece row of each example (pieces are contiguous per example)
    rule: npt.NDArray[np.bool_]

    def rows(self, *, origin: str | None = None, not_origin: str | None = None) -> IntArray:
        keep = np.ones(len(self.y), dtype=bool)
        if origin is not None:
            keep &= self.origins == origin
        if not_origin is not None:
            keep &= self.origins != not_origin
        return np.flatnonzero(keep)

    def of_source(self, name: str) -> IntArray:
        return np.array([i for i, n in enumerate(self.names) if n == name], dtype=np.int64)


def build(task: Task, sources: dict[str, Source]) -> Matrix:
    texts: list[str] = []
    names: list[str] = []
    origins: list[str] = []
    labels: list[int] = []
    for src in sources.values():
        if not task.uses(src):
            continue
        for ex in src.examples:
            texts.append(ex.text)
            names.append(src.name)
            origins.append(src.origin)
            labels.append(1 if src.label in task.positive else 0)
    return _matrix(task, texts, names, origins, labels)


def build_texts(task: Task, texts: Sequence[str], label: int, name: str) -> Matrix:
    """A matrix for texts that are not a source (derived attack sets)."""
    n = len(texts)
    return _matrix(task, list(texts), [name] * n, [name] * n, [label] * n)


def _matrix(
    task: Task, texts: list[str], names: list[str], origins: list[str], labels: list[int]
) -> Matrix:
    flat: list[str] = []
    starts: list[int] = []
    rule = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        starts.append(len(flat))
        flat.extend(task.pieces(text) or [""])
        if task.rule is not None:
            rule[i] = task.rule(text)
    pieces = vectorize(flat, task.params, folded=True)
    starts_arr = np.array(starts, dtype=np.int64)
    fitted = pieces[starts_arr] if len(texts) else pieces
    return Matrix(
        names, np.array(origins, dtype=np.str_), np.array(labels, dtype=np.int64),
        fitted, pieces, starts_arr, rule,
    )


def _weights(m: Matrix, rows: IntArray) -> FloatArray:
    """Each source counts about as much as the square root of its size: a large source
    does not drown the small ones of its class."""
    names = [m.names[i] for i in rows]
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    w = np.array([counts[n] ** -0.5 for n in names], dtype=np.float64)
    return np.asarray(w * (len(w) / w.sum()), dtype=np.float64)


def fit_rows(task: Task, m: Matrix, rows: IntArray) -> tuple[npt.NDArray[np.float32], float]:
    return fit_features(
        m.fitted[rows], m.y[rows], seed=task.seed, alpha=task.alpha, weights=_weights(m, rows)
    )


def scores(m: Matrix, coef: npt.NDArray[np.float32], intercept: float) -> FloatArray:
    """Each example's score: the highest probability over its pieces."""
    if len(m.y) == 0:
        return np.zeros(0, dtype=np.float64)
    z = np.asarray(m.pieces @ coef.astype(np.float64), dtype=np.float64).ravel() + intercept
    best = np.maximum.reduceat(z, m.starts)
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(best, -40.0, 40.0))), dtype=np.float64)


def threshold_for(negatives: FloatArray, fp: float) -> float:
    """The lowest threshold (score >= it flags) with at most `fp` of negatives flagged."""
    if len(negatives) == 0:
        return 0.5
    desc = np.sort(negatives)[::-1]
    k = int(np.floor(fp * len(desc)))
    if k >= len(desc):
        return 0.0
    return float(np.nextafter(desc[k], np.inf))


@dataclass(slots=True)
class Tuned:
    quarantine: float
    reject: float
    oof: FloatArray  # out-of-fold scores of the rows tuned on
    rows: IntArray


def tune(task: Task, m: Matrix, rows: IntArray) -> Tuned:
    """Thresholds from k-fold cross-validation on `rows` only: grouped by origin when there
    are enough origins (a fold without both classes to fit falls back to plain stratified)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    oof = np.zeros(len(rows), dtype=np.float64)
    y = m.y[rows]
    groups = m.origins[rows]
    splits: list[tuple[IntArray, IntArray]] = []
    if task.group_cv and len(set(groups.tolist())) >= task.cv_folds:
        grouped = StratifiedGroupKFold(
            n_splits=task.cv_folds, shuffle=True, random_state=task.seed
        )
        splits = list(grouped.split(np.zeros(len(rows)), y, groups))
        if any(len(set(y[train].tolist())) < 2 for train, _ in splits):
            splits = []
    if not splits:
        plain = StratifiedKFold(n_splits=task.cv_folds, shuffle=True, random_state=task.seed)
        splits = list(plain.split(np.zeros(len(rows)), y))
    for train, val in splits:
        coef, b = fit_rows(task, m, rows[train])
        oof[val] = scores(_subset(m, rows[val]), coef, b)
    neg = oof[m.y[rows] == 0]
    quarantine = threshold_for(neg, task.quarantine_fp)
    reject = max(threshold_for(neg, task.reject_fp), quarantine)
    return Tuned(quarantine, reject, oof, rows)


def _subset(m: Matrix, rows: IntArray) -> Matrix:
    """The examples `rows` of m, their pieces kept contiguous."""
    ends = np.append(m.starts[1:], m.pieces.shape[0])
    piece_rows = np.concatenate([np.arange(m.starts[i], ends[i]) for i in rows]) if len(rows) \
        else np.zeros(0, dtype=np.int64)
    lengths = ends[rows] - m.starts[rows]
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64) if len(rows) \
        else np.zeros(0, dtype=np.int64)
    return Matrix(
        [m.names[i] for i in rows], m.origins[rows], m.y[rows], m.fitted[rows],
        m.pieces[piece_rows], starts, m.rule[rows],
    )


def subset(m: Matrix, rows: IntArray) -> Matrix:
    return _subset(m, rows)


def per_source(m: Matrix, tuned: Tuned) -> dict[str, dict[str, Any]]:
    """Out-of-fold figures per source at the chosen thresholds (held-in figures)."""
    out: dict[str, dict[str, Any]] = {}
    names = np.array([m.names[i] for i in tuned.rows])
    for name in sorted(set(names.tolist())):
        sel = names == name
        s = tuned.oof[sel]
        rule = m.rule[tuned.rows][sel]
        positive = bool(m.y[tuned.rows][sel][0] == 1)
        flagged = (s >= tuned.quarantine) | rule
        key = "recall" if positive else "fp_rate"
        out[name] = {"n": int(sel.sum()), key: round(float(flagged.mean()), 4)}
    return out


def train(task: Task, sources: dict[str, Source]) -> LinearTextModel:
    """The shipped model: fitted on every source it fits on, thresholds by cross-validation
    on them."""
    used = {k: v for k, v in sources.items() if task.fits(v)}
    m = build(task, used)
    rows = np.arange(len(m.y), dtype=np.int64)
    tuned = tune(task, m, rows)
    coef, b = fit_rows(task, m, rows)
    meta = {
        "task": task.name,
        "classes": [
            "/".join(sorted(task.negative)), "/".join(sorted(task.positive))
        ],
        "thresholds": {
            "quarantine": round(tuned.quarantine, 6),
            "reject": round(tuned.reject, 6),
            "chosen_by": (
                f"{task.cv_folds}-fold cross-validation on the training sources"
                f"{' grouped by origin' if task.group_cv else ''}: "
                f"out-of-fold false positives <= {task.quarantine_fp} (quarantine), "
                f"<= {task.reject_fp} (reject)"
            ),
        },
        "seed": task.seed,
        "alpha": task.alpha,
        "sources": fingerprint(used),
        "figures_out_of_fold": per_source(m, tuned),
    }
    return LinearTextModel(coef, b, dict(task.params), meta)
