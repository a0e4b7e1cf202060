"""The pathway as data: pydantic models of the pathway file and their cross-checks.

Parsing YAML happens at the edge (`pathway.adapters.pathway_file`); this module validates an already parsed
mapping and names the path of every problem (``tracks.main.transitions[3].dest: ...``).
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pathway.domain.alert_status import AlertPolicy
from pathway.domain.codes import CodesSpec, check_codes
from pathway.domain.conditions import Absent, Comparison, Condition
from pathway.domain.drugs import DoseFields, DosingSpec, DrugSpec
from pathway.domain.errors import DefinitionError
from pathway.domain.lab_catalogue import LAB_TEST_FIELD, LAB_UNIT_FIELD, LAB_VALUE_FIELD, LabCatalogue
from pathway.domain.rules_check import check_rules
from pathway.domain.rules_spec import RulesSpec

EvidenceKind = Literal["seed", "guideline", "label", "trial", "proposal"]
FieldType = Literal["choice", "choices", "int", "number", "text", "date", "bool", "event_ref"]
CHOICE_TYPES = ("choice", "choices")  # one value, or a list of values, from `values`
EventRole = Literal["pause", "resume", "histology", "staging", "demographics", "booking", "lab"]
HISTOLOGY_FIELD = "histology"
ANY_ACTIVE_STATE = "*"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Strict):
    """A named clinical number with its provenance; guards and rules refer to it as ``$name``."""

    value: float
    unit: str | None = None
    description: str = ""
    source: Annotated[str, Field(min_length=3)]
    kind: EvidenceKind


class FieldSpec(_Strict):
    type: FieldType
    description: str = ""
    required: bool = False
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    source: str | None = None
    kind: EvidenceKind | None = None
    # required when another field of the event has one of these values (`{regimen: other}`)
    required_if: dict[str, str | list[str]] = {}
    # an event_ref field: the events it may name (an id of this patient's history, not retracted)
    refers_to: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _coherent(self) -> FieldSpec:
        if self.type in CHOICE_TYPES and not self.values:
            raise ValueError(f"a {self.type} field needs a non-empty 'values' list")
        if self.type not in CHOICE_TYPES and self.values is not None:
            raise ValueError("'values' is only allowed on choice and choices fields")
        bounded = self.min is not None or self.max is not None
        if bounded and self.type not in ("int", "number"):
            raise ValueError("'min'/'max' are only allowed on int and number fields")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError(f"max must be >= min (min {self.min}, max {self.max})")
        if bounded and (not self.source or not self.kind):
            raise ValueError("a bounded number is a clinical number: give it 'source' and 'kind'")
        if self.refers_to and self.type != "event_ref":
            raise ValueError("'refers_to' is only allowed on event_ref fields")
        return self


class MedicationSpec(_Strict):
    """An event that starts, changes or stops a medicine (listed as active in a hand-over)."""

    name: Annotated[str, Field(min_length=1)]
    action: Literal["start", "change", "stop"]


class EventSpec(_Strict):
    """An event type. `role` tells the engine what the event means whatever its name: `pause` and
    `resume` bracket a pause of the pausable clocks, `histology` sets the patient's histology (its
    required choice field `histology`), `staging` is the event `pathway enroll --set` records at
    the enrolment instant (e.g. the involved sites), `booking` books an open follow-up for a date
    (`pathway book`; not a contact), `lab` is a laboratory result checked against the `labs:`
    catalogue (fields test, value, unit). `handover` (exit events only) stores a
    hand-over summary."""

    description: str
    fields: dict[str, FieldSpec] = {}
    retracts: bool = False
    role: EventRole | None = None
    handover: bool = False
    medication: MedicationSpec | None = None
    # a dose of a drug of the catalogue: the fields holding the drug, the dose and its unit
    dose: DoseFields | None = None


class EnrolmentSpec(_Strict):
    """Who may be enrolled: the minimum age in whole years at the enrolment date (rule book E4)."""

    min_age_years: Annotated[int, Field(ge=0, le=150)]
    source: Annotated[str, Field(min_length=3)]
    kind: EvidenceKind


class TransitionSpec(_Strict):
    event: str
    source: str | list[str]
    dest: str | None = None
    when: dict[str, Condition] = {}
    description: str = ""

    def sources(self, active_states: tuple[str, ...]) -> tuple[str, ...]:
        if self.source == ANY_ACTIVE_STATE:
            return active_states
        return (self.source,) if isinstance(self.source, str) else tuple(self.source)


class TrackSpec(_Strict):
    """`emergency: true`: a state other than `initial` is an open emergency episode (a banner on the
    patient's page and a mark on each of their worklist lines)."""

    description: str = ""
    initial: str
    states: tuple[str, ...]
    transitions: tuple[TransitionSpec, ...]
    emergency: bool = False


class PathwayMeta(_Strict):
    id: str
    title: str
    version: str


class PathwayDefinition(_Strict):
    pathway: PathwayMeta
    parameters: dict[str, Parameter] = {}
    events: dict[str, EventSpec]
    exits: dict[str, str]
    tracks: dict[str, TrackSpec]
    rules: RulesSpec = RulesSpec()
    codes: CodesSpec = CodesSpec()
    drugs: dict[str, DrugSpec] = {}
    dosing: DosingSpec | None = None
    labs: LabCatalogue = LabCatalogue()
    enrolment: EnrolmentSpec | None = None
    content_hash: str = ""

    @property
    def exit_states(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.exits.values()))

    def events_with_role(self, role: EventRole) -> tuple[str, ...]:
        return self._by_role.get(role, ())

    @cached_property
    def _by_role(self) -> dict[str, tuple[str, ...]]:
        roles: dict[str, tuple[str, ...]] = {}
        for name, spec in self.events.items():
            if spec.role is not None:
                roles[spec.role] = (*roles.get(spec.role, ()), name)
        return roles

    def event_with_role(self, role: EventRole) -> str | None:
        """The one event of this role (the loader allows at most one), or None."""
        found = self.events_with_role(role)
        return found[0] if found else None

    @property
    def handover_exits(self) -> tuple[str, ...]:
        """Exit events that hand the patient over elsewhere (a summary is stored with them)."""
        return tuple(e for e in self.exits if self.events[e].handover)

    def histology_values(self) -> tuple[str, ...]:
        event = self.event_with_role("histology")
        if event is None:
            return ()
        return self.events[event].fields[HISTOLOGY_FIELD].values or ()

    def rules_in_section(self, section: str) -> tuple[str, ...]:
        """Timing rules whose follow-ups the daily report counts in this section."""
        return tuple(rid for rid, r in self.rules.follow_ups.items() if r.report_section == section)

    def track_states(self, track: str) -> tuple[str, ...]:
        return self.tracks[track].states + self.exit_states

    def initial_states(self) -> dict[str, str]:
        return {name: spec.initial for name, spec in self.tracks.items()}

    def emergency_initials(self) -> dict[str, str]:
        """The initial state of each emergency track (see TrackSpec)."""
        return {name: spec.initial for name, spec in self.tracks.items() if spec.emergency}

    @property
    def alert_policy(self) -> AlertPolicy:
        return AlertPolicy.from_parameters({k: p.value for k, p in self.parameters.items()})

    def parameter(self, ref: float | str) -> float:
        if isinstance(ref, str):
            return self.parameters[ref.removeprefix("$")].value
        return ref


