"""Convergence study: standard errors against the number of histories (SPEC §5).

    python -m runs.convergence_study --out DIR [--quick]

Sweeps ``histories`` of a point-contact case (aperture source, a density probe
and an off-axis anisotropic impurity scored by the next-event estimator) with
:func:`mc.sweep` and fits log(stderr) = c + p log N per estimate
(:func:`observables.convergence.convergence_slopes`): Monte Carlo with finite
variance gives p = -1/2.  Writes ``convergence.csv`` (the sweep's table),
``convergence_slopes.csv`` and ``convergence.png``.  ``emmc converge CASE``
does the same for any case.
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
from observables.convergence import convergence_slopes  # noqa: E402

CASE = {
    "name": "convergence",
    "seed": 12,
    "batches": 20,
    "geometry": {"kind": "aperture", "radius": 10.0},
    "source": {"kind": "aperture"},
    "impurities": [{"position": [6.0, 0.0, 8.0], "scatterer": {"model": "phase_shifts", "phase_shifts": [0.6, 0.25, 0.05]}}],
    "tallies": [
        {"kind": "density", "probes": [[0.0, 0.0, 10.0]], "probe_radius": 1.0},
        {"kind": "wind_force"},
        {"kind": "backscatter_current"},
    ],
}
TRACKED = [("density", ""), ("wind_force", "z"), ("delta_resistance", "")]


def slopes(frame: pd.DataFrame) -> pd.DataFrame:
    """Fitted slopes (with their stderr) of the TRACKED estimates, in TRACKED order."""
    fits = convergence_slopes(frame).set_index(["observable", "component"])
    return fits.loc[TRACKED].reset_index()


def checks(out: Path):
    """The fitted slopes against -1/2 (SPEC §5), for the verdict of ``emmc reproduce``.

    The slopes come from the same histories, so they are checked row by row only."""
    from observables.verdict import Checks

    fits = pd.read_csv(Path(out) / "convergence_slopes.csv", keep_default_na=False, na_values=[""])
    rows = pd.DataFrame({
        "source": "convergence_study", "equation": "SPEC 5: stderr ~ N^-1/2", "observable": "slope of log stderr",
        "component": fits["observable"] + fits["component"].map(lambda c: f" {c}" if c else ""),
        "x": np.nan, "y": np.nan, "z": np.nan, "value": fits["slope"], "stderr": fits["slope_stderr"],
        "reference": -0.5, "dof": np.inf,
    })
    return Checks(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    histories = [10_000 * 4**k for k in range(4 if args.quick else 6)]
    frame = mc.sweep(CASE, {"histories": histories})
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "convergence.csv", index=False)
    fits = slopes(frame)
    fits.to_csv(args.out / "convergence_slopes.csv", index=False)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for (observable, component), fit in zip(TRACKED, fits.itertuples()):
        sel = frame[(frame.observable == observable) & (frame.component == component)].sort_values("histories")
        rel = sel.stderr / sel.value.abs()
        ax.loglog(sel.histories, rel, "o-", label=f"{' '.join(filter(None, (observable, component)))}: slope {fit.slope:+.3f} ± {fit.slope_stderr:.3f}")
    n = np.array(histories, float)
    ax.loglog(n, 0.5 * (n / n[0]) ** -0.5, "k--", label=r"$N^{-1/2}$ (slope $-1/2$, SPEC §5)")
    ax.set_xlabel("histories N")
    ax.set_ylabel("relative standard error")
    ax.set_title("log stderr against log N: fitted slopes and their stderr")
    ax.legend(fontsize=8)
    fig.savefig(args.out / "convergence.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(fits.to_string(index=False))


if __name__ == "__main__":
    main()
