"""`winnow eval curation`: every stage's evaluation with the configured settings, one report.

Each stage module's `evaluate` marks the figures the issue sets a target for with
`meets_target`; the run passes when every one of them does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, cast

from app.config import Settings
from workers.curation.dedupe import DedupeConfig
from workers.curation.pranks import PrankConfig
from workers.curation.runtime import pii_screener, spacy_model_name
from workers.evaluation import dedupe, generalisation, pii, pranks


def evaluate_all(data_dir: Path, settings: Settings, subset: str = "all") -> dict[str, Any]:
    model = spacy_model_name(settings.spacy_model)
    results: dict[str, Any] = {"data": str(data_dir), "subset": subset, "spacy_model": model}
    started = time.perf_counter()
    screener = pii_screener(model, tuple(sorted(settings.policy.items())))
    sub = cast(Literal["all", "dev", "holdout"], subset)
    stages: dict[str, Any] = {
        "pii": lambda: pii.evaluate(data_dir, screener, subset=sub),
        "pranks": lambda: pranks.evaluate(
            data_dir,
            PrankConfig(
                quarantine_at=settings.prank_quarantine_at, reject_at=settings.prank_reject_at
            ),
            subset=sub,
        ),
        "dedupe": lambda: dedupe.evaluate(
            data_dir, DedupeConfig(threshold=settings.dedupe_threshold), subset=sub
        ),
    }
    for name, run in stages.items():
        try:
            results[name] = run()
        except FileNotFoundError as exc:
            results[name] = {"skipped": str(exc)}
    results["seconds"] = round(time.perf_counter() - started, 1)
    verdicts = list(_targets(results))
    results["targets"] = {path: ok for path, ok in verdicts}
    results["passed"] = all(ok for _, ok in verdicts)
    return results


def evaluate_generalisation(data_dir: Path | None) -> dict[str, Any]:
    """`--loso`: leave-one-source-out figures of the learned prank detectors (generalisation)."""
    started = time.perf_counter()
    results: dict[str, Any] = {"data": str(data_dir) if data_dir else "data/curation only"}
    results.update(generalisation.evaluate(data_dir))
    results["seconds"] = round(time.perf_counter() - started, 1)
    verdicts = list(_targets({k: v for k, v in results.items() if k != "targets"}))
    results["targets"] = {path: ok for path, ok in verdicts}
    results["passed"] = all(ok for _, ok in verdicts)
    return results


def render_generalisation(results: dict[str, Any]) -> str:
    failed = sum(not ok for ok in results["targets"].values())
    lines = [
        f"leave-one-source-out on {results['data']} and data/curation: each source is measured "
        "by a model fitted, and thresholds chosen, without it",
        generalisation.render(results),
    ]
    gib = results.get("gibberish")
    if isinstance(gib, dict):
        if "skipped" in gib:
            lines.append(f"  gibberish: skipped ({gib['skipped']})")
        else:
            for path, ok in results["targets"].items():
                if path.startswith("gibberish."):
                    value = _lookup(results, path.split(" (")[0])
                    lines.append(f"    {'ok  ' if ok else 'FAIL'} {path}: {_any_figure(value)}")
    lines.append(
        f"{'PASSED' if results['passed'] else f'FAILED ({failed} target(s) missed)'} in "
        f"{results['seconds']} s (--json for every figure and the precision-recall curves)"
    )
    return "\n".join(lines)


def _targets(node: Any, path: str = "") -> Iterator[tuple[str, bool]]:
    if isinstance(node, dict):
        if "meets_target" in node:
            yield f"{path} ({node.get('target', '')})".strip(), bool(node["meets_target"])
        for key, value in node.items():
            yield from _targets(value, f"{path}.{key}" if path else str(key))


def render(results: dict[str, Any]) -> str:
    """A plain table of the targeted figures, then the pass/fail line."""
    lines = [
        f"curation evaluation on {results['data']} (subset {results['subset']}, "
        f"spaCy model: {results['spacy_model'] or 'none, patterns only'})"
    ]
    for name in ("pii", "pranks", "dedupe"):
        stage = results.get(name, {})
        if "skipped" in stage:
            lines.append(f"  {name}: skipped ({stage['skipped']})")
    for path, ok in results["targets"].items():
        value = _lookup(results, path.split(" (")[0])
        lines.append(f"  {'ok  ' if ok else 'FAIL'} {path}: {_figure(value)}")
    lines.append(
        f"{'PASSED' if results['passed'] else 'FAILED'} in {results['seconds']} s "
        "(--json for every figure)"
    )
    return "\n".join(lines)


def _any_figure(entry: Any) -> str:
    """The first figure an entry holds (modules name their metrics differently)."""
    if not isinstance(entry, dict):
        return ""
    for key in ("recall", "fp_rate", "loso_fp", "fp_shipped", "error"):
        if key in entry:
            n = entry.get("n")
            return f"{key}={entry[key]}" + (f" (n={n})" if n is not None else "")
    return ""


def _lookup(results: dict[str, Any], path: str) -> Any:
    node: Any = results
    for part in path.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _figure(entry: Any) -> str:
    if not isinstance(entry, dict):
        return ""
    target = str(entry.get("target", ""))
    metric = target.split(" ")[0] if target else ""
    value = entry.get(metric)
    n = entry.get("n") or entry.get("gold")
    return f"{metric}={value}" + (f" (n={n})" if n is not None else "")
