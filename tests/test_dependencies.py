"""requirements.in says what the code imports: every third-party package our code imports is
declared there (not merely pulled in by another package, which may drop it), and nothing is
declared that no code, tool or make target uses."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import distributions
from pathlib import Path
from typing import Dict, List, Set

ROOT = Path(__file__).resolve().parents[1]
CODE = ("bot", "actions", "rasa_ext", "scripts", "tests", "bench")

# Declared for what they are, not for an import: tools run from the command line or by make,
# and pytest plugins loaded by name.
USED_WITHOUT_IMPORT = {"ruff", "py-spy", "pytest-asyncio", "psycopg2-binary"}


def packages_distributions() -> Dict[str, List[str]]:
    """Top-level module → installing distributions, from each distribution's file list
    (Python 3.10's own version reads only top_level.txt, which uv-installed wheels lack)."""
    owners: Dict[str, List[str]] = {}
    for dist in distributions():
        tops = set((dist.read_text("top_level.txt") or "").split())
        for file in dist.files or []:
            first = file.parts[0]
            if first.endswith((".dist-info", ".data")) or first in {"..", "__pycache__"}:
                continue
            if len(file.parts) > 1 or file.suffix in {".py", ".so", ".pyd"}:
                tops.add(first.split(".")[0])
        for top in tops:
            owners.setdefault(top, []).append(dist.metadata["Name"])
    return owners


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> Set[str]:
    names = set()
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(_normalise(re.split(r"[<>=!~\[ ;]", line, maxsplit=1)[0]))
    return names


def imported_modules() -> Dict[str, str]:
    """Top-level module → first file importing it, across our code."""
    ours = {p.name for p in ROOT.iterdir() if p.is_dir()} | {p.stem for p in ROOT.glob("*.py")}
    found: Dict[str, str] = {}
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ours:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared() -> None:
    distributions = packages_distributions()
    wanted = declared()
    missing = {}
    for module, where in imported_modules().items():
        owners = {_normalise(d) for d in distributions.get(module, [])}
        assert owners, f"{module} (imported in {where}) is not installed by requirements.lock"
        if not owners & wanted:
            missing[module] = (sorted(owners), where)
    assert not missing, f"imported but not declared in requirements.in: {missing}"


def test_every_declared_package_is_used() -> None:
    distributions = packages_distributions()
    used = {
        _normalise(d) for module in imported_modules() for d in distributions.get(module, [])
    }
    unused = declared() - used - USED_WITHOUT_IMPORT
    assert not unused, f"declared in requirements.in but never imported: {sorted(unused)}"
