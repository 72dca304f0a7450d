"""Landauer's dipoles build the field: a random impurity array between reservoirs (Sorbello's Discussion).

    python -m runs.impurity_array --out DIR [--quick] [--histories N]

Isotropic impurities (sigma = 4/k_F^2, disk radius a = 1.13/k_F) at uniform random
positions, multiple scattering on, no uniform background (``kind = "impurity_array"``,
a new array per batch, so every error bar holds the sample-to-sample spread):

* resistivity against n_i (L = 4 l, W = max(16, l/2)): rho from the interior slope of
  the density over J, against Drude 3 pi^2 n_i sigma_tr (first order) and the Boltzmann
  slab; the departure at large a/l is the result (no reference claimed there);
* one fixed array (n_i = 0.01): the wind force on each impurity, its histogram
  against hbar k_F sigma_tr J (Eq. 63, uniform-background picture);
* a tagged impurity in a cavity (n_i = 0.005): its own dipole (Eq. 6) from shells and
  from its collisions, the gradient of the other impurities at its site and in gap
  probes against the macroscopic -rho J, and the direct force in the two pictures;
* a plain array (n_i = 0.005) with 800 gap probes in whole empty spheres: the field in the
  gaps over the interior slope, against the Lorentz cavity 1 - f/3 less the mirror images
  (f = 1.27: the core's impurity density over the cross-section's, the disks keeping a disk
  radius from the walls; 2/3 for a uniform array).

Writes ``impurity_array.csv`` / ``.parquet`` (the runs' tables with ``point``) and the
figures ``impurity_array_resistivity.png``, ``impurity_array_wind_force.png``,
``impurity_array_fields.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import mc  # noqa: E402
from observables.tables import write_table_files  # noqa: E402

SIGMA = 4.0
DENSITIES = (0.005, 0.01, 0.02, 0.04, 0.08)
QUICK_DENSITIES = (0.005, 0.02, 0.08)
SCATTERER = {"model": "isotropic", "cross_section": SIGMA}


def sweep_case(density: float, histories: int, seed: int) -> mc.case.Case:
    l = 1.0 / (density * SIGMA)
    return mc.parse_case({
        "name": f"impurity-array-n{density:g}", "seed": seed, "histories": histories, "batches": 20,
        "geometry": {"kind": "impurity_array", "length": 4.0 * l, "width": max(16.0, 0.5 * l), "density": density,
                     "scatterer": SCATTERER},
        "tallies": [{"kind": "resistivity"}, {"kind": "density", "bins": 40}, {"kind": "wind_force"}],
    })


def fixed_case(histories: int) -> mc.case.Case:
    return mc.parse_case({
        "name": "impurity-array-fixed", "seed": 7, "histories": histories, "batches": 20,
        "geometry": {"kind": "impurity_array", "length": 100.0, "width": 16.0, "density": 0.01,
                     "configurations": "fixed", "scatterer": SCATTERER},
        "tallies": [{"kind": "current"}, {"kind": "wind_force"}],
    })


def tagged_case(histories: int) -> mc.case.Case:
    return mc.parse_case({
        "name": "impurity-array-tagged", "seed": 5, "histories": histories, "batches": 20,
        "geometry": {"kind": "impurity_array", "length": 200.0, "width": 20.0, "density": 0.005, "cavity": 8.0,
                     "scatterer": SCATTERER},
        "tallies": [{"kind": "resistivity"}, {"kind": "wind_force"},
                    {"kind": "tagged_dipole", "shells": [1.5, 3.0, 4.5, 6.5]}, {"kind": "direct_force"},
                    {"kind": "gap_gradient", "probes": 24, "probe_radius": 2.0, "clearance": 2.0}],
    })


def gaps_case(histories: int) -> mc.case.Case:
    """A plain array (no cavity) with 800 gap probes of radius 3 in whole empty spheres of radius
    c = 3 + a = 4.13: the field in the gaps against the Lorentz cavity 1 - f/3 less the images (docs)."""
    return mc.parse_case({
        "name": "impurity-array-gaps", "seed": 12, "histories": histories, "batches": 40,
        "geometry": {"kind": "impurity_array", "length": 200.0, "width": 20.0, "density": 0.005,
                     "scatterer": SCATTERER},
        "tallies": [{"kind": "resistivity"},
                    {"kind": "gap_gradient", "probes": 800, "probe_radius": 3.0, "clearance": 1.0}],
    })


GAP_HISTORIES = 20
"""The gaps case runs this many times the study's histories: its ratio needs about 10^6 (+-0.02)."""


