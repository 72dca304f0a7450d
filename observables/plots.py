"""Figures drawn from results tables: every Monte Carlo quantity beside its reference, with error bars
and the residual in units of its standard error.

Plots read only the tidy table (SPEC §6), so a saved ``results.parquet`` can be
drawn again later (``emmc plot RUN_DIR``).  Every function returns matplotlib
Figures (for notebooks); :func:`save_figures` writes them as PNG.

* :func:`validation_figure` — any table: one panel per observable with the
  estimates (error bars: one standard error) and their references, and under
  it the residual z = (MC - reference)/stderr with the +-2 and +-4 bands.
  Estimates without a reference are drawn alone.
* :func:`point_contact_figures` — the potential map (Monte Carlo, closed form,
  |z|) with current-density arrows and their scale, and the on-axis profiles
  against Eqs. 50-54 with residuals.
* :func:`chain_figure` — gap potentials and wind forces along a 1D chain.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from observables.analytic import point_contact as closed_form  # noqa: E402
from observables.statistics import z_score  # noqa: E402

MAX_ROWS_PER_PANEL = 40


def save_figures(figures: dict[str, Figure], out_dir: str | Path) -> list[Path]:
    """Write each figure as ``out_dir/<name>.png`` and close it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, figure in figures.items():
        path = out_dir / f"{name}.png"
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def _label(row) -> str:
    """A short tick label: component, estimator or method, which impurity, gap or side, where."""
    where = [f"{c}={row[c]:g}" for c in ("x", "y", "z") if pd.notna(row[c]) and row[c] != 0.0]
    parts = [row["component"]] if row["component"] else []
    for column, prefix in (("estimator", ""), ("method", ""), ("impurity", "#"), ("gap", "gap "), ("side", "")):
        if column in row and pd.notna(row[column]) and row[column] != "":
            parts.append(f"{prefix}{row[column]}")
    return " ".join(parts + where) or "·"


def _residual_pair(figure, spec):
    grid = spec.subgridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
    top = figure.add_subplot(grid[0])
    bottom = figure.add_subplot(grid[1], sharex=top)
    return top, bottom


def _draw_residuals(ax, x, z) -> None:
    ax.axhspan(-2, 2, color="0.9")
    ax.axhline(0.0, color="0.5", lw=0.5)
    for level in (-4, 4):
        ax.axhline(level, color="C3", lw=0.6, ls=":")
    ax.plot(x, z, "o", color="C0", ms=3)
    limit = max(5.0, float(np.nanmax(np.abs(z))) + 0.5) if len(z) and np.isfinite(z).any() else 5.0
    ax.set_ylim(-limit, limit)
    ax.set_ylabel("z (σ)")


