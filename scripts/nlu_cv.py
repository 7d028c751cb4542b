"""`make nlu-cv`: 5-fold stratified cross-validation of the NLU pipeline over data/nlu/.

The held-out sets (`make nlu-eval`) are fixed lists someone wrote once; cross-validation scores
the whole pipeline of config.yml (our sentence-encoder featurizer included) on every training
line, each one predicted by a model that did not see it: the training data is split into five
folds with the intents' proportions kept, and five models are trained, each on four folds and
scored on the fifth.

Unlike `rasa test nlu --cross-validation`, the split is seeded (the same folds every run, so a
change in the figures is a change in the data or the pipeline, not in the draw), and training
lines are not re-parsed for train-set figures nobody reads, which saves a fifth of the time.

Writes reports/nlu/cross-validation.md and cross-validation.json: intent macro-F1 and accuracy
per fold, their mean and spread, the pooled per-intent table, and the entity macro-F1 of the
regex/lookup extractor. Fails when the mean intent macro-F1 or the pooled entity macro-F1 falls
below tests/nlu/thresholds.json (`min_cv_intent_macro_f1`, `min_cv_entity_macro_f1`; they only
go up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # config.yml names components in rasa_ext/

from scripts.nlu_thresholds import check_thresholds, load_thresholds, verdict  # noqa: E402

CONFIG = ROOT / "config.yml"
NLU_DATA = ROOT / "data" / "nlu"
OUT = ROOT / "reports" / "nlu"
SEED = 42
# The keys of a classification report that are averages, not labels.
AVERAGES = ("macro avg", "weighted avg", "micro avg", "accuracy")


def spread(values: Sequence[float]) -> Dict[str, float]:
    """Mean, population standard deviation, lowest and highest of the per-fold figures."""
    return {
        "mean": round(statistics.fmean(values), 4),
        "std": round(statistics.pstdev(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def label_rows(report: Mapping[str, Any]) -> List[Tuple[str, Mapping[str, float]]]:
    """The per-label rows of a classification report (dict form), sorted by label."""
    return sorted(
        (name, values)
        for name, values in report.items()
        if name not in AVERAGES and isinstance(values, dict) and "support" in values
    )


def failures(summary: Mapping[str, Any], thresholds: Mapping[str, float]) -> List[str]:
    """What fell below its threshold, one line each; empty when all is well.

    The intent figure checked is the mean of the folds' macro-F1; the entity figure is the
    pooled one (entities are on a few hundred lines, too few per fold for a stable figure).
    A threshold missing from the file, or a figure the run could not measure, is not checked.
    """
    checks = [
        (
            "cross-validation mean intent macro-F1",
            summary["intent_macro_f1"]["mean"],
            "min_cv_intent_macro_f1",
        ),
        (
            "cross-validation entity macro-F1",
            summary.get("entity_macro_f1"),
            "min_cv_entity_macro_f1",
        ),
    ]
    return check_thresholds(checks, thresholds, digits=4)


def shown(path: Path) -> str:
    """A path as the report shows it: relative to the repository when it is inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def markdown(summary: Mapping[str, Any]) -> str:
    intent, folds = summary["intent_macro_f1"], summary["folds"]
    lines = [
        "# NLU cross-validation",
        "",
        f"Produced by `make nlu-cv` (scripts/nlu_cv.py): {summary['n_folds']}-fold stratified"
        f" cross-validation of `{summary['config']}` over `{summary['nlu']}`"
        f" ({summary['examples']} examples, {len(summary['intents'])} intents; folds seeded with"
        f" {summary['seed']}). Each example is predicted by a model trained on the other"
        f" {summary['n_folds'] - 1} folds.",
        "",
        f"Intent macro-F1 **{intent['mean']:.4f}** mean over the folds (std {intent['std']:.4f},"
        f" {intent['min']:.4f}–{intent['max']:.4f}); pooled over every prediction"
        f" {summary['pooled_intent_macro_f1']:.4f},"
        f" accuracy {summary['pooled_intent_accuracy']:.4f}."
        f" Entity macro-F1 (pooled, `RegexEntityExtractor`): {summary['entity_macro_f1']}.",
        "",
        "| fold | test examples | intent macro-F1 | intent accuracy | entity macro-F1"
        " | train + test s |",
        "|---|---|---|---|---|---|",
    ]
    for fold in folds:
        lines.append(
            f"| {fold['fold']} | {fold['examples']} | {fold['intent_macro_f1']:.4f}"
            f" | {fold['intent_accuracy']:.4f} | {fold['entity_macro_f1']}"
            f" | {fold['seconds']:.0f} |"
        )
    lines += [
        "",
        f"Thresholds (`tests/nlu/thresholds.json`): mean intent macro-F1 ≥"
        f" {summary['thresholds'].get('min_cv_intent_macro_f1')}, entity macro-F1 ≥"
        f" {summary['thresholds'].get('min_cv_entity_macro_f1')}.",
        "",
        f"Took {summary['seconds'] / 60:.1f} min on {summary['cpus']} cores; load average"
        f" {summary['load_before']} before, {summary['load_after']} after (the machine is shared;"
        " an idle one is faster).",
        "",
        "## Per intent, pooled over the folds",
        "",
        "| intent | precision | recall | F1 | n | most often taken for |",
        "|---|---|---|---|---|---|",
    ]
    for name, v in summary["pooled_rows"]:
        confused = ", ".join(
            f"{other} {n}" for other, n in list((v.get("confused_with") or {}).items())[:3]
        )
        lines.append(
            f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1-score']:.3f}"
            f" | {int(v['support'])} | {confused} |"
        )
    return "\n".join(lines) + "\n"