def study(histories: int, quick: bool) -> pd.DataFrame:
    frames = []
    for k, n in enumerate(QUICK_DENSITIES if quick else DENSITIES):
        case = sweep_case(n, histories, seed=300 + k)
        start = time.perf_counter()
        frame = mc.run(case)
        frames.append(frame.assign(point="sweep", wall_seconds=time.perf_counter() - start,
                                   nominal_density=n))
    cases = (("fixed", fixed_case(histories)), ("tagged", tagged_case(2 * histories)),
             ("gaps", gaps_case(GAP_HISTORIES * histories)))
    for name, case in cases:
        start = time.perf_counter()
        frame = mc.run(case)
        frames.append(frame.assign(point=name, wall_seconds=time.perf_counter() - start))
    return pd.concat(frames, ignore_index=True)


def _rows(frame, point, observable, component=""):
    return frame[(frame.point == point) & (frame.observable == observable) & (frame.component == component)]


def draw_resistivity(frame: pd.DataFrame, out: Path) -> Path:
    rho = _rows(frame, "sweep", "resistivity").sort_values("impurity_density")
    ratio_a_l = rho.disk_radius / rho.mean_free_path
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.errorbar(ratio_a_l, rho.value / rho.drude, 2 * rho.stderr / rho.drude, fmt="o", capsize=2,
                 label="Monte Carlo ρ = -(dμ/dz)/J, interior (±2σ)")
    top.plot(ratio_a_l, rho.ensemble_reference / rho.drude, "s--", mfc="none", label="Boltzmann slab, same fit")
    top.axhline(1.0, color="k", lw=1, label="Drude 3π² n_i σ_tr (first order in n_i)")
    top.set_xscale("log")
    top.set_ylabel("ρ / ρ_Drude")
    top.set_title(f"random isotropic impurities, σ = {SIGMA:g}/k_F², L = 4 l, multiple scattering")
    top.legend(fontsize=8)
    z = (rho.value - rho.ensemble_reference) / rho.stderr
    bottom.plot(ratio_a_l, z, "o")
    for level in (-4, 4):
        bottom.axhline(level, color="grey", lw=0.5, ls="--")
    bottom.axhline(0.0, color="k", lw=0.5)
    bottom.set_ylabel("(MC - Boltzmann)/σ")
    bottom.set_xlabel("disk radius / mean free path  (= n_i σ^{3/2}/√π)")
    path = out / "impurity_array_resistivity.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def draw_wind_force(frame: pd.DataFrame, out: Path) -> Path:
    each = frame[(frame.point == "fixed") & (frame.observable == "wind_force") & frame.impurity.notna()]
    ref = float(each.ensemble_reference.iloc[0])
    current = float(_rows(frame, "fixed", "current").value.iloc[0])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    values = each.value / ref
    left.hist(values, bins=40, color="C0", alpha=0.8, label=f"{len(each)} impurities of one array")
    noise = float(np.median(each.stderr / ref))
    left.axvline(1.0, color="k", lw=1, label="ħk_F σ_tr J_Boltzmann")
    left.axvline(SIGMA * current / ref, color="C3", ls="--", lw=1, label="ħk_F σ_tr J (this array's J)")
    left.set_xlabel("F_w / (ħ k_F σ_tr J_Boltzmann)")
    left.set_ylabel("impurities")
    left.set_title(f"spread {values.std():.3f} (MC noise alone ≈ {noise:.3f})")
    left.legend(fontsize=8)
    right.errorbar(each.z, values, each.stderr / ref, fmt=".", ms=3)
    right.axhline(1.0, color="k", lw=1)
    right.set_xlabel("impurity z (1/k_F)")
    right.set_ylabel("F_w / (ħ k_F σ_tr J_B)")
    right.set_title("wind force against the position between the reservoirs")
    path = out / "impurity_array_wind_force.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def draw_fields(frame: pd.DataFrame, out: Path) -> Path:
    """The density profile of the tagged case, and the gradients: macroscopic, gaps, at the ion; the dipole."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    profile = frame[(frame.point == "tagged") & (frame.observable == "density")]
    if len(profile):
        left.errorbar(profile.z, profile.value, 2 * profile.stderr, fmt=".", label="Monte Carlo (±2σ)")
        left.plot(profile.z, profile.ensemble_reference, "-", lw=1, label="Boltzmann slab")
    left.set_xlabel("z (1/k_F)")
    left.set_ylabel("δn/(dn/dE) (δμ)")
    left.legend(fontsize=8)
    left.set_title("plane-averaged density, tagged case")
    grads = frame[(frame.point == "tagged") & (frame.observable == "density_gradient") & (frame.component == "z")]
    macro = float(grads[grads.estimator.str.startswith("interior")].ensemble_reference.iloc[0])
    labels, values, errors, refs = [], [], [], []
    for _, row in grads.iterrows():
        labels.append(row.estimator.split(":")[0][:28])
        values.append(row.value / macro)
        errors.append(row.stderr / abs(macro))
        refs.append(row.ensemble_reference / macro)
    gap = _rows(frame, "gaps", "density_gradient", "ratio")
    for _, row in gap.iterrows():
        labels.append("plain array: gaps / interior")
        values.append(row.value)
        errors.append(row.stderr)
        refs.append(row.ensemble_reference)
    dip = frame[(frame.point == "tagged") & (frame.observable == "density_dipole") & (frame.component == "z")]
    for _, row in dip.iterrows():
        labels.append("dipole p: " + row.estimator.split(":")[0][:20])
        values.append(row.value / row.ensemble_reference)
        errors.append(row.stderr / abs(row.ensemble_reference))
        refs.append(1.0)
    x = np.arange(len(labels))
    right.errorbar(x, values, 2 * np.asarray(errors), fmt="o", capsize=3, label="Monte Carlo (±2σ)")
    right.plot(x, refs, "k_", ms=20, mew=2, label="prediction (Lorentz 1 - f/3 less the images, Eq. 6)")
    right.set_xticks(x, labels, rotation=20, ha="right", fontsize=7)
    right.set_ylabel("gradient / (-ρJ);  dipole / Eq. 6")
    right.set_title("the field of the dipoles: macroscopic, in the gaps, at the tagged ion")
    right.legend(fontsize=8)
    path = out / "impurity_array_fields.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--histories", type=int, default=None)
    args = parser.parse_args(argv)
    histories = args.histories or (4_000 if args.quick else 40_000)
    frame = study(histories, args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    written = write_table_files(frame, args.out, stem="impurity_array")
    written += [draw_resistivity(frame, args.out), draw_wind_force(frame, args.out), draw_fields(frame, args.out)]
    rho = _rows(frame, "sweep", "resistivity")
    for _, r in rho.iterrows():
        print(f"n_i = {r.impurity_density:.4g}: N = {r.impurities}, a/l = {r.disk_radius / r.mean_free_path:.3f}, "
              f"rho/Drude = {r.value / r.drude:.4f} +- {r.stderr / r.drude:.4f}, Boltzmann {r.ensemble_reference / r.drude:.4f}, "
              f"{r.wall_seconds:.1f} s")
    gap = _rows(frame, "gaps", "density_gradient", "ratio").iloc[0]
    print(f"gaps: gradient / interior slope = {gap.value:.3f} +- {gap.stderr:.3f} (Lorentz 1 - f/3 less the "
          f"images, f = {gap.core_density_ratio:.3f}: {gap.ensemble_reference:.3f}), {gap.wall_seconds:.0f} s")
    for path in written:
        print(f"wrote {path}")


def checks(out: Path):
    """The dilute points' resistivity rows as one group (independent seeds): a bias common to every
    dilute point that no single row shows.  Points beyond mc.impurity_array.DILUTE claim no reference."""
    from observables.verdict import Checks

    frame = pd.read_csv(Path(out) / "impurity_array.csv", keep_default_na=False, na_values=[""])
    rows = frame[(frame.point == "sweep") & (frame.observable == "resistivity") & frame.reference.notna()
                 & (frame.stderr > 0)].reset_index(drop=True)
    key = ("impurity_array", "Boltzmann slab interior slope / J (-> Drude)", "resistivity, every dilute n_i")
    table = pd.DataFrame({
        "source": key[0], "equation": key[1], "observable": key[2],
        "component": [f"n_i = {n:.4g}" for n in rows.impurity_density],
        "x": np.nan, "y": np.nan, "z": np.nan, "value": rows.value, "stderr": rows.stderr,
        "reference": rows.reference, "dof": rows.batches - 1.0,
    })
    return Checks(table, independent={key})


if __name__ == "__main__":
    main()
