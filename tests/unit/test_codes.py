"""The pathway file's `codes:` block is checked at load: a bad entry is refused with its path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from config import DEFAULT_PATHWAY
from pathway.domain.definition import parse_definition
from pathway.domain.errors import DefinitionError

SHIPPED: dict[str, Any] = yaml.safe_load(DEFAULT_PATHWAY.read_text(encoding="utf-8"))


def refusal(change: Any) -> str:
    data = copy.deepcopy(SHIPPED)
    change(data["codes"]["events"])
    with pytest.raises(DefinitionError) as caught:
        parse_definition(data, "x.yaml")
    return str(caught.value)


def test_every_coded_event_of_the_shipped_file_exists_and_has_a_source() -> None:
    definition = parse_definition(copy.deepcopy(SHIPPED), "x.yaml")
    assert set(definition.codes.events) <= set(definition.events)
    assert all(spec.source and spec.kind for spec in definition.codes.events.values())
    assert definition.codes.events["pain_score"].code is not None
    assert definition.codes.events["pain_score"].code.code == "72514-3"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.update(no_such_event=e["pain_score"]), "codes.events.no_such_event: unknown event"),
        (
            lambda e: e["pain_score"].update(value="score"),
            "codes.events.pain_score.value: event 'pain_score' has no field 'score'",
        ),
        (
            lambda e: e["imaging_done"]["code_by"]["values"].update(
                US=e["imaging_done"]["code_by"]["values"]["CT"]
            ),
            "codes.events.imaging_done.code_by.values.US: not a value of modality",
        ),
        (
            lambda e: e.update(exam_done={**e["rt_started"]}),
            "also stands for",  # the same Procedure code and status for two events: import is ambiguous
        ),
        (
            lambda e: e["rt_started"].pop("code"),
            "codes.events.rt_started: give exactly one of code, code_by, code_from",
        ),
        (lambda e: e["bma_dose"]["code_from"].update(field="dose"), "codes.events.bma_dose.code_from"),
        (lambda e: e["pain_score"].pop("source"), "codes.events.pain_score.source"),
    ],
)
def test_a_bad_codes_entry_is_refused_with_its_path(change: Any, message: str) -> None:
    assert message in refusal(change)
