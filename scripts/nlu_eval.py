"""`make nlu-eval`: NLU evaluated on phrasings the model never saw in training.

Three sets:

- our held-out set, `tests/nlu/holdout.yml` (written apart from `data/nlu/`, in other styles):
  Rasa's report (per-intent precision/recall/F1, confusion matrix, errors) in reports/nlu/;
- our informal held-out set, `tests/nlu/heldout_informal.yml` (terse, lowercase, typos,
  rambling, non-native phrasing, as visitors type): intents only, Rasa's report in
  reports/nlu/informal/;
- the public behaviour set `../shared/eval/hwu64_behaviours.tsv` when it is there (HWU64
  utterances relabelled as stop / clarify / out_of_scope, see its README): every line is parsed
  by the trained model (the code path of the server's `/model/parse`), the predicted intent is
  mapped to a behaviour class (`BEHAVIOUR`), and precision/recall/F1 per class, macro-F1 over
  the three classes and the parse latency are reported. Evaluation only: it is never trained on.

Writes reports/nlu/summary.json and reports/nlu/summary.md, prints the tables, and fails when a
figure falls below tests/nlu/thresholds.json (thresholds only ever go up). The summary also
repeats the figures of the last 5-fold cross-validation (`make nlu-cv`, scripts/nlu_cv.py, run
before this by `make nlu-eval`) when reports/nlu/cross-validation.json is there; that script
checks its own thresholds.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config.settings import Settings  # noqa: E402
from bot.runtime.model import ensure_model  # noqa: E402
from scripts.nlu_thresholds import check_thresholds, load_thresholds, verdict  # noqa: E402

HOLDOUT = ROOT / "tests" / "nlu" / "holdout.yml"
INFORMAL = ROOT / "tests" / "nlu" / "heldout_informal.yml"
PUBLIC_SET = ROOT.parent / "shared" / "eval" / "hwu64_behaviours.tsv"
OUT = ROOT / "reports" / "nlu"

# What each predicted intent means as a behaviour: "stop" (the visitor wants the questions or
# the chat to end), "clarify" (explain what you just said) or "out_of_scope" (nothing we
# serve). Everything else, including nlu_fallback, is "other": a wrong answer on this set.
BEHAVIOUR: Mapping[str, str] = {
    "stop_form": "stop",
    "goodbye": "stop",
    "clarify": "clarify",
    "out_of_scope": "out_of_scope",
}
CLASSES = ("stop", "clarify", "out_of_scope")


def holdout_report(
    model: Path, holdout: Path = HOLDOUT, out: Path = OUT
) -> Tuple[Dict[str, object], List[Tuple[str, Mapping[str, float]]]]:
    """`rasa test nlu` on a held-out set; returns the summary figures and per-intent rows."""
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
            str(holdout),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    report = json.loads((out / "intent_report.json").read_text())
    rows = sorted(
        (name, values)
        for name, values in report.items()
        if isinstance(values, dict)
        and "support" in values
        and name not in ("macro avg", "weighted avg", "micro avg")
    )
    entity_f1 = None
    entity_report = out / "RegexEntityExtractor_report.json"
    if entity_report.exists():
        entity_f1 = json.loads(entity_report.read_text())["macro avg"]["f1-score"]
    accuracy = report.get("accuracy")
    summary: Dict[str, object] = {
        "examples": sum(int(values["support"]) for _, values in rows),
        "intent_macro_f1": round(report["macro avg"]["f1-score"], 4),
        "intent_accuracy": round(accuracy, 4) if accuracy is not None else None,
        "entity_macro_f1": round(entity_f1, 4) if entity_f1 is not None else None,
    }
    return summary, rows


def read_public_set(path: Path) -> List[Tuple[str, str]]:
    with path.open(newline="") as handle:
        return [(row["class"], row["text"]) for row in csv.DictReader(handle, delimiter="\t")]


async def parse_all(model: Path, texts: Sequence[str]) -> Tuple[List[str], List[float]]:
    """Parse every text with the trained model; the intents and each parse's milliseconds."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no debug line per parsed message
    agent = Agent.load(str(model))
    await agent.parse_message("warm up")
    intents, millis = [], []
    for text in texts:
        start = time.perf_counter()
        parsed = await agent.parse_message(text)
        millis.append((time.perf_counter() - start) * 1000)
        intents.append((parsed.get("intent") or {}).get("name") or "")
    return intents, millis


def scores(gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, Dict[str, float]]:
    """Precision, recall and F1 per behaviour class, and their macro average."""
    table: Dict[str, Dict[str, float]] = {}
    for name in CLASSES:
        tp = sum(g == p == name for g, p in zip(gold, predicted, strict=True))
        predicted_n = sum(p == name for p in predicted)
        gold_n = sum(g == name for g in gold)
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / gold_n if gold_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[name] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": gold_n,
        }
    table["macro"] = {
        key: round(statistics.mean(table[name][key] for name in CLASSES), 4)
        for key in ("precision", "recall", "f1")
    }
    return table


