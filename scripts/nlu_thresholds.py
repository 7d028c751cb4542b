"""The NLU figures' floors (tests/nlu/thresholds.json), checked the same way by the held-out
evaluation (scripts/nlu_eval.py) and the cross-validation (scripts/nlu_cv.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

THRESHOLDS = Path(__file__).resolve().parent.parent / "tests" / "nlu" / "thresholds.json"

# (what the figure is, the figure or None when the run could not measure it, its threshold key)
Check = Tuple[str, "float | None", str]


def load_thresholds(path: Path = THRESHOLDS) -> Dict[str, float]:
    return json.loads(path.read_text())


def check_thresholds(
    checks: Sequence[Check], thresholds: Mapping[str, float], digits: int = 3
) -> List[str]:
    """What fell below its threshold, one line each; empty when all is well. A threshold missing
    from the file, or a figure the run could not measure, is not checked."""
    return [
        f"{label} {value:.{digits}f} < {thresholds[key]}"
        for label, value, key in checks
        if value is not None and key in thresholds and value < thresholds[key]
    ]


def verdict(what: str, failed: Sequence[str]) -> int:
    """Say whether `what` passed (stdout) or which figures failed (stderr); the exit status."""
    if failed:
        print(f"{what} below threshold: " + "; ".join(failed), file=sys.stderr)
        return 1
    print(f"{what}: OK")
    return 0