async def run(n_folds: int, seed: int, config: Path, data_path: Path) -> Dict[str, Any]:
    """Train and score one model per fold; the figures, per fold and pooled."""
    import rasa.model_training
    from rasa.core.agent import Agent
    from rasa.nlu.test import (
        _get_active_entity_extractors,
        evaluate_entities,
        evaluate_intents,
        get_eval_data,
        remove_empty_intent_examples,
    )
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    data = load_data(str(data_path))
    examples = data.intent_examples
    labels = [example.get_full_intent() for example in examples]
    split = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)

    def fold_data(indices: Sequence[int]) -> TrainingData:
        # Lookup tables and regexes belong to every fold, as in rasa's own cross-validation.
        return TrainingData(
            training_examples=[examples[i] for i in indices],
            entity_synonyms=data.entity_synonyms,
            regex_features=data.regex_features,
            lookup_tables=data.lookup_tables,
            responses=data.responses,
        )

    def intent_figures(results: list) -> Dict[str, Any]:
        return evaluate_intents(results, None, False, False, True, report_as_dict=True)

    def entity_f1(results: list) -> float | None:
        extractors = _get_active_entity_extractors(results)
        if "RegexEntityExtractor" not in extractors:
            return None
        evaluated = evaluate_entities(
            results, extractors, None, False, False, True, report_as_dict=True
        )
        return round(evaluated["RegexEntityExtractor"]["report"]["macro avg"]["f1-score"], 4)

    folds: List[Dict[str, Any]] = []
    all_intents: list = []
    all_entities: list = []
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as tmp:
        for number, (train_index, test_index) in enumerate(split.split(examples, labels), 1):
            start = time.monotonic()
            train_file = Path(tmp) / f"train-{number}.yml"
            RasaYAMLWriter().dump(train_file, fold_data(train_index))
            model = rasa.model_training.train_nlu(
                str(config), str(train_file), tmp, fixed_model_name=f"fold-{number}"
            )
            processor = Agent.load(model).processor
            intents, _, entities = await get_eval_data(processor, fold_data(test_index))
            intents = remove_empty_intent_examples(intents)
            figures = intent_figures(intents)
            fold = {
                "fold": number,
                "examples": len(test_index),
                "intent_macro_f1": round(figures["report"]["macro avg"]["f1-score"], 4),
                "intent_accuracy": round(figures["accuracy"], 4),
                "entity_macro_f1": entity_f1(entities),
                "seconds": round(time.monotonic() - start, 1),
            }
            print(json.dumps(fold), flush=True)
            folds.append(fold)
            all_intents += intents
            all_entities += entities

    pooled = intent_figures(all_intents)
    return {
        "n_folds": n_folds,
        "seed": seed,
        "examples": len(examples),
        "intents": sorted(set(labels)),
        "folds": folds,
        "intent_macro_f1": spread([fold["intent_macro_f1"] for fold in folds]),
        "intent_accuracy": spread([fold["intent_accuracy"] for fold in folds]),
        "pooled_intent_macro_f1": round(pooled["report"]["macro avg"]["f1-score"], 4),
        "pooled_intent_accuracy": round(pooled["accuracy"], 4),
        "entity_macro_f1": entity_f1(all_entities),
        "pooled_rows": label_rows(pooled["report"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--config", type=Path, default=CONFIG, help="the pipeline to score")
    parser.add_argument("--nlu", type=Path, default=NLU_DATA, help="training data")
    parser.add_argument("--out", type=Path, default=OUT, help="where the reports go")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="no training: rewrite the markdown from the last run's cross-validation.json and"
        " check it against the current thresholds",
    )
    args = parser.parse_args()
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no debug line per parsed message
    logging.getLogger("rasa").setLevel(logging.ERROR)
    thresholds = load_thresholds()

    if args.report_only:
        summary = json.loads((args.out / "cross-validation.json").read_text())
        summary.setdefault("config", shown(args.config))
        summary.setdefault("nlu", shown(args.nlu))
    else:
        load_before = [round(x, 2) for x in os.getloadavg()]
        start = time.monotonic()
        summary = asyncio.run(run(args.folds, args.seed, args.config, args.nlu))
        summary.update(
            seconds=round(time.monotonic() - start, 1),
            cpus=os.cpu_count(),
            load_before=load_before,
            load_after=[round(x, 2) for x in os.getloadavg()],
            config=shown(args.config),
            nlu=shown(args.nlu),
        )
    summary["thresholds"] = {k: v for k, v in thresholds.items() if k.startswith("min_cv_")}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cross-validation.json").write_text(json.dumps(summary, indent=1) + "\n")
    (args.out / "cross-validation.md").write_text(markdown(summary))
    intent = summary["intent_macro_f1"]
    print(
        f"\n{summary['n_folds']}-fold cross-validation: intent macro-F1 mean {intent['mean']:.4f}"
        f" (std {intent['std']:.4f}, {intent['min']:.4f}-{intent['max']:.4f}), entity"
        f" macro-F1 {summary['entity_macro_f1']}; {summary['seconds'] / 60:.1f} min;"
        f" report: {args.out}/cross-validation.md"
    )
    return verdict("NLU cross-validation", failures(summary, thresholds))


if __name__ == "__main__":
    sys.exit(main())
