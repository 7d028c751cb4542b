"""`python -m rasa_ext.rasa_server run …`: Rasa's own `rasa run`, locked down.

The launcher starts the Rasa server through this module rather than `python -m rasa` so that,
before Rasa imports anything:

- every log record of the process is redacted (bot/runtime/privacy_log.py): no email or
  message text reaches a log; LOG_LEVEL=DEBUG, which Rasa reads too, is passed to Rasa as
  INFO (Rasa's DEBUG lines are the conversation itself);
- request bodies are capped at MAX_REQUEST_BYTES (SANIC_REQUEST_MAX_SIZE), and Sanic's own
  errors (unknown path, wrong method, too large) are JSON like every other answer;
- the HTTP API requires the token (`--auth-token`, from RASA_AUTH_TOKEN or generated into
  var/), added here so it never appears on a command line (`ps`) or in the endpoints file;
- per-turn costs measured in reports/profile.md are removed (rasa_ext/speedups.py);
- a tracker store that fails to read or save fails the turn, instead of Rasa's silent fallback
  to an empty or a forgotten conversation (rasa_ext/tracker_store.py, `StrictTrackerStore`);
- TensorFlow is not imported when the model served has no TensorFlow component
  (rasa_ext/no_tensorflow.py: ~440 MiB and most of the start-up, reports/profile.md "Memory");
- numpy's math libraries (OpenBLAS, OpenMP, MKL) get this process's share of the machine's
  cores (bot/runtime/math_threads.py), unless the environment says otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, List

# Request bodies the Rasa server reads, at most (Sanic's default is 100 MB, read before a
# handler can check the token): models here are ~1 MB; the channels cap theirs at 32 KB.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def use_math_threads() -> None:
    """Before numpy is imported (its math libraries read the settings once, when they load):
    this process's share of the cores, its Sanic workers counted (bot/runtime/math_threads.py).
    """
    from bot.runtime.math_threads import math_thread_env, sanic_workers

    os.environ.update(math_thread_env(sanic_workers(os.environ), os.environ))


def with_auth_token(args: List[str], token: Callable[[], str]) -> List[str]:
    """Rasa's arguments with the API token added unless given. As one `--auth-token=…`
    argument: a generated token starts with '-' about once in 64 and, as a separate argument,
    would be read as an option (Rasa then exits: "expected one argument")."""
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in args):
        return list(args)
    return [*args, f"--auth-token={token()}"]


def model_argument(args: List[str]) -> Path | None:
    """The model `rasa run` is given (`--model X`, `--model=X` or `-m X`), if it is a file."""
    for index, arg in enumerate(args):
        value = None
        if arg in ("--model", "-m") and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--model="):
            value = arg.split("=", 1)[1]
        if value:
            path = Path(value)
            return path if path.is_file() else None
    return None


def main() -> None:
    use_math_threads()
    from dotenv import load_dotenv

    from bot.config.settings import Settings
    from bot.runtime.privacy_log import install_log_redaction, library_level
    from bot.runtime.tokens import rasa_auth_token

    load_dotenv()
    settings = Settings.from_env()
    install_log_redaction(settings.log_level)
    # Rasa reads LOG_LEVEL itself: at DEBUG it prints messages, slots and trackers. It gets
    # INFO at most; DEBUG is for Leadbot's own loggers (bot/runtime/privacy_log.py).
    os.environ["LOG_LEVEL"] = library_level(settings.log_level)
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_REQUEST_BYTES))
    os.environ.setdefault("SANIC_FALLBACK_ERROR_FORMAT", "json")  # Sanic's own 404/405/413
    from rasa_ext.sanic_fixes import answer_malformed_urls

    answer_malformed_urls()
    sys.argv = ["rasa", *with_auth_token(sys.argv[1:], lambda: rasa_auth_token(settings))]
    if sys.argv[1:2] == ["run"]:
        from rasa_ext import no_tensorflow

        no_tensorflow.install_if_unused(model_argument(sys.argv[2:]))
    from rasa_ext.speedups import install as install_speedups

    install_speedups()
    from rasa_ext.tracker_store import install_strict_wrapper

    install_strict_wrapper()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
