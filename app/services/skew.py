"""Dev-prod skew: has production drifted away from a dataset split (the reference, e.g. eval)?

Each conversation becomes a few features (`features`), and `compare` scores every feature by the
population stability index, PSI = sum((p - r) * ln(p / r)) over bins, r and p the reference and
production shares (an empty bin counts as EPSILON). Bins:
- numeric features: the reference's deciles, duplicate edges merged, intervals closed on the
  right, plus a bin below the reference minimum when that minimum holds a tenth or more of it
  (so "no code" against "some code", or fewer turns than ever seen, still separate). The
  two-sample Kolmogorov-Smirnov statistic and p-value are reported alongside;
- binary features: the two values; language: its codes, those under 1% on both sides pooled.

Status, by the usual industry convention for PSI: below WATCH (0.1) `ok`, no real change; from
WATCH to DRIFT (0.25) `watch`, a moderate shift worth a look; from DRIFT on `drift`, the split
no longer represents production. With no change at all PSI is still about
(bins - 1) * (1/n_ref + 1/n_prod) from sampling alone, so a feature's note warns when the
samples are too small for that to sit well under WATCH.

Content: the user text of both sides is vectorised (TF-IDF, word 1-2 grams) and clustered
together (k-means, seeded). A cluster is under-covered when it holds at least
UNDER_COVERED_MIN_SHARE (2%) of production and the reference holds under a UNDER_COVERED_RATIO
(4th) of that share: topics production asks about that the split barely tests. The content
feature's value is production's share in under-covered clusters, with the same thresholds (a
tenth of production untested is worth a look, a quarter is drift); its PSI is over the clusters.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from itertools import chain, pairwise
from typing import Any, Literal

import numpy as np
import py3langid
import wordfreq
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps
from sklearn.cluster import MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

WATCH = 0.1
DRIFT = 0.25
EPSILON = 1e-4  # share given to an empty bin, so PSI stays finite
MIN_CONVERSATIONS = 20  # per side
RARE_LANGUAGE = 0.01  # a language under this share on both sides is pooled into "other"
UNDER_COVERED_MIN_SHARE = 0.02
UNDER_COVERED_RATIO = 4.0
MIN_LANGUAGE_LETTERS = 10  # below this, language identification is a guess: "und"
LANGUAGE_CHARS = 200  # langid reads this much of the user text: enough, and bounds its cost
TOPIC_CHARS = 2_000  # user text per conversation for topics, so a pasted document cannot dominate
MAX_FEATURES = 20_000
TOP_TERMS = 5
EXAMPLES = 5

Status = Literal["ok", "watch", "drift"]
Kind = Literal["numeric", "binary", "categorical", "content"]
Turns = Sequence[Mapping[str, Any]]
Conversation = tuple[str, Turns]

PLACEHOLDER = re.compile(r"<([A-Z][A-Z_]*)_\d+>")
NOT_LETTER = re.compile(r"[\W\d_]+")
LONG_WORD = re.compile(r"[^\W\d_]{3,}")  # letter runs of 3 or more: the words typos count
FENCE = re.compile(r"^\s*```", re.MULTILINE)
# A line that reads as code: a statement keyword at its start, or ending in { } or ;
# (pretty-printed JSON counts too). Case-sensitive, so prose ("Import your contacts") does not.
CODE_LINE = re.compile(
    r"^\s*(?:def |class \w+|import \w|from [\w.]+ import |return\b|#include|function\b"
    r"|(?:const|let|var) \w+ ?=|(?:public|private|static) \w|SELECT |print\(|console\.)"
    r"|[{};]\s*$",
    re.MULTILINE,
)
LIST_LINE = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+\S", re.MULTILINE)
JSON_START = re.compile(r"[\[{]")
JSON_ATTEMPTS = 10  # per turn: raw_decode at the first few brackets only
_DECODER = json.JSONDecoder()


class NotEnoughData(ValueError):
    """Too few conversations on a side to compare distributions."""


@dataclass(frozen=True)
class Features:
    turns: int
    user_chars: int
    assistant_chars: int
    code_share: float  # fraction of turns with code
    has_json: bool
    has_lists: bool
    language: str  # ISO 639-1 from py3langid, "und" when undetermined
    typo_rate: float  # share of user words wordfreq does not know
    placeholder_density: float  # placeholders per 100 words


@dataclass(frozen=True)
class SkewBin:
    """One bin PSI is computed over, with each side's share of it (what a chart draws)."""

    label: str
    reference: float
    production: float


