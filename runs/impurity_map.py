"""Maps of the forces on, and the resistance change due to, one impurity anywhere near a point contact.

    python -m runs.impurity_map --out DIR [--quick] [--n 40] [--histories N]

Sorbello Sec. III C beyond the axis: an isotropic impurity of cross section
sigma = 1e-4 pi a^2 is placed at every node of an n x n grid in (rho, z)
(0 < rho, z < 2a, right half-space) and each position is an independent
first-order problem, so one run of the next-event estimator scores them all.
Writes ``impurity_map.parquet/csv`` (the results table), ``impurity_maps.png``
(|F_w|, F_d, delta R and F_d/F_w) and ``impurity_axis.png`` (on-axis F_w(z0),
delta I(z0) and F_w/delta I against Eq. 62).
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
from observables.analytic import point_contact as closed_form  # noqa: E402

RADIUS = 10.0


def map_case(n: int, histories: int, seed: int = 40) -> mc.case.Case:
    sigma = 1e-4 * math.pi * RADIUS**2
    step = 2.0 * RADIUS / n
    nodes = [((i + 0.5) * step, 0.0, (j + 0.5) * step) for i in range(n) for j in range(n)]
    axis = [(0.0, 0.0, z) for z in np.linspace(0.0, 4.0 * RADIUS, 17)]
    impurities = [
        {"position": list(p), "scatterer": {"model": "isotropic", "cross_section": sigma}, "direct_valence": 1.0}
        for p in nodes + axis
    ]
    return mc.parse_case({
        "name": "impurity-map",
        "seed": seed,
        "histories": histories,
        "batches": 20,
        "geometry": {"kind": "aperture", "radius": RADIUS},
        "source": {"kind": "aperture"},
        "impurities": impurities,
        "tallies": [{"kind": "wind_force"}, {"kind": "backscatter_current"}, {"kind": "direct_force"}],
    })


def _grid(frame, observable, component=""):
    rows = frame[(frame.observable == observable) & (frame.component == component) & (frame.x > 0)]
    return rows.pivot_table(index="x", columns="z", values="value")


def draw(frame: pd.DataFrame, out: Path) -> list[Path]:
    fw = np.hypot(_grid(frame, "wind_force", "x"), _grid(frame, "wind_force", "z"))
    fd = np.hypot(_grid(frame, "direct_force", "x"), _grid(frame, "direct_force", "z"))
    dr = _grid(frame, "delta_resistance")
    ratio = fd / fw
    fig, axes = plt.subplots(2, 2, figsize=(12, 10))
    panels = [(fw, r"$|F_w|$ ($k_F\Delta\mu$)"), (fd, r"$|F_d|$, $Z_d = 1$"), (dr, r"$\delta R$ ($\hbar/e^2$)"), (ratio, r"$|F_d|/|F_w|$")]
    for ax, (grid, title) in zip(axes.ravel(), panels):
        z, rho = grid.columns.values, grid.index.values
        image = ax.pcolormesh(z / RADIUS, rho / RADIUS, grid.values, shading="nearest", norm=matplotlib.colors.LogNorm())
        fig.colorbar(image, ax=ax)
        ax.plot([0, 0], [1, 2], color="k", lw=4)
        ax.set_xlabel("$z_0/a$")
        ax.set_ylabel(r"$\rho_0/a$")
        ax.set_title(title)
    fig.suptitle(f"impurity near a point contact, a = {RADIUS:g}/k_F, isotropic $\\sigma = 10^{{-4}}\\pi a^2$")
    maps = out / "impurity_maps.png"
    fig.savefig(maps, dpi=110, bbox_inches="tight")
    plt.close(fig)

    axis = frame[(frame.x == 0) & (frame.y == 0)]
    fwz = axis[(axis.observable == "wind_force") & (axis.component == "z")].sort_values("z")
    di = axis[axis.observable == "backscatter_current"].sort_values("z")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].errorbar(fwz.z / RADIUS, fwz.value, 2 * fwz.stderr, fmt="o", label="Monte Carlo")
    axes[0].plot(fwz.z / RADIUS, fwz.reference, "-", label=r"$\sigma_{tr}\, j_z$ (Eq. 63)")
    axes[0].set_title(r"$F_{w,z}(z_0)$")
    axes[1].errorbar(di.z / RADIUS, di.value, 2 * di.stderr, fmt="o", label="Monte Carlo")
    axes[1].plot(di.z / RADIUS, di.reference, "-", label="Eq. 57")
    axes[1].set_title(r"$\delta I(z_0)$")
    ratio_mc = fwz.value.values / di.value.values
    ratio_err = np.abs(ratio_mc) * np.hypot(fwz.stderr.values / fwz.value.values, di.stderr.values / di.value.values)
    z_line = np.linspace(0.05, 4.0, 200) * RADIUS
    axes[2].errorbar(fwz.z / RADIUS, ratio_mc, 2 * ratio_err, fmt="o", label="Monte Carlo")
    axes[2].plot(z_line / RADIUS, closed_form.wind_force_over_backscatter_on_axis(z_line, RADIUS), "-", label="Eq. 62")
    axes[2].set_title(r"$F_w/\delta I$ ($\hbar k_F/e$)")
    for ax in axes:
        ax.set_xlabel("$z_0/a$ (on the axis)")
        ax.legend()
    axis_png = out / "impurity_axis.png"
    fig.savefig(axis_png, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return [maps, axis_png]


def map_precision(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Relative standard errors over the grid of |F_w| (from its x and z components) and of delta R."""
    grid = frame[frame.x > 0]
    fx = grid[(grid.observable == "wind_force") & (grid.component == "x")].set_index(["x", "z"])
    fz = grid[(grid.observable == "wind_force") & (grid.component == "z")].set_index(["x", "z"])
    magnitude = np.hypot(fx.value, fz.value)
    magnitude_err = np.hypot(fx.value * fx.stderr, fz.value * fz.stderr) / magnitude
    dr = grid[grid.observable == "delta_resistance"]
    return {"|F_w|": magnitude_err / magnitude, "delta R": dr.stderr / dr.value.abs()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--histories", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n = 12 if args.quick and args.n == 40 else args.n
    histories = args.histories or (20_000 if args.quick else 120_000)
    frame = mc.run(map_case(n, histories), progress=True)
    written = mc.write_results(frame, args.out)
    written += draw(frame, args.out)
    print(f"{n}x{n} map, {histories:,} histories, {frame.seconds.iloc[0]:.1f} s of transport")
    for label, rel in map_precision(frame).items():
        print(f"  relative error of {label}: median {rel.median():.2%}, 90th percentile {rel.quantile(0.9):.2%}, max {rel.max():.2%}")
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
