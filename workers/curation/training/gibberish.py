"""Build the gibberish model: a character trigram language model over natural text of many
languages and scripts, a known-word and function-word table (wordfreq), a bit set of word
pairs seen in natural text, and per measure the quantiles of natural text (never of gibberish).

Natural text: OASST assistant replies (the prompter messages are left for evaluation) and the
texts labelled text / benign / ham in `data/curation/*/*.jsonl.gz` whose sha256 starts with an
even byte (odd ones are left for evaluation). Of those, a calibration third (second sha256 byte
divisible by 3) is kept out of the character model and the pair bit set and gives the quantiles,
so that they describe text the model has not seen. The character model also reads, for each
wordfreq language, a seeded sample of frequency-weighted words.
Run: `python -m workers.curation.training.gibberish --shared ../shared/data`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import itertools
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import wordfreq
from numpy.typing import NDArray

from workers.curation.gibberish import (
    FREQUENT,
    FUNCTION,
    KNOWN,
    LANG_SHIFT,
    MEASURES,
    NO_SPACE_SCRIPTS,
    PAIR_BITS,
    SIZE_OF,
    WORD,
    WORD_MEASURES,
    Model,
    build_model,
    dominant_script,
    lm_codes,
    measure,
    pair_index,
    prose_pairs,
    word_key,
)

REPO = Path(__file__).resolve().parents[3]
MODELS = REPO / "workers" / "curation" / "models"
CURATION_DATA = REPO / "data" / "curation"
HELD_OUT = ("garak", "pyrit", "spikee", "prompt-security-fuzzer")
SEED = 13
EVAL_SEED = 2024  # the evaluation generates with this seed
ORDER = 3
WORDS_PER_LANG = 25_000  # known-word table size per language
FUNCTION_WORDS = 60  # the most frequent words of a language stand in for its function words
FREQUENT_WORDS = 1000  # pairs of these are judged by the seen-pairs bit set
SAMPLE_WORDS = 12_000  # frequency-weighted words sampled per language for the char model
MAX_TRIGRAMS = 220_000
MAX_BIGRAMS = 60_000
CORPUS_WEIGHT = 4.0  # the natural-text corpora count as this many languages
LEVELS = (0.5, 0.9, 0.99, 0.995, 0.997, 0.998, 0.999, 0.9995)
GATES = (0.995, 0.997, 0.998, 0.999, 0.9995)  # candidate levels for the 0.5 line, lowest first
MAX_NATURAL_FP = 0.005  # natural calibration text reaching 0.5 on any measure
EDGES = {  # lower bounds of length buckets 1..4 (bucket 0 from the measure's minimum)
    "letters": (12, 25, 50, 100, 200),
    "visible": (25, 50, 100, 200),
    "judged": (2, 4, 7, 13),
    "pairs": (5, 8, 13, 25),
    "words": (5, 8, 13, 25),
}
MIN_SPREAD = {  # the least q99-q99.9 spread a measure is given (its natural unit)
    "letters": 0.1,
    "unigrams": 0.1,
    "unknown_words": 0.05,
    "unseen_pairs": 0.05,
    "few_function_words": 0.05,
    "symbols": 0.1,
    "scripts": 0.05,
}
MIN_CELL = 150  # texts a (group, bucket) cell needs for its own quantiles
MIN_GROUP = 40  # texts a group needs at all (else the pooled "*" group answers)


@dataclass(frozen=True, slots=True)
class Natural:
    """One natural text: where it comes from, its language if known."""

    source: str
    text: str
    lang: str | None


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _oasst_replies(shared: Path) -> tuple[list[str], dict[str, str]]:
    path = shared / "oasst-en100-trees" / "en_100_tree.jsonl"
    if not path.is_file():
        return [], {}
    raw = path.read_bytes()
    out: list[str] = []

    def walk(msg: dict[str, Any]) -> None:
        if msg.get("role") == "assistant" and msg.get("text"):
            out.append(msg["text"])
        for reply in msg.get("replies") or []:
            walk(reply)

    for line in raw.decode("utf-8").splitlines():
        if line:
            walk(json.loads(line)["prompt"])
    return out, {str(path): _sha(raw)}


def _pair_texts(shared: Path) -> tuple[list[str], dict[str, str]]:
    """More natural English for the seen-word-pair bit set only: HH-RLHF harmless dialogues
    (the chosen side) and the first sentence of each PAWS-Wiki pair."""
    texts: list[str] = []
    files: dict[str, str] = {}
    hh = shared / "hh-rlhf-harmless" / "harmless-base-test.jsonl.gz"
    if hh.is_file():
        raw = hh.read_bytes()
        files[str(hh)] = _sha(raw)
        for line in gzip.decompress(raw).decode("utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line).get("chosen") or "")
    paws = shared / "paws-wiki-test" / "test.tsv"
    if paws.is_file():
        raw = paws.read_bytes()
        files[str(paws)] = _sha(raw)
        for row in raw.decode("utf-8").splitlines()[1:]:
            cols = row.split("\t")
            if len(cols) >= 2:
                texts.append(cols[1])
    return texts, files


def in_training_half(text: str) -> bool:
    """Curation-data texts with an even first sha256 byte train; odd ones are for evaluation."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 0


