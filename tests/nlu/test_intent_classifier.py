"""The fast parse of rasa_ext/intent_classifier.py gives what Rasa's own classifier gives."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import List

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_ext.intent_classifier import FastLogisticRegressionClassifier

WIDTHS = (7, 30)  # two sparse featurizers' vocabularies
DENSE = 5


def message(rng: np.random.Generator, intent: str | None = None) -> Message:
    data = {TEXT: "some text"}
    if intent:
        data["intent"] = intent
    msg = Message(data=data)
    for number, width in enumerate(WIDTHS):
        counts = scipy.sparse.random(1, width, density=0.2, random_state=rng, format="coo")
        counts.data = np.round(counts.data * 3) + 1
        tokens = scipy.sparse.random(3, width, density=0.2, random_state=rng, format="coo")
        msg.add_features(Features(tokens, "sequence", TEXT, f"sparse{number}"))
        msg.add_features(Features(counts, "sentence", TEXT, f"sparse{number}"))
    vector = rng.normal(size=(1, DENSE)).astype(np.float32)
    msg.add_features(Features(vector, "sentence", TEXT, "dense"))
    return msg


def trained(tmp_path: Path, intents: List[str]) -> FastLogisticRegressionClassifier:
    rng = np.random.default_rng(7)
    classifier = FastLogisticRegressionClassifier.create(
        FastLogisticRegressionClassifier.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("lr"),
        ExecutionContext(GraphSchema({}), node_name="lr"),
    )
    examples = [message(rng, intents[i % len(intents)]) for i in range(60)]
    classifier.train(TrainingData(examples))
    return classifier


@pytest.mark.parametrize("intents", [["greet", "deny", "inform", "stop_form"], ["yes", "no"]])
def test_same_intent_and_ranking_as_rasas_classifier(tmp_path: Path, intents: List[str]) -> None:
    classifier = trained(tmp_path, intents)
    rng = np.random.default_rng(11)
    for _ in range(20):
        fast = message(rng)
        rasa = copy.deepcopy(fast)
        classifier.process([fast])
        LogisticRegressionClassifier.process(classifier, [rasa])
        assert fast.get("intent")["name"] == rasa.get("intent")["name"]
        assert fast.get("intent")["confidence"] == pytest.approx(rasa.get("intent")["confidence"])
        assert [r["name"] for r in fast.get("intent_ranking")] == [
            r["name"] for r in rasa.get("intent_ranking")
        ]
        for mine, theirs in zip(
            fast.get("intent_ranking"), rasa.get("intent_ranking"), strict=True
        ):
            assert mine["confidence"] == pytest.approx(theirs["confidence"], abs=1e-12)


def test_features_that_do_not_fit_the_model_go_through_rasas_code(tmp_path: Path) -> None:
    classifier = trained(tmp_path, ["greet", "deny", "inform"])
    odd = Message(data={TEXT: "x"})
    odd.add_features(Features(np.ones((1, 3), dtype=np.float32), "sentence", TEXT, "dense"))
    with pytest.raises(ValueError):  # scikit-learn's own complaint about the width
        classifier.process([odd])
