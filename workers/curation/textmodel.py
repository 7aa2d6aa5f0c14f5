"""A linear text classifier stored without pickle: hashed word and character n-grams and
logistic-regression weights.

The features are hashed n-gram counts (`vectorize`), stateless like scikit-learn's
`HashingVectorizer`: the parameters kept in the model's JSON rebuild them exactly. A model is
two plain files, `<stem>.npz` (float32 weights, loaded with `allow_pickle=False`) and
`<stem>.json` (vectorizer parameters, classes, thresholds, training sources, seed, figures).
Text is folded (`prank_base.fold`: lower case, look-alikes and leetspeak mapped) before
hashing, in training and at run time alike.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from workers.curation.prank_base import fold

FloatArray = npt.NDArray[np.float64]

DEFAULT_PARAMS: dict[str, Any] = {
    "n_features": 2**18,  # per block (words, characters)
    "word_ngrams": [1, 2],
    "char_ngrams": [2, 5],
    "max_chars": 4000,  # longer texts are cut: the start and the end are kept
}
FORMAT = 1

_WORD = re.compile(r"\w\w+")
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_PRIME = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _finish(h: npt.NDArray[np.uint64], salt: int, n_features: int) -> npt.NDArray[np.int64]:
    """Mix raw rolling hashes (with the n-gram order as salt) into bucket numbers."""
    h = (h ^ np.uint64(salt * 0x632BE59BD9B4E019 & 0xFFFFFFFFFFFFFFFF)) * _MIX
    h ^= h >> np.uint64(29)
    return (h % np.uint64(n_features)).astype(np.int64)


def _char_buckets(text: str, lo: int, hi: int, n_features: int) -> npt.NDArray[np.int64]:
    if not text:
        return np.zeros(0, dtype=np.int64)
    raw = np.frombuffer((" " + text + " ").encode("utf-32-le"), dtype=np.uint32)
    codes: npt.NDArray[np.uint64] = raw.astype(np.uint64)
    return _ngram_buckets(codes, lo, hi, n_features, salt=0)


def _word_buckets(text: str, lo: int, hi: int, n_features: int) -> npt.NDArray[np.int64]:
    tokens = _WORD.findall(text)
    if not tokens:
        return np.zeros(0, dtype=np.int64)
    ids = np.array([zlib.crc32(t.encode("utf-8")) for t in tokens], dtype=np.uint64)
    return _ngram_buckets(ids, lo, hi, n_features, salt=100)


def _ngram_buckets(
    ids: npt.NDArray[np.uint64], lo: int, hi: int, n_features: int, *, salt: int
) -> npt.NDArray[np.int64]:
    """Feature buckets of every lo..hi-gram of `ids` (characters or words): a rolling
    polynomial hash, finished per n (`salt` keeps word and character n-grams apart)."""
    h: npt.NDArray[np.uint64] = np.zeros(len(ids), dtype=np.uint64)
    parts = []
    with np.errstate(over="ignore"):
        for n in range(1, hi + 1):
            if len(ids) < n:
                break
            h = np.asarray(h[: len(ids) - n + 1] * _PRIME + ids[n - 1 :], dtype=np.uint64)
            if n >= lo:
                parts.append(_finish(h, salt + n, n_features))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


_QUOTED = re.compile(
    r"(?<!\w)\"[^\"\n]{1,150}\"(?!\w)"
    r"|(?<!\w)'[^'\n]{1,150}'(?!\w)"
    r"|(?<!`)`[^`\n]{1,150}`(?!`)"
    "|\u201c[^\u201d\n]{1,150}\u201d|\u2018[^\u2019\n]{1,150}\u2019"
    "|\u201e[^\u201c\u201d\n]{1,150}[\u201c\u201d]"
    "|\u00ab[^\u00bb\n]{1,150}\u00bb|\u300c[^\u300d\n]{1,150}\u300d"
)
MENTION = " qzq "  # what a quoted span becomes


def mask_mentions(text: str) -> str:
    """Short quoted spans (one line, up to 150 characters, in straight, curly, angle or CJK
    quotes or backticks) replaced by one placeholder word: a phrase that is quoted is
    mentioned, not said, so it should not weigh as if the user said it."""
    return _QUOTED.sub(MENTION, text)


def prepare(
    text: str, max_chars: int = int(DEFAULT_PARAMS["max_chars"]), *, mentions: bool = False
) -> str:
    """What is hashed: the folded text, its middle cut when it is very long; `mentions`:
    short quoted spans masked first (`mask_mentions`)."""
    if len(text) > max_chars:
        half = max_chars // 2
        text = text[:half] + "\n" + text[-half:]
    if mentions:
        text = mask_mentions(text)
    return fold(text)


def _buckets(ready: str, p: dict[str, Any]) -> tuple[npt.NDArray[np.int64], ...]:
    nf = int(p["n_features"])
    (wlo, whi), (clo, chi) = p["word_ngrams"], p["char_ngrams"]
    return _word_buckets(ready, wlo, whi, nf), _char_buckets(ready, clo, chi, nf) + nf


def _sum_sq_counts(buckets: npt.NDArray[np.int64]) -> float:
    """Sum of squared n-gram counts (the squared l2 norm of the count vector)."""
    if len(buckets) == 0:
        return 0.0
    s = np.sort(buckets)
    edges = np.flatnonzero(s[1:] != s[:-1])
    runs = np.diff(np.concatenate(([-1], edges, [len(s) - 1])))
    return float(np.dot(runs, runs))


def vectorize(
    texts: Sequence[str], params: dict[str, Any] | None = None, *, folded: bool = False
) -> sp.csr_matrix:
    """Hashed n-gram counts of texts: word n-grams in the first `n_features` columns,
    character n-grams (across word boundaries) in the next; each block l2-normed per row.
    `folded`: the texts already went through `prepare`.

    Like scikit-learn's HashingVectorizer (stateless, no vocabulary), written with numpy
    rolling hashes because that one costs ~5 ms per 2 KB text, too slow for the stage."""
    p = {**DEFAULT_PARAMS, **(params or {})}
    nf = int(p["n_features"])
    indptr = [0]
    indices: list[npt.NDArray[np.int64]] = []
    data: list[npt.NDArray[np.float32]] = []
    for text in texts:
        ready = text if folded else prepare(text, int(p["max_chars"]))
        n = 0
        for buckets in _buckets(ready, p):
            cols, counts = np.unique(buckets, return_counts=True)
            values = counts.astype(np.float32)
            norm = float(np.sqrt(np.dot(values, values)))
            indices.append(cols)
            data.append(values / norm if norm else values)
            n += len(cols)
        indptr.append(indptr[-1] + n)
    return sp.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0, np.float32),
            np.concatenate(indices) if indices else np.zeros(0, np.int64),
            np.array(indptr, dtype=np.int64),
        ),
        shape=(len(texts), 2 * nf),
    )


@dataclass(slots=True)
class LinearTextModel:
    coef: npt.NDArray[np.float32]
    intercept: float
    params: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    def decision(self, features: sp.csr_matrix) -> FloatArray:
        z = features @ self.coef.astype(np.float64) + self.intercept
        return np.asarray(z, dtype=np.float64).ravel()

    def scores_of(self, features: sp.csr_matrix) -> FloatArray:
        """Probability of the positive class for already-hashed features."""
        z = np.clip(self.decision(features), -40.0, 40.0)
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def scores(self, texts: Sequence[str], *, folded: bool = False) -> FloatArray:
        """Probability of the positive class (meta["classes"][1]) for each text; `folded`:
        the texts already went through `prepare`. Same figures as `scores_of(vectorize(...))`
        without building a matrix (the run-time path)."""
        out = np.empty(len(texts), dtype=np.float64)
        max_chars = int(self.params["max_chars"])
        for i, text in enumerate(texts):
            ready = text if folded else prepare(text, max_chars)
            z = self.intercept
            for buckets in _buckets(ready, self.params):
                sq = _sum_sq_counts(buckets)
                if sq:
                    z += float(self.coef[buckets].sum(dtype=np.float64)) / np.sqrt(sq)
            out[i] = z
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(out, -40.0, 40.0))), dtype=np.float64)

    def save(self, stem: Path) -> None:
        """Write `<stem>.npz` and `<stem>.json`; the same model gives the same bytes."""
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, array in (
                ("coef", self.coef.astype(np.float32)),
                ("intercept", np.array([self.intercept], dtype=np.float32)),
            ):
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                payload = io.BytesIO()
                np.lib.format.write_array(  # type: ignore[no-untyped-call]
                    payload, array, allow_pickle=False
                )
                zf.writestr(info, payload.getvalue())
        stem.with_suffix(".npz").write_bytes(buf.getvalue())
        doc = {"format": FORMAT, "params": self.params, **self.meta}
        stem.with_suffix(".json").write_text(
            json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, stem: Path) -> LinearTextModel:
        stem = Path(stem)
        doc = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            raise ValueError(f"{stem}.json: unknown model format {doc.get('format')!r}")
        with np.load(stem.with_suffix(".npz"), allow_pickle=False) as arrays:
            coef = np.asarray(arrays["coef"], dtype=np.float32)
            intercept = float(arrays["intercept"][0])
        params = {**DEFAULT_PARAMS, **doc.pop("params")}
        doc.pop("format")
        expected = 2 * int(params["n_features"])
        if coef.shape != (expected,):
            raise ValueError(f"{stem}.npz: coef has shape {coef.shape}, expected ({expected},)")
        return cls(coef, intercept, params, doc)


def fit_features(
    features: sp.csr_matrix,
    labels: Sequence[int] | npt.NDArray[Any],
    *,
    seed: int = 13,
    alpha: float = 2e-5,
    epochs: int = 10,
    weights: npt.NDArray[np.float64] | None = None,
) -> tuple[npt.NDArray[np.float32], float]:
    """Logistic regression (balanced classes, l2 penalty `alpha`) fitted by stochastic
    gradient descent with a fixed seed and epoch count, so the same data gives the same
    weights; under a second for ~10k texts."""
    from sklearn.linear_model import SGDClassifier

    y = np.asarray(labels, dtype=np.int64)
    if len(set(y.tolist())) != 2:
        raise ValueError("need examples of both classes to fit")
    clf = SGDClassifier(
        loss="log_loss", alpha=alpha, class_weight="balanced", random_state=seed,
        max_iter=epochs, tol=None, average=True,
    )
    clf.fit(features, y, sample_weight=weights)
    return clf.coef_.ravel().astype(np.float32), float(clf.intercept_[0])


def fit(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    seed: int = 13,
    alpha: float = 2e-5,
    **params: Any,
) -> LinearTextModel:
    """Fit a model on texts with 0/1 labels (1 = the positive class)."""
    merged = {**DEFAULT_PARAMS, **params}
    coef, intercept = fit_features(vectorize(texts, merged), labels, seed=seed, alpha=alpha)
    return LinearTextModel(coef, intercept, merged, {"seed": seed, "alpha": alpha})


def calibrate(p: float, quarantine: float, reject: float) -> float:
    """Map a model probability to the prank stage's scale: the held-in thresholds land on 0.5
    (quarantine) and 0.8 (reject), piecewise linear in between."""
    if p < quarantine:
        return 0.5 * p / quarantine
    if p < reject:
        return 0.5 + 0.3 * (p - quarantine) / max(reject - quarantine, 1e-9)
    return min(0.8 + 0.2 * (p - reject) / max(1.0 - reject, 1e-9), 1.0)