@dataclass(frozen=True)
class FeatureSkew:
    name: str
    kind: Kind
    psi: float
    ks: float | None
    ks_p: float | None
    status: Status  # from psi; for content from value (its psi, over clusters, is context)
    reference: dict[str, float]
    production: dict[str, float]
    value: float | None = None  # content only: production share in under-covered clusters
    note: str | None = None
    bins: tuple[SkewBin, ...] = ()  # content: none (its clusters are the report's)


@dataclass(frozen=True)
class ClusterSkew:
    cluster: int
    reference_share: float
    production_share: float
    under_covered: bool
    top_terms: tuple[str, ...]
    examples: tuple[str, ...]  # production item ids nearest the centre


@dataclass(frozen=True)
class SkewReport:
    reference_count: int
    production_count: int
    features: list[FeatureSkew]
    clusters: list[ClusterSkew]
    status: Status

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, floats rounded to 4 digits."""
        return dict(_rounded(asdict(self)))


NUMERIC = (
    "turns",
    "user_chars",
    "assistant_chars",
    "code_share",
    "typo_rate",
    "placeholder_density",
)
BINARY = ("has_json", "has_lists")
_STATUS_ORDER: tuple[Status, ...] = ("ok", "watch", "drift")


# --- features of one conversation ---------------------------------------------------------------


def features(turns: Turns) -> Features:
    """The features of one (redacted) conversation."""
    texts = [(str(t.get("role", "")), str(t.get("text") or "")) for t in turns]
    user = "\n".join(text for role, text in texts if role == "user")
    assistant = "\n".join(text for role, text in texts if role == "assistant")
    language = detect_language(user)
    return Features(
        turns=len(texts),
        user_chars=len(user),
        assistant_chars=len(assistant),
        code_share=sum(map(has_code, (t for _, t in texts))) / len(texts) if texts else 0.0,
        has_json=any(has_json(text) for _, text in texts),
        has_lists=any(has_list(text) for _, text in texts),
        language=language,
        typo_rate=typo_rate(user, language),
        placeholder_density=placeholder_density(user + "\n" + assistant),
    )


def has_code(text: str) -> bool:
    """A fenced block, or two or more code-like lines (one stray semicolon is prose)."""
    return FENCE.search(text) is not None or len(CODE_LINE.findall(text)) >= 2


def has_json(text: str) -> bool:
    """A JSON object, or an array of two or more values (so a citation like [1] is not JSON)."""
    for n, match in enumerate(JSON_START.finditer(text)):
        if n >= JSON_ATTEMPTS:
            break
        try:
            value, _ = _DECODER.raw_decode(text, match.start())
        except ValueError:
            continue
        if (isinstance(value, dict) and value) or (isinstance(value, list) and len(value) >= 2):
            return True
    return False


def has_list(text: str) -> bool:
    """Two or more markdown bullet or numbered lines: one dash is not a list."""
    return len(LIST_LINE.findall(text)) >= 2


def detect_language(text: str) -> str:
    """ISO code of the text's start by py3langid, placeholders removed; "und" when it has too
    few letters to tell."""
    bare = PLACEHOLDER.sub(" ", text[: 2 * LANGUAGE_CHARS])[:LANGUAGE_CHARS]
    if len(NOT_LETTER.sub("", bare)) < MIN_LANGUAGE_LETTERS:
        return "und"
    return str(py3langid.classify(bare)[0])


def typo_rate(user_text: str, language: str) -> float:
    """Share of the user's words (3+ letters, placeholders excluded) unknown to wordfreq."""
    lang = _wordfreq_language(language)
    if lang is None:
        return 0.0
    words = Counter(LONG_WORD.findall(PLACEHOLDER.sub(" ", user_text).lower()))
    total = words.total()
    # A word in the wordlist has a zipf of 1 or more: ask zipf_frequency only about the rest.
    listed = wordfreq.get_frequency_dict(lang)
    unknown = sum(n for w, n in words.items() if w not in listed and _zipf(w, lang) == 0)
    return unknown / total if total else 0.0


def placeholder_density(text: str) -> float:
    """Redaction placeholders per 100 whitespace-separated words."""
    words = len(text.split())
    return 100 * len(PLACEHOLDER.findall(text)) / words if words else 0.0


