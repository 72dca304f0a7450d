"""Reproduce the closed forms of the papers: every case file in runs/ (``emmc reproduce``).

Each ``runs/*.toml`` is run (histories divided by 20 with ``--quick``), its
table and figures written to ``OUT/<case>/``; then the campaign scripts of
:data:`STUDIES` write their tables and figures to ``OUT/<study>/``; all case tables are concatenated into
``OUT/results.csv`` / ``OUT/results.parquet``, and a validation summary
(rows with a reference, worst |z|, chi^2 per row) into ``OUT/validation.csv``
and on stdout.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from pathlib import Path

import numpy as np
import pandas as pd

import mc
from observables.statistics import z_score

RUNS = Path(__file__).resolve().parent
QUICK_FACTOR = 20
QUICK_MIN_HISTORIES = 20_000
STUDIES = ("impurity_map", "direct_vs_wind_force", "chain_length_study", "convergence_study")
"""Campaign scripts in runs/ (each with main(argv) taking --out and --quick), run after the cases."""


def case_files() -> list[Path]:
    return sorted(RUNS.glob("*.toml"))


def validation_summary(frame: pd.DataFrame) -> pd.DataFrame:
    checked = frame[np.isfinite(frame.reference) & np.isfinite(frame.stderr) & (frame.stderr > 0)].copy()
    checked["z"] = z_score(checked.value, checked.stderr, checked.reference)
    exact = frame[np.isfinite(frame.reference) & ~(frame.stderr > 0)]
    summary = checked.groupby(["case", "observable"]).z.agg(
        rows="count", worst_abs_z=lambda z: z.abs().max(), chi2_per_row=lambda z: (z**2).mean()
    )
    if not exact.empty:
        rel = (exact.value - exact.reference).abs() / exact.reference.abs().clip(lower=1e-300)
        exact_summary = rel.groupby([exact.case, exact.observable]).agg(exact_rows="count", worst_rel_dev="max")
        summary = summary.join(exact_summary, how="outer")
    return summary.reset_index()


def reproduce(out: Path, *, quick: bool = False, threads: int | None = None, progress: bool = True) -> list[Path]:
    out = Path(out)
    # validate every case before running any (bad input: nothing written)
    cases = []
    for path in case_files():
        case = mc.load_case(path)
        if quick:
            histories = max(QUICK_MIN_HISTORIES, case.settings.histories // QUICK_FACTOR)
            case = mc.load_case(path, histories=min(histories, case.settings.histories))
        cases.append(case)
    written: list[Path] = []
    tables = []
    for case in cases:
        frame = mc.run(case, threads=threads, progress=progress)
        case_dir = out / case.name
        written += mc.write_results(frame, case_dir) + mc.plot(case, frame, case_dir)
        tables.append(frame)
    for study in STUDIES:
        module = importlib.import_module(f"runs.{study}")
        study_dir = out / study
        with contextlib.nullcontext() if progress else contextlib.redirect_stdout(io.StringIO()):
            module.main(["--out", str(study_dir)] + (["--quick"] if quick else []))
        written += sorted(study_dir.iterdir())
    combined = pd.concat(tables, ignore_index=True)
    written += mc.write_results(combined, out)
    summary = validation_summary(combined)
    summary_path = out / "validation.csv"
    summary.to_csv(summary_path, index=False)
    written.append(summary_path)
    if progress:
        with pd.option_context("display.width", 160, "display.max_rows", 200):
            print(summary.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return written
