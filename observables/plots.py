"""Figures drawn from results tables (PNG, matplotlib's Agg backend).

Plots read only the tidy table (SPEC §6), so any saved results.parquet can be
re-plotted later; closed forms are overlaid as lines.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from observables.analytic import point_contact as closed_form  # noqa: E402


def _mesh_grid(frame: pd.DataFrame, observable: str, component: str = ""):
    rows = frame[(frame.observable == observable) & (frame.component == component) & (frame.tally == "mesh")]
    if rows.empty:
        return None
    rho = np.sort(rows.x.unique())
    z = np.sort(rows.z.unique())
    grid = rows.pivot_table(index="x", columns="z", values="value").reindex(index=rho, columns=z).values
    return rho, z, grid


def _edges(centres: np.ndarray, lower: float | None = None) -> np.ndarray:
    step = np.diff(centres).mean() if len(centres) > 1 else 1.0
    first = centres[0] - 0.5 * step if lower is None else lower
    return np.concatenate([[first], centres + 0.5 * step])


def plot_point_contact(frame: pd.DataFrame, radius: float, out_dir: Path, name: str) -> list[Path]:
    """Potential map with current-density arrows (if a mesh was tallied) and on-axis profiles."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    potential = _mesh_grid(frame, "potential")
    if potential is not None:
        rho, z, grid = potential
        fig, ax = plt.subplots(figsize=(7, 6))
        rho_full = np.concatenate([-rho[::-1], rho])
        grid_full = np.concatenate([grid[::-1], grid], axis=0)
        image = ax.pcolormesh(_edges(z), _edges(rho_full), grid_full, cmap="RdBu_r", vmin=-0.5, vmax=0.5, shading="flat")
        fig.colorbar(image, ax=ax, label=r"$e\,\delta\Phi_{tot}/\Delta\mu$ (Monte Carlo)")
        j_rho = _mesh_grid(frame, "current_density", "x")
        j_z = _mesh_grid(frame, "current_density", "z")
        if j_rho is not None and j_z is not None:
            Z, R = np.meshgrid(z, rho)
            ax.quiver(Z, R, j_z[2], j_rho[2], color="k", scale_units="xy", angles="xy", scale=None, width=0.003)
            ax.quiver(Z, -R, j_z[2], -j_rho[2], color="k", scale_units="xy", angles="xy", scale=None, width=0.003)
        wall = max(abs(rho_full).max(), radius)
        for sign in (1, -1):
            ax.plot([0, 0], [sign * radius, sign * wall * 1.05], color="k", lw=3)
        ax.set_xlabel(r"$z\;(1/k_F)$")
        ax.set_ylabel(r"$\rho\;(1/k_F)$")
        ax.set_title(f"{name}: potential and current density (hole radius {radius:g})")
        path = out_dir / "potential_map.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(path)

    axis = frame[(frame.tally == "probe") & (frame.x == 0) & (frame.y == 0)] if "tally" in frame else frame.iloc[0:0]
    if not axis.empty:
        fig, axes = plt.subplots(1, 3, figsize=(14, 4))
        z_line = np.linspace(min(axis.z.min(), 0.0) - radius, axis.z.max() + radius, 400)
        z_line = z_line[z_line != 0.0]
        panels = [
            ("density", "", closed_form.excess_density(0.0, z_line, radius), r"$\delta n/(\Delta\mu\, dn/dE)$  (Eq. 50)"),
            ("potential", "", closed_form.potential(0.0, z_line, radius), r"$e\,\delta\Phi_{tot}/\Delta\mu$  (Eq. 52)"),
            ("current_density", "z", closed_form.on_axis_current_density(z_line, radius), r"$j_z\;(k_F^2\Delta\mu/\hbar)$  (Eq. 54)"),
        ]
        for ax, (observable, component, reference, label) in zip(axes, panels):
            rows = axis[(axis.observable == observable) & (axis.component == component)]
            ax.plot(z_line, reference, color="0.3", label="closed form")
            if not rows.empty:
                ax.errorbar(rows.z, rows.value, yerr=2 * rows.stderr.fillna(0), fmt="o", color="C3", label=r"Monte Carlo ($\pm 2\sigma$)")
            ax.axvline(0.0, color="k", lw=0.5)
            ax.set_xlabel(r"$z\;(1/k_F)$ on the axis")
            ax.set_title(label)
            ax.legend(fontsize=8)
        fig.suptitle(f"{name}: on-axis profiles, hole radius {radius:g}", y=1.03)
        path = out_dir / "axis_profiles.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written