def in_calibration(text: str) -> bool:
    """A third of the training half: kept out of the model, it gives the quantiles."""
    return hashlib.sha256(text.encode("utf-8")).digest()[1] % 3 == 0


def _curation_texts(root: Path) -> tuple[list[Natural], dict[str, str]]:
    texts: list[Natural] = []
    files: dict[str, str] = {}
    if not root.is_dir():
        return texts, files
    for part in sorted(root.glob("*/*.jsonl.gz")):
        if any(h in part.parent.name.lower() for h in HELD_OUT):
            continue
        raw = part.read_bytes()
        files[str(part.relative_to(REPO))] = _sha(raw)
        for line in gzip.decompress(raw).decode("utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            text = rec.get("text") or ""
            if rec.get("label") in ("text", "benign", "ham") and text and in_training_half(text):
                texts.append(Natural(part.parent.name, text, rec.get("lang")))
    return texts, files


def ranked_words(lang: str, n: int) -> tuple[list[str], NDArray[Any]]:
    """The n most frequent words of lang and their frequencies (wordfreq's centibel buckets,
    read directly: no tokenizer, so no MeCab or jieba needed)."""
    words: list[str] = []
    freqs: list[float] = []
    for cb, bucket in enumerate(wordfreq.get_frequency_list(lang, wordlist="best")):
        for word in bucket:
            words.append(word)
            freqs.append(10.0 ** (-cb / 100.0))
            if len(words) >= n:
                return words, np.array(freqs)
    return words, np.array(freqs)


def language_sample(lang: str, n_words: int, seed: int) -> list[str]:
    """Frequency-weighted words of `lang` as sentences of 8-20 words (seeded)."""
    words, freqs = ranked_words(lang, WORDS_PER_LANG)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(words), size=n_words, p=freqs / freqs.sum())
    script = dominant_script(" ".join(words[:200]))
    sep = "" if script in NO_SPACE_SCRIPTS else " "
    out: list[str] = []
    i = 0
    while i < n_words:
        k = int(rng.integers(8, 21))
        out.append(sep.join(words[j] for j in picks[i : i + k]))
        i += k
    return out


def _count(texts: Iterable[str], weight_total: float) -> tuple[Counter[int], ...]:
    """Weighted counts of trigram, bigram and unigram codes; the texts together weigh
    `weight_total`."""
    c3: Counter[int] = Counter()
    c2: Counter[int] = Counter()
    c1: Counter[int] = Counter()
    for text in texts:
        codes = lm_codes(text).tolist()
        c1.update(codes)
        c2.update((a << 21) | b for a, b in itertools.pairwise(codes))
        c3.update(
            (a << 42) | (b << 21) | c for a, b, c in zip(codes, codes[1:], codes[2:], strict=False)
        )
    total = sum(c1.values()) or 1
    scale = weight_total / total
    for counter in (c3, c2, c1):
        for key in counter:
            counter[key] *= scale  # type: ignore[assignment]
    return c3, c2, c1


def _merge(parts: list[tuple[Counter[int], ...]]) -> tuple[dict[int, float], ...]:
    merged: tuple[dict[int, float], ...] = (
        defaultdict(float),
        defaultdict(float),
        defaultdict(float),
    )
    for part in parts:
        for m, c in zip(merged, part, strict=True):
            for k, v in c.items():
                m[k] += v
    return merged


