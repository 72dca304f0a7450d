"""Human-readable summary of a results table (printed by ``emmc run``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from observables.statistics import z_score


def _position(row) -> str:
    coords = [row["x"], row["y"], row["z"]]
    if all(pd.isna(c) for c in coords):
        return ""
    return "(" + ", ".join("" if pd.isna(c) else f"{c:g}" for c in coords) + ")"


def summary_text(frame: pd.DataFrame, max_rows: int = 60) -> str:
    """One line per estimate: observable, component, position, value ± stderr, reference, z-score."""
    lines = [f"{'observable':<22}{'comp':<5}{'at':<22}{'value':>14} {'± stderr':>11}{'reference':>14}{'z':>7}"]
    for _, row in frame.head(max_rows).iterrows():
        ref = row["reference"]
        z = z_score(row["value"], row["stderr"], ref) if np.isfinite(ref) and row["stderr"] > 0 else np.nan
        lines.append(
            f"{row['observable']:<22}{row['component']:<5}{_position(row):<22}"
            f"{row['value']:>14.6g} {row['stderr']:>11.3g}"
            f"{'' if pd.isna(ref) else format(ref, '.6g'):>14}{'' if pd.isna(z) else format(z, '+.2f'):>7}"
        )
    if len(frame) > max_rows:
        lines.append(f"... {len(frame) - max_rows} more rows in the table")
    return "\n".join(lines)
