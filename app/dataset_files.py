"""What a dataset version's files are called: its splits and its formats.

Dataset builds write them, the pull API and the CLI read them; the names are the
contract between the two, so they live here.
"""

from __future__ import annotations

SPLITS = ("train", "validation", "test")
RETIRED = "retired"  # a former test group after a holdout refresh: in no split any more
FORMATS = ("eval", "finetune", "preference")