def _log_probs(
    c3: dict[int, float], c2: dict[int, float], c1: dict[int, float]
) -> dict[str, NDArray[Any]]:
    """log10 P(c | a b) = count(abc) / count(ab.), P(c | b) likewise, P(c): pruned, sorted."""
    ctx2: dict[int, float] = defaultdict(float)
    for k, v in c3.items():
        ctx2[k >> 21] += v
    ctx1: dict[int, float] = defaultdict(float)
    for k, v in c2.items():
        ctx1[k >> 21] += v
    total = sum(c1.values())
    top3 = sorted(c3.items(), key=lambda kv: -kv[1])[:MAX_TRIGRAMS]
    top2 = sorted(c2.items(), key=lambda kv: -kv[1])[:MAX_BIGRAMS]
    k3 = np.array(sorted(k for k, _ in top3), dtype=np.uint64)
    v3 = np.array([math.log10(c3[int(k)] / ctx2[int(k) >> 21]) for k in k3], dtype=np.float16)
    k2 = np.array(sorted(k for k, _ in top2), dtype=np.uint64)
    v2 = np.array([math.log10(c2[int(k)] / ctx1[int(k) >> 21]) for k in k2], dtype=np.float16)
    k1 = np.array(sorted(c1), dtype=np.uint64)
    v1 = np.array([math.log10(c1[int(k)] / total) for k in k1], dtype=np.float16)
    return {"k3": k3, "v3": v3, "k2": k2, "v2": v2, "k1": k1, "v1": v1}


def _word_tables(langs: list[str]) -> dict[str, NDArray[Any]]:
    """Sorted word keys (crc32 of the folded word) of every language's known words, with
    flags: KNOWN, and FUNCTION for the most frequent words of some language."""
    flags: dict[int, int] = defaultdict(int)
    for bit, lang in enumerate(langs):
        for rank, word in enumerate(ranked_words(lang, WORDS_PER_LANG)[0]):
            for piece in WORD.findall(word.lower()):
                flags[word_key(piece)] |= (
                    KNOWN
                    | (FUNCTION if rank < FUNCTION_WORDS else 0)
                    | (FREQUENT if rank < FREQUENT_WORDS else 0)
                    | 1 << (LANG_SHIFT + bit)
                )
    keys = np.array(sorted(flags), dtype=np.uint32)
    return {"wk": keys, "wf": np.array([flags[int(k)] for k in keys], dtype=np.uint64)}


def pair_bitset(texts: Iterable[str]) -> NDArray[Any]:
    """Bit set (uint8, 2**PAIR_BITS bits) of the prose word pairs of texts (`prose_pairs`)."""
    bits = np.zeros(1 << PAIR_BITS, dtype=bool)
    for text in texts:
        bits[[pair_index(a, b) for a, b in prose_pairs(text)]] = True
    return np.packbits(bits, bitorder="little")


# --- generated gibberish and benign sources (combiner fitting and evaluation) ----------

N = 200
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_SYMBOLS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_SCRIPT_RANGES = {  # (first, last) code point of a block of letters
    "cyrillic": (0x430, 0x44F),
    "greek": (0x3B1, 0x3C9),
    "arabic": (0x627, 0x64A),
    "devanagari": (0x905, 0x939),
    "han": (0x4E00, 0x9FFF),
    "hangul": (0xAC00, 0xD7A3),
    "thai": (0xE01, 0xE2E),
}
_CHAIN_LANGS = ("fi", "pl", "tr", "id", "sv", "hu", "cs", "ro")
_SALAD_LANGS = ("en", "de", "fr", "es", "pt", "it", "nl", "ru")


def _words(rng: np.random.Generator, make: Callable[[], str], lo: int = 3, hi: int = 12) -> str:
    return " ".join(make() for _ in range(int(rng.integers(lo, hi + 1))))


def random_letters(rng: np.random.Generator) -> str:
    abc = "abcdefghijklmnopqrstuvwxyz"
    return _words(rng, lambda: "".join(rng.choice(list(abc), int(rng.integers(2, 10)))))


