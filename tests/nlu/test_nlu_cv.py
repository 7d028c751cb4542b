"""scripts/nlu_cv.py's arithmetic, report and threshold check, on figures written by hand (the
cross-validation itself trains five models: `make nlu-cv`, not the unit tests)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "nlu_cv.py"


@pytest.fixture(scope="module")
def nlu_cv() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nlu_cv", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fold(number: int, macro_f1: float, entity_f1: float | None = 0.98) -> dict:
    return {
        "fold": number,
        "examples": 446,
        "intent_macro_f1": macro_f1,
        "intent_accuracy": macro_f1,
        "entity_macro_f1": entity_f1,
        "seconds": 300.0,
    }


def summary(nlu_cv: ModuleType, macro_f1s: list[float], entity_f1: float | None) -> dict:
    folds = [fold(n, f1) for n, f1 in enumerate(macro_f1s, 1)]
    return {
        "n_folds": len(folds),
        "seed": 42,
        "examples": 2230,
        "intents": ["affirm", "deny"],
        "folds": folds,
        "intent_macro_f1": nlu_cv.spread(macro_f1s),
        "intent_accuracy": nlu_cv.spread(macro_f1s),
        "pooled_intent_macro_f1": 0.95,
        "pooled_intent_accuracy": 0.95,
        "entity_macro_f1": entity_f1,
        "pooled_rows": nlu_cv.label_rows(
            {
                "deny": {"precision": 0.9, "recall": 1.0, "f1-score": 0.947, "support": 9},
                "affirm": {
                    "precision": 1.0,
                    "recall": 0.9,
                    "f1-score": 0.947,
                    "support": 10,
                    "confused_with": {"deny": 1},
                },
                "accuracy": 0.95,
                "macro avg": {"precision": 0.95, "recall": 0.95, "f1-score": 0.947, "support": 19},
                "weighted avg": {
                    "precision": 0.95,
                    "recall": 0.95,
                    "f1-score": 0.947,
                    "support": 19,
                },
            }
        ),
        "seconds": 1500.0,
        "cpus": 2,
        "load_before": [3.0, 3.0, 3.0],
        "load_after": [4.0, 4.0, 4.0],
        "config": "config.yml",
        "nlu": "data/nlu",
        "thresholds": {"min_cv_intent_macro_f1": 0.9, "min_cv_entity_macro_f1": 0.9},
    }


def test_spread_is_mean_population_std_and_range(nlu_cv: ModuleType) -> None:
    assert nlu_cv.spread([0.9, 0.94, 0.96, 0.92, 0.98]) == {
        "mean": 0.94,
        "std": 0.0283,
        "min": 0.9,
        "max": 0.98,
    }


def test_label_rows_leave_out_the_averages_and_sort_by_label(nlu_cv: ModuleType) -> None:
    rows = summary(nlu_cv, [0.95], 0.98)["pooled_rows"]
    assert [name for name, _ in rows] == ["affirm", "deny"]


def test_failures_name_each_figure_below_its_threshold(nlu_cv: ModuleType) -> None:
    thresholds = {"min_cv_intent_macro_f1": 0.95, "min_cv_entity_macro_f1": 0.97}
    assert nlu_cv.failures(summary(nlu_cv, [0.96, 0.95], 0.97), thresholds) == []
    failed = nlu_cv.failures(summary(nlu_cv, [0.96, 0.93], 0.96), thresholds)
    assert failed == [
        "cross-validation mean intent macro-F1 0.9450 < 0.95",
        "cross-validation entity macro-F1 0.9600 < 0.97",
    ]


def test_a_missing_threshold_or_figure_is_not_checked(nlu_cv: ModuleType) -> None:
    low = summary(nlu_cv, [0.1], None)
    assert nlu_cv.failures(low, {"min_cv_entity_macro_f1": 0.97}) == []
    assert nlu_cv.failures(low, {}) == []


def test_markdown_shows_the_folds_spread_and_pooled_rows(nlu_cv: ModuleType) -> None:
    text = nlu_cv.markdown(summary(nlu_cv, [0.94, 0.96], 0.98))
    assert "Intent macro-F1 **0.9500** mean over the folds (std 0.0100, 0.9400–0.9600)" in text
    assert "| 2 | 446 | 0.9600 | 0.9600 | 0.98 | 300 |" in text
    assert "| affirm | 1.000 | 0.900 | 0.947 | 10 | deny 1 |" in text
    assert "trained on the other 1 folds" in text
    assert "load average [3.0, 3.0, 3.0] before" in text


@pytest.mark.parametrize(("macro_f1", "exit_code"), [(1.0, 0), (0.5, 1)])
def test_report_only_checks_the_last_run_against_the_repository_thresholds(
    nlu_cv: ModuleType, tmp_path: Path, macro_f1: float, exit_code: int
) -> None:
    figures = summary(nlu_cv, [macro_f1] * 5, 1.0)
    (tmp_path / "cross-validation.json").write_text(json.dumps(figures))
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--report-only", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == exit_code, run.stderr
    assert (tmp_path / "cross-validation.md").read_text().startswith("# NLU cross-validation")
    if exit_code:
        assert "cross-validation mean intent macro-F1 0.5000 <" in run.stderr
