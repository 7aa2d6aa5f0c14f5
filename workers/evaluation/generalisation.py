"""Leave-one-source-out: how the learned prank detectors do on data they were not built from.

For each task (jailbreak / injection, spam) and each origin of its data (one upstream set:
jailbreak-llms, deepset, xstest, a spam collection...), the model is fitted on every other
origin, its thresholds chosen by cross-validation on those held-in origins only, and then
measured on the left-out origin: recall of its positive sources, false-positive rate of its
negative ones, with a precision-recall curve. Attack origins also give derived held-out sets
(`workers.evaluation.attacks`, when present): their attacks obfuscated (base64, hex, leet,
tag characters...) and buried inside benign documents.
"""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from workers.curation.training import corpora, fitting, jailbreak, spam
from workers.curation.training.corpora import Source
from workers.curation.training.fitting import Task

FloatArray = npt.NDArray[np.float64]
RECALL_TARGET = 0.90  # every left-out positive source (attack, spam)
FP_TARGET = 0.02  # every left-out benign source
DERIVED_PER_KIND = 60  # attacks sampled per obfuscation kind / container, per left-out origin
PR_POINTS = 20


def _tasks() -> list[Task]:
    return [jailbreak.TASK, spam.TASK]


def _attacks_module() -> Any:
    try:
        return importlib.import_module("workers.evaluation.attacks")
    except ImportError:
        return None


def pr_curve(
    positives: FloatArray, negatives: FloatArray, points: int = PR_POINTS
) -> list[dict[str, float]]:
    """Precision and recall at up to `points` thresholds (quantiles of all scores)."""
    every = np.concatenate([positives, negatives])
    if len(every) == 0:
        return []
    grid = np.unique(np.quantile(every, np.linspace(0.0, 1.0, points)))
    curve = []
    for t in grid[::-1]:
        tp = int((positives >= t).sum())
        fp = int((negatives >= t).sum())
        curve.append({
            "threshold": round(float(t), 4),
            "recall": round(tp / len(positives), 4) if len(positives) else 0.0,
            "fp_rate": round(fp / len(negatives), 4) if len(negatives) else 0.0,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        })
    return curve


def _entry(
    scores: FloatArray,
    rule: npt.NDArray[np.bool_],
    positive: bool,
    tuned: fitting.Tuned,
    other: FloatArray,
    *,
    target: bool = True,
) -> dict[str, Any]:
    """Figures of one left-out source; `other`: held-in out-of-fold scores of the other class
    (for precision)."""
    flagged = (scores >= tuned.quarantine) | rule
    rejected = (scores >= tuned.reject) | rule
    n = len(scores)
    entry: dict[str, Any] = {"n": n}
    metric, bound = ("recall", RECALL_TARGET) if positive else ("fp_rate", FP_TARGET)
    entry[metric] = round(float(flagged.mean()), 4) if n else 0.0
    entry["reject_" + metric] = round(float(rejected.mean()), 4) if n else 0.0
    entry["model_only_" + metric] = round(float((scores >= tuned.quarantine).mean()), 4) if n \
        else 0.0
    entry["thresholds"] = {"quarantine": round(tuned.quarantine, 4),
                           "reject": round(tuned.reject, 4)}
    entry["pr_curve"] = pr_curve(scores, other) if positive else pr_curve(other, scores)
    if target:
        entry["target"] = f"{metric} {'>=' if positive else '<='} {bound}"
        entry["meets_target"] = bool(entry[metric] >= bound if positive else entry[metric] <= bound)
    return entry


def _derived(
    task: Task, attacks_mod: Any, attacks: Sequence[str], documents: Sequence[str], seed: int
) -> dict[str, list[str]]:
    """Obfuscated and buried versions of (a sample of) the left-out attacks."""
    rng = random.Random(seed)
    pool = [a for a in attacks if len(a) <= 2000] or list(attacks)
    sample = rng.sample(pool, min(DERIVED_PER_KIND, len(pool)))
    sets: dict[str, list[str]] = {}
    for how in attacks_mod.HOWS:
        sets[f"obfuscated:{how}"] = [attacks_mod.obfuscate(a, how, rng) for a in sample]
    docs = [d for d in documents if 200 <= len(d) <= 4000] or list(documents)
    for container in attacks_mod.CONTAINERS if docs else ():
        sets[f"buried:{container}"] = [
            attacks_mod.bury(a, rng.choice(docs), rng, container) for a in sample
        ]
    return sets