@lru_cache(maxsize=256)
def _wordfreq_language(language: str) -> str | None:
    """The wordlist to check words against: the language's, else English's. None when
    wordfreq needs an optional tokenizer it lacks (MeCab for ja/ko, jieba for zh)."""
    lang = language if language in wordfreq.available_languages() else "en"
    try:
        wordfreq.zipf_frequency("a", lang)
    except ImportError:
        return None
    return lang


@lru_cache(maxsize=200_000)
def _zipf(word: str, lang: str) -> float:
    return float(wordfreq.zipf_frequency(word, lang))


# --- PSI and the per-feature comparisons --------------------------------------------------------


def psi(reference_counts: ArrayLike, production_counts: ArrayLike) -> float:
    """Population stability index of two histograms over the same bins (EPSILON for empty)."""
    ref = np.asarray(reference_counts, dtype=float)
    prod = np.asarray(production_counts, dtype=float)
    if ref.shape != prod.shape or ref.sum() <= 0 or prod.sum() <= 0:
        raise ValueError("psi needs two non-empty histograms over the same bins")
    r = np.maximum(ref / ref.sum(), EPSILON)
    p = np.maximum(prod / prod.sum(), EPSILON)
    return float(np.sum((p - r) * np.log(p / r)))


def status_of(value: float) -> Status:
    return "ok" if value < WATCH else "watch" if value < DRIFT else "drift"


def decile_edges(reference: NDArray[np.float64]) -> NDArray[np.float64]:
    """Right-closed bin edges from the reference deciles, with a below-minimum bin when the
    minimum is itself an edge (a point mass there, e.g. most conversations have no code)."""
    edges: NDArray[np.float64] = np.unique(np.quantile(reference, np.linspace(0.1, 0.9, 9)))
    lowest = reference.min()
    if edges[0] == lowest:
        edges = np.concatenate(([np.nextafter(lowest, -np.inf)], edges))
    return edges


