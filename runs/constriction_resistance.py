"""Resistance of a cylindrical neck between half-spaces against its length, for wall specularity p = 0, 0.5, 1.

    python -m runs.constriction_resistance --out DIR [--quick] [--histories N]

A neck of radius a = 5/k_F and length L (L/a log-spaced over 0.5..10) joins
two ballistic half-spaces (``[geometry] kind = "constriction"``, equivalent
source on the entrance).  Monte Carlo R = 1/I against the reference
R = R_Sharvin(a) / W(L/a, p) of :mod:`observables.analytic.constriction`:
the Clausing factor for diffuse walls (p = 0), its partially specular
extension (p = 0.5), and W = 1, the Sharvin resistance, for specular walls
(p = 1, exact with zero variance).  The runs' tables carry the references,
so ``emmc reproduce`` judges every row.  Writes ``constriction_resistance.csv``
/ ``.parquet`` (the :func:`mc.run` tables of the points, SPEC §6 columns plus
``length_over_radius`` and ``specularity``) and
``constriction_resistance.png`` (R/R_Sharvin against L/a, with a panel of
(MC - reference)/stderr).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import mc  # noqa: E402
from observables.analytic import constriction as neck  # noqa: E402
from observables.analytic.point_contact import sharvin_resistance  # noqa: E402
from observables.tables import write_table_files  # noqa: E402

RADIUS = 5.0
LENGTHS_OVER_RADIUS = tuple(float(x) for x in np.round(np.geomspace(0.5, 10.0, 8), 4))
SPECULARITIES = (0.0, 0.5, 1.0)


def point_case(length_over_radius: float, specularity: float, histories: int, seed: int) -> mc.case.Case:
    """One (L/a, p) point: its own name (its rows are a source of their own in the verdict) and seed."""
    return mc.parse_case({
        "name": f"constriction-p{specularity:g}-L{length_over_radius:g}a",
        "seed": seed,
        "histories": histories,
        "batches": 20,
        "geometry": {"kind": "constriction", "radius": RADIUS, "length": RADIUS * length_over_radius,
                     "specularity": specularity},
        "source": {"kind": "aperture"},
        "tallies": [{"kind": "current"}],
    })


def study(histories: int) -> pd.DataFrame:
    """Every (L/a, p) point: a current and a resistance row each, with their references.

    Independent seeds, so that the residuals of the figure are independent too (common
    random numbers would move all points together)."""
    frames = []
    points = [(x, p) for p in SPECULARITIES for x in LENGTHS_OVER_RADIUS]
    for k, (x, p) in enumerate(points):
        frame = mc.run(point_case(x, p, histories, seed=80 + k))
        frames.append(frame.assign(length_over_radius=x, specularity=p))
    return pd.concat(frames, ignore_index=True)


def checks(out: Path):
    """All statistical resistance rows as one group, for the verdict of ``emmc reproduce``.

    Each run's rows are judged as its own source already; the points have independent seeds,
    so their rows together also get the group test (sum z^2), which sees a bias common to
    every point that is too small for any one row."""
    from observables.verdict import EQUATIONS, Checks

    frame = pd.read_csv(Path(out) / "constriction_resistance.csv", keep_default_na=False, na_values=[""])
    rows = frame[(frame.observable == "resistance") & (frame.stderr > 0)].reset_index(drop=True)
    key = ("constriction_resistance", EQUATIONS[("constriction", "resistance")], "resistance, every (L/a, p < 1) point")
    table = pd.DataFrame({
        "source": key[0], "equation": key[1], "observable": key[2],
        "component": [f"p = {p:g}, L/a = {x:g}" for p, x in zip(rows.specularity, rows.length_over_radius)],
        "x": np.nan, "y": np.nan, "z": np.nan, "value": rows.value, "stderr": rows.stderr,
        "reference": rows.reference, "dof": rows.batches - 1.0,
    })
    return Checks(table, independent={key})


def draw(frame: pd.DataFrame, out: Path) -> Path:
    sharvin = sharvin_resistance(RADIUS)
    rows = frame[frame.observable == "resistance"].copy()
    rows["ratio"] = rows["length_over_radius"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    dense = np.geomspace(0.4, 12.0, 60)
    colours = {0.0: "C0", 0.5: "C1", 1.0: "C2"}
    for p in SPECULARITIES:
        sel = rows[rows["specularity"] == p].sort_values("ratio")
        colour = colours[p]
        top.errorbar(sel.ratio, sel.value / sharvin, 2 * sel.stderr / sharvin, fmt="o", color=colour, capsize=2,
                     label=f"Monte Carlo, p = {p:g} (±2σ)")
        reference = [1.0 / neck.transmission(x, p) for x in dense]
        label = {0.0: "Clausing, R_Sharvin / W(L/a)", 0.5: "partially specular W(L/a, 0.5)",
                 1.0: "Sharvin (W = 1)"}[p]
        top.plot(dense, reference, "-", color=colour, lw=1, label=label)
        statistical = sel[sel.stderr > 0]
        if len(statistical):
            residual = (statistical.value - statistical.reference) / statistical.stderr
            bottom.plot(statistical.ratio, residual, "o", color=colour)
    top.plot(dense, 1.0 / neck.long_tube_limit(dense), "k:", lw=1, label="long tube, 3L/8a")
    short = dense[dense < 0.8]
    top.plot(short, 1.0 / neck.short_tube_limit(short), "k--", lw=1, label="short tube, 1/(1 - L/2a)")
    top.set_xscale("log")
    top.set_yscale("log")
    top.set_ylabel(r"$R / R_{Sharvin}$, $R_{Sharvin} = 4\pi/a^2$")
    top.set_title(f"neck of radius a = {RADIUS:g}/k_F between half-spaces, wall specularity p")
    top.legend(fontsize=8)
    for level in (-2, 2):
        bottom.axhline(level, color="grey", lw=0.5, ls="--")
    bottom.axhline(0.0, color="k", lw=0.5)
    exact = rows[rows.stderr == 0]
    if len(exact):
        worst = float(((exact.value - exact.reference) / exact.reference).abs().max())
        bottom.text(0.02, 0.08, f"p = 1: zero variance, |MC/ref - 1| <= {worst:.1e}", transform=bottom.transAxes,
                    fontsize=8, color=colours[1.0])
    bottom.set_ylabel("(MC - ref)/σ")
    bottom.set_xlabel("L / a")
    path = out / "constriction_resistance.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--histories", type=int, default=None)
    args = parser.parse_args(argv)
    histories = args.histories or (40_000 if args.quick else 400_000)
    frame = study(histories)
    args.out.mkdir(parents=True, exist_ok=True)
    written = write_table_files(frame, args.out, stem="constriction_resistance")
    written.append(draw(frame, args.out))
    rows = frame[(frame.observable == "resistance") & (frame.stderr > 0)]
    z = (rows.value - rows.reference) / rows.stderr
    print(f"{len(frame) // 2} points, {histories:,} histories each; {len(rows)} statistical resistance rows, "
          f"max |z| = {z.abs().max():.2f}")
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