def parse_definition(data: Any, origin: str) -> PathwayDefinition:
    """Validate a parsed pathway file; raise DefinitionError naming ``origin`` and every bad path."""
    if not isinstance(data, dict):
        raise DefinitionError(f"{origin}: the file must hold a mapping at the top level")
    try:
        definition = PathwayDefinition.model_validate(data)
    except ValidationError as exc:
        lines = [f"{origin}: {_loc(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise DefinitionError("\n".join(lines)) from None
    problems = _cross_check(definition)
    if problems:
        raise DefinitionError("\n".join(f"{origin}: {p}" for p in problems))
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return definition.model_copy(update={"content_hash": digest[:16]})


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _cross_check(d: PathwayDefinition) -> list[str]:
    problems: list[str] = []
    for event, exit_state in d.exits.items():
        if event not in d.events:
            problems.append(f"exits.{event}: unknown event (declare it under 'events')")
        if any(exit_state in t.states for t in d.tracks.values()):
            problems.append(f"exits.{event}: '{exit_state}' is also an active state of a track")
    triggered: set[str] = set(d.exits)
    for name, track in d.tracks.items():
        problems += _check_track(d, name, track)
        triggered |= {t.event for t in track.transitions}
    for name, spec in d.events.items():
        if not spec.retracts and name not in triggered:
            problems.append(f"events.{name}: no track accepts this event (add a transition)")
        problems += _check_fields(d, name, spec)
        problems += _check_dose_fields(d, name, spec)
    problems += AlertPolicy.problems({k: p.value for k, p in d.parameters.items()})
    problems += _check_dosing(d) + _check_recorded_with(d)
    fields = {n: {f: s.values for f, s in e.fields.items()} for n, e in d.events.items()}
    return problems + _check_roles(d) + check_rules(d) + check_codes(d.codes, fields)


def _check_fields(d: PathwayDefinition, name: str, spec: EventSpec) -> list[str]:
    problems: list[str] = []
    for fname, field in spec.fields.items():
        at = f"events.{name}.fields.{fname}"
        for other, values in field.required_if.items():
            ref = spec.fields.get(other)
            wanted = [values] if isinstance(values, str) else values
            if ref is None or ref.type != "choice":
                problems.append(f"{at}.required_if: '{other}' is not a choice field of {name}")
            elif any(v not in (ref.values or ()) for v in wanted):
                problems.append(f"{at}.required_if.{other}: {wanted} not in {list(ref.values or ())}")
        problems += [f"{at}.refers_to: unknown event '{e}'" for e in field.refers_to if e not in d.events]
    return problems


def _check_dosing(d: PathwayDefinition) -> list[str]:
    dosing = d.dosing
    if dosing is None:
        return []
    problems: list[str] = []
    named = {
        dosing.line_event: (
            dosing.plan.regimen,
            dosing.plan.dose,
            dosing.plan.cycles,
            dosing.plan.interval_days,
        ),
        dosing.line_end_event: (),
        dosing.body_event: (dosing.height_field, dosing.weight_field),
        dosing.lvef_event: (dosing.lvef_field, dosing.method_field),
    }
    for event, fields in named.items():
        if event not in d.events:
            problems.append(f"dosing: unknown event '{event}'")
            continue
        problems += [
            f"dosing: event '{event}' has no field '{f}'" for f in fields if f not in d.events[event].fields
        ]
    line = d.events.get(dosing.line_event)
    regimens = line.fields.get(dosing.plan.regimen) if line else None
    for regimen, drugs in dosing.regimens.items():
        if regimens is not None and regimen not in (regimens.values or ()):
            problems.append(
                f"dosing.regimens.{regimen}: not a value of {dosing.line_event}.{dosing.plan.regimen}"
            )
        problems += [
            f"dosing.regimens.{regimen}: '{x}' is not in the drug catalogue"
            for x in drugs
            if x not in d.drugs
        ]
    return problems


def _check_recorded_with(d: PathwayDefinition) -> list[str]:
    return [
        f"drugs.{name}.recorded_with: unknown event '{e}'"
        for name, drug in d.drugs.items()
        for e in drug.recorded_with
        if e not in d.events
    ]


def _check_dose_fields(d: PathwayDefinition, name: str, spec: EventSpec) -> list[str]:
    """A dose event's drug field chooses from the catalogue; its unit field from the catalogue's units."""
    if spec.dose is None:
        return []
    at = f"events.{name}.dose"
    problems: list[str] = []
    for role, fname in (("drug", spec.dose.drug), ("dose", spec.dose.dose), ("unit", spec.dose.unit)):
        if fname not in spec.fields:
            problems.append(f"{at}.{role}: '{fname}' is not a field of {name}")
    drug = spec.fields.get(spec.dose.drug)
    if drug is not None and drug.type != "choice":
        problems.append(f"{at}.drug: '{spec.dose.drug}' must be a choice field")
    if drug is not None:
        unknown = [v for v in drug.values or () if v not in d.drugs]
        if unknown:
            problems.append(f"{at}.drug: {unknown} not in the drug catalogue (drugs:)")
    return problems


def _check_roles(d: PathwayDefinition) -> list[str]:
    problems: list[str] = []
    roles: tuple[EventRole, ...] = ("pause", "resume", "histology", "staging", "booking", "lab")
    for role in roles:
        named = d.events_with_role(role)
        for extra in named[1:]:
            problems.append(f"events.{extra}.role: only one event may have role {role} (also {named[0]})")
    pause, resume = d.event_with_role("pause"), d.event_with_role("resume")
    if (pause is None) != (resume is None):
        given, missing = ("pause", "resume") if pause else ("resume", "pause")
        problems.append(
            f"events.{pause or resume}.role: an event with role {given} needs another with role {missing}"
        )
    histology = d.event_with_role("histology")
    if histology is not None:
        field = d.events[histology].fields.get(HISTOLOGY_FIELD)
        if field is None or field.type != "choice" or not field.required:
            problems.append(
                f"events.{histology}.fields.{HISTOLOGY_FIELD}: an event with role histology needs "
                f"a required choice field '{HISTOLOGY_FIELD}'"
            )
    booking = d.event_with_role("booking")
    if booking is not None:
        fields = d.events[booking].fields
        for needed, kind in (("rule", "text"), ("booked_for", "date")):
            if needed not in fields or fields[needed].type != kind or not fields[needed].required:
                problems.append(
                    f"events.{booking}.fields.{needed}: an event with role booking needs a required "
                    f"{kind} field '{needed}'"
                )
    problems += _check_lab_event(d)
    for name, spec in d.events.items():
        if spec.handover and name not in d.exits:
            problems.append(f"events.{name}.handover: only exit events (under 'exits') hand over")
        if spec.role is not None and (name in d.exits or spec.retracts):
            problems.append(f"events.{name}.role: an exit or retraction event cannot have a role")
    return problems


def _check_track(d: PathwayDefinition, name: str, track: TrackSpec) -> list[str]:
    problems: list[str] = []
    where = f"tracks.{name}"
    if len(set(track.states)) != len(track.states):
        problems.append(f"{where}.states: a state is listed twice")
    if track.initial not in track.states:
        problems.append(f"{where}.initial: '{track.initial}' is not one of its states")
    known = set(track.states) | set(d.exit_states)
    for i, tr in enumerate(track.transitions):
        at = f"{where}.transitions[{i}]"
        if tr.event not in d.events:
            problems.append(f"{at}.event: unknown event '{tr.event}'")
            continue
        if tr.source != ANY_ACTIVE_STATE:
            for s in tr.sources(track.states):
                if s not in track.states:
                    problems.append(f"{at}.source: unknown or exit state '{s}' in track {name}")
        if tr.dest is not None and tr.dest not in known:
            problems.append(f"{at}.dest: unknown state '{tr.dest}' (states: {sorted(known)})")
        problems += _check_guard(d, tr, at)
    return problems


def _check_guard(d: PathwayDefinition, tr: TransitionSpec, at: str) -> list[str]:
    problems: list[str] = []
    fields = d.events[tr.event].fields
    for field, cond in tr.when.items():
        spec = fields.get(field)
        if spec is None:
            problems.append(f"{at}.when.{field}: event '{tr.event}' has no such field")
            continue
        if isinstance(cond, Absent):
            continue
        wanted = cond if isinstance(cond, list) else [cond]
        if spec.type in CHOICE_TYPES:
            for value in wanted:
                if not isinstance(value, str) or value not in (spec.values or ()):
                    problems.append(f"{at}.when.{field}: '{value}' is not one of {spec.values}")
        if isinstance(cond, Comparison) and spec.type not in ("int", "number"):
            problems.append(f"{at}.when.{field}: lt/le/gt/ge need a number field, '{field}' is {spec.type}")
        if spec.type == "bool" and not isinstance(cond, bool):
            problems.append(f"{at}.when.{field}: '{cond}' is not true/false")
        if isinstance(cond, Comparison):
            for ref in (cond.lt, cond.le, cond.gt, cond.ge):
                if ref is None:
                    continue
                if not isinstance(ref, str):
                    problems.append(
                        f"{at}.when.{field}: {ref} is a clinical number; declare it under "
                        "'parameters' with source and kind, and refer to it as $name"
                    )
                elif ref.removeprefix("$") not in d.parameters:
                    problems.append(f"{at}.when.{field}: unknown parameter '{ref}'")
    return problems


def _check_lab_event(d: PathwayDefinition) -> list[str]:
    """The event with role lab has a required choice `test` naming exactly the catalogue's tests,
    a required number `value` and a required text `unit`."""
    lab = d.event_with_role("lab")
    if lab is None:
        return ["labs: the catalogue has tests but no event has role lab"] if d.labs.tests else []
    fields, at = d.events[lab].fields, f"events.{lab}.fields"
    wanted = {LAB_TEST_FIELD: ("choice",), LAB_VALUE_FIELD: ("number", "int"), LAB_UNIT_FIELD: ("text",)}
    problems = [
        f"{at}.{name}: an event with role lab needs a required {types[0]} field '{name}'"
        for name, types in wanted.items()
        if name not in fields or fields[name].type not in types or not fields[name].required
    ]
    test = fields.get(LAB_TEST_FIELD)
    if test is not None and test.values is not None and set(test.values) != set(d.labs.tests):
        problems.append(
            f"{at}.{LAB_TEST_FIELD}.values: must list exactly the tests under labs.tests "
            f"({', '.join(sorted(d.labs.tests))})"
        )
    return problems
