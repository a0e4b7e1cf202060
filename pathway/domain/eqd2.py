"""Radiotherapy dose arithmetic (linear-quadratic model): the equivalent dose in 2 Gy fractions.

EQD2 = D * (d + a/b) / (2 + a/b), with D the total dose, d = D / n the dose per fraction and
a/b the tissue's alpha/beta ratio (Gy). A 2 Gy-per-fraction course has EQD2 == D.
"""

from __future__ import annotations

REFERENCE_FRACTION_GY = 2.0


def eqd2(total_gy: float, fractions: int, alpha_beta_gy: float) -> float:
    if total_gy < 0 or fractions < 1 or alpha_beta_gy <= 0:
        raise ValueError("EQD2 needs a total dose >= 0, at least one fraction and alpha/beta > 0")
    per_fraction = total_gy / fractions
    return total_gy * (per_fraction + alpha_beta_gy) / (REFERENCE_FRACTION_GY + alpha_beta_gy)
