"""YAML config files that people edit by hand, read so that every error names its line.

The document is composed into nodes first (PyYAML keeps each node's `start_mark`), then turned
into plain dicts and lists that remember the line of every key and item. Validators raise
`ConfigError("config/scoring.yml:12: budget band 'high' has min 50000 > max 10000")`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import yaml

from bot.config.settings import PROJECT_ROOT


class ConfigError(ValueError):
    """A config file that cannot be used; the message starts with `file:line:`."""


class Map(dict):
    """A YAML mapping that knows its own line and the line of each key."""

    line: int = 0
    key_lines: Dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class Seq(list):
    """A YAML sequence that knows its own line and the line of each item."""

    line: int = 0
    item_lines: List[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def display_path(path: Path) -> str:
    """`config/scoring.yml` for files in the project, the path as given otherwise."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


class Reader:
    """Loads one file and raises errors that name it and a line."""

    def __init__(self, path: Path, error: type[ConfigError] = ConfigError) -> None:
        self.path = Path(path)
        self.name = display_path(self.path)
        self.error = error

    def fail(self, line: int, problem: str) -> ConfigError:
        return self.error(f"{self.name}:{line}: {problem}")

    def load(self) -> Map:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as error:
            raise self.error(f"{self.name}: cannot read ({error.strerror or error})") from error
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark else 0
            raise self.fail(line, f"not valid YAML: {error.problem}") from error
        if node is None:
            raise self.fail(1, "the file is empty")
        data = self._convert(node)
        if not isinstance(data, Map):
            raise self.fail(node.start_mark.line + 1, "expected a mapping at the top level")
        return data

    def _convert(self, node: yaml.Node) -> Any:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result = Map()
            result.line, result.key_lines = line, {}
            for key_node, value_node in node.value:
                key = self._convert(key_node)
                if not isinstance(key, str):
                    raise self.fail(key_node.start_mark.line + 1, f"key {key!r} is not text")
                if key in result:
                    raise self.fail(key_node.start_mark.line + 1, f"duplicate key '{key}'")
                result[key] = self._convert(value_node)
                result.key_lines[key] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            items = Seq(self._convert(item) for item in node.value)
            items.line = line
            items.item_lines = [item.start_mark.line + 1 for item in node.value]
            return items
        # Scalars: let PyYAML's safe constructor resolve ints, bools, nulls, strings.
        return yaml.SafeLoader("").construct_object(node)

    # -- typed accessors ----------------------------------------------------------------
    def mapping(self, parent: Map, key: str, required: bool = True) -> Map:
        value = parent.get(key)
        if value is None and not required:
            empty = Map()
            empty.line, empty.key_lines = parent.line_of(key), {}
            return empty
        if not isinstance(value, Map):
            raise self.fail(parent.line_of(key), f"'{key}' must be a mapping")
        return value

    def sequence(self, parent: Map, key: str, required: bool = True) -> Seq:
        value = parent.get(key)
        if value is None and not required:
            empty = Seq()
            empty.line, empty.item_lines = parent.line_of(key), []
            return empty
        if not isinstance(value, Seq):
            raise self.fail(parent.line_of(key), f"'{key}' must be a list")
        return value

    def integer(
        self,
        parent: Map,
        key: str,
        what: str,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = parent.get(key, default)
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(parent.line_of(key), f"{what} must be a whole number, not {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(parent.line_of(key), f"{what} must be >= {minimum}, not {value}")
        if maximum is not None and value > maximum:
            raise self.fail(parent.line_of(key), f"{what} must be <= {maximum}, not {value}")
        return value

    def text(self, parent: Map, key: str, what: str, default: str | None = None) -> str:
        value = parent.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(parent.line_of(key), f"{what} must be non-empty text, not {value!r}")
        return value

    def only_keys(self, mapping: Map, allowed: Tuple[str, ...] | frozenset, what: str) -> None:
        for key in mapping:
            if key not in allowed:
                raise self.fail(
                    mapping.line_of(key),
                    f"unknown key '{key}' in {what} (expected one of: {', '.join(allowed)})",
                )


def items(seq: Seq) -> Iterator[Tuple[int, Any]]:
    """(line, item) pairs of a sequence."""
    for index, item in enumerate(seq):
        yield seq.line_of(index), item
