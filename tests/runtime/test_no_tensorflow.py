"""rasa_ext/no_tensorflow.py: the Rasa server skips TensorFlow only for a model that never uses
it, Rasa's modules still import, and a TensorFlow component fails loudly instead of quietly."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from rasa_ext import no_tensorflow
from rasa_ext.rasa_server import model_argument

ROOT = Path(__file__).resolve().parents[2]


def _archive(path: Path, metadata: object) -> Path:
    source = path.parent / "metadata.json"
    source.write_text(json.dumps(metadata))
    with tarfile.open(path, "w:gz") as archive:
        archive.add(source, arcname="metadata.json")
    return path


def _model(tmp_path: Path, *uses: str) -> Path:
    nodes = {f"node{i}": {"uses": name} for i, name in enumerate(uses)}
    return _archive(tmp_path / "model.tar.gz", {"predict_schema": {"nodes": nodes}})


def test_the_trained_model_needs_no_tensorflow() -> None:
    from bot.config.settings import Settings
    from bot.runtime.model import current_model

    model = current_model(Settings.from_env().model_dir)
    if model is None:
        pytest.skip("no trained model for the current data (make train)")
    components = no_tensorflow.model_components(model)
    assert components, "the model's predict graph was read"
    assert not no_tensorflow.needs_tensorflow(components), sorted(
        components - no_tensorflow.TF_FREE_COMPONENTS
    )


def test_a_tensorflow_component_or_an_unreadable_model_keeps_tensorflow(tmp_path: Path) -> None:
    ted = _model(
        tmp_path,
        "rasa.core.policies.rule_policy.RulePolicy",
        "rasa.core.policies.ted_policy.TEDPolicy",
    )
    assert no_tensorflow.needs_tensorflow(no_tensorflow.model_components(ted))
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a model")
    assert no_tensorflow.model_components(broken) is None
    assert no_tensorflow.needs_tensorflow(None)
    no_metadata = _archive(tmp_path / "other.tar.gz", {"nodes": {}})
    assert no_tensorflow.needs_tensorflow(no_tensorflow.model_components(no_metadata))


def test_the_model_argument_is_found_however_written(tmp_path: Path) -> None:
    model = tmp_path / "m.tar.gz"
    model.write_bytes(b"")
    for args in (["--model", str(model)], [f"--model={model}"], ["--port", "1", "-m", str(model)]):
        assert model_argument(args) == model
    assert model_argument(["--port", "5005"]) is None
    assert model_argument(["--model", str(tmp_path / "missing.tar.gz")]) is None


CHECK = """
import sys
from rasa_ext import no_tensorflow
no_tensorflow.install()
import rasa.core.agent, rasa.core.run, rasa.server
import rasa.engine.recipes.default_components
from rasa.utils.tensorflow.models import RasaModel
from rasa.utils.common import update_tensorflow_log_level
update_tensorflow_log_level()
try:
    RasaModel()
except no_tensorflow.TensorFlowNotLoaded as error:
    refused = "needs TensorFlow" in str(error)
else:
    refused = False
loaded = sorted(n for n in ("jax", "h5py", "keras_preprocessing") if n in sys.modules)
print(no_tensorflow.installed(), refused, loaded, hasattr(sys.modules["tensorflow"], "__file__"))
"""


def test_rasa_imports_without_tensorflow_and_a_tensorflow_model_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[-2] == "True True [] False"
