"""The one canonical form of a medical record number (MRN): how it is stored, compared and found.

A site declares it in settings (PATHWAY_MRN_CASE upper | lower | preserve, default upper;
PATHWAY_MRN_PATTERN, an optional regular expression the canonical MRN must match in full). Every
lookup and every enrolment (CLI, API, web, import, FHIR) passes through `MrnPolicy.canonical`, so
`demo-001` and ` DEMO-001 ` are one patient; the unique key is on the canonical form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pathway.domain.errors import InvalidInput
from pathway.domain.events import MRN_PATTERN

MrnCase = Literal["upper", "lower", "preserve"]
MRN_CASES: tuple[MrnCase, ...] = ("upper", "lower", "preserve")


def fold(mrn: str, case: str) -> str:
    """The canonical spelling (trimmed, case-folded as the site says), without validation."""
    mrn = mrn.strip()
    return mrn.upper() if case == "upper" else mrn.lower() if case == "lower" else mrn


@dataclass(frozen=True)
class MrnPolicy:
    case: MrnCase = "upper"
    pattern: str | None = None  # the site's own format, matched in full after folding

    def canonical(self, raw: str) -> str:
        """The stored form of `raw`; InvalidInput when it is not an MRN (or not the site's form)."""
        mrn = fold(raw, self.case)
        if not MRN_PATTERN.match(mrn):
            raise InvalidInput(
                f"MRN {raw.strip()!r} is not valid: use 1-64 letters, digits, '.', '_', '/' "
                "or '-', starting with a letter or digit"
            )
        if self.pattern and not re.fullmatch(self.pattern, mrn):
            raise InvalidInput(f"MRN {mrn!r} does not match this site's MRN format {self.pattern!r}")
        return mrn

    def lookup(self, raw: str) -> str | None:
        """The canonical form to look up, or None when `raw` cannot be any patient's MRN."""
        mrn = fold(raw, self.case)
        return mrn if MRN_PATTERN.match(mrn) else None


DEFAULT_MRN_POLICY = MrnPolicy()
