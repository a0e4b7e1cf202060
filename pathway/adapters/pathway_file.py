"""Read a pathway file from disk (YAML) and hand the mapping to the pure validator."""

from __future__ import annotations

from pathlib import Path

import yaml

from pathway.domain.definition import PathwayDefinition, parse_definition
from pathway.domain.errors import DefinitionError


def load_pathway_file(path: Path) -> PathwayDefinition:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read the pathway file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError(f"{path}: not valid YAML{where}: {problem}") from None
    return parse_definition(data, origin=str(path))
