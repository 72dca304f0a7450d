"""Reproduce the closed forms of the papers and judge the result (``emmc reproduce``).

Every ``runs/*.toml`` case is run (with ``--quick``: histories divided by
:data:`QUICK_FACTOR`, at least :data:`QUICK_MIN_HISTORIES`, or
:data:`QUICK_HISTORIES` for the analog estimators, whose skewed scores need
more), its table and figures written to ``OUT/<case>/``; then the campaign
scripts of :data:`STUDIES` write their tables and figures to ``OUT/<study>/``.
``OUT/results.csv`` / ``results.parquet`` hold every table the campaign made
(the cases' and the studies' runs, column ``study``), ``OUT/validation.csv``
one line per source, equation and observable, ``OUT/validation_rows.csv``
every checked row, and ``OUT/REPORT.md`` the verdict
(:mod:`observables.verdict`): the command exits with status 1 when it fails.

OUT is a run directory (:mod:`mc.rundir`): checkpointed batch by batch,
resumable with ``--resume`` (finished batches, including those of the
studies' runs, are not run again; the studies' figures are redrawn), locked,
published as one set with its provenance.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from pathlib import Path

import pandas as pd

from mc.case import load_case, plot
from mc.runner import (EXIT_FAILED, EXIT_OK, RunOptions, connect_backend, preflight, report_written, run_identity,
                       run_points, session)
from observables.tables import write_table_files
from observables.verdict import checks_from_run, judge, merge, report_markdown

RUNS = Path(__file__).resolve().parent
QUICK_FACTOR = 20
QUICK_MIN_HISTORIES = 20_000
QUICK_HISTORIES = {"point-contact-impurities": 1_000_000}
"""Quick histories of cases whose analog estimators need more than histories / QUICK_FACTOR."""
STUDIES = ("impurity_map", "direct_vs_wind_force", "chain_length_study", "convergence_study", "constriction_resistance",
           "gamma_curve", "impurity_array", "slab_in_metal")
"""Campaign scripts in runs/ (each with main(argv) taking --out and --quick), run after the cases;
one may define ``checks(out_dir) -> observables.verdict.Checks`` for the derived rows of its tables."""


def case_files() -> list[Path]:
    return sorted(RUNS.glob("*.toml"))


def campaign_cases(quick: bool) -> list:
    """Every case of runs/, validated (with the quick history counts) before anything runs."""
    cases = []
    for path in case_files():
        case = load_case(path)
        if quick:
            histories = QUICK_HISTORIES.get(case.name, max(QUICK_MIN_HISTORIES, case.settings.histories // QUICK_FACTOR))
            case = load_case(path, histories=min(histories, case.settings.histories))
        cases.append(case)
    return cases


def register(subparsers, add_run_options, options, epilog) -> None:
    """``emmc reproduce``: registered with the command line through the "emmc.commands" entry point."""
    import argparse

    parser = subparsers.add_parser("reproduce", help="run the paper-reproduction campaign in runs/ and write REPORT.md",
                                   epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer histories (a few minutes on 2 cores)")
    add_run_options(parser, resume_help="continue the campaign DIR holds")
    parser.set_defaults(handler=lambda args: reproduce_command(options(args), quick=args.quick))


def reproduce_command(options: RunOptions, *, quick: bool = False) -> int:
    """Run the campaign into ``options.out``; exit status 1 when the verdict fails or a part failed."""
    cases = campaign_cases(quick)
    identity = run_identity("reproduce", "reproduce", {c.name: c.data for c in cases},
                            "the reproduction campaign" + (" (--quick)" if quick else ""), quick=quick,
                            studies=list(STUDIES))
    histories = sum(c.settings.histories for c in cases)
    preflight(options, histories)
    backend = connect_backend(options, histories)
    failures: list[str] = []
    quiet = not options.progress
    with session(options, identity, label="reproduce", points=len(cases) + len(STUDIES), backend=backend) as run:
        results = run_points(run, cases, [f"case {case.name}" for case in cases], options)
        failures += [f"{case.name}: {result.error}" for case, result in zip(cases, results) if result.error]
        directory = run.directory
        with directory.staging() as stage:
            for case, result in zip(cases, results):
                if result.frame is not None:
                    write_table_files(result.frame, _folder(stage / case.name))
                    plot(case, result.frame, stage / case.name)
            sources = [(record.case.name, "") for record in run.records]
            parts = []
            for study in STUDIES:
                first = len(run.records)
                error, checks = _run_study(study, stage / study, quick=quick, quiet=quiet)
                run.progress.point_done()
                if error:
                    failures.append(f"{study}: {error}")
                    print(f"emmc: study {study} failed: {error}", file=sys.stderr)
                    del run.records[first:]  # a failed study's runs are not judged
                    continue
                sources += [(f"{study}: {record.case.name}", study) for record in run.records[first:]]
                parts += [checks] if checks is not None else []
            about = directory.provenance()
            verdict = _judge_and_report(stage, run.records, sources, parts, failures, header=[
                f"{'Quick' if quick else 'Full'} campaign: {len(cases)} cases of runs/, studies {', '.join(STUDIES)}.",
                f"Command `{about['command']}`, emmc {about['emmc']}, git {about['git_revision']}, "
                f"host {about['host']}, started {about['started']}."])
            provenance = directory.provenance(campaign="reproduce", quick=quick, backend=run.backend.description,
                                              verdict="PASS" if verdict.passed else "FAIL", failures=failures,
                                              rows_checked=len(verdict.rows),
                                              batches_resumed=sum(r.resumed for r in results))
            written = directory.publish(stage, provenance)
    report_written(written, options)
    if not quiet:
        print(_summary(verdict, options.out))
    return EXIT_OK if verdict.passed else EXIT_FAILED


def _judge_and_report(stage: Path, records: list, sources: list, parts: list, failures: list[str], *, header):
    """Write every run's table into one, judge every checkable row, write validation*.csv and REPORT.md."""
    tables = []
    for record, (source, study) in zip(records, sources):
        parts.append(checks_from_run(source, record.case.kind, record.frame, record.simulation, record.totals))
        tables.append(record.frame.assign(study=study))
    write_table_files(pd.concat(tables, ignore_index=True), stage)
    verdict = judge(merge(parts))
    verdict.groups.to_csv(stage / "validation.csv", index=False)
    verdict.rows.to_csv(stage / "validation_rows.csv", index=False)
    header = header + [f"{len(verdict.rows)} checked rows."]
    if failures:
        header.append("Parts that failed to run (the verdict is FAIL): " + "; ".join(failures))
        verdict.passed = False
    figures = sorted(str(p.relative_to(stage)) for p in stage.rglob("*.png"))
    (stage / "REPORT.md").write_text(report_markdown(verdict, title="emmc reproduce", header=header, figures=figures))
    return verdict


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run_study(study: str, out: Path, *, quick: bool, quiet: bool):
    """Run one campaign script into ``out``: (why it failed or None, the derived rows it checks or None)."""
    module = importlib.import_module(f"runs.{study}")
    try:
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            module.main(["--out", str(out)] + (["--quick"] if quick else []))
        return None, (module.checks(out) if hasattr(module, "checks") else None)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - one failing study must not cost the others
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", None


def _summary(verdict, out: Path) -> str:
    failed_rows = int((~verdict.rows["passed"].astype(bool)).sum())
    failed_groups = int((~verdict.groups["passed"].astype(bool)).sum()) if not verdict.groups.empty else 0
    return (f"verdict: {'PASS' if verdict.passed else 'FAIL'} ({len(verdict.rows)} rows, {failed_rows} failed; "
            f"{verdict.n_groups} group tests, {failed_groups} groups failed); see {out / 'REPORT.md'}")


def reproduce(out: Path, *, quick: bool = False, threads: int | None = None, progress: bool = True) -> int:
    """Python API of ``emmc reproduce --out OUT``: the exit status (0 when the verdict passes)."""
    return reproduce_command(RunOptions(out=Path(out), threads=threads, progress=progress), quick=quick)
