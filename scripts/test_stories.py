"""`make stories`: `rasa test` on tests/test_stories.yml; any wrong prediction fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config.settings import Settings  # noqa: E402
from bot.runtime.model import ensure_model  # noqa: E402


def main() -> int:
    model = ensure_model(Settings.from_env().model_dir)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            "tests/test_stories.yml",
            "--out",
            "reports/stories",
            "--fail-on-prediction-errors",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    failed = ROOT / "reports" / "stories" / "failed_test_stories.yml"
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
        if failed.exists():
            print(failed.read_text())
        print("rasa test stories: FAILED", file=sys.stderr)
        return 1
    print("rasa test stories: all stories predicted correctly (reports/stories/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
