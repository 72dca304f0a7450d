"""Model -> run -> table: the Python API behind ``emmc run``."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mc import execution
from mc.config import RunSettings, Table, load_toml, read_run_settings
from mc.errors import ConfigError
from mc.systems import SYSTEMS, system_module
from observables.tables import write_table


@dataclass
class Case:
    """A validated case: the shared run settings and the system's own parsed model."""

    settings: RunSettings
    kind: str
    model: Any
    source: str = ""
    data: dict | None = None
    """The case as validated (the TOML dict with the overrides applied): what a worker
    process re-parses and what a run directory records."""

    @property
    def name(self) -> str:
        return self.settings.name


def parse_case(data: dict, *, default_name: str = "case", **overrides) -> Case:
    """Validate a case given as a dict (the parsed TOML).

    ``overrides`` (``histories``, ``seed``, ``batches``) replace top-level keys
    before validation, so a bad override is reported like a bad key.
    """
    data = copy.deepcopy(data)
    for key, value in overrides.items():
        if value is not None:
            data[key] = value
    root = Table(data, "")
    settings = read_run_settings(root, default_name=default_name)
    geometry = root.table("geometry")
    kind = geometry.string("kind", choices=sorted(SYSTEMS))
    model = system_module(kind).parse(root, geometry, settings)
    geometry.finish()
    root.finish()
    return Case(settings=settings, kind=kind, model=model, data=data)


def load_case(path: str | Path, **overrides) -> Case:
    """Read and validate a TOML case file (see :func:`parse_case` for ``overrides``)."""
    data = load_toml(path)
    case = parse_case(data, default_name=Path(path).stem, **overrides)
    case.source = str(path)
    return case


def run(case: Case, *, threads: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Simulate ``case`` and return its SPEC §6 results table.

    The batches run where the ambient :mod:`mc.execution` settings say (in this
    process by default, with checkpoints and on a cluster under ``emmc``)."""
    if threads is not None and threads < 1:
        raise ConfigError("threads", f"must be >= 1, got {threads}")
    with execution.api_call(threads=threads, progress=progress, label=case.name):
        return execution.execute(case).frame


def write_results(frame: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    return write_table(frame, out_dir)


def figures(case: Case, frame: pd.DataFrame) -> dict:
    """The case's figures (matplotlib Figures, for notebooks): the system's own and the validation
    figure of every estimate against its reference with residuals in sigma."""
    from observables.plots import validation_figure

    module = system_module(case.kind)
    drawn = dict(module.figures(case, frame)) if hasattr(module, "figures") else {}
    validation = validation_figure(frame, f"{case.name}: Monte Carlo (± σ) against the references")
    if validation is not None:
        drawn["validation"] = validation
    return drawn


def plot(case: Case, frame: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """The case's figures as PNG files in ``out_dir``."""
    from observables.plots import save_figures

    return save_figures(figures(case, frame), out_dir)
