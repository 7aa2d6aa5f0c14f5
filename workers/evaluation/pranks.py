"""Evaluate the prank stage on public corpora (see each folder's SOURCE.txt in the data dir).

Positives (should be caught = quarantined or rejected): in-the-wild jailbreak prompts and
deepset prompt injections (label 1). Negatives (should be accepted): XSTest "safe" prompts
(scary-sounding but harmless), OpenAssistant prompter messages and deepset label 0.

Every item is split deterministically into dev / holdout by the first byte of sha256(text)
(even = dev), so rules can be tuned on dev errors and checked on holdout.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from workers.curation.pranks import PrankConfig, judge
from workers.curation.types import Turn, Verdict

Subset = Literal["all", "dev", "holdout"]
_DEFAULT_CONFIG = PrankConfig()
Item = tuple[Turn, ...]

# The learned detectors are trained on these sets, so their recall here is in-sample and only
# informative; issue 13's recall targets bind the held-out figures (`winnow eval curation
# --loso`, workers/evaluation/generalisation.py). False positives here must stay low still.
IN_SAMPLE = frozenset({"jailbreak-llms", "prompt-injections-deepset:1"})
TARGETS = {
    "xstest:safe": ("fp_rate", 0.03),
    "oasst-prompts": ("fp_rate", 0.03),
    "prompt-injections-deepset:0": ("fp_rate", 0.03),
}


def in_subset(text: str, subset: Subset) -> bool:
    if subset == "all":
        return True
    dev = hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 0
    return dev if subset == "dev" else not dev


def _one_turn(text: str) -> Item:
    return (Turn("user", text),)


def load_jailbreaks(data_dir: Path) -> list[Item] | None:
    path = data_dir / "jailbreak-llms" / "jailbreak_prompts_2023_12_25.csv"
    if not path.is_file():
        return None
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as f:
        return [_one_turn(row["prompt"]) for row in csv.DictReader(f)]


def load_deepset(data_dir: Path, label: int) -> list[Item] | None:
    path = data_dir / "prompt-injections-deepset" / "prompt_injections.jsonl"
    if not path.is_file():
        return None
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return [_one_turn(r["text"]) for r in rows if int(r["label"]) == label]


def load_xstest(data_dir: Path, label: str) -> list[Item] | None:
    path = data_dir / "xstest" / "xstest_prompts.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as f:
        return [_one_turn(r["prompt"]) for r in csv.DictReader(f) if r["label"] == label]


def _oasst_trees(data_dir: Path) -> Iterator[dict[str, Any]] | None:
    path = data_dir / "oasst-en100-trees" / "en_100_tree.jsonl"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return (json.loads(line)["prompt"] for line in lines if line)


def load_oasst(data_dir: Path, *, with_reply: bool = False) -> list[Item] | None:
    """Every prompter message; with_reply: plus its best-ranked assistant reply."""
    trees = _oasst_trees(data_dir)
    if trees is None:
        return None
    items: list[Item] = []

    def walk(msg: dict[str, Any]) -> None:
        replies = msg.get("replies") or []
        if msg.get("role") == "prompter":
            turn = Turn("user", msg["text"])
            answers = sorted(
                (r for r in replies if r.get("role") == "assistant"),
                key=lambda r: r.get("rank") if r.get("rank") is not None else 99,
            )
            if not with_reply:
                items.append((turn,))
            elif answers:
                items.append((turn, Turn("assistant", answers[0]["text"])))
        for reply in replies:
            walk(reply)

    for tree in trees:
        walk(tree)
    return items


def _key(item: Item) -> str:
    return next((t.text for t in item if t.role == "user"), "")


def _flagged(v: Verdict) -> bool:
    return v.decision != "accept"


def _run(items: list[Item], config: PrankConfig) -> tuple[list[Verdict], float]:
    start = time.perf_counter()
    verdicts = [judge(item, config=config) for item in items]
    return verdicts, time.perf_counter() - start


def evaluate(
    data_dir: Path, config: PrankConfig = _DEFAULT_CONFIG, *, subset: Subset = "all"
) -> dict[str, Any]:
    """Metrics per dataset (JSON-able). A missing folder gives {"skipped": "absent"}; if every
    folder is missing, FileNotFoundError."""
    data_dir = Path(data_dir)
    loaders: dict[str, tuple[bool, list[Item] | None]] = {  # name -> (positive?, items)
        "jailbreak-llms": (True, load_jailbreaks(data_dir)),
        "prompt-injections-deepset:1": (True, load_deepset(data_dir, 1)),
        "xstest:safe": (False, load_xstest(data_dir, "safe")),
        "oasst-prompts": (False, load_oasst(data_dir)),
        "prompt-injections-deepset:0": (False, load_deepset(data_dir, 0)),
        # information only: harmful requests are not pranks, flagging them is optional
        "xstest:unsafe (info)": (True, load_xstest(data_dir, "unsafe")),
        "oasst-exchanges (info)": (False, load_oasst(data_dir, with_reply=True)),
    }
    if all(items is None for _, items in loaders.values()):
        raise FileNotFoundError(
            f"no evaluation corpus found under {data_dir} (expected folders such as "
            "jailbreak-llms/, prompt-injections-deepset/, xstest/, oasst-en100-trees/)"
        )
    result: dict[str, Any] = {"subset": subset}
    by_category: dict[str, dict[str, int]] = {}
    total_time = 0.0
    total_n = 0
    for name, (positive, items) in loaders.items():
        if items is None:
            result[name] = {"skipped": "absent"}
            continue
        items = [it for it in items if in_subset(_key(it), subset)]
        verdicts, seconds = _run(items, config)
        total_time += seconds
        total_n += len(items)
        n = len(items)
        flagged = sum(_flagged(v) for v in verdicts)
        rejected = sum(v.decision == "reject" for v in verdicts)
        if positive:
            entry: dict[str, Any] = {
                "n": n,
                "caught": flagged,
                "recall": _ratio(flagged, n),
                "rejected": rejected,
                "reject_recall": _ratio(rejected, n),
            }
        else:
            entry = {
                "n": n,
                "flagged": flagged,
                "fp_rate": _ratio(flagged, n),
                "rejected": rejected,
                "reject_fp_rate": _ratio(rejected, n),
            }
        if name in IN_SAMPLE:
            entry["note"] = "in-sample (a training set of the detectors); held-out: --loso"
        if name in TARGETS:
            metric, bound = TARGETS[name]
            value = entry[metric]
            entry["target"] = f"{metric} {'>=' if positive else '<='} {bound}"
            entry["meets_target"] = value >= bound if positive else value <= bound
        entry["us_per_conversation"] = round(seconds * 1e6 / max(n, 1), 1)
        result[name] = entry
        counts: Counter[str] = Counter()
        for v in verdicts:
            for s in v.signals:
                if s.score >= config.quarantine_at:
                    counts[s.category] += 1
        by_category[name] = dict(counts.most_common())
    result["by_category"] = by_category
    result["us_per_conversation"] = round(total_time * 1e6 / max(total_n, 1), 1)
    return result


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def errors(
    data_dir: Path, name: str, config: PrankConfig = _DEFAULT_CONFIG, *, subset: Subset = "dev"
) -> list[tuple[str, Verdict]]:
    """The misclassified items of one dataset (for developing rules on dev only)."""
    positive = name in ("jailbreak-llms", "prompt-injections-deepset:1", "xstest:unsafe")
    loaders: dict[str, Callable[[], list[Item] | None]] = {
        "jailbreak-llms": lambda: load_jailbreaks(data_dir),
        "prompt-injections-deepset:1": lambda: load_deepset(data_dir, 1),
        "prompt-injections-deepset:0": lambda: load_deepset(data_dir, 0),
        "xstest:safe": lambda: load_xstest(data_dir, "safe"),
        "xstest:unsafe": lambda: load_xstest(data_dir, "unsafe"),
        "oasst-prompts": lambda: load_oasst(data_dir),
        "oasst-exchanges": lambda: load_oasst(data_dir, with_reply=True),
    }
    loader = loaders[name]
    out = []
    for item in loader() or []:
        if not in_subset(_key(item), subset):
            continue
        verdict = judge(item, config=config)
        if _flagged(verdict) != positive:
            out.append((_key(item), verdict))
    return out


if __name__ == "__main__":  # python -m workers.evaluation.pranks DATA_DIR [all|dev|holdout]
    chosen: Subset = "all"
    if len(sys.argv) > 2 and sys.argv[2] in ("dev", "holdout"):
        chosen = "dev" if sys.argv[2] == "dev" else "holdout"
    print(json.dumps(evaluate(Path(sys.argv[1]), subset=chosen), indent=2))
