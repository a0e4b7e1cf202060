"""Dose arithmetic (issue 13 point 2): BSA, cumulative doxorubicin-equivalent dose (prior
treatment included, retracted doses removed), the next planned dose and the projected total."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from config import DEFAULT_PATHWAY
from pathway.domain.definition import PathwayDefinition, parse_definition
from pathway.domain.dose_arithmetic import (
    bsa_mosteller,
    cumulative,
    doses,
    next_planned_dose,
    projection,
)
from pathway.domain.errors import DefinitionError, InvalidInput
from pathway.domain.events import validate_event_data
from pathway.domain.model import EventRecord

T0 = datetime(2026, 3, 9, 9, tzinfo=UTC)
DATA: dict[str, Any] = yaml.safe_load(DEFAULT_PATHWAY.read_text(encoding="utf-8"))
D: PathwayDefinition = parse_definition(DATA, origin="shipped")
ANTHRACYCLINES = ("doxorubicin", "epirubicin", "daunorubicin", "idarubicin", "mitoxantrone")


class Log:
    """An event log built in recording order (ids increase)."""

    def __init__(self) -> None:
        self.events: list[EventRecord] = []

    def add(self, type_: str, at: datetime = T0, **data: Any) -> int:
        eid = len(self.events) + 1
        self.events.append(EventRecord(eid, 1, type_, at, at, "t", data, None, {}))
        return eid

    def dose(self, drug: str, amount: float, at: datetime = T0) -> int:
        return self.add("drug_given", at, drug=drug, dose=amount, unit=D.drugs[drug].unit)

    def retract(self, eid: int) -> None:
        self.add("retraction", T0, event_id=eid)


def test_bsa_mosteller_matches_the_formula() -> None:
    assert bsa_mosteller(170, 70) == pytest.approx(1.8181, abs=1e-4)
    assert bsa_mosteller(180, 80) == pytest.approx(2.0, abs=1e-9)
    with pytest.raises(ValueError):
        bsa_mosteller(0, 70)


@given(st.floats(50, 250), st.floats(20, 350), st.floats(1.01, 2))
def test_bsa_grows_with_height_and_weight(height: float, weight: float, k: float) -> None:
    base = bsa_mosteller(height, weight)
    assert bsa_mosteller(height * k, weight) > base and bsa_mosteller(height, weight * k) > base


def test_each_anthracycline_has_a_sourced_factor_and_the_rule_book_gives_only_epirubicin() -> None:
    for drug in ANTHRACYCLINES:
        eq = D.drugs[drug].doxorubicin_equivalent
        assert eq is not None and len(eq.source) > 10
    assert D.drugs["epirubicin"].doxorubicin_equivalent.factor == 0.8  # type: ignore[union-attr]
    for drug in ("daunorubicin", "idarubicin", "mitoxantrone"):  # not in the rule book: proposals
        assert D.drugs[drug].doxorubicin_equivalent.kind == "proposal"  # type: ignore[union-attr]
    assert D.drugs["ifosfamide"].doxorubicin_equivalent is None and D.drugs["ifosfamide"].unit == "g/m2"


def test_prior_epirubicin_counts_at_its_factor_and_non_anthracyclines_not_at_all() -> None:
    log = Log()
    log.add(
        "prior_treatment", drug="epirubicin", cumulative_dose=187.5, unit="mg/m2", cardiac_region_rt=False
    )
    log.dose("doxorubicin", 75)
    log.dose("ifosfamide", 10)
    given = doses(D, log.events)
    assert cumulative(given) == pytest.approx(225)
    assert [x.prior for x in given] == [True, False, False]


def test_next_planned_dose_follows_the_plan_and_stops_after_the_last_cycle() -> None:
    log = Log()
    assert next_planned_dose(D, log.events) is None
    log.add(
        "systemic_started", regimen="doxorubicin", planned_dose=75, planned_cycles=2, cycle_interval_days=21
    )
    first = next_planned_dose(D, log.events)
    assert first is not None and (first.cycle, first.due_at, first.dose) == (1, T0, 75)
    log.dose("doxorubicin", 75, T0 + timedelta(days=1))
    second = next_planned_dose(D, log.events)
    assert second is not None and (second.cycle, second.due_at) == (2, T0 + timedelta(days=22))
    assert projection(D, log.events).after_next == 150
    log.dose("doxorubicin", 75, T0 + timedelta(days=22))
    assert next_planned_dose(D, log.events) is None
    assert projection(D, log.events).after_next == projection(D, log.events).cumulative == 150


def test_a_completed_line_has_no_next_dose_and_the_plan_counts_only_its_first_drug() -> None:
    log = Log()
    log.add(
        "systemic_started",
        regimen="doxorubicin_ifosfamide",
        planned_dose=75,
        planned_cycles=6,
        cycle_interval_days=21,
    )
    log.dose("ifosfamide", 2.5)
    nxt = next_planned_dose(D, log.events)
    assert nxt is not None and nxt.drug == "doxorubicin" and nxt.cycle == 1
    log.add("systemic_completed", T0 + timedelta(days=1))
    assert next_planned_dose(D, log.events) is None


amounts = st.lists(
    st.tuples(st.sampled_from((*ANTHRACYCLINES, "ifosfamide", "imatinib")), st.floats(0.01, 200)), max_size=12
)


@given(amounts, st.sampled_from(ANTHRACYCLINES), st.floats(0.01, 200))
def test_cumulative_never_decreases_as_doses_are_added(
    given_: list[tuple[str, float]], drug: str, extra: float
) -> None:
    log = Log()
    for i, (name, amount) in enumerate(given_):
        log.dose(name, amount, T0 + timedelta(days=i))
    before = cumulative(doses(D, log.events))
    log.dose(drug, extra, T0 + timedelta(days=len(given_)))
    assert cumulative(doses(D, log.events)) >= before


@given(amounts, st.data())
def test_retracting_a_dose_removes_exactly_it(given_: list[tuple[str, float]], data: st.DataObject) -> None:
    log = Log()
    ids = [log.dose(name, amount, T0 + timedelta(days=i)) for i, (name, amount) in enumerate(given_)]
    if not ids:
        return
    gone = data.draw(st.sampled_from(ids))
    before = doses(D, log.events)
    log.retract(gone)
    after = doses(D, log.events)
    assert [x.event_id for x in after] == [x.event_id for x in before if x.event_id != gone]
    removed = next(x.equivalent for x in before if x.event_id == gone)
    assert cumulative(after) == pytest.approx(cumulative(before) - removed)


@given(amounts, st.floats(0.01, 150), st.integers(1, 10), st.integers(0, 12))
def test_projected_is_never_below_cumulative(
    given_: list[tuple[str, float]], planned: float, cycles: int, done: int
) -> None:
    log = Log()
    log.add(
        "systemic_started",
        regimen="doxorubicin",
        planned_dose=planned,
        planned_cycles=cycles,
        cycle_interval_days=21,
    )
    for i, (name, amount) in enumerate(given_):
        log.dose(name, amount, T0 + timedelta(days=i))
    for i in range(done):
        log.dose("doxorubicin", planned, T0 + timedelta(days=30 + i))
    p = projection(D, log.events)
    assert p.plan_total >= p.after_next >= p.cumulative


def test_a_dose_in_another_unit_than_the_drug_declares_is_refused() -> None:
    raw = {"drug": "doxorubicin", "dose": "75", "unit": "mg"}
    with pytest.raises(InvalidInput, match="doxorubicin is dosed in mg/m2, not mg"):
        validate_event_data(D, "drug_given", raw)
    assert validate_event_data(D, "drug_given", {**raw, "unit": "mg/m2"})["dose"] == 75.0
    with pytest.raises(InvalidInput, match="name the drug"):
        validate_event_data(
            D, "prior_treatment", {"cumulative_dose": "100", "unit": "mg/m2", "cardiac_region_rt": "no"}
        )


def test_the_file_is_refused_when_a_dose_event_names_a_drug_missing_from_the_catalogue() -> None:
    data = copy.deepcopy(DATA)
    del data["drugs"]["sorafenib"]
    with pytest.raises(
        DefinitionError, match=r"events.drug_given.dose.drug: \['sorafenib'\] not in the drug catalogue"
    ):
        parse_definition(data, origin="x.yaml")
    data = copy.deepcopy(DATA)
    data["rules"]["checks"]["A34"]["projected"] = {"ge": 300}
    with pytest.raises(DefinitionError, match=r"rules\.checks\.A34: use a declared"):
        parse_definition(data, origin="x.yaml")
