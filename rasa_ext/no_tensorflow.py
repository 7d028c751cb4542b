"""The Rasa server without TensorFlow, when the model it serves has no TensorFlow component.

Rasa 3.6 imports TensorFlow (and through it Keras, JAX, h5py and Pillow) in every server,
whatever the model: its policy and extractor modules import `rasa.utils.tensorflow`, and its
default recipe imports DIET and TED. Our model uses none of them (config.yml), yet the import
was ~440 MiB of the Rasa process's memory and most of its start-up (reports/profile.md,
"Memory").

`install_if_unused(model)` reads the model archive's predict graph; when every component in it
is one of `TF_FREE_COMPONENTS` (Rasa's own, and ours, that never call TensorFlow), imports of
`tensorflow`, `keras` and their add-ons get a stand-in instead. Rasa's modules still import:
TensorFlow-based classes are defined on a base that raises if one is ever made (a model with
such a component could not load here, it would fail loudly), TensorFlow's decorators leave the
function as it is, and set-up calls (log levels, CPU threads, GPU lists) do nothing. A model
with any other component, or one whose archive can't be read, gets the real TensorFlow as
before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import sys
import tarfile
import types
from pathlib import Path
from typing import Any, Iterable, Iterator, Tuple

# Predict-graph components whose code runs without TensorFlow (checked in the test with the
# trained model: tests/runtime/test_no_tensorflow.py). Anything else keeps the real TensorFlow.
TF_FREE_COMPONENTS = frozenset(
    {
        "rasa.core.policies.ensemble.DefaultPolicyPredictionEnsemble",
        "rasa.core.policies.memoization.MemoizationPolicy",
        "rasa.core.policies.memoization.AugmentedMemoizationPolicy",
        "rasa.core.policies.rule_policy.RulePolicy",
        "rasa.graph_components.converters.nlu_message_converter.NLUMessageConverter",
        "rasa.graph_components.providers.domain_provider.DomainProvider",
        "rasa.graph_components.providers.rule_only_provider.RuleOnlyDataProvider",
        "rasa.nlu.classifiers.fallback_classifier.FallbackClassifier",
        "rasa.nlu.classifiers.regex_message_handler.RegexMessageHandler",
        "rasa.nlu.extractors.regex_entity_extractor.RegexEntityExtractor",
        "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer.CountVectorsFeaturizer",
        "rasa.nlu.featurizers.sparse_featurizer.regex_featurizer.RegexFeaturizer",
        "rasa.nlu.tokenizers.whitespace_tokenizer.WhitespaceTokenizer",
        "rasa_ext.intent_classifier.FastLogisticRegressionClassifier",
        "rasa_ext.use_featurizer.SentenceEncoderFeaturizer",
    }
)
STUBBED_PACKAGES = ("tensorflow", "keras", "tensorflow_addons", "tensorflow_hub", "tensorflow_text")


class TensorFlowNotLoaded(RuntimeError):
    pass


class _Unavailable:
    """The base of every TensorFlow-derived class while TensorFlow is stood in for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TensorFlowNotLoaded(
            f"{type(self).__name__} needs TensorFlow, which this Rasa server did not load "
            "(rasa_ext/no_tensorflow.py: the model was read as having no TensorFlow component)"
        )


class _Stand:
    """Any attribute of a stood-in module: a class base, a decorator, a type, a no-op call."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> _Stand:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stand(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]  # used as a decorator (`@tf.function`): the function itself
        return _Stand(f"{self._name}()")

    def __mro_entries__(self, bases: Tuple[Any, ...]) -> Tuple[type]:
        return (_Unavailable,)

    def __instancecheck__(self, obj: object) -> bool:
        return False

    def __subclasscheck__(self, cls: type) -> bool:
        return False

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __bool__(self) -> bool:
        return False

    def __getitem__(self, key: object) -> _Stand:
        return self

    def __or__(self, other: object) -> _Stand:
        return self

    __ror__ = __or__

    def __repr__(self) -> str:
        return f"<stand-in for {self._name}>"


class _StandModule(types.ModuleType):
    def __getattr__(self, attr: str) -> _Stand:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stand(f"{self.__name__}.{attr}")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, name: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name.split(".")[0] in STUBBED_PACKAGES:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _StandModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


_FINDER = _Finder()


def model_components(model: Path) -> frozenset[str] | None:
    """The classes in the model archive's predict graph, or None if it can't be read."""
    try:
        with tarfile.open(model, "r:gz") as archive:
            for member in archive:
                if member.name.lstrip("/") == "metadata.json":
                    handle = archive.extractfile(member)
                    if handle is None:
                        return None
                    nodes = json.load(handle)["predict_schema"]["nodes"]
                    return frozenset(node["uses"] for node in nodes.values())
    except (OSError, tarfile.TarError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return None


def needs_tensorflow(components: Iterable[str] | None) -> bool:
    return components is None or not set(components) <= TF_FREE_COMPONENTS


def install() -> None:
    """Stand in for TensorFlow in this process (before anything imports it; idempotent)."""
    if any(name.split(".")[0] in STUBBED_PACKAGES for name in sys.modules):
        return  # already imported for real: nothing to save, and nothing must change
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def installed() -> bool:
    return _FINDER in sys.meta_path


def install_if_unused(model: Path | None) -> bool:
    """Install the stand-in if `model` has no TensorFlow component; True if it did."""
    if model is None or needs_tensorflow(model_components(model)):
        return False
    install()
    return installed()
