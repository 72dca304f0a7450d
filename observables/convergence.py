"""Standard errors against the number of histories: the N^-1/2 law (SPEC §5).

:func:`convergence_slopes` fits log(stderr) = c + p log(N) for every estimate
of a table that holds the same case at several history counts (rows of one
estimate share the key columns) and gives the slope p with its standard
error; finite-variance Monte Carlo has p = -1/2.  A stderr estimated from
B batch means scatters by 1/sqrt(2 (B - 1)) in log (about 16 % for 20
batches), which gives each point its weight and the slope its error bar (slope_z = (slope + 1/2) / slope_stderr).
:func:`plot_convergence` draws the relative error against N on log-log axes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

ESTIMATE_KEYS = ("case", "observable", "component", "x", "y", "z", "tally", "impurity", "estimator", "method", "side")
"""Columns that identify one estimate across the points of a convergence study (those present are used)."""


def convergence_slopes(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per estimate: slope of log stderr against log histories, its stderr, and z against -1/2."""
    keys = [c for c in ESTIMATE_KEYS if c in frame]
    usable = frame[np.isfinite(frame["stderr"]) & (frame["stderr"] > 0)]
    rows = []
    for key, group in usable.groupby(keys, dropna=False, sort=False):
        counts = group["histories"].to_numpy(float)
        if len(np.unique(counts)) < 2 or len(counts) != len(np.unique(counts)):
            continue
        x = np.log(counts)
        y = np.log(group["stderr"].to_numpy(float))
        slope, _ = np.polyfit(x, y, 1)
        batches = float(group["batches"].min()) if "batches" in group else 20.0
        scatter = 1.0 / math.sqrt(2.0 * (batches - 1.0))
        slope_stderr = scatter / math.sqrt(float(((x - x.mean()) ** 2).sum()))
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        row.update(slope=slope, slope_stderr=slope_stderr, slope_z=(slope + 0.5) / slope_stderr,
                   histories_min=int(counts.min()), histories_max=int(counts.max()), points=len(counts))
        rows.append(row)
    return pd.DataFrame(rows)


def plot_convergence(frame: pd.DataFrame, slopes: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Relative standard error against histories per observable (median over its estimates), log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    usable = frame[np.isfinite(frame["stderr"]) & (frame["stderr"] > 0) & (frame["value"] != 0)].copy()
    usable["relative"] = usable["stderr"] / usable["value"].abs()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for observable, rows in usable.groupby("observable", sort=True):
        median = rows.groupby("histories")["relative"].median()
        fitted = slopes[slopes["observable"] == observable]["slope"] if not slopes.empty else pd.Series(dtype=float)
        label = f"{observable} ({len(rows) // max(1, median.size)} est.)"
        if not fitted.empty:
            label += f": slope {fitted.median():+.3f}"
        ax.loglog(median.index, median.values, "o-", label=label)
    counts = np.sort(usable["histories"].unique()).astype(float)
    if counts.size:
        top = usable.groupby("histories")["relative"].median().max()
        ax.loglog(counts, top * (counts / counts[0]) ** -0.5, "k--", label=r"$N^{-1/2}$")
    ax.set_xlabel("histories N")
    ax.set_ylabel("relative standard error (median over estimates)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