def keyboard_mash(rng: np.random.Generator) -> str:
    def walk() -> str:
        r, i = int(rng.integers(0, 3)), int(rng.integers(0, 7))
        out = []
        for _ in range(int(rng.integers(4, 12))):
            r = int(np.clip(r + rng.integers(-1, 2), 0, 2))
            i = int(np.clip(i + rng.integers(-2, 3), 0, len(_ROWS[r]) - 1))
            out.append(_ROWS[r][i])
        return "".join(out)

    return _words(rng, walk, 1, 6)


def _chain(lang: str) -> dict[str, tuple[list[str], Any]]:
    words, freqs = ranked_words(lang, 5000)
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for w, f in zip(words, freqs, strict=True):
        s = "^" + w.lower() + "$"
        for a, b in itertools.pairwise(s):
            counts[a][b] += float(f)
    out = {}
    for a, nxt in counts.items():
        keys = list(nxt)
        p = np.array([nxt[k] for k in keys])
        out[a] = (keys, p / p.sum())
    return out


def pseudo_words(rng: np.random.Generator, chains: list[dict[str, Any]]) -> str:
    chain = chains[int(rng.integers(0, len(chains)))]

    def word() -> str:
        for _ in range(20):
            c, out = "^", list[str]()
            while len(out) < 12:
                keys, p = chain[c]
                c = keys[int(rng.choice(len(keys), p=p))]
                if c == "$":
                    break
                out.append(c)
            if len(out) >= 4:
                return "".join(out)
        return "".join(out)

    return _words(rng, word, 4, 12)


def symbol_noise(rng: np.random.Generator) -> str:
    chars = list(_SYMBOLS)
    return _words(rng, lambda: "".join(rng.choice(chars, int(rng.integers(3, 9)))), 2, 8)


def other_script_noise(rng: np.random.Generator) -> str:
    lo, hi = list(_SCRIPT_RANGES.values())[int(rng.integers(0, len(_SCRIPT_RANGES)))]
    return _words(
        rng, lambda: "".join(chr(int(rng.integers(lo, hi + 1))) for _ in range(rng.integers(2, 9)))
    )


def word_salad(rng: np.random.Generator) -> str:
    """Real words in random order: half uniform over a language's 5,000 most frequent words,
    half weighted by frequency (so function words appear as often as in prose)."""
    lang = _SALAD_LANGS[int(rng.integers(0, len(_SALAD_LANGS)))]
    words, freqs = ranked_words(lang, 5000)
    p = freqs / freqs.sum() if rng.random() < 0.5 else None
    picks = rng.choice(len(words), size=int(rng.integers(8, 17)), p=p)
    return " ".join(words[int(i)] for i in picks)


def gibberish_sources(n: int = N, seed: int = EVAL_SEED) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    chains = [_chain(lang) for lang in _CHAIN_LANGS]
    return {
        "random-letters": [random_letters(rng) for _ in range(n)],
        "keyboard-mash": [keyboard_mash(rng) for _ in range(n)],
        "pseudo-words": [pseudo_words(rng, chains) for _ in range(n)],
        "symbol-noise": [symbol_noise(rng) for _ in range(n)],
        "other-script-noise": [other_script_noise(rng) for _ in range(n)],
        "word-salad": [word_salad(rng) for _ in range(n)],
    }


CODE = [
    "def mean(xs: list[float]) -> float:\n    return sum(xs) / len(xs) if xs else 0.0",
    'server:\n  port: 8080\n  host: "0.0.0.0"\nlogging:\n  level: DEBUG\n',
    '{"compilerOptions": {"target": "es2020", "strict": true, "outDir": "dist"}}',
    "SELECT u.id, count(*) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.id;",
    "kubectl get pods -n kube-system --field-selector=status.phase!=Running",
    "for (let i = 0; i < arr.length; i++) { if (arr[i] % 2 === 0) sum += arr[i]; }",
    'Traceback (most recent call last):\n  File "app.py", line 12, in <module>\n'
    "KeyError: 'user_id'",
    "docker run -d -p 5432:5432 -e POSTGRES_PASSWORD=secret postgres:16",
    "| name | qty |\n|------|-----|\n| bolts | 40 |\n| nuts | 35 |",
    "Solve for x: 3x^2 + 2x - 5 = 0, then compute f(x) = sqrt(x + 1).",
    "git rebase -i HEAD~3 && git push --force-with-lease origin feature/login",
    '<div class="card"><h2>{{ title }}</h2><p>{{ body|safe }}</p></div>',
    "npm install --save-dev @types/node eslint prettier typescript",
    "Products: Notion, Figma, Slack, Jira, Asana, Trello, Miro, Zoom",
    "https://example.com/api/v2/items?page=3&sort=-created_at&filter[status]=open",
    "CMakeLists.txt: add_executable(app main.cpp) target_link_libraries(app PRIVATE fmt)",
]