def evaluate_task(
    task: Task, sources: dict[str, Source], *, derive: bool = True
) -> dict[str, Any]:
    """Every fold of one task: {"sources": {name: figures}, "derived": {...}, "folds": n}."""
    started = time.perf_counter()
    m = fitting.build(task, sources)
    attacks_mod = _attacks_module() if derive else None
    out_sources: dict[str, Any] = {}
    derived_out: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    unseen = np.isin(m.origins, sorted(task.never_fitted))
    origins = sorted(set(m.origins[~unseen].tolist()))
    for origin in origins:
        held = m.rows(not_origin=origin)
        held = held[~unseen[held]]
        if len(set(m.y[held].tolist())) < 2:
            skipped[origin] = "held-in data lacks one of the classes"
            continue
        tuned = fitting.tune(task, m, held)
        coef, b = fitting.fit_rows(task, m, held)
        oof_pos = tuned.oof[m.y[held] == 1]
        oof_neg = tuned.oof[m.y[held] == 0]
        left = fitting.subset(m, m.rows(origin=origin))
        left_scores = fitting.scores(left, coef, b)
        for name in sorted(set(left.names)):
            sel = np.array([n == name for n in left.names])
            positive = bool(left.y[sel][0] == 1)
            label = name.rsplit(":", 1)[-1]
            # ham of a spam collection is informative; the targets bind benign prompts.
            target = positive or label == "benign"
            out_sources[name] = _entry(
                left_scores[sel], left.rule[sel], positive, tuned,
                oof_neg if positive else oof_pos, target=target,
            )
        if attacks_mod is not None and task.name == "jailbreak" and (left.y == 1).any():
            attacks = [ex.text for n in sorted(set(left.names))
                       if sources[n].label in task.positive for ex in sources[n].examples]
            documents = [ex.text for s in sources.values() if s.origin != origin
                         and s.label in task.negative for ex in s.examples]
            for kind, texts in _derived(task, attacks_mod, attacks, documents, task.seed).items():
                dm = fitting.build_texts(task, texts, 1, f"{origin}/{kind}")
                ds = fitting.scores(dm, coef, b)
                derived_out[f"{origin}/{kind}"] = _entry(ds, dm.rule, True, tuned, oof_neg)
                derived_out[f"{origin}/{kind}"].pop("pr_curve")
    if unseen.any():  # never fitted: measured by the model fitted on every other source
        fitted = np.flatnonzero(~unseen)
        tuned = fitting.tune(task, m, fitted)
        coef, b = fitting.fit_rows(task, m, fitted)
        oof_pos = tuned.oof[m.y[fitted] == 1]
        left = fitting.subset(m, np.flatnonzero(unseen))
        left_scores = fitting.scores(left, coef, b)
        for name in sorted(set(left.names)):
            sel = np.array([n == name for n in left.names])
            out_sources[name] = _entry(left_scores[sel], left.rule[sel], False, tuned, oof_pos)
            out_sources[name]["never_fitted"] = True
    result: dict[str, Any] = {
        "folds": len(origins) - len(skipped),
        "sources": out_sources,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if derived_out:
        result["derived"] = derived_out
    elif task.name == "jailbreak" and derive:
        result["derived"] = {"skipped": "workers.evaluation.attacks absent"}
    if skipped:
        result["skipped"] = skipped
    return result


def evaluate(
    data_dir: Path | None,
    curation: Path | None = corpora.CURATION_DATA,
    *,
    tasks: Sequence[Task] | None = None,
    derive: bool = True,
) -> dict[str, Any]:
    """Leave-one-source-out figures of every task, plus the gibberish module's held-out sets."""
    sources = corpora.load_sources(data_dir, curation)
    if not sources:
        raise FileNotFoundError(f"no training source found in {data_dir} or {curation}")
    results: dict[str, Any] = {}
    for task in tasks if tasks is not None else _tasks():
        results[task.name] = evaluate_task(task, sources, derive=derive)
    if tasks is None:
        try:
            gib = importlib.import_module("workers.evaluation.gibberish")
        except ImportError:
            results["gibberish"] = {"skipped": "workers.evaluation.gibberish absent"}
        else:
            try:
                results["gibberish"] = gib.evaluate(data_dir)
            except Exception as exc:  # a broken sibling evaluation fails the run, visibly
                results["gibberish"] = {
                    "error": type(exc).__name__, "target": "evaluation runs",
                    "meets_target": False,
                }
    return results


def render(results: dict[str, Any]) -> str:
    """One line per left-out source and derived set: figure, target, thresholds."""
    lines = []
    for task, res in results.items():
        if not isinstance(res, dict) or "sources" not in res:
            continue
        lines.append(f"  {task}: {res['folds']} folds, {res['seconds']} s")
        for name, e in res["sources"].items():
            metric = "recall" if "recall" in e else "fp_rate"
            mark = "    " if "meets_target" not in e else ("ok  " if e["meets_target"] else "FAIL")
            t = e["thresholds"]
            shown = f"{name} (never fitted)" if e.get("never_fitted") else name
            lines.append(
                f"    {mark} {shown:<48} {metric}={e[metric]:<7} n={e['n']:<5} "
                f"model-only={e['model_only_' + metric]:<7} "
                f"thresholds q={t['quarantine']} r={t['reject']}"
                + (f"  ({e['target']})" if "target" in e else "")
            )
        if "skipped" in res:
            lines.append(f"    skipped folds: {res['skipped']}")
        derived = res.get("derived", {})
        if "skipped" in derived:
            lines.append(f"    derived sets skipped: {derived['skipped']}")
        elif derived:
            lines.extend(_derived_table(derived))
    return "\n".join(lines)


def _derived_table(derived: dict[str, Any]) -> list[str]:
    """Recall of the derived held-out sets: a row per kind, a column per left-out origin."""
    origins = sorted({key.split("/", 1)[0] for key in derived})
    kinds = list(dict.fromkeys(key.split("/", 1)[1] for key in derived))
    width = max(len(o) for o in origins) + 2
    lines = [f"    derived attack sets, recall (target >= {RECALL_TARGET}; n per cell "
             f"<= {DERIVED_PER_KIND}):",
             "      " + " " * 22 + "".join(f"{o:>{width}}" for o in origins)]
    for kind in kinds:
        cells = []
        for o in origins:
            e = derived.get(f"{o}/{kind}")
            cells.append(f"{e['recall']:>{width}.2f}" if e else f"{'-':>{width}}")
        lines.append(f"      {kind:<22}" + "".join(cells))
    return lines