def _histograms(
    ref: NDArray[np.float64], prod: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    edges = decile_edges(ref)
    bins = len(edges) + 1
    ref_bins = np.searchsorted(edges, ref, side="left")  # bin i is (edge[i-1], edge[i]]
    prod_bins = np.searchsorted(edges, prod, side="left")
    return (edges, np.bincount(ref_bins, minlength=bins),
            np.bincount(prod_bins, minlength=bins))


def _edge(value: float) -> str:
    return f"{value:.3g}"


def _bin_labels(edges: NDArray[np.float64], lowest: float) -> list[str]:
    """`≤ a`, `(a, b]`, …, `> z`: the right-closed intervals of `_histograms` (the bin below
    the reference minimum, when `decile_edges` adds it, reads `< min`, the next `= min` or
    `[min, b]`)."""
    inner = [f"({_edge(lo)}, {_edge(hi)}]" for lo, hi in pairwise(edges)]
    labels = [f"≤ {_edge(edges[0])}", *inner, f"> {_edge(edges[-1])}"]
    if edges[0] < lowest:
        labels[0] = f"< {_edge(lowest)}"
        if len(edges) == 1:
            labels[1] = f"≥ {_edge(lowest)}"
        elif edges[1] == lowest:
            labels[1] = f"= {_edge(lowest)}"
        else:
            labels[1] = f"[{_edge(lowest)}, {_edge(edges[1])}]"
    return labels


def _bins(labels: Sequence[str], ref_counts: ArrayLike, prod_counts: ArrayLike
          ) -> tuple[SkewBin, ...]:
    ref = np.asarray(ref_counts, dtype=float)
    prod = np.asarray(prod_counts, dtype=float)
    return tuple(SkewBin(label, float(r / ref.sum()), float(p / prod.sum()))
                 for label, r, p in zip(labels, ref, prod, strict=True))


def _chance_note(bins: int, n_ref: int, n_prod: int) -> str | None:
    """A warning when sampling alone would give a PSI near WATCH."""
    expected = (bins - 1) * (1 / n_ref + 1 / n_prod)
    if expected < WATCH / 2:
        return None
    return f"small samples: a PSI of about {expected:.2f} is expected by chance alone"


def numeric_skew(name: str, ref: NDArray[np.float64], prod: NDArray[np.float64]) -> FeatureSkew:
    edges, ref_counts, prod_counts = _histograms(ref, prod)
    value = psi(ref_counts, prod_counts)
    with warnings.catch_warnings():  # ties: scipy falls back to the asymptotic p-value, fine
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        ks = sps.ks_2samp(ref, prod)
    used = int(np.count_nonzero(ref_counts + prod_counts))
    return FeatureSkew(
        name=name,
        kind="numeric",
        psi=value,
        ks=float(ks.statistic),
        ks_p=float(ks.pvalue),
        status=status_of(value),
        reference={"mean": float(ref.mean()), "median": float(np.median(ref))},
        production={"mean": float(prod.mean()), "median": float(np.median(prod))},
        note=_chance_note(used, len(ref), len(prod)),
        bins=_bins(_bin_labels(edges, float(ref.min())), ref_counts, prod_counts),
    )


def binary_skew(name: str, ref: NDArray[np.bool_], prod: NDArray[np.bool_]) -> FeatureSkew:
    ref_counts = [len(ref) - int(ref.sum()), int(ref.sum())]
    prod_counts = [len(prod) - int(prod.sum()), int(prod.sum())]
    value = psi(ref_counts, prod_counts)
    return FeatureSkew(
        name=name,
        kind="binary",
        psi=value,
        ks=None,
        ks_p=None,
        status=status_of(value),
        reference={"share": float(ref.mean())},
        production={"share": float(prod.mean())},
        bins=_bins(("no", "yes"), ref_counts, prod_counts),
    )


def categorical_skew(name: str, ref: Sequence[str], prod: Sequence[str]) -> FeatureSkew:
    """PSI over the categories of either side, the rare ones (under 1% on both) as "other"."""
    ref_n, prod_n = Counter(ref), Counter(prod)
    kept = sorted(
        c
        for c in ref_n.keys() | prod_n.keys()
        if ref_n[c] >= RARE_LANGUAGE * len(ref) or prod_n[c] >= RARE_LANGUAGE * len(prod)
    )
    pooled = (len(ref) - sum(ref_n[c] for c in kept), len(prod) - sum(prod_n[c] for c in kept))
    names = kept + (["other"] if any(pooled) else [])
    ref_counts = [ref_n[c] for c in kept] + ([pooled[0]] if any(pooled) else [])
    prod_counts = [prod_n[c] for c in kept] + ([pooled[1]] if any(pooled) else [])
    value = psi(ref_counts, prod_counts)
    return FeatureSkew(
        name=name,
        kind="categorical",
        psi=value,
        ks=None,
        ks_p=None,
        status=status_of(value),
        reference={c: n / len(ref) for c, n in zip(names, ref_counts, strict=True)},
        production={c: n / len(prod) for c, n in zip(names, prod_counts, strict=True)},
        note=_chance_note(len(names), len(ref), len(prod)),
        bins=_bins(names, ref_counts, prod_counts),
    )


# --- content: topic clusters --------------------------------------------------------------------


def cluster_count(n: int) -> int:
    """k from the number of conversations: sqrt(n / 2), kept within 2..20."""
    return max(2, min(20, round(math.sqrt(n / 2))))


def _user_text(turns: Turns) -> str:
    """The user's words, a placeholder reduced to its type (`<PERSON_1>` -> `PERSON`)."""
    text = "\n".join(str(t.get("text") or "") for t in turns if t.get("role") == "user")
    return PLACEHOLDER.sub(r" \1 ", text[:TOPIC_CHARS])


# Lower-cased word 1-2 grams, as TfidfVectorizer makes them.
_ANALYSE = TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()


def _tokens(tokens: list[str]) -> list[str]:
    return tokens


def topic_vocabulary(tokens: Sequence[list[str]]) -> list[str]:
    """The MAX_FEATURES n-grams in most conversations, among those in two or more: min_df and
    max_features in one pass (TfidfVectorizer would first build and sort every n-gram)."""
    df = Counter(chain.from_iterable(map(set, tokens)))
    shared = sorted((term for term, n in df.items() if n >= 2), key=lambda t: (-df[t], t))
    return sorted(shared[:MAX_FEATURES])


def content_skew(
    reference: Sequence[Conversation],
    production: Sequence[Conversation],
    clusters: int | None,
    seed: int,
) -> tuple[FeatureSkew, list[ClusterSkew]]:
    texts = [_user_text(turns) for _, turns in (*reference, *production)]
    n_ref = len(reference)
    k = min(clusters or cluster_count(len(texts)), len(set(texts)))
    tokens = [_ANALYSE(text) for text in texts]
    vocabulary = topic_vocabulary(tokens)
    if not vocabulary:
        return _no_content("no words shared by two conversations: topics not compared"), []
    if k < 2:
        return _no_content("all user texts are alike: topics not compared"), []
    vectoriser = TfidfVectorizer(
        analyzer=_tokens, vocabulary=vocabulary, sublinear_tf=True, dtype=np.float32
    )
    matrix = vectoriser.fit_transform(tokens)
    model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=1024)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = model.fit_predict(matrix)
    distances = model.transform(matrix[n_ref:])
    ref_counts = np.bincount(labels[:n_ref], minlength=k)
    prod_counts = np.bincount(labels[n_ref:], minlength=k)
    terms = vectoriser.get_feature_names_out()
    prod_ids = [item_id for item_id, _ in production]
    result = []
    for c in range(k):
        if ref_counts[c] + prod_counts[c] == 0:
            continue  # an empty cluster has no topic to report
        r, p = ref_counts[c] / n_ref, prod_counts[c] / len(production)
        members = np.flatnonzero(labels[n_ref:] == c)
        nearest = members[np.argsort(distances[members, c], kind="stable")[:EXAMPLES]]
        top = np.argsort(-model.cluster_centers_[c], kind="stable")[:TOP_TERMS]
        result.append(
            ClusterSkew(
                cluster=c,
                reference_share=float(r),
                production_share=float(p),
                under_covered=bool(p >= UNDER_COVERED_MIN_SHARE and r < p / UNDER_COVERED_RATIO),
                top_terms=tuple(str(terms[i]) for i in top),
                examples=tuple(prod_ids[i] for i in nearest),
            )
        )
    result.sort(key=lambda s: (not s.under_covered, -s.production_share, s.cluster))
    under_prod = sum(s.production_share for s in result if s.under_covered)
    under_ref = sum(s.reference_share for s in result if s.under_covered)
    skew = FeatureSkew(
        name="content",
        kind="content",
        psi=psi(ref_counts, prod_counts),
        ks=None,
        ks_p=None,
        status=status_of(under_prod),
        value=under_prod,
        reference={"under_covered_share": under_ref, "clusters": float(k)},
        production={"under_covered_share": under_prod, "clusters": float(k)},
    )
    return skew, result


