"""What the README, `.env.example` and the config files tell people to use exists.

A newcomer copies commands and setting names from these files first; a name that went away
with a refactor (a `make` target, a `python -m bot` command, a setting, a file) costs them an
hour. Each test reads the documents, so a new line in them is checked without editing here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Iterator, List, Set

import pytest

from bot.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"
DOCUMENTS = [README, ENV_EXAMPLE, *sorted((ROOT / "config").glob("*.yml"))]

# Variables read by tools we run rather than by Leadbot's settings.
# Runtime output (var/, models/, reports/) is made by the commands; ../ is outside the repo.
GENERATED_OR_OUTSIDE = ("../", "var/", "models/", "reports/", "/", "~")
FOREIGN_VARIABLES = {"PYENV_VERSION", "PATH", "PYTHONPATH", "SANIC_WORKERS", "HOME"}


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _make_targets() -> Set[str]:
    makefile = _text(ROOT / "Makefile")
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.MULTILINE))


def _bot_commands() -> Iterator[tuple[str, str]]:
    """(document, command words) for every `python -m bot ...` in the documents."""
    for path in DOCUMENTS:
        for match in re.finditer(r"python -m bot((?: [^`\n|;&#)]+)?)", _text(path)):
            yield path.name, match.group(1).strip()


def _command_words(command: str) -> List[str]:
    """The sub-command words, up to the first flag or placeholder (`<id>`, `…`)."""
    words = []
    for word in shlex.split(command.replace("…", ""), posix=True):
        if not re.fullmatch(r"[a-z][a-z-]*", word):
            break
        words.append(word)
    return words


def _flags(command: str) -> List[str]:
    return re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", command)


def _setting_names() -> Set[str]:
    names = set()
    for path in (README, ENV_EXAMPLE):
        text = _text(path)
        names.update(re.findall(r"^#?\s*([A-Z][A-Z0-9_]{2,})=", text, flags=re.MULTILINE))
        names.update(re.findall(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:=[^`]*)?`", text))
    return names - FOREIGN_VARIABLES


def _source_text() -> str:
    files = [*ROOT.glob("bot/**/*.py"), *ROOT.glob("rasa_ext/*.py"), *ROOT.glob("actions/*.py")]
    files += [ROOT / "endpoints.yml", ROOT / "credentials.yml", ROOT / "Makefile"]
    files += list(ROOT.glob("scripts/*"))
    return "\n".join(_text(f) for f in files if f.is_file())


def test_every_make_target_named_exists() -> None:
    targets = _make_targets()
    named = set()
    for path in DOCUMENTS:
        named.update(re.findall(r"\bmake ([a-z][a-z0-9-]*)", _text(path)))
    assert named, "the README names no make target?"
    assert named <= targets, f"named but not in the Makefile: {sorted(named - targets)}"


@pytest.mark.parametrize("document, command", sorted(set(_bot_commands())))
def test_every_bot_command_named_exists(
    document: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    words = _command_words(command)
    with pytest.raises(SystemExit) as exited:
        cli_main([*words, "--help"])
    assert exited.value.code == 0, f"{document}: `python -m bot {command}` is not a command"
    usage = capsys.readouterr().out
    for flag in _flags(command):
        assert flag in usage, f"{document}: `python -m bot {' '.join(words)}` has no {flag}"


def test_every_setting_named_is_read() -> None:
    source = _source_text()
    unread = sorted(
        name
        for name in _setting_names()
        if f'"{name}"' not in source
        and not re.search(rf"\b{name.lower()}\s*:", source)  # a typed settings field
        and name not in source
    )
    assert not unread, f"named in README/.env.example but read nowhere: {unread}"


def test_every_setting_read_is_in_env_example() -> None:
    settings_source = _text(ROOT / "bot" / "config" / "settings.py")
    # Read through get(), number(), path(), env.get() or env[...] in Settings.from_env.
    read = set(
        re.findall(
            r'(?:\bget\(|\bnumber\(|\bpath\(|env\[)\s*"([A-Z][A-Z0-9]*_[A-Z0-9_]+)"',
            settings_source,
        )
    )
    assert len(read) > 50, "the pattern no longer finds how Settings.from_env reads variables"
    example = _text(ENV_EXAMPLE)
    missing = sorted(name for name in read if not re.search(rf"\b{name}\b", example))
    assert not missing, f"settings without a line in .env.example: {missing}"


def _paths_named() -> Iterator[tuple[str, str]]:
    for path in DOCUMENTS:
        for candidate in re.findall(r"`([^`\s<>*]+)`", _text(path)):
            if "://" in candidate or candidate.startswith(GENERATED_OR_OUTSIDE):
                continue
            if candidate.startswith("."):  # .env, .venv: made at set-up
                continue
            if re.fullmatch(r"[\w.-]+(/[\w.-]*)+", candidate) or re.fullmatch(
                r"[\w-]+\.(yml|yaml|py|md|toml|json|lock|in)", candidate
            ):
                yield path.name, candidate


@pytest.mark.parametrize("document, named", sorted(set(_paths_named())))
def test_every_file_named_exists(document: str, named: str) -> None:
    assert (ROOT / named).exists() or (ROOT / named.rstrip("/")).exists(), (
        f"{document} names {named}, which is not in the repository"
    )


def _folder_map() -> str:
    """The README's map of the tree: the code block after "Where things live"."""
    found = re.search(r"Where things live.*?\n```\n(.*?)\n```", _text(README), flags=re.S)
    assert found, "the README's Architecture section has no folder map"
    return found.group(1)