def benign_sources(data_dir: Path | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"code-and-configs": list(CODE)}
    if data_dir is not None:
        oa = data_dir / "oasst-en100-trees" / "en_100_tree.jsonl"
        if oa.is_file():
            prompts: list[str] = []

            def walk(msg: dict[str, Any]) -> None:
                if msg.get("role") == "prompter" and msg.get("text"):
                    prompts.append(msg["text"])
                for reply in msg.get("replies") or []:
                    walk(reply)

            for line in oa.read_text(encoding="utf-8").splitlines():
                if line:
                    walk(json.loads(line)["prompt"])
            out["oasst-prompts"] = prompts
        ds = data_dir / "prompt-injections-deepset" / "prompt_injections.jsonl"
        if ds.is_file():
            recs = [json.loads(x) for x in ds.read_text(encoding="utf-8").splitlines() if x]
            out["deepset:0"] = [r["text"] for r in recs if int(r["label"]) == 0]
        xs = data_dir / "xstest" / "xstest_prompts.csv"
        if xs.is_file():
            with xs.open(encoding="utf-8", newline="") as f:
                out["xstest:safe"] = [
                    r["prompt"] for r in csv.DictReader(f) if r["label"] == "safe"
                ]
    known = set(wordfreq.available_languages(wordlist="best"))
    for part in sorted(CURATION_DATA.glob("*/*.jsonl.gz")):
        with gzip.open(part, "rt", encoding="utf-8") as f:
            recs = [json.loads(line) for line in f if line.strip()]
        for r in recs:
            text = r.get("text")
            if r.get("label") not in ("text", "benign", "ham") or not text:
                continue
            if in_training_half(text):
                continue
            name = f"{part.parent.name}:eval-half"
            if r.get("lang") and r["lang"] not in known:  # reported apart: no word tables
                name = f"{part.parent.name}:eval-half:languages-wordfreq-lacks"
            out.setdefault(name, []).append(text)
    return out


# --- natural-text quantiles -----------------------------------------------------------------