def normalised(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def training_texts() -> set[str]:
    """Every training example of data/nlu, normalised (entity markup left as written)."""
    return {
        normalised(match.group(1))
        for path in (ROOT / "data" / "nlu").glob("*.yml")
        for match in re.finditer(r"^\s+- (.+)$", path.read_text(), flags=re.MULTILINE)
    }


def public_report(model: Path, path: Path) -> Dict[str, object]:
    rows = read_public_set(path)
    # Short everyday lines ("cancel") can't help being in both; anything longer in both means
    # someone copied the evaluation set into training data, and the figures mean nothing.
    seen = training_texts()
    overlap = [text for _, text in rows if normalised(text) in seen]
    intents, millis = asyncio.run(parse_all(model, [text for _, text in rows]))
    predicted = [BEHAVIOUR.get(intent, "other") for intent in intents]
    gold = [label for label, _ in rows]
    # What the misses were taken as, most frequent first (for the designers).
    confusions: Dict[str, Dict[str, int]] = {name: {} for name in CLASSES}
    errors = []
    for (label, text), intent, behaviour in zip(rows, intents, predicted, strict=True):
        if behaviour != label:
            confusions[label][intent] = confusions[label].get(intent, 0) + 1
            errors.append({"text": text, "expected": label, "predicted_intent": intent})
    millis_sorted = sorted(millis)
    return {
        "file": str(path),
        "examples": len(rows),
        "also_in_training_data": overlap,
        "scores": scores(gold, predicted),
        "misread_as": {
            name: dict(sorted(counts.items(), key=lambda kv: -kv[1]))
            for name, counts in confusions.items()
        },
        "parse_ms": {
            "p50": round(statistics.median(millis_sorted), 2),
            "p95": round(millis_sorted[int(0.95 * (len(millis_sorted) - 1))], 2),
            "mean": round(statistics.mean(millis_sorted), 2),
        },
        "errors": errors,
    }


def markdown(  # type: ignore[no-untyped-def]
    summary: Mapping[str, object],
    rows,
    public: Mapping[str, object] | None,
    informal: Tuple[Mapping[str, object], list] | None = None,
    cross_validation: Mapping[str, Any] | None = None,
) -> str:
    lines = ["# NLU evaluation", "", "Produced by `make nlu-eval` (scripts/nlu_eval.py).", ""]
    if public is not None:
        table = public["scores"]
        lines += [
            f"## Public behaviour set ({public['examples']} utterances,"
            f" `{Path(str(public['file'])).name}`)",
            "",
            "| class | precision | recall | F1 | n |",
            "|---|---|---|---|---|",
        ]
        for name in CLASSES:
            v = table[name]
            lines.append(
                f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f}"
                f" | {v['support']} |"
            )
        m = table["macro"]
        lines += [
            f"| **macro** | {m['precision']:.3f} | {m['recall']:.3f} | **{m['f1']:.3f}** | |",
            "",
            f"Lines that also appear in data/nlu: {len(public['also_in_training_data'])} "
            f"{public['also_in_training_data'][:10]}",
            "",
            "Parse latency (ms, one message at a time): "
            + ", ".join(f"{k} {v}" for k, v in public["parse_ms"].items()),
            "",
            "Misses, by the intent they were taken as: "
            + "; ".join(
                f"{name}: " + ", ".join(f"{intent} {n}" for intent, n in list(counts.items())[:5])
                for name, counts in public["misread_as"].items()
                if counts
            ),
            "",
        ]
    lines += [
        f"## Own held-out set ({summary['examples']} examples, `tests/nlu/holdout.yml`)",
        "",
        f"Intent macro-F1 **{summary['intent_macro_f1']}**, accuracy {summary['intent_accuracy']}, "
        f"entity macro-F1 {summary['entity_macro_f1']}.",
        "",
        "| intent | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
    ]
    for name, v in rows:
        lines.append(
            f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1-score']:.3f}"
            f" | {int(v['support'])} |"
        )
    if informal is not None:
        figures, informal_rows = informal
        lines += [
            "",
            f"## Informal held-out set ({figures['examples']} examples,"
            " `tests/nlu/heldout_informal.yml`)",
            "",
            "Terse, lowercase, typos, rambling and non-native phrasing; intents only.",
            "",
            f"Intent macro-F1 **{figures['intent_macro_f1']}**, accuracy "
            f"{figures['intent_accuracy']}.",
            "",
            "| intent | precision | recall | F1 | n |",
            "|---|---|---|---|---|",
        ]
        for name, v in informal_rows:
            lines.append(
                f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1-score']:.3f}"
                f" | {int(v['support'])} |"
            )
    if cross_validation is not None:
        cv = cross_validation
        intent = cv["intent_macro_f1"]
        lines += [
            "",
            f"## Cross-validation of the training data ({cv['n_folds']}-fold stratified,"
            f" {cv['examples']} examples, `cross-validation.md`)",
            "",
            f"From the last `make nlu-cv`: intent macro-F1 **{intent['mean']:.4f}** mean over the"
            f" folds (std {intent['std']:.4f}, {intent['min']:.4f}–{intent['max']:.4f}), entity"
            f" macro-F1 {cv['entity_macro_f1']}.",
        ]
    return "\n".join(lines) + "\n"


