"""Free-electron material presets and the conversion of reduced results to SI-like units.

Reduced units (SPEC §1): hbar = m = e = k_F = 1, delta-mu = 1.  A material
fixes k_F, which sets the length scale; a bias delta-mu (eV) sets the rest.
k_F and r_s from Ashcroft & Mermin, Tables 1.1 and 2.1 (free-electron values).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HBAR_OVER_E2_OHM = 4108.236  # hbar / e^2 in Ohm
E2_OVER_HBAR_A_PER_V = 1.0 / HBAR_OVER_E2_OHM  # e^2/hbar in A/V


@dataclass(frozen=True)
class Material:
    name: str
    k_fermi: float  # 1/Angstrom
    rs: float  # Wigner-Seitz radius / Bohr radius
    valence: int

    @property
    def length_unit(self) -> float:
        """Angstrom per reduced length unit 1/k_F."""
        return 1.0 / self.k_fermi


MATERIALS = {
    "Li": Material("Li", 1.12, 3.25, 1),
    "Na": Material("Na", 0.92, 3.93, 1),
    "K": Material("K", 0.75, 4.86, 1),
    "Mg": Material("Mg", 1.36, 2.66, 2),
    "Al": Material("Al", 1.75, 2.07, 3),
    "Pb": Material("Pb", 1.58, 2.30, 4),
    "Cu": Material("Cu", 1.36, 2.67, 1),
    "Ag": Material("Ag", 1.20, 3.02, 1),
    "Au": Material("Au", 1.21, 3.01, 1),
}


def material(name: str) -> Material:
    from mc.errors import ConfigError

    if name not in MATERIALS:
        raise ConfigError("material", f"must be one of {', '.join(sorted(MATERIALS))}, got {name!r}")
    return MATERIALS[name]


# factor(material, delta_mu_eV) and SI unit label for each observable
_SI = {
    "current": (lambda m, v: v * E2_OVER_HBAR_A_PER_V, "A"),
    "backscatter_current": (lambda m, v: v * E2_OVER_HBAR_A_PER_V, "A"),
    "resistance": (lambda m, v: HBAR_OVER_E2_OHM, "Ohm"),
    "delta_resistance": (lambda m, v: HBAR_OVER_E2_OHM, "Ohm"),
    "potential": (lambda m, v: v, "V"),
    "potential_drop": (lambda m, v: v, "V"),
    "wind_force": (lambda m, v: v * m.k_fermi, "eV/Angstrom"),
    "direct_force": (lambda m, v: v * m.k_fermi, "eV/Angstrom"),
    "force_total": (lambda m, v: v * m.k_fermi, "eV/Angstrom"),
}


def to_si(frame: pd.DataFrame, name: str, delta_mu_ev: float = 1e-3) -> pd.DataFrame:
    """Add ``value_si, stderr_si, reference_si, units_si`` and positions in Angstrom.

    Rows whose observable has no conversion here keep NaN in the SI columns;
    the reduced columns stay the canonical ones."""
    m = material(name)
    out = frame.copy()
    factors = np.array([_SI[o][0](m, delta_mu_ev) if o in _SI else np.nan for o in out.observable])
    for column in ("value", "stderr", "reference"):
        out[f"{column}_si"] = out[column].to_numpy(dtype=float) * factors
    out["units_si"] = [_SI[o][1] if o in _SI else "" for o in out.observable]
    for axis in "xyz":
        out[f"{axis}_angstrom"] = out[axis].to_numpy(dtype=float) * m.length_unit
    out["material"] = name
    out["delta_mu_eV"] = delta_mu_ev
    return out
