"""Read a pathway file from disk (YAML) and hand the mapping to the pure validator."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from pathway.domain.definition import PathwayDefinition, parse_definition
from pathway.domain.errors import DefinitionError


class DuplicateKey(yaml.YAMLError):
    def __init__(self, key: object, line: int, first: int) -> None:
        super().__init__(f"duplicate key '{key}' at line {line} (first given at line {first})")


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when installed: ~5x faster


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """YAML's safe loader, refusing a mapping that repeats a key (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults`: its keys may be overridden
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) and key in seen:
                raise DuplicateKey(key, line, seen[key])
            if isinstance(key, str | int | float | bool):
                seen[key] = line
        mapping: dict[object, object] = super().construct_mapping(node, deep=deep)
        return mapping


def load_pathway_file(path: Path) -> PathwayDefinition:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read the pathway file ({exc.strerror})") from None
    return parse_pathway_text(text, str(path))


@lru_cache(maxsize=8)  # the definition is immutable: a process reading the same text parses it once
def parse_pathway_text(text: str, path: str) -> PathwayDefinition:
    """Validate a pathway file's text (`path` names it in every message)."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except DuplicateKey as exc:
        raise DefinitionError(f"{path}: {exc}; keep one") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError(f"{path}: not valid YAML{where}: {problem}") from None
    return parse_definition(data, origin=path)