def test_the_folder_map_is_the_tree() -> None:
    """Every folder and module the map names exists, and every package of bot/ is on it."""
    entries = re.findall(r"^( *)(\S+?/|[\w.]+\.py)(?= |$)", _folder_map(), flags=re.MULTILINE)
    parents: List[tuple[int, str]] = []
    on_map = set()
    for indent, name in entries:
        while parents and parents[-1][0] >= len(indent):
            parents.pop()
        path = (parents[-1][1] if parents else "") + name
        assert (ROOT / path).exists(), f"the README's folder map names {path}, which is not there"
        on_map.add(path.rstrip("/"))
        if name.endswith("/"):
            parents.append((len(indent), path))
    packages = {str(init.parent.relative_to(ROOT)) for init in ROOT.glob("bot/*/__init__.py")}
    missing = sorted(packages - on_map)
    assert not missing, f"bot packages missing from the README's folder map: {missing}"


def _repository_text_files() -> Iterator[Path]:
    for pattern in (
        "bot/**/*",
        "actions/**/*",
        "rasa_ext/**/*",
        "scripts/**/*",
        "tests/**/*",
        "config/**/*",
        "widget/**/*",
        "data/**/*",
    ):
        for path in ROOT.glob(pattern):
            if path.is_file() and path.suffix in {
                ".py",
                ".yml",
                ".yaml",
                ".html",
                ".js",
                ".txt",
                ".ics",
                ".md",
                ".sh",
                "",
            }:
                yield path
    yield from (
        ROOT / name
        for name in (
            "Makefile",
            "README.md",
            ".env.example",
            "domain.yml",
            "credentials.yml",
            "endpoints.yml",
            "config.yml",
        )
    )


def test_no_file_cites_a_document_or_issue_a_newcomer_cannot_open() -> None:
    """A `DESIGN.md` that isn't in the repository, or "(issue 3)" of a tracker a newcomer
    can't see, sends them looking for what isn't there: say the reason where it is used."""
    this = Path(__file__).resolve()
    cited = []
    for path in _repository_text_files():
        if not path.exists() or path.resolve() == this or "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for markdown in re.findall(r"(?<![\w/.-])([\w/.-]*[A-Z][\w-]*\.md)\b", text):
            if not markdown.startswith("reports/") and not (ROOT / markdown).exists():
                cited.append(f"{path.relative_to(ROOT)}: {markdown}")
        for issue in re.findall(r"(?i)\bissue\s+#?\d+\b", text):
            cited.append(f"{path.relative_to(ROOT)}: {issue}")
    assert not cited, f"names a document or an issue that isn't here: {cited}"