def _no_content(note: str) -> FeatureSkew:
    empty = {"under_covered_share": 0.0, "clusters": 0.0}
    return FeatureSkew(
        name="content",
        kind="content",
        psi=0.0,
        ks=None,
        ks_p=None,
        status="ok",
        reference=empty,
        production=dict(empty),
        value=0.0,
        note=note,
    )


# --- the report ---------------------------------------------------------------------------------


def compare(
    reference: Sequence[Conversation],
    production: Sequence[Conversation],
    *,
    clusters: int | None = None,
    seed: int = 0,
) -> SkewReport:
    """How far production conversations have moved from the reference split, per feature."""
    if len(reference) < MIN_CONVERSATIONS or len(production) < MIN_CONVERSATIONS:
        raise NotEnoughData(
            f"skew needs at least {MIN_CONVERSATIONS} conversations on each side; the reference "
            f"has {len(reference)} and production {len(production)}"
        )
    if clusters is not None and clusters < 2:
        raise ValueError("clusters must be at least 2")
    ref = [features(turns) for _, turns in reference]
    prod = [features(turns) for _, turns in production]
    skews = [numeric_skew(n, _column(ref, n, float), _column(prod, n, float)) for n in NUMERIC]
    skews += [binary_skew(n, _column(ref, n, bool), _column(prod, n, bool)) for n in BINARY]
    skews.append(
        categorical_skew("language", [f.language for f in ref], [f.language for f in prod])
    )
    content, cluster_skews = content_skew(reference, production, clusters, seed)
    skews.append(content)
    worst = max((s.status for s in skews), key=_STATUS_ORDER.index)
    return SkewReport(
        reference_count=len(reference),
        production_count=len(production),
        features=skews,
        clusters=cluster_skews,
        status=worst,
    )


def _column(rows: Sequence[Features], name: str, dtype: type) -> NDArray[Any]:
    return np.array([getattr(f, name) for f in rows], dtype=dtype)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, Mapping):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value
