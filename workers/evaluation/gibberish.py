"""Held-out evaluation of `gibberish_score`, a novelty detector fit on natural text only.

No gibberish is used for fitting, so every generated kind is held out by construction
(`training.gibberish.gibberish_sources`, the evaluation seed): random letters, keyboard mash,
pseudo-words from a letter Markov chain of other languages, symbol noise, random characters of
other scripts, word salad of wordfreq words (uniform and frequency-weighted). Each reports its
recall at the shipped line (0.5). Benign sources: OASST prompter messages, deepset label 0,
XSTest safe prompts, code/config snippets, and the evaluation half (odd sha256) of the natural
texts in data/curation. Each reports its false-positive rate with the shipped quantiles and,
leaving it out, with quantiles (and gate) recomputed from the other calibration sources: the
generalisation figure (`loso_fp`). The character model and word tables are shared by every
fold. Run: `python -m workers.evaluation.gibberish ../shared/data`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from workers.curation.gibberish import MEASURES, MODEL_DIR, model
from workers.curation.training.gibberish import (
    EVAL_SEED,
    OASST,
    benign_sources,
    calibrated,
    calibration_measures,
    gibberish_sources,
    measure_all,
    natural_texts,
    score_matrix,
)

LINE = 0.5  # detect_gibberish quarantines from here
MIN_RECALL = 0.90
MAX_FP = 0.02  # the bound for every benign source left out
CALIBRATION_SOURCE = {"oasst-prompts": OASST}  # benign source -> its calibration source


def _calibration_source(name: str) -> str:
    return CALIBRATION_SOURCE.get(name, name.split(":eval-half", 1)[0])


def _top(scores: NDArray[Any]) -> list[str]:
    """Which measure decided, for the texts at or above the line."""
    hit = scores.max(axis=1) >= LINE
    return [MEASURES[i] for i in scores[hit].argmax(axis=1)]


def _counts(names: list[str]) -> dict[str, int]:
    return {n: names.count(n) for n in sorted(set(names))}


def evaluate(data_dir: Path | None, model_dir: Path = MODEL_DIR) -> dict[str, Any]:
    m = model(model_dir)
    meta = json.loads((model_dir / "gibberish.json").read_text(encoding="utf-8"))
    shipped: dict[str, Any] = meta["quantiles"]
    gib = {k: measure_all(v, m, k) for k, v in gibberish_sources(seed=EVAL_SEED).items()}
    ben = {k: measure_all(v, m, k) for k, v in benign_sources(data_dir).items()}
    natural, _files = natural_texts(data_dir)
    cal = calibration_measures(natural, m)
    result: dict[str, Any] = {"line": LINE, "gate": shipped["gate"], "gibberish": {}, "benign": {}}
    pos: list[NDArray[Any]] = []
    for name, ms in gib.items():
        s = score_matrix(ms, shipped)
        pos.append(s.max(axis=1))
        recall = float(np.mean(s.max(axis=1) >= LINE))
        result["gibberish"][name] = {
            "n": len(ms.values),
            "recall": round(recall, 3),
            "target": f">= {MIN_RECALL}",
            "meets_target": recall >= MIN_RECALL,
            "decided_by": _counts(_top(s)),
        }
    neg: list[NDArray[Any]] = []
    folds: dict[str, dict[str, Any]] = {}
    for name, ms in ben.items():
        s = score_matrix(ms, shipped)
        neg.append(s.max(axis=1))
        left_out = _calibration_source(name)
        held_in = cal.sources != left_out
        if held_in.all():
            loso, note = s, "not in the calibration set: shipped quantiles"
        else:
            if left_out not in folds:
                folds[left_out] = calibrated(cal.subset(held_in))
            loso, note = score_matrix(ms, folds[left_out]), f"quantiles without {left_out}"
        fp = float(np.mean(loso.max(axis=1) >= LINE))
        result["benign"][name] = {
            "n": len(ms.values),
            "fp_shipped": round(float(np.mean(s.max(axis=1) >= LINE)), 4),
            "loso_fp": round(fp, 4),
            "loso": note,
            "target": f"<= {MAX_FP}",
            "meets_target": fp <= MAX_FP,
            "decided_by": _counts(_top(loso)),
        }
    result["pr_curve"] = _pr_curve(np.concatenate(pos), np.concatenate(neg))
    result["targets"] = {"recall_min": MIN_RECALL, "fp_max": MAX_FP, "line": LINE}
    return result


def _pr_curve(pos: NDArray[Any], neg: NDArray[Any]) -> list[tuple[float, float, float]]:
    """(threshold, precision, recall) over every generated kind against every benign source
    (shipped quantiles; benign sources are far larger, so precision is pessimistic)."""
    curve = []
    for t in np.linspace(0.05, 1.0, 20):
        tp, fp = float((pos >= t).sum()), float((neg >= t).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        curve.append((round(float(t), 3), round(precision, 4), round(tp / len(pos), 4)))
    return curve


def summary(result: dict[str, Any]) -> str:
    lines = [f"gibberish at {result['line']} (gate q{result['gate']})"]
    for name, r in result["gibberish"].items():
        lines.append(f"  recall {r['recall']:.3f}  {name}  {r['decided_by']}")
    for name, r in result["benign"].items():
        lines.append(
            f"  fp {r['loso_fp']:.4f} (shipped {r['fp_shipped']:.4f})  {name} n={r['n']}"
            f"  {r['decided_by']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = "--text" in args
    args = [a for a in args if a != "--text"]
    data = Path(args[0]) if args else None
    result = evaluate(data if data and data.is_dir() else None)
    if text:
        print(summary(result))
    else:
        json.dump(result, sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
