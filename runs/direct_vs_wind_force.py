"""Direct versus wind force at a point contact against the hole radius (Sorbello Eqs. 60, 64-66).

    python -m runs.direct_vs_wind_force --out DIR [--quick] [--material Al] [--screening thomas_fermi]

Self-electromigration in a free-electron metal (default Al: Z_d = Z = 3,
r_s = 2.07, k_F = 1.75 / Angstrom): the ion is a screened Coulomb scatterer
of valence Z whose screening is fitted to the Friedel sum (mc.scattering).
For each hole radius a the impurity sits at the centre of the hole, where
F_w = K I / (pi a^2) (Eq. 64, K = hbar k_F sigma_tr / e the bulk wind force
per current density, exact at z = 0) and F_d = -Z_d e Phi0 / (2a) (Eq. 60,
also exact there), both estimated by Monte Carlo.  Eq. 65 then reads
F_d/F_w = -2 pi^2 Z_d / (sigma_tr a) in reduced units: a 1/a law, and
|F_d| = |F_w|/2 at a_half = 4 pi^2 Z_d / sigma_tr.  The bulk ratio (Eq. 66)
F_d/F_w = -Z_d e rho0 / K uses the room-temperature resistivity.
Writes ``direct_vs_wind_force.csv`` and ``direct_vs_wind_force.png``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import mc  # noqa: E402
from mc.scattering import screened_coulomb  # noqa: E402
from observables.materials import HBAR_OVER_E2_OHM, material  # noqa: E402

RADII = (5.0, 10.0, 20.0, 40.0, 80.0)
BATCHES = 20
ROOM_TEMPERATURE_RESISTIVITY = {"Al": 2.65e-8, "Na": 4.77e-8, "Cu": 1.68e-8, "Ag": 1.59e-8, "Au": 2.21e-8}  # Ohm m


def study(out: Path, *, name: str = "Al", screening: str = "thomas_fermi", histories: int = 200_000) -> pd.DataFrame:
    metal = material(name)
    ion = screened_coulomb(metal.valence, screening, metal.rs, friedel=True)
    sigma_tr = ion.sigma_tr
    shifts = [float(d) for d in ion.phase_shifts]
    rows = []
    for a in RADII:
        case = mc.parse_case({
            "name": f"{name}-a{a:g}",
            "seed": 65,
            "histories": histories,
            "batches": BATCHES,
            "geometry": {"kind": "aperture", "radius": a},
            "source": {"kind": "aperture"},
            "impurities": [{"position": [0.0, 0.0, 0.0], "scatterer": {"model": "phase_shifts", "phase_shifts": shifts},
                            "direct_valence": float(metal.valence)}],
            "tallies": [{"kind": "wind_force"}, {"kind": "direct_force"}],
        })
        frame = mc.run(case)
        fw = frame[(frame.observable == "wind_force") & (frame.component == "z")].iloc[0]
        fd = frame[(frame.observable == "direct_force") & (frame.component == "z")].iloc[0]
        ratio = fd.value / fw.value
        rows.append({
            "material": name, "radius": a, "radius_angstrom": a / metal.k_fermi,
            "wind_force": fw.value, "wind_force_stderr": fw.stderr, "wind_force_reference": fw.reference,
            "direct_force": fd.value, "direct_force_stderr": fd.stderr, "direct_force_reference": fd.reference,
            "ratio": ratio, "ratio_stderr": abs(ratio) * math.hypot(fw.stderr / fw.value, fd.stderr / fd.value),
            "ratio_eq65": -2.0 * math.pi**2 * metal.valence / (sigma_tr * a),
            "sigma_tr": sigma_tr,
        })
    table = pd.DataFrame(rows)
    a_half = 4.0 * math.pi**2 * metal.valence / sigma_tr
    rho0_reduced = ROOM_TEMPERATURE_RESISTIVITY[name] * metal.k_fermi * 1e10 / HBAR_OVER_E2_OHM
    bulk_ratio = -metal.valence * rho0_reduced / sigma_tr
    table["a_half"] = a_half
    table["a_half_angstrom"] = a_half / metal.k_fermi
    table["bulk_ratio_eq66"] = bulk_ratio
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "direct_vs_wind_force.csv", index=False)

    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.errorbar(table.radius_angstrom, -table.ratio, 2 * table.ratio_stderr, fmt="o", label="Monte Carlo (hole centre)")
    a_line = np.geomspace(min(RADII) / 2, max(RADII) * 2, 100)
    ax.plot(a_line / metal.k_fermi, 2.0 * math.pi**2 * metal.valence / (sigma_tr * a_line), label="Eq. 65")
    ax.axhline(0.5, color="0.5", ls=":", label=r"$|F_d| = |F_w|/2$")
    ax.axhline(-bulk_ratio, color="0.3", ls="--", label="bulk, Eq. 66 (300 K)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"hole radius $a$ (\AA)".replace("\\AA", "Angstrom"))
    ax.set_ylabel(r"$-F_d/F_w$")
    ax.set_title(f"{name}: $Z_d = Z = {metal.valence}$, $\\sigma_{{tr}} = {sigma_tr:.3g}/k_F^2$; $a_{{1/2}}$ = {a_half / metal.k_fermi:.3g} Angstrom")
    ax.legend(fontsize=8)
    fig.savefig(out / "direct_vs_wind_force.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return table


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--material", default="Al")
    parser.add_argument("--screening", default="thomas_fermi", choices=("thomas_fermi", "lindhard"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    table = study(args.out, name=args.material, screening=args.screening, histories=20_000 if args.quick else 200_000)
    with pd.option_context("display.width", 160):
        print(table[["radius", "radius_angstrom", "ratio", "ratio_stderr", "ratio_eq65"]].to_string(index=False))
    row = table.iloc[0]
    print(f"sigma_tr = {row.sigma_tr:.4g} / k_F^2; |F_d| = |F_w|/2 at a = {row.a_half:.3g} / k_F = {row.a_half_angstrom:.3g} Angstrom "
          f"(Sorbello quotes about 14 Angstrom for his K); bulk F_d/F_w (Eq. 66, 300 K) = {row.bulk_ratio_eq66:.3g}")


if __name__ == "__main__":
    main()


def checks(out: Path):
    """F_d/F_w at the hole centre against Eq. 65 for each radius, for the verdict of ``emmc reproduce``.

    The radii share one seed, so their ratios are correlated: checked row by
    row only (F_w and F_d themselves are checked from the runs)."""
    from observables.verdict import Checks

    table = pd.read_csv(Path(out) / "direct_vs_wind_force.csv")
    rows = pd.DataFrame({
        "source": "direct_vs_wind_force", "equation": "65", "observable": "F_d/F_w at the hole centre",
        "component": "z", "x": table["radius"], "y": np.nan, "z": 0.0, "value": table["ratio"],
        "stderr": table["ratio_stderr"], "reference": table["ratio_eq65"], "dof": float(BATCHES - 1),
    })
    return Checks(rows)
