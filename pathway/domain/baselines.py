"""Per-region baselines of a `same_as_first` check (imaging modality per region, RECIST 1.1).

The first value of the field for a region is its baseline; a later event with another value is a
mismatch (the check fires, and a timing rule with `done.unless_check` does not count it as done),
unless it matches the check's `rebaseline` condition: then it is the region's new baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pathway.domain.conditions import ParamLookup, all_hold
from pathway.domain.rules_spec import CheckSpec
from pathway.domain.timeline import Moment


@dataclass(frozen=True)
class Baselines:
    mismatch: dict[int, str] = field(default_factory=dict)  # event id -> what differs
    rebaselined: dict[int, str] = field(default_factory=dict)  # event id -> the new baseline


def baselines(check: CheckSpec, timeline: list[Moment], param: ParamLookup) -> Baselines:
    out = Baselines()
    firsts: dict[str, object] = {}
    for m in timeline:
        if m.event is None or m.type != check.event or not applies(check, m, param):
            continue
        data = m.event.data
        value, region = data.get(check.field or ""), str(data.get(check.per or "", ""))
        where = region or "this region"
        if region not in firsts:
            firsts[region] = value
        elif value != firsts[region]:
            if check.rebaseline and all_hold(check.rebaseline, data, param):
                out.rebaselined[m.seq] = (
                    f"{check.field} {value} is the new baseline for {where} (was {firsts[region]})"
                )
                firsts[region] = value
            else:
                out.mismatch[m.seq] = f"{check.field} {value} for {where}, baseline was {firsts[region]}"
    return out


def applies(check: CheckSpec, m: Moment, param: ParamLookup) -> bool:
    """The check's `when` holds for the event and its tracks were in the `in_state` states."""
    assert m.event is not None
    if not all_hold(check.when, m.event.data, param):
        return False
    for track, wanted in check.in_state.items():
        if m.before[track] not in ([wanted] if isinstance(wanted, str) else wanted):
            return False
    return True
