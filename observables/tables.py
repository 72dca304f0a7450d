"""The results table every consumer reads (SPEC §6).

One row per estimate in long ("tidy") form.  The required columns come first
and keep their meaning forever; extra columns (seconds, histories, fom and
the parameters of the case) follow.  :class:`ResultRows` collects rows while a
system is evaluated; :func:`write_table` writes ``results.csv`` and
``results.parquet`` atomically, so an interrupted run leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ["case", "observable", "component", "x", "y", "z", "value", "stderr", "reference", "units"]

OBSERVABLES = {
    "current",
    "resistance",
    "density",
    "potential",
    "current_density",
    "wind_force",
    "direct_force",
    "backscatter_current",
    "delta_resistance",
    "collision_rate",
    "potential_drop",
    "resistivity",
    "resistivity_reservoir",
    "conductivity_change",
    "force_total",
    "gamma_wexler",
    "transmission",
    "reflection",
    "density_dipole",
}

# Units of each observable in the reduced system hbar = m = e = k_F = 1 with
# delta-mu = 1 (ballistic systems) or e E0 tau = 1 (bulk systems), SPEC §1.
REDUCED_UNITS = {
    "current": "e delta_mu / hbar",
    "resistance": "hbar / e^2",
    "density": "delta_mu dn/dE",
    "potential": "delta_mu / e",
    "current_density": "k_F^2 delta_mu / hbar",
    "wind_force": "k_F delta_mu",
    "direct_force": "k_F delta_mu",
    "backscatter_current": "e delta_mu / hbar",
    "delta_resistance": "hbar / e^2",
    "collision_rate": "delta_mu / hbar",
    "potential_drop": "delta_mu / e",
    "resistivity": "hbar / (e^2 k_F)",
    "resistivity_reservoir": "hbar / (e^2 k_F)",
    "conductivity_change": "e^2 k_F / hbar",
    "force_total": "k_F delta_mu",
    "gamma_wexler": "1",
    "transmission": "1",
    "reflection": "1",
    "density_dipole": "e E0 tau0 / (e k_F^2)",
}


class ResultRows:
    """Accumulates rows of the results table for one case."""

    def __init__(self, case: str, **extra):
        self.case = case
        self.extra = extra
        self.rows: list[dict] = []

    def add(
        self,
        observable: str,
        value,
        stderr=np.nan,
        reference=np.nan,
        *,
        component: str = "",
        position=None,
        units: str | None = None,
        **columns,
    ) -> None:
        if observable not in OBSERVABLES:
            raise ValueError(f"unknown observable {observable!r}; add it to observables.tables.OBSERVABLES")
        x, y, z = (np.nan, np.nan, np.nan) if position is None else (float(p) for p in position)
        row = {
            "case": self.case,
            "observable": observable,
            "component": component,
            "x": x,
            "y": y,
            "z": z,
            "value": float(value),
            "stderr": float(stderr),
            "reference": float(reference) if reference is not None else np.nan,
            "units": units if units is not None else REDUCED_UNITS[observable],
        }
        row.update(self.extra)
        row.update(columns)
        self.rows.append(row)

    def add_vector(self, observable: str, values, stderrs, references=None, *, position=None, components="xyz", **columns):
        for i, comp in enumerate(components):
            ref = np.nan if references is None else references[i]
            self.add(observable, values[i], stderrs[i], ref, component=comp, position=position, **columns)

    def frame(self) -> pd.DataFrame:
        return results_frame(self.rows)


def results_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=REQUIRED_COLUMNS)
    extra = [c for c in frame.columns if c not in REQUIRED_COLUMNS]
    frame = frame[REQUIRED_COLUMNS + extra]
    frame["component"] = frame["component"].fillna("").astype(str)
    return frame


def write_table(frame: pd.DataFrame, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``results.csv`` and ``results.parquet`` into ``out_dir`` atomically."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".emmc-", dir=out_dir))
    try:
        csv_path = staging / "results.csv"
        parquet_path = staging / "results.parquet"
        frame.to_csv(csv_path, index=False)
        frame.to_parquet(parquet_path, index=False)
        written = []
        for path in (csv_path, parquet_path):
            target = out_dir / path.name
            os.replace(path, target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)
