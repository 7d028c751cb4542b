"""`make nlu-eval`: NLU evaluated on held-out phrasings the model never saw in training.

Writes Rasa's report (per-intent precision/recall/F1, confusion matrix, errors) to
reports/nlu/, prints a summary, and fails when macro-F1 falls below tests/nlu/thresholds.json
(thresholds only ever go up).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config.settings import Settings  # noqa: E402
from bot.runtime.model import ensure_model  # noqa: E402

HOLDOUT = ROOT / "tests" / "nlu" / "holdout.yml"
THRESHOLDS = ROOT / "tests" / "nlu" / "thresholds.json"
OUT = ROOT / "reports" / "nlu"


def main() -> int:
    model = ensure_model(Settings.from_env().model_dir)
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "nlu",
            "--model",
            str(model),
            "--nlu",
            str(HOLDOUT),
            "--out",
            str(OUT),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    report = json.loads((OUT / "intent_report.json").read_text())
    thresholds = json.loads(THRESHOLDS.read_text())
    macro_f1 = report["macro avg"]["f1-score"]
    accuracy = report.get("accuracy")
    rows = sorted(
        (name, values)
        for name, values in report.items()
        if isinstance(values, dict)
        and "support" in values
        and name not in ("macro avg", "weighted avg", "micro avg")
    )
    print(f"{'intent':<18} {'prec':>5} {'rec':>5} {'f1':>5} {'n':>4}")
    for name, values in rows:
        print(
            f"{name:<18} {values['precision']:5.2f} {values['recall']:5.2f} "
            f"{values['f1-score']:5.2f} {values['support']:4d}"
        )
    entity_f1 = None
    entity_report = OUT / "RegexEntityExtractor_report.json"
    if entity_report.exists():
        entity_f1 = json.loads(entity_report.read_text())["macro avg"]["f1-score"]
    summary = {
        "holdout_examples": sum(values["support"] for _, values in rows),
        "intent_macro_f1": round(macro_f1, 4),
        "intent_accuracy": round(accuracy, 4) if accuracy is not None else None,
        "entity_macro_f1": round(entity_f1, 4) if entity_f1 is not None else None,
        "thresholds": thresholds,
    }
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(
        f"full report: {OUT.relative_to(ROOT)}/ (intent_report.json, intent_confusion_matrix.png)"
    )
    failures = []
    if macro_f1 < thresholds["min_intent_macro_f1"]:
        failures.append(f"intent macro-F1 {macro_f1:.3f} < {thresholds['min_intent_macro_f1']}")
    if entity_f1 is not None and entity_f1 < thresholds.get("min_entity_macro_f1", 0):
        failures.append(f"entity macro-F1 {entity_f1:.3f} < {thresholds['min_entity_macro_f1']}")
    if failures:
        print("NLU evaluation below threshold: " + "; ".join(failures), file=sys.stderr)
        return 1
    print("NLU evaluation: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