def validation_figure(frame: pd.DataFrame, title: str) -> Figure | None:
    """One panel per observable (mesh cells left to the maps): estimates +- stderr, references, residuals."""
    rows = frame[~frame.get("tally", pd.Series("", index=frame.index)).eq("mesh")] if len(frame) else frame
    rows = rows[np.isfinite(rows["value"])]
    if rows.empty:
        return None
    groups = [(name, g.head(MAX_ROWS_PER_PANEL)) for name, g in rows.groupby("observable", sort=False)]
    columns = min(3, len(groups))
    lines = -(-len(groups) // columns)
    figure = plt.figure(figsize=(5.2 * columns, 5.0 * lines))
    grid = figure.add_gridspec(lines, columns, hspace=1.0, wspace=0.35)
    for k, (name, group) in enumerate(groups):
        top, bottom = _residual_pair(figure, grid[k // columns, k % columns])
        x = np.arange(len(group))
        stderr = group["stderr"].fillna(0.0).to_numpy()
        top.errorbar(x, group["value"], yerr=stderr, fmt="o", ms=3, color="C0", label="Monte Carlo ± σ", capsize=2)
        has_reference = np.isfinite(group["reference"].to_numpy())
        if has_reference.any():
            top.plot(x[has_reference], group["reference"].to_numpy()[has_reference], "_", ms=14, mew=2, color="C3",
                     label="reference")
            z = np.asarray(z_score(group["value"], group["stderr"], group["reference"]), dtype=float)
            z = np.where(has_reference & (stderr > 0), z, np.nan)
            _draw_residuals(bottom, x, z)
        else:
            bottom.text(0.5, 0.5, "no reference", ha="center", va="center", transform=bottom.transAxes, color="0.4")
            bottom.set_yticks([])
        top.set_title(f"{name} ({group['units'].iloc[0]})", fontsize=9)
        top.legend(fontsize=7)
        plt.setp(top.get_xticklabels(), visible=False)
        bottom.set_xticks(x)
        bottom.set_xticklabels([_label(r) for _, r in group.iterrows()], rotation=70, fontsize=6, ha="right")
    figure.suptitle(title)
    return figure


# ------------------------------------------------------------------------------------ point contact


def _mesh_grid(frame: pd.DataFrame, observable: str, column: str = "value", component: str = ""):
    rows = frame[(frame.observable == observable) & (frame.component == component)]
    if "tally" in rows:
        rows = rows[rows.tally == "mesh"]
    if rows.empty or rows.y.abs().max() > 0:  # a cylindrical (rho, z) mesh only
        return None
    rho = np.sort(rows.x.unique())
    z = np.sort(rows.z.unique())
    grid = rows.pivot_table(index="x", columns="z", values=column).reindex(index=rho, columns=z).values
    return rho, z, grid


def _edges(centres: np.ndarray) -> np.ndarray:
    step = np.diff(centres).mean() if len(centres) > 1 else 1.0
    return np.concatenate([[centres[0] - 0.5 * step], centres + 0.5 * step])


def _mirror(rho, grid):
    return np.concatenate([-rho[::-1], rho]), np.concatenate([grid[::-1], grid], axis=0)


def _draw_screen(ax, radius: float, extent: float) -> None:
    for sign in (1, -1):
        ax.plot([0, 0], [sign * radius, sign * extent], color="k", lw=3)


def potential_map(frame: pd.DataFrame, radius: float, name: str) -> Figure | None:
    """Monte Carlo potential with current arrows, the closed form, and |z| of every cell."""
    mc_map = _mesh_grid(frame, "potential")
    if mc_map is None:
        return None
    rho, z, grid = mc_map
    reference = _mesh_grid(frame, "potential", "reference")[2]
    stderr = _mesh_grid(frame, "potential", "stderr")[2]
    has_reference = np.isfinite(reference).any()
    panels = 3 if has_reference else 2
    figure, axes = plt.subplots(1, panels, figsize=(6.2 * panels, 5.6), constrained_layout=True)
    z_edges = _edges(z)
    rho_full, grid_full = _mirror(rho, grid)
    rho_edges = _edges(rho_full)
    extent = max(float(np.abs(rho_full).max()), radius) * 1.05
    image = axes[0].pcolormesh(z_edges, rho_edges, grid_full, cmap="RdBu_r", vmin=-0.5, vmax=0.5)
    figure.colorbar(image, ax=axes[0], label=r"$e\,\delta\Phi_{tot}/\Delta\mu$ (Monte Carlo)")
    j_rho = _mesh_grid(frame, "current_density", component="x")
    j_z = _mesh_grid(frame, "current_density", component="z")
    if j_rho is not None and j_z is not None:
        Z, R = np.meshgrid(z, rho)
        arrows = axes[0].quiver(Z, R, j_z[2], j_rho[2], color="k", angles="xy", width=0.003)
        axes[0].quiver(Z, -R, j_z[2], -j_rho[2], color="k", angles="xy", width=0.003, scale=arrows.scale)
        key = float(np.nanmax(np.hypot(j_z[2], j_rho[2])))
        if np.isfinite(key) and key > 0:
            axes[0].quiverkey(arrows, 0.78, 1.03, key, f"j = {key:.2g} $k_F^2\\Delta\\mu/\\hbar$", labelpos="E",
                              coordinates="axes", fontproperties={"size": 8})
    axes[0].set_title(f"{name}: Monte Carlo", fontsize=10)
    if has_reference:
        image = axes[1].pcolormesh(z_edges, rho_edges, _mirror(rho, reference)[1], cmap="RdBu_r", vmin=-0.5, vmax=0.5)
        figure.colorbar(image, ax=axes[1], label=r"$e\,\delta\Phi_{tot}/\Delta\mu$ (Sorbello Eqs. 50-52)")
        axes[1].set_title("closed form", fontsize=10)
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = np.abs(grid - reference) / stderr if has_reference else stderr
    image = axes[-1].pcolormesh(z_edges, rho_edges, _mirror(rho, deviation)[1], cmap="viridis",
                                vmin=0.0, vmax=4.0 if has_reference else None)
    figure.colorbar(image, ax=axes[-1], label="|MC - closed form| / σ" if has_reference else "σ (δΦ/Δμ)")
    axes[-1].set_title("|z| per cell" if has_reference else "standard error per cell", fontsize=10)
    for ax in axes:
        _draw_screen(ax, radius, extent)
        ax.set_xlabel(r"$z\;(1/k_F)$")
        ax.set_ylabel(r"$\rho\;(1/k_F)$")
        ax.set_aspect("equal")
    return figure


def axis_profiles(frame: pd.DataFrame, radius: float, name: str) -> Figure | None:
    """Probes on the axis against Eqs. 50, 52 and 54, with residuals."""
    if "tally" not in frame:
        return None
    axis = frame[(frame.tally == "probe") & (frame.x == 0) & (frame.y == 0)]
    if axis.empty:
        return None
    z_line = np.linspace(min(axis.z.min(), 0.0) - radius, axis.z.max() + radius, 400)
    z_line = z_line[z_line != 0.0]
    panels = [
        ("density", "", closed_form.excess_density(0.0, z_line, radius), r"$\delta n/(\Delta\mu\, dn/dE)$ (Eq. 50)"),
        ("potential", "", closed_form.potential(0.0, z_line, radius), r"$e\,\delta\Phi_{tot}/\Delta\mu$ (Eq. 52)"),
        ("current_density", "z", closed_form.on_axis_current_density(z_line, radius),
         r"$j_z\;(k_F^2\Delta\mu/\hbar)$ (Eq. 54)"),
    ]
    panels = [p for p in panels if len(axis[(axis.observable == p[0]) & (axis.component == p[1])])]
    if not panels:
        return None
    figure = plt.figure(figsize=(5 * len(panels), 4.6))
    grid = figure.add_gridspec(1, len(panels), wspace=0.3)
    for k, (observable, component, line, label) in enumerate(panels):
        top, bottom = _residual_pair(figure, grid[0, k])
        rows = axis[(axis.observable == observable) & (axis.component == component)].sort_values("z")
        if np.isfinite(rows.reference).any():
            top.plot(z_line, line, color="0.3", label="closed form (point)")
            top.plot(rows.z, rows.reference, "_", ms=12, mew=2, color="C3", label="closed form (ball average)")
        top.errorbar(rows.z, rows.value, yerr=rows.stderr.fillna(0), fmt="o", color="C0", ms=4,
                     label="Monte Carlo ± σ")
        top.axvline(0.0, color="k", lw=0.5)
        top.set_title(label, fontsize=10)
        top.legend(fontsize=7)
        plt.setp(top.get_xticklabels(), visible=False)
        if np.isfinite(rows.reference).any():
            _draw_residuals(bottom, rows.z, z_score(rows.value, rows.stderr, rows.reference))
        bottom.set_xlabel(r"$z\;(1/k_F)$ on the axis")
    figure.suptitle(f"{name}: on-axis profiles, hole radius {radius:g}")
    return figure


def point_contact_figures(frame: pd.DataFrame, radius: float, name: str) -> dict[str, Figure]:
    figures = {"potential_map": potential_map(frame, radius, name), "axis_profiles": axis_profiles(frame, radius, name)}
    return {key: fig for key, fig in figures.items() if fig is not None}


# ------------------------------------------------------------------------------------ chain


def chain_figure(frame: pd.DataFrame, gap_lo: np.ndarray, gap_hi: np.ndarray, positions, name: str) -> Figure:
    """Gap potentials and the wind force on every impurity, both methods against their references."""
    figure = plt.figure(figsize=(9, 8))
    grid = figure.add_gridspec(2, 1, hspace=0.35)
    styles = {"transfer_matrix": ("C0", "-", "o", "coherent (transfer matrix)"),
              "semiclassical": ("C1", "--", "s", "semiclassical Monte Carlo")}
    for k, observable in enumerate(("potential", "wind_force")):
        top, bottom = _residual_pair(figure, grid[k, 0])
        rows = frame[frame.observable == observable]
        for method, (colour, line, marker, label) in styles.items():
            sub = rows[rows.method == method].sort_values("z")
            if sub.empty:
                continue
            if observable == "potential":
                gaps = sub.gap.to_numpy(int)
                top.hlines(sub.value, gap_lo[gaps], gap_hi[gaps], colors=colour, linestyles=line, label=label)
                top.hlines(sub.reference, gap_lo[gaps], gap_hi[gaps], colors="k", linestyles=":", lw=0.8)
            else:
                top.errorbar(sub.z, sub.value, yerr=sub.stderr.fillna(0), fmt=marker, color=colour, ms=4, label=label)
                top.plot(sub.z, sub.reference, "_", ms=12, mew=2, color="k")
            if method == "semiclassical":
                _draw_residuals(bottom, sub.z, z_score(sub.value, sub.stderr, sub.reference))
        top.plot([], [], "k:", label="references (S-matrix / incoherent composition)")
        for p in positions:
            top.axvline(p, color="0.7", lw=0.5)
        top.set_ylabel(r"$e\,\delta\Phi/\Delta\mu$ (gap average)" if observable == "potential" else
                       r"$F_w\;(k_F\Delta\mu)$")
        top.legend(fontsize=7)
        plt.setp(top.get_xticklabels(), visible=False)
        bottom.set_xlabel(r"$z\;(1/k_F)$")
    figure.suptitle(f"{name}: potentials (Eq. 29) and wind forces (Eq. 35); residuals of the Monte Carlo")
    return figure


# ------------------------------------------------------------------------------------ layer in a metal
def layer_profile(frame: pd.DataFrame, mean_free_path: float, half_length: float, name: str) -> Figure | None:
    """The layer's own potential across it (the linear background z/l removed), Monte Carlo against the
    reference curve (exact for an angle-independent R, else first order) and the two limits: the close-in
    step of Eq. 47a at the layer and the far fields whose extrapolations jump by Eq. 47c (Milne, z0 = 0.71 l)."""
    from observables.analytic.slab_in_metal import MILNE_EXTRAPOLATION

    rows = frame[frame["observable"] == "potential"].sort_values("z")
    if rows.empty:
        return None
    l = mean_free_path
    x = rows["z"].to_numpy(float) / l
    own = rows["value"].to_numpy(float) - x
    figure = plt.figure(figsize=(8.5, 6.0))
    top, bottom = _residual_pair(figure, figure.add_gridspec(1, 1)[0])
    top.errorbar(x, own, yerr=rows["stderr"], fmt="o", ms=3, capsize=2, color="C0", label="Monte Carlo ± σ")
    reference = rows["reference"].to_numpy(float)
    curve, label = (reference, "reference (Peierls, exact R)") if np.isfinite(reference).any() else \
        (rows["first_order"].to_numpy(float), "first order in R (Peierls)")
    top.plot(x, curve - x, "-", color="C3", lw=1, label=label)

    def scalar(observable):
        row = frame[frame["observable"] == observable]
        return float(row["first_order"].iloc[0]) if len(row) else np.nan

    close_in, far = scalar("potential_drop"), scalar("far_field_drop")
    if np.isfinite(close_in):
        top.plot([-0.4, 0.0], [0.5 * close_in] * 2, color="C2", lw=2, label="close-in step, Eq. 47a")
        top.plot([0.0, 0.4], [-0.5 * close_in] * 2, color="C2", lw=2)
    if np.isfinite(far):
        reach = half_length / l + MILNE_EXTRAPOLATION
        side = np.linspace(0.0, half_length / l, 50)
        top.plot(side, -0.5 * far * (reach - side) / reach, "--", color="C1", label="far field, jump of Eq. 47c")
        top.plot(-side, 0.5 * far * (reach - side) / reach, "--", color="C1")
    top.axvline(0.0, color="0.6", lw=0.5)
    top.set_ylabel("e δΦ_layer (E0 l)")
    top.set_title(f"{name}: the layer's potential, background -r·E0 removed")
    top.legend(fontsize=8)
    plt.setp(top.get_xticklabels(), visible=False)
    if np.isfinite(reference).any():
        _draw_residuals(bottom, x, z_score(rows["value"], rows["stderr"], rows["reference"]))
    else:
        _draw_residuals(bottom, x, z_score(rows["value"], rows["stderr"], rows["first_order"]))
        bottom.set_ylabel("z vs 1st order")
    bottom.set_xlabel("z / l")
    return figure