def prefix_samples(texts: Sequence[Natural], seed: int = SEED) -> list[Natural]:
    """Each text, and for one longer than 40 characters also a prefix of 15-250 characters
    cut at a space: messages are short, the corpora's paragraphs long, and every length
    bucket needs natural text."""
    rng = np.random.default_rng(seed)
    out: list[Natural] = []
    for t in texts:
        out.append(t)
        if len(t.text) > 40:
            cut = int(rng.integers(15, min(250, len(t.text) - 1) + 1))
            space = t.text.rfind(" ", 0, cut)
            prefix = t.text[: space if space > cut // 2 else cut].strip()
            if prefix:
                out.append(Natural(t.source, prefix, t.lang))
    return out


@dataclass(frozen=True, slots=True)
class Measures:
    """The measures of many texts: values (NaN = abstains), bucket sizes, groups, sources."""

    values: NDArray[Any]  # (n, len(MEASURES))
    sizes: NDArray[Any]  # (n, len(MEASURES)) what each measure's bucket counts
    groups: NDArray[Any]  # (n,) dominant script, "*" if none
    languages: NDArray[Any]  # (n,) best wordfreq language of the words, "" if none
    sources: NDArray[Any]  # (n,)

    def subset(self, keep: NDArray[Any]) -> Measures:
        return Measures(
            self.values[keep],
            self.sizes[keep],
            self.groups[keep],
            self.languages[keep],
            self.sources[keep],
        )

    def group_keys(self, i: int) -> list[tuple[str, ...]]:
        """Per text, the groups measure i looks up, most specific first."""
        if i in WORD_MEASURES:
            return [
                (lang, g) if lang else (g,)
                for lang, g in zip(self.languages, self.groups, strict=True)
            ]
        return [(g,) for g in self.groups]


def measure_all(
    texts: Sequence[str], m: Model, sources: Sequence[str] | str = "", word_ok: Any = None
) -> Measures:
    """Measure texts; where `word_ok` is False (a language wordfreq lacks) the word measures
    are left out (NaN): their reference is natural text of the languages wordfreq knows."""
    rows = [measure(t, m) for t in texts]
    n = len(rows)
    values = np.array([r.values for r in rows]).reshape(n, len(MEASURES))
    if word_ok is not None:
        values[~np.asarray(word_ok, dtype=bool), 2:5] = np.nan
    sizes = np.array([[r.size(i) for i in range(len(MEASURES))] for r in rows], dtype=np.int64)
    groups = np.array([r.script or "*" for r in rows], dtype=object)
    langs = np.array([r.language for r in rows], dtype=object)
    src = np.array([sources] * n if isinstance(sources, str) else list(sources), dtype=object)
    return Measures(values, sizes.reshape(n, len(MEASURES)), groups, langs, src)


def _quantile_rows(values: NDArray[Any], buckets: NDArray[Any], n_buckets: int) -> list[Any]:
    """Per bucket the LEVELS quantiles, or the group's over every length when the cell is
    thin, or None when the group is too (the pooled group answers then)."""
    if len(values) < MIN_GROUP:
        return []
    whole = np.quantile(values, LEVELS)
    rows = []
    for b in range(n_buckets):
        cell = values[buckets == b]
        q = np.quantile(cell, LEVELS) if len(cell) >= MIN_CELL else whole
        rows.append([round(float(v), 4) for v in q])
    return rows


def fit_quantiles(cal: Measures) -> dict[str, Any]:
    """The natural-text quantiles of every measure per group and length bucket (the gate
    is chosen by `choose_gate`)."""
    table: dict[str, dict[str, list[Any]]] = {}
    for i, name in enumerate(MEASURES):
        edges = EDGES[SIZE_OF[i]]
        ok = ~np.isnan(cal.values[:, i])
        v, groups = cal.values[ok, i], cal.groups[ok]
        langs = cal.languages[ok] if i in WORD_MEASURES else np.full(len(v), "", dtype=object)
        buckets = np.searchsorted(np.array(edges), cal.sizes[ok, i], side="right")
        table[name] = {}
        for g in sorted({*groups.tolist(), *langs.tolist(), "*"} - {""}):
            sel = np.ones(len(v), dtype=bool) if g == "*" else (groups == g) | (langs == g)
            rows = _quantile_rows(v[sel], buckets[sel], len(edges) + 1)
            if rows:
                table[name][g] = rows
    return {
        "levels": list(LEVELS),
        "edges": {k: list(v) for k, v in EDGES.items()},
        "table": table,
        "gate": GATES[0],
        "min_spread": MIN_SPREAD,
    }


def score_matrix(ms: Measures, quantiles: dict[str, Any]) -> NDArray[Any]:
    """Vectorised `gibberish.scores` of many texts: (n, len(MEASURES)) scores in [0, 1]."""
    levels = list(quantiles["levels"])
    i90, i99, i999 = levels.index(0.9), levels.index(0.99), levels.index(0.999)
    ig = levels.index(quantiles["gate"])
    out = np.zeros(ms.values.shape)
    for i, name in enumerate(MEASURES):
        groups = quantiles["table"].get(name, {})
        edges = np.array(quantiles["edges"][SIZE_OF[i]])
        buckets = np.searchsorted(edges, ms.sizes[:, i], side="right")
        q = np.full((len(ms.values), len(levels)), np.nan)
        keys = ms.group_keys(i)
        for key in set(keys):
            rows = next((groups[g] for g in (*key, "*") if g in groups), None)
            if rows:
                sel = np.array([k == key for k in keys])
                q[sel] = np.array(rows, dtype=float)[buckets[sel]]
        v = ms.values[:, i]
        ok = ~np.isnan(v) & ~np.isnan(q[:, 0])
        unit = quantiles["min_spread"][name]
        v, q90, q99 = v[ok], q[ok, i90], q[ok, i99]
        gate = np.maximum(q[ok, ig], q99 + unit)
        spread = np.maximum(q[ok, i999] - q99, unit)
        s = np.where(
            v <= q99,
            0.25 * (v - q90) / np.maximum(q99 - q90, 1e-9),
            np.where(
                v <= gate,
                0.25 + 0.2 * (v - q99) / np.maximum(gate - q99, 1e-9),
                0.5 + 0.5 * np.minimum((v - gate) / (2.0 * spread), 1.0),
            ),
        )
        out[ok, i] = np.where(v <= q90, 0.0, s)
    return out


def choose_gate(cal: Measures, quantiles: dict[str, Any]) -> dict[str, Any]:
    """The lowest gate level at which at most MAX_NATURAL_FP of natural text scores 0.5."""
    fp: dict[str, float] = {}
    for gate in GATES:
        trial = {**quantiles, "gate": gate}
        fp[str(gate)] = float((score_matrix(cal, trial).max(axis=1) >= 0.5).mean())
        if fp[str(gate)] <= MAX_NATURAL_FP:
            break
    return {**quantiles, "gate": gate, "natural_fp_by_gate": fp}


def calibrated(cal: Measures) -> dict[str, Any]:
    return choose_gate(cal, fit_quantiles(cal))


def natural_texts(shared: Path | None) -> tuple[list[Natural], dict[str, str]]:
    """Every training-half natural text (OASST replies and data/curation), with its source."""
    oasst, files = _oasst_replies(shared) if shared else ([], {})
    curated, more = _curation_texts(CURATION_DATA)
    files.update(more)
    return [Natural(OASST, t, "en") for t in oasst] + curated, files


OASST = "oasst-en100-trees"


def calibration_measures(natural: Sequence[Natural], m: Model) -> Measures:
    samples = prefix_samples([t for t in natural if in_calibration(t.text)])
    return measure_all(
        [t.text for t in samples],
        m,
        [t.source for t in samples],
        [t.lang is None or t.lang in m.languages for t in samples],
    )


def train(out_dir: Path, shared: Path | None) -> dict[str, Any]:
    """Build gibberish.npz + gibberish.json in out_dir; return the metadata written."""
    langs = sorted(wordfreq.available_languages(wordlist="best"))[:64]
    natural, files = natural_texts(shared)
    fit = [t.text for t in natural if not in_calibration(t.text)]
    samples = {lang: language_sample(lang, SAMPLE_WORDS, SEED + i) for i, lang in enumerate(langs)}
    parts = [_count(sample, 1.0) for sample in samples.values()]
    if fit:
        parts.append(_count(fit, CORPUS_WEIGHT))
    arrays = _log_probs(*_merge(parts))
    arrays.update(_word_tables(langs))
    pair_extra, more = _pair_texts(shared) if shared else ([], {})
    files.update(more)
    arrays["pairs"] = pair_bitset(fit + pair_extra)
    cal = calibration_measures(natural, build_model(arrays, langs, None))
    quantiles = calibrated(cal)

    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / "gibberish.npz", **arrays)  # type: ignore[arg-type]
    by_source = Counter(cal.sources.tolist())
    meta: dict[str, Any] = {
        "model": "gibberish",
        "order": ORDER,
        "seed": SEED,
        "languages": langs,
        "measures": list(MEASURES),
        "quantiles": quantiles,
        "calibration": {
            "texts (with their prefixes)": dict(sorted(by_source.items())),
            "split": "training half, second sha256 byte divisible by 3",
            "word measures": "only texts of a language wordfreq has (or of no stated language)",
        },
        "words_per_language": WORDS_PER_LANG,
        "function_words": FUNCTION_WORDS,
        "pair_bits": PAIR_BITS,
        "pair_bits_set": int(np.unpackbits(arrays["pairs"]).sum()),
        "sources": {
            "natural text for the model (training half minus calibration)": len(fit),
            "hh-rlhf-harmless chosen + paws-wiki-test sentence 1 (word pairs only)": len(
                pair_extra
            ),
            f"wordfreq samples ({SAMPLE_WORDS} words/language)": len(langs),
        },
        "inputs_sha256": files,
        "sizes": {k: int(v.size) for k, v in arrays.items()},
        "npz_bytes": (out_dir / "gibberish.npz").stat().st_size,
    }
    (out_dir / "gibberish.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=MODELS)
    args = parser.parse_args(argv)
    shared = args.shared if args.shared.is_dir() else None
    meta = train(args.out, shared)
    keys = ("sources", "npz_bytes", "calibration")
    summary = {k: meta[k] for k in keys} | {"gate": meta["quantiles"]["gate"]}
    json.dump(summary, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
