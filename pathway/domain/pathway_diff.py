"""What changed between two pathway files, and whether each change loosens or tightens safety.

Rule book section 4.2: a site may tighten a value without clinical review; loosening needs a
recorded clinical approval. A change is *loosening* when it can only make an alert fire later,
less severely or not at all (a later window close or target, a later alert level, a lower
severity, a wider dose range, a removed rule or level, a clock that may now pause); *tightening*
when the opposite; *neutral* when it changes words only (titles, sources, descriptions). A change
of rule logic that has no order (anchors, completing events, states, transitions, guards) is
treated as loosening: it may silence an alert, so a clinician approves it. A parameter's
direction follows its use in the rules (anchors, completions, checks): raised is loosening where
they compare against it with ge/gt (fewer values reach it), tightening where only with lt/le;
used both ways, loosening.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from pathway.domain.definition import PathwayDefinition
from pathway.domain.durations import Duration
from pathway.domain.rules_spec import SEVERITY_RANK

Effect = Literal["loosening", "tightening", "neutral"]
LOOSENING: Effect = "loosening"
TIGHTENING: Effect = "tightening"
NEUTRAL: Effect = "neutral"
WORDS = frozenset(
    {"source", "kind", "description", "step", "title", "note", "unit", "display", "evidence_note"}
)
_REFERENCE = date(2000, 1, 1)
_POINTS = {"opens": 0, "target": 1, "closes": 2}


@dataclass(frozen=True)
class Change:
    section: str  # parameters | follow_ups | checks | events | tracks | other
    item: str  # the rule, parameter, event or track id
    path: str  # inside the item, e.g. window.closes ('' when the item itself is added or removed)
    old: Any
    new: Any
    effect: Effect
    why: str

    def as_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "item": self.item,
            "path": self.path,
            "old": self.old,
            "new": self.new,
            "effect": self.effect,
            "why": self.why,
        }


def diff_definitions(old: PathwayDefinition, new: PathwayDefinition) -> list[Change]:
    a, b = _dump(old), _dump(new)
    out: list[Change] = []
    sections = (
        ("parameters", a["parameters"], b["parameters"]),
        ("follow_ups", a["rules"]["follow_ups"], b["rules"]["follow_ups"]),
        ("checks", a["rules"]["checks"], b["rules"]["checks"]),
        ("events", a["events"], b["events"]),
        ("tracks", a["tracks"], b["tracks"]),
    )
    for section, left, right in sections:
        for item in sorted(set(left) | set(right)):
            out += _item(section, item, left.get(item), right.get(item), old, new)
    for key in ("pathway", "exits", "enrolment", "codes"):
        for path, x, y in _flat(a.get(key), b.get(key), ""):
            out.append(Change("other", key, path, x, y, NEUTRAL, "not a safety number"))
    return out


def summary(changes: list[Change]) -> dict[str, int]:
    counts: dict[str, int] = {LOOSENING: 0, TIGHTENING: 0, NEUTRAL: 0}
    for c in changes:
        counts[c.effect] += 1
    return counts


def _dump(d: PathwayDefinition) -> dict[str, Any]:
    data: dict[str, Any] = d.model_dump(mode="json", exclude={"content_hash"})
    return data


def _item(
    section: str, item: str, x: Any, y: Any, old: PathwayDefinition, new: PathwayDefinition
) -> list[Change]:
    rule_like = section in ("follow_ups", "checks")
    if x is None:
        effect = TIGHTENING if rule_like else NEUTRAL
        return [Change(section, item, "", None, "added", effect, "added")]
    if y is None:
        effect = LOOSENING if rule_like or section == "tracks" else NEUTRAL
        return [Change(section, item, "", "present", None, effect, "removed")]
    out: list[Change] = []
    for path, left, right in _flat(x, y, ""):
        effect, why = _classify(section, item, path, left, right, x, y, old, new)
        out.append(Change(section, item, path, left, right, effect, why))
    return out


def _flat(x: Any, y: Any, path: str) -> list[tuple[str, Any, Any]]:
    """(path, old, new) of every leaf that differs; lists of mappings are compared whole."""
    if isinstance(x, dict) and isinstance(y, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in list(x) + [k for k in y if k not in x]:
            sub = f"{path}.{key}" if path else str(key)
            out += _flat(x.get(key), y.get(key), sub)
        return out
    return [] if x == y else [(path, x, y)]


def _classify(
    section: str,
    item: str,
    path: str,
    x: Any,
    y: Any,
    rule_x: dict[str, Any],
    rule_y: dict[str, Any],
    old: PathwayDefinition,
    new: PathwayDefinition,
) -> tuple[Effect, str]:
    leaf = path.rsplit(".", 1)[-1]
    if leaf in WORDS:
        return NEUTRAL, "words only"
    if section == "parameters" and path == "value":
        return _parameter(item, float(x), float(y), old)
    if section in ("events", "other") or (section == "parameters"):
        return NEUTRAL, "not a safety number"
    if section == "follow_ups":
        if path in ("window.target", "window.closes", "window.opens"):
            return _window(path, rule_x, rule_y)
        if path == "alert.levels":
            return _levels(rule_x, rule_y)
        if path == "pausable":
            return (LOOSENING, "its clock may now pause") if y else (TIGHTENING, "its clock no longer pauses")
        if path == "urgent":
            return (TIGHTENING, "now urgent") if y else (LOOSENING, "no longer urgent")
        if path in ("report_section", "needs_time"):
            return NEUTRAL, "not a safety number"
    if section == "checks":
        if path == "severity":
            return _severity(str(x), str(y))
        if path.startswith("ranges."):
            return _range(path, x, y)
    return LOOSENING, "rule logic changed (no order): treated as loosening"


def _severity(x: str, y: str) -> tuple[Effect, str]:
    if SEVERITY_RANK[y] < SEVERITY_RANK[x]:
        return LOOSENING, "lower severity"
    return TIGHTENING, "higher severity"


def _range(path: str, x: Any, y: Any) -> tuple[Effect, str]:
    leaf = path.rsplit(".", 1)[-1]
    if leaf in ("min", "max") and isinstance(x, int | float) and isinstance(y, int | float):
        wider = y < x if leaf == "min" else y > x
        return (LOOSENING, "wider dose range") if wider else (TIGHTENING, "narrower dose range")
    if x is None:
        return TIGHTENING, "range added"
    if y is None:
        return LOOSENING, "range removed"
    return LOOSENING, "range changed: treated as loosening"


def _offsets(window: dict[str, Any], point: str, plus: str = "0d") -> list[timedelta]:
    """The instant of a window point (plus a delay) from every anchor day of two years."""
    text = window.get(point) or window["opens"]
    first, extra = Duration.parse(text), Duration.parse(plus)
    if first.is_clock_time:
        base = timedelta(minutes=_minutes(first))
        return [base + (timedelta(minutes=_minutes(extra)) if extra.is_clock_time else _days(extra))]
    out: list[timedelta] = []
    for i in range(0, 731, 7):
        day = _REFERENCE + timedelta(days=i)
        at = first.add_to_date(day)
        at = at if extra.is_clock_time else extra.add_to_date(at)
        out.append(at - day + (timedelta(minutes=_minutes(extra)) if extra.is_clock_time else timedelta()))
    return out


def _minutes(d: Duration) -> int:
    return d.amount * (60 if d.unit == "h" else 1)


def _days(d: Duration) -> timedelta:
    return timedelta(days=(d.add_to_date(_REFERENCE) - _REFERENCE).days)


def _compare(before: list[timedelta], after: list[timedelta]) -> int:
    """1 if later on some anchor day, -1 if earlier on every day that differs, 0 if the same."""
    if any(b > a for a, b in zip(before, after, strict=True)):
        return 1
    return -1 if any(b < a for a, b in zip(before, after, strict=True)) else 0


def _window(path: str, x: dict[str, Any], y: dict[str, Any]) -> tuple[Effect, str]:
    point = path.split(".")[1]
    if point == "opens":
        return NEUTRAL, "the window opens at another time; its deadline is unchanged"
    moved = _compare(_offsets(x["window"], point), _offsets(y["window"], point))
    if moved > 0:
        return LOOSENING, f"later window {point}"
    return (TIGHTENING, f"earlier window {point}") if moved < 0 else (NEUTRAL, "same instant")


def _levels(x: dict[str, Any], y: dict[str, Any]) -> tuple[Effect, str]:
    def fires(rule: dict[str, Any]) -> dict[str, list[timedelta]]:
        out: dict[str, list[timedelta]] = {}
        for level in (rule.get("alert") or {}).get("levels", ()):
            out[level["severity"]] = _offsets(rule["window"], level["at"], level["plus"])
        return out

    before, after = fires(x), fires(y)
    if set(before) - set(after):
        return LOOSENING, "an alert level removed"
    if any(_compare(before[s], after[s]) > 0 for s in before):
        return LOOSENING, "an alert level fires later"
    if set(after) - set(before) or any(_compare(before[s], after[s]) < 0 for s in before):
        return TIGHTENING, "an alert level added or earlier"
    return NEUTRAL, "same levels"


def _parameter(name: str, x: float, y: float, old: PathwayDefinition) -> tuple[Effect, str]:
    ops = _uses(old, f"${name}")
    raised = y > x
    if ops and ops <= {"lt", "le"}:
        return (
            (TIGHTENING, "raised; compared with lt/le")
            if raised
            else (LOOSENING, "lowered; compared with lt/le")
        )
    if ops and not ops <= {"ge", "gt"}:
        return LOOSENING, "used both ways: treated as loosening"
    return (LOOSENING, "higher threshold") if raised else (TIGHTENING, "lower threshold")


def _uses(d: PathwayDefinition, ref: str) -> set[str]:
    """The comparison operators the file applies to a parameter reference."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if value == ref and key in ("lt", "le", "gt", "ge"):
                    found.add(key)
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(_dump(d)["rules"])  # the rules' anchors, completions and checks; not the state machines
    return found
