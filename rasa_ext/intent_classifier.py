"""Rasa's `LogisticRegressionClassifier`, with a prediction that costs what the model costs.

Training, the fitted model and the file it is stored in are Rasa's, unchanged. Only `process`
(one parse) differs. Rasa's builds, for every message, a deep copy of each featurizer's sparse
features, stacks them into one scipy matrix with the dense sentence vector, and multiplies it
by the transposed coefficient matrix, which scipy first copies whole (3 MB here) because the
transpose is not contiguous: ~6 ms of a ~20 ms parse on this machine, for a product of ~100
non-zero counts and a 512-number vector with a 20-intent model (reports/nlu/summary.md).

This one keeps the coefficients transposed and contiguous once, and adds up each featurizer's
share of the intents' scores straight from its features, in the column order Rasa's stacking
gives them (sparse sentence features in the order the featurizers ran, then the dense ones);
then the same softmax as scikit-learn. Same probabilities to rounding (tests/nlu). Anything
the shortcut doesn't cover (one-vs-rest or two-intent models, a feature size that doesn't add
up) goes through Rasa's own code.
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import RANKING_LENGTH


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Rasa's logistic-regression intent classifier; one parse without building a matrix."""

    def _weights(self) -> Tuple[np.ndarray, np.ndarray] | None:
        """(coefficients as features x intents, C-contiguous; intercepts), or None when the
        model's probabilities aren't a softmax of one score per intent."""
        clf = self.clf
        cached = getattr(self, "_fast_weights", None)
        if cached is not None and cached[0] is clf.coef_:
            return cached[1]
        weights = None
        multinomial = clf.multi_class == "multinomial" or (
            clf.multi_class == "auto" and clf.classes_.size > 2 and clf.solver != "liblinear"
        )
        if multinomial and clf.coef_.shape[0] == clf.classes_.size:
            weights = (np.ascontiguousarray(clf.coef_.T), np.asarray(clf.intercept_))
        self._fast_weights = (clf.coef_, weights)
        return weights

    @staticmethod
    def _scores(message: Message, coef_t: np.ndarray, intercept: np.ndarray) -> np.ndarray | None:
        """Each intent's score for one message, or None when its features don't fit the model."""
        scores = intercept.astype(np.float64, copy=True)
        offset = 0
        sparse = []
        dense = []
        for features in message.features:
            if features.attribute != TEXT or features.type != FEATURE_TYPE_SENTENCE:
                continue
            (sparse if features.is_sparse() else dense).append(features.features)
        for matrix in sparse:
            coo = scipy.sparse.coo_matrix(matrix)
            width = coo.shape[1]
            if offset + width > coef_t.shape[0]:
                return None
            if coo.nnz:
                scores += coo.data @ coef_t[offset + coo.col]
            offset += width
        for array in dense:
            vector = np.asarray(array).reshape(-1)
            if offset + vector.size > coef_t.shape[0]:
                return None
            scores += vector @ coef_t[offset : offset + vector.size]
            offset += vector.size
        return scores if offset == coef_t.shape[0] else None

    def process(self, messages: List[Message]) -> List[Message]:
        """The most likely intent and the ranking, as Rasa's `process` sets them."""
        weights = self._weights() if hasattr(self.clf, "coef_") else None
        if weights is None:
            return super().process(messages)
        coef_t, intercept = weights
        intents = self.clf.classes_
        for message in messages:
            scores = self._scores(message, coef_t, intercept)
            if scores is None:
                super().process([message])
                continue
            scores -= scores.max()
            probas = np.exp(scores)
            probas /= probas.sum()
            ranking = sorted(
                ({"name": k, "confidence": v} for k, v in zip(intents, probas, strict=True)),
                key=lambda e: -e["confidence"],
            )
            intent = ranking[0]
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set(INTENT, intent, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages
