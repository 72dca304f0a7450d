"""The impurity layer in a real metal: Sorbello Eqs. 47a-c and 26, from R -> 0 to strong reflection.

    python -m runs.slab_in_metal --out DIR [--quick] [--histories N]

A layer of angle-independent reflection R at z = 0 (thickness d = 2/k_F), background mean free path l = 100/k_F,
reservoirs at +-L/2 with L = 8 l, the bulk drive e E0 l = 1 (``kind = "slab"`` with
``[background]``, deviational estimator):

* R from 1e-3 to 0.9: the close-in drop (47a), the far-field drop at fixed current (47c),
  the wind force (47b) and the Eq. 26 ratio, each against the exact Peierls solution (the
  runs' reference column) and as a ratio to the paper's first-order closed form;
* the far-field and close-in resistances per area: the layer's resistivity is not the
  background plus the close-in Landauer value;
* checks: the analog estimator at R = 0.3, and L = 16 l (the far-field drop must not
  depend on where the reservoirs are);
* the rectangular barrier of the shared example (V0 = 0.3, d = 2), where no reference
  beyond first order exists.

Writes ``slab_in_metal.csv`` / ``.parquet`` (the runs' tables with ``point``) and the
figures ``slab_in_metal_ratios.png`` and ``slab_in_metal_profiles.png``.
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
from mc import slab_in_metal  # noqa: E402
from observables.analytic import slab_in_metal as metal  # noqa: E402
from observables.plots import layer_profile, save_figures  # noqa: E402
from observables.tables import write_table_files  # noqa: E402

MEAN_FREE_PATH = 100.0
REFLECTIONS = (0.001, 0.01, 0.03, 0.1, 0.3, 0.6, 0.9)
QUICK_REFLECTIONS = (0.001, 0.1, 0.6)
RATIO_OBSERVABLES = ("potential_drop", "far_field_drop", "wind_force", "force_resistivity_ratio")


def layer_case(name: str, barrier: dict, histories: int, seed: int, *, estimator: str = "deviational",
               lengths: float = 8.0) -> mc.case.Case:
    return mc.parse_case({
        "name": name, "seed": seed, "histories": histories, "batches": 20,
        "geometry": {"kind": "slab", "thickness": 2.0, "length": lengths * MEAN_FREE_PATH, "barrier": barrier},
        "source": {"distribution": "bulk"},
        "background": {"mean_free_path": MEAN_FREE_PATH, "estimator": estimator},
    })


def constant(r: float) -> dict:
    return {"model": "table", "cos_theta": [0.0, 1.0], "reflection": [r, r]}


def study(histories: int, quick: bool) -> pd.DataFrame:
    points = [(f"R={r:g}", layer_case(f"metal-R{r:g}", constant(r), histories, 400 + k), r)
              for k, r in enumerate(QUICK_REFLECTIONS if quick else REFLECTIONS)]
    points.append(("analog R=0.3", layer_case("metal-R0.3-analog", constant(0.3), (2 if quick else 10) * histories, 420,
                                              estimator="analog"), 0.3))
    if not quick:
        points.append(("R=0.3, L=16 l", layer_case("metal-R0.3-L16", constant(0.3), histories, 421, lengths=16.0),
                       0.3))
    points.append(("rectangular", layer_case("metal-rectangular", {"model": "rectangular", "height": 0.3},
                                             histories, 422), np.nan))
    frames = []
    for point, case, r in points:
        start = time.perf_counter()
        frame = mc.run(case)
        frames.append(frame.assign(point=point, layer_reflection=r, wall_seconds=time.perf_counter() - start))
    return pd.concat(frames, ignore_index=True)


def _scalar(frame, point, observable):
    return frame[(frame.point == point) & (frame.observable == observable)].iloc[0]


def draw_ratios(frame: pd.DataFrame, out: Path) -> Path:
    """MC / first order against R, the exact Peierls curve, and the resistances per area."""
    sweep = frame[frame.point.str.fullmatch(r"R=[0-9.e-]+")]
    dense = np.geomspace(1e-3, 0.9, 16)
    exact = {o: [] for o in RATIO_OBSERVABLES}
    for r in dense:
        case = layer_case("curve", constant(float(r)), 100, 0)
        refs = slab_in_metal.references(case.model["slab"], case.model["metal"])
        for o in RATIO_OBSERVABLES:
            exact[o].append(refs.exact[o] / refs.first_order[o])
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    labels = {"potential_drop": "close-in drop / Eq. 47a", "far_field_drop": "far-field drop / Eq. 47c",
              "wind_force": "wind force / Eq. 47b", "force_resistivity_ratio": "F_w / (n0 e r J) (Eq. 26)"}
    for k, o in enumerate(RATIO_OBSERVABLES):
        rows = sweep[sweep.observable == o].sort_values("layer_reflection")
        left.errorbar(rows.layer_reflection, rows.value / rows.first_order, yerr=rows.stderr / rows.first_order.abs(),
                      fmt="o", ms=4, capsize=2, color=f"C{k}", label=f"{labels[o]}, Monte Carlo")
        left.plot(dense, exact[o], "-", lw=1, color=f"C{k}")
    left.set_xscale("log")
    left.set_xlabel("R (angle-independent)")
    left.set_ylabel("Monte Carlo / first order in R")
    left.set_title("lines: exact Peierls solution; the paper's closed forms are its R -> 0 limit")
    left.legend(fontsize=7)
    for k, (o, label) in enumerate((("resistivity", "far field r (what a distant probe sees)"),
                                    ("resistivity_close_in", "close-in Landauer r (Eq. 43, cos-weighted)"))):
        rows = sweep[sweep.observable == o].sort_values("layer_reflection")
        right.errorbar(rows.layer_reflection, rows.value, yerr=rows.stderr, fmt="o", ms=4, capsize=2, color=f"C{k}",
                       label=label)
        right.plot(rows.layer_reflection, rows.first_order, ":", color=f"C{k}", lw=1)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("R")
    right.set_ylabel("resistance x area (hbar / e^2 k_F^2)")
    right.set_title("the layer's resistance per area (dotted: first order)")
    right.legend(fontsize=7)
    figure.tight_layout()
    return save_figures({"slab_in_metal_ratios": figure}, out)[0]


def draw_profiles(frame: pd.DataFrame, out: Path) -> list[Path]:
    strong = "R=0.3" if (frame.point == "R=0.3").any() else "R=0.1"
    figures = {stem: layer_profile(frame[frame.point == point], MEAN_FREE_PATH, 4.0 * MEAN_FREE_PATH,
                                   f"layer in a metal, {point}")
               for point, stem in ((strong, "slab_in_metal_profile_strong"),
                                   ("rectangular", "slab_in_metal_profile_rectangular"))}
    return save_figures(figures, out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--histories", type=int, default=None)
    args = parser.parse_args(argv)
    histories = args.histories or (8_000 if args.quick else 100_000)
    frame = study(histories, args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    written = write_table_files(frame, args.out, stem="slab_in_metal")
    written += [draw_ratios(frame, args.out)] + draw_profiles(frame, args.out)
    for point in frame.point.unique():
        parts = []
        for o in ("potential_drop", "far_field_drop", "wind_force", "force_resistivity_ratio"):
            r = _scalar(frame, point, o)
            exact = f", exact {r.reference:.4g}" if np.isfinite(r.reference) else ""
            parts.append(f"{o} {r.value:.4g} +- {r.stderr:.2g} (1st order {r.first_order:.4g}{exact})")
        far, close = _scalar(frame, point, "resistivity"), _scalar(frame, point, "resistivity_close_in")
        parts.append(f"r far/close-in = {far.value / close.value:.3f} (1st order {far.first_order / close.first_order:.3f})")
        seconds = frame[frame.point == point].wall_seconds.iloc[0]
        print(f"{point}: " + "; ".join(parts) + f"; {seconds:.1f} s")
    print(f"background resistivity rho0 = 3 pi^2 / l = {metal.background_resistivity(MEAN_FREE_PATH):.4g} "
          "hbar/(e^2 k_F) (the layer adds r per area on top of rho0 L)")
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
