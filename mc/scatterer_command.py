"""``emmc scatterer MODEL --set key=value ... [--json] [--plot FILE.png]``.

The keys are those of a ``scatterer = { model = ... }`` config table; values
are TOML (``radius=1.5``, ``phase_shifts=[0.6,0.25]``, ``friedel=true``), a
bare word is taken as a string (``screening=lindhard``), dotted keys fill
nested tables (``potential.model=screened_coulomb``).  Output in reduced
units (hbar = m = k_F = 1, cross sections in 1/k_F^2).
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np

from mc.config import Table
from mc.errors import ConfigError


def _parse_value(text: str):
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def settings_table(model: str, assignments: list[str]) -> dict:
    """The scatterer table built from the MODEL argument and --set KEY=VALUE items."""
    data: dict = {"model": model}
    for item in assignments:
        if "=" not in item:
            raise ConfigError("--set", f"expected KEY=VALUE, got {item!r}")
        key, text = item.split("=", 1)
        key = key.strip()
        parts = key.split(".")
        if not all(parts):
            raise ConfigError("--set", f"bad key {key!r}")
        node = data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError("--set", f"{part!r} is not a table")
        if parts[-1] in node:
            raise ConfigError("--set", f"{key!r} is given twice")
        node[parts[-1]] = _parse_value(text.strip())
    return data


def summary_text(summary: dict) -> str:
    lines = [f"model        {summary['model']}"]
    deltas = summary["phase_shifts"]
    if deltas is not None:
        lines.append("  l   delta_l (rad)")
        for l, d in enumerate(deltas):
            lines.append(f"{l:3d}   {d: .10f}")
    if "incoming_direction" in summary:
        lines.append(f"incoming     {summary['incoming_direction']}")
    lines.append(f"sigma_tot    {summary['sigma_tot']:.10g}   (1/k_F^2)")
    lines.append(f"sigma_tr     {summary['sigma_tr']:.10g}   (1/k_F^2)")
    if "sigma_tot_average" in summary:
        lines.append(f"<sigma_tot>  {summary['sigma_tot_average']:.10g}   (average over incoming directions)")
        lines.append(f"<sigma_tr>   {summary['sigma_tr_average']:.10g}")
    friedel = summary["friedel_sum"]
    lines.append(f"friedel_sum  {'-' if friedel is None else f'{friedel:.10g}'}   ((2/pi) sum (2l+1) delta_l)")
    return "\n".join(lines)


def plot_scatterer(scatterer, path: Path) -> Path:
    """|f(gamma)|^2 against the scattering angle (in the x-z plane for a cluster, incoming +z)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gamma = np.linspace(0.0, math.pi, 721)
    k_out = np.stack([np.sin(gamma), np.zeros_like(gamma), np.cos(gamma)], axis=1)
    k_in = np.broadcast_to([0.0, 0.0, 1.0], k_out.shape)
    values = scatterer.differential_cross_section(k_in, k_out)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.degrees(gamma), values)
    if np.all(values > 0) and values.max() / values.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel("scattering angle gamma (deg)" + ("" if scatterer.spherical else ", k_in = +z, k_out in x-z plane"))
    ax.set_ylabel("|f|^2  (1/k_F^2 per sr)")
    ax.set_title(f"{scatterer.model}: sigma_tot = {scatterer.summary()['sigma_tot']:.4g}, "
                 f"sigma_tr = {scatterer.summary()['sigma_tr']:.4g}")
    fig.tight_layout()
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise ConfigError("--plot", f"directory {str(path.parent)!r} does not exist")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def run_scatterer_command(model: str, assignments: list[str], *, as_json: bool = False, plot: str | None = None) -> int:
    from mc.scatterer_input import parse_scatterer

    if plot is not None and not str(plot).lower().endswith(".png"):
        raise ConfigError("--plot", f"must name a .png file, got {plot!r}")
    data = settings_table(model, assignments)
    scatterer = parse_scatterer(Table(data, "scatterer"))
    summary = scatterer.summary()
    written = plot_scatterer(scatterer, Path(plot)) if plot else None
    if as_json:
        print(json.dumps(summary))
    else:
        print(summary_text(summary))
        if written:
            print(f"wrote {written}")
    return 0
