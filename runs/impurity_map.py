"""Maps of the forces on, and the resistance change due to, one impurity anywhere near a point contact.

    python -m runs.impurity_map --out DIR [--quick] [--n 40] [--histories N]

Sorbello Sec. III C beyond the axis: an isotropic impurity of cross section
sigma = 1e-4 pi a^2 is placed at every node of an n x n grid in (rho, z)
(0 < rho, z < 2a, right half-space) and each position is an independent
first-order problem, so one run of the next-event estimator scores them all.
Writes ``results.parquet/csv`` (the results table), ``impurity_maps.png``
(|F_w|, delta R, |F_d|: the Monte Carlo map, its relative error and |z| against
the reference) and ``impurity_axis.png`` (on-axis F_w(z0),
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


def _grid(frame, observable, component="", column="value"):
    rows = frame[(frame.observable == observable) & (frame.component == component) & (frame.x > 0)]
    return rows.pivot_table(index="x", columns="z", values=column)


def _magnitude(frame, observable):
    """|F| over the (rho, z) grid from its x and z components (y vanishes by symmetry), with the
    stderr of |F| (delta method) and the |z| of the worse component against its reference."""
    fx, fz = (_grid(frame, observable, c) for c in ("x", "z"))
    sx, sz = (_grid(frame, observable, c, "stderr") for c in ("x", "z"))
    rx, rz = (_grid(frame, observable, c, "reference") for c in ("x", "z"))
    magnitude = np.hypot(fx, fz)
    stderr = np.hypot(fx * sx, fz * sz) / magnitude
    worst = np.maximum(np.abs(fx - rx) / sx, np.abs(fz - rz) / sz)
    return magnitude, stderr, worst


def draw(frame: pd.DataFrame, out: Path) -> list[Path]:
    """impurity_maps.png: per quantity (rows) the Monte Carlo map with its units, its relative
    standard error, and |MC - reference|/stderr (Eqs. 57-61, 63) with the 4-sigma level marked."""
    quantities = [
        (r"$|F_w|$ ($k_F\,\Delta\mu$)", *_magnitude(frame, "wind_force")),
        (r"$|F_d|$, $Z_d = 1$ ($k_F\,\Delta\mu$)", *_magnitude(frame, "direct_force")),
    ]
    dr, dr_err = _grid(frame, "delta_resistance"), _grid(frame, "delta_resistance", column="stderr")
    dr_z = (dr - _grid(frame, "delta_resistance", column="reference")).abs() / dr_err
    quantities.insert(1, (r"$\delta R$ ($\hbar/e^2$)", dr, dr_err, dr_z))
    fig, axes = plt.subplots(len(quantities), 3, figsize=(15, 4.2 * len(quantities)))
    for row, (label, value, stderr, z) in zip(axes, quantities):
        panels = [(value.abs(), matplotlib.colors.LogNorm(), "viridis"),
                  (stderr / value.abs(), matplotlib.colors.LogNorm(), "magma"),
                  (z, matplotlib.colors.Normalize(0.0, 5.0), "coolwarm")]
        for ax, (grid, norm, cmap) in zip(row, panels):
            zs, rho = grid.columns.values, grid.index.values
            image = ax.pcolormesh(zs / RADIUS, rho / RADIUS, grid.values, shading="nearest", norm=norm, cmap=cmap)
            bar = fig.colorbar(image, ax=ax)
            ax.plot([0, 0], [1, 2], color="k", lw=4)
            ax.set_xlabel("$z_0/a$")
            ax.set_ylabel(r"$\rho_0/a$")
        row[0].set_title(f"{label}, Monte Carlo")
        row[1].set_title(f"{label}: relative standard error")
        row[2].set_title(f"|MC - reference| / stderr: max {float(np.nanmax(z.values)):.2f} over {z.size} sites")
        bar.ax.axhline(4.0, color="k", lw=1.5)  # the agreement criterion, on the |z| colour bar
    fig.suptitle(f"impurity near a point contact (screen: black bar), a = {RADIUS:g}/k_F, isotropic "
                 f"$\\sigma = 10^{{-4}}\\pi a^2$; every site an independent first-order problem")
    fig.subplots_adjust(hspace=0.3, wspace=0.25)
    maps = out / "impurity_maps.png"
    fig.savefig(maps, dpi=110, bbox_inches="tight")
    plt.close(fig)

    axis = frame[(frame.x == 0) & (frame.y == 0)]
    fwz = axis[(axis.observable == "wind_force") & (axis.component == "z")].sort_values("z")
    di = axis[axis.observable == "backscatter_current"].sort_values("z")
    ratio_mc = fwz.value.values / di.value.values
    ratio_err = np.abs(ratio_mc) * np.hypot(fwz.stderr.values / fwz.value.values, di.stderr.values / di.value.values)
    ratio_ref = closed_form.wind_force_over_backscatter_on_axis(fwz.z.values, RADIUS)
    z_line = np.linspace(0.05, 4.0, 200) * RADIUS
    panels = [
        (fwz.value.values, fwz.stderr.values, fwz.reference.values, (fwz.z.values, fwz.reference.values),
         r"$F_{w,z}(z_0)$ ($k_F\,\Delta\mu$)", r"$\hbar k_F\sigma_{tr} j_z$ (Eq. 63)"),
        (di.value.values, di.stderr.values, di.reference.values, (di.z.values, di.reference.values),
         r"$\delta I(z_0)$ ($e\Delta\mu/\hbar$)", "Eq. 57"),
        (ratio_mc, ratio_err, ratio_ref, (z_line, closed_form.wind_force_over_backscatter_on_axis(z_line, RADIUS)),
         r"$F_w/\delta I$ ($\hbar k_F/e$)", "Eq. 62"),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(15, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for (value, stderr, reference, curve, title, label), top, bottom in zip(panels, axes[0], axes[1]):
        top.errorbar(fwz.z / RADIUS, value, 2 * stderr, fmt="o", label="Monte Carlo (±2σ)")
        top.plot(curve[0] / RADIUS, curve[1], "-", label=label)
        top.set_title(title)
        top.legend()
        statistical = stderr > 0
        bottom.plot(fwz.z[statistical] / RADIUS, (value - reference)[statistical] / stderr[statistical], "o")
        if not statistical.all():
            # on the axis the next-event estimator of an isotropic scatterer's delta I has no variance
            worst = float(np.max(np.abs(value / reference - 1.0)[~statistical]))
            bottom.text(0.03, 0.1, f"{(~statistical).sum()} points of zero variance: |MC/ref - 1| <= {worst:.1e}",
                        transform=bottom.transAxes, fontsize=8)
        for level in (-4, 4):
            bottom.axhline(level, color="grey", lw=0.5, ls="--")
        bottom.axhline(0.0, color="k", lw=0.5)
        bottom.set_ylabel("(MC - ref)/σ")
        bottom.set_xlabel("$z_0/a$ (on the axis)")
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