# Sections of summary.md written by hand (figures from other commands, each named in it), from
# the first heading that ends in "before and after": a new run keeps them after its own tables.
KEPT_SECTION = re.compile(r"^## .*before and after\s*$", re.IGNORECASE | re.MULTILINE)


def kept_sections(path: Path) -> str:
    """The hand-written sections of an existing summary, from the first one to the end."""
    if not path.exists():
        return ""
    text = path.read_text()
    match = KEPT_SECTION.search(text)
    return "\n" + text[match.start() :] if match else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a trained model (default: the current one)")
    parser.add_argument("--public-set", type=Path, default=PUBLIC_SET, help="behaviour set (TSV)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the reports go")
    args = parser.parse_args()
    out = args.out
    logging.getLogger("rasa").setLevel(logging.ERROR)
    model = args.model or ensure_model(Settings.from_env().model_dir)
    out.mkdir(parents=True, exist_ok=True)
    thresholds = load_thresholds()

    holdout, rows = holdout_report(model, HOLDOUT, out)
    print(f"{'intent':<18} {'prec':>5} {'rec':>5} {'f1':>5} {'n':>4}")
    for name, values in rows:
        print(
            f"{name:<18} {values['precision']:5.2f} {values['recall']:5.2f} "
            f"{values['f1-score']:5.2f} {int(values['support']):4d}"
        )

    informal, informal_rows = holdout_report(model, INFORMAL, out / "informal")
    print(
        f"\ninformal held-out set: {informal['examples']} examples, intent macro-F1 "
        f"{informal['intent_macro_f1']}, accuracy {informal['intent_accuracy']}"
    )

    public = None
    if args.public_set.exists():
        public = public_report(model, args.public_set)
        (out / "public_errors.json").write_text(json.dumps(public.pop("errors"), indent=1) + "\n")
        print(f"\npublic set {args.public_set.name}: {public['examples']} utterances")
        print(f"{'class':<14} {'prec':>5} {'rec':>5} {'f1':>5} {'n':>4}")
        for name in (*CLASSES, "macro"):
            v = public["scores"][name]
            print(
                f"{name:<14} {v['precision']:5.2f} {v['recall']:5.2f} {v['f1']:5.2f} "
                f"{v.get('support', ''):>4}"
            )
        print(f"parse ms: {public['parse_ms']}")
    else:
        print(f"\npublic set not found at {args.public_set}: skipped")

    informal.pop("entity_macro_f1", None)  # nothing is annotated in the informal set
    cv_file = out / "cross-validation.json"
    cross_validation = json.loads(cv_file.read_text()) if cv_file.exists() else None
    summary = {
        "holdout": holdout,
        "informal": informal,
        "public": public,
        "cross_validation": (
            {
                key: cross_validation[key]
                for key in ("n_folds", "examples", "intent_macro_f1", "entity_macro_f1")
            }
            if cross_validation is not None
            else None
        ),
        "thresholds": thresholds,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(
        markdown(holdout, rows, public, (informal, informal_rows), cross_validation)
        + kept_sections(out / "summary.md")
    )
    print(f"\nreports: {out}/summary.md, summary.json, intent_report.json")

    checks = [
        ("held-out intent macro-F1", holdout["intent_macro_f1"], "min_intent_macro_f1"),
        ("held-out entity macro-F1", holdout["entity_macro_f1"], "min_entity_macro_f1"),
        (
            "informal held-out intent macro-F1",
            informal["intent_macro_f1"],
            "min_informal_intent_macro_f1",
        ),
    ]
    if public is not None:
        checks += [
            ("public macro-F1", public["scores"]["macro"]["f1"], "min_public_macro_f1"),
            ("public out_of_scope F1", public["scores"]["out_of_scope"]["f1"], "min_public_oos_f1"),
        ]
    return verdict("NLU evaluation", check_thresholds(checks, thresholds))


if __name__ == "__main__":
    sys.exit(main())
