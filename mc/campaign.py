"""Campaigns: one case swept over the values of some of its keys (``emmc sweep``, ``emmc converge``).

    emmc sweep CASE.toml --set geometry.radius=[5.0, 10.0, 20.0] --set histories=[1e4, 4e4] --out DIR
    emmc converge CASE.toml --out DIR [--histories N] [--steps 4] [--factor 4]

Every combination of the swept values (their cartesian product) is a case of
its own, validated before any of them runs; the tables are concatenated with
one extra column per swept key (named by the key).  Keys are dotted paths into
the TOML tables, with ``[i]`` for arrays of tables: ``impurities[0].position``.
Seeds are not changed unless swept, so a sweep over ``histories`` is a
convergence study on common random numbers.

On the command line a campaign is one run directory (:mod:`mc.rundir`): every
batch of every point is checkpointed, a point that fails is reported on one
line and left out while the others are written (exit status 1), ``--resume``
continues, and all points' batches go to a dask cluster at once.
"""

from __future__ import annotations

import copy
import itertools
import re
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from mc import execution
from mc.case import Case, parse_case
from mc.checkpoint import normal_case
from mc.config import load_toml
from mc.errors import ConfigError
from mc.runner import (EXIT_FAILED, EXIT_OK, connect_backend, preflight, report_written, run_identity, run_points,
                       session, write_case_toml)
from observables.tables import write_table_files

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def parse_assignment(text: str) -> tuple[str, list[Any]]:
    """``key=value`` from the command line; the value is TOML (an array sweeps its elements)."""
    if "=" not in text:
        raise ConfigError("--set", f"expected KEY=VALUE, got {text!r}")
    key, value = (part.strip() for part in text.split("=", 1))
    try:
        parsed = tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--set {key}", f"value is not TOML ({exc})") from None
    _split_key(key)
    if parsed == []:
        raise ConfigError(f"--set {key}", "an empty array sweeps nothing; give at least one value")
    return key, parsed if isinstance(parsed, list) else [parsed]


def parse_sweep(assignments: list[str]) -> dict[str, list[Any]]:
    """The ``--set`` options of a sweep as {key: values}; a key given twice is an error, not a silent override."""
    sweep: dict[str, list[Any]] = {}
    for text in assignments:
        key, values = parse_assignment(text)
        if key in sweep:
            raise ConfigError(f"--set {key}", "is given twice; put all its values in one array")
        sweep[key] = values
    return sweep


def _split_key(key: str) -> list[str | int]:
    path: list[str | int] = []
    for part in key.split("."):
        match = _TOKEN.fullmatch(part)
        if not match:
            raise ConfigError(f"--set {key}", "a key is dotted names with optional [index], e.g. impurities[0].position")
        path.append(match.group(1))
        path.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return path


def set_key(data: dict, key: str, value: Any) -> None:
    """Set a dotted key (creating missing tables) in the raw TOML dict."""
    path = _split_key(key)
    node: Any = data
    for step, nxt in zip(path[:-1], path[1:]):
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                raise ConfigError(key, f"index [{step}] is out of range")
            node = node[step]
        else:
            if not isinstance(node, dict):
                raise ConfigError(key, f"{step!r} is not inside a table")
            node = node.setdefault(step, [] if isinstance(nxt, int) else {})
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ConfigError(key, f"index [{last}] is out of range")
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise ConfigError(key, f"{last!r} is not inside a table")
        node[last] = value


def campaign_cases(data: dict, sweep: dict[str, list[Any]], *, default_name: str = "case") -> list[tuple[dict, Case]]:
    """Every combination of the swept values as (the values, the validated case)."""
    if not sweep:
        raise ConfigError("--set", "a sweep needs at least one KEY=[values]")
    keys = list(sweep)
    cases = []
    for values in itertools.product(*(sweep[k] for k in keys)):
        variant = copy.deepcopy(data)
        for key, value in zip(keys, values):
            set_key(variant, key, value)
        point = dict(zip(keys, values))
        try:
            case = parse_case(variant, default_name=default_name)
        except ConfigError as exc:
            raise ConfigError(exc.key, f"{exc.reason} (in the sweep point {point})") from None
        cases.append((point, case))
    return cases


def _with_point(frame: pd.DataFrame, point: dict) -> pd.DataFrame:
    for key, value in point.items():
        frame[key] = [value] * len(frame) if isinstance(value, (list, dict)) else value
    return frame


def _case_source(case: str | Path | dict) -> tuple[dict, str]:
    if isinstance(case, dict):
        return case, "case"
    return load_toml(case), Path(case).stem


def sweep(case: str | Path | dict, parameters: dict[str, list[Any]], *, threads: int | None = None,
          progress: bool = False) -> pd.DataFrame:
    """Run a case for every combination of ``parameters`` and return one concatenated table.

    Every point runs even if one fails; then a failure raises :class:`CampaignError`."""
    data, name = _case_source(case)
    points = campaign_cases(data, parameters, default_name=name)
    with execution.api_call(threads=threads, progress=progress, label=name, points=len(points)):
        results = execution.execute_many([parsed for _, parsed in points])
    failures = [f"{_point_text(point)}: {result.error}" for (point, _), result in zip(points, results) if result.error]
    if failures:
        raise CampaignError(f"{len(failures)} of {len(points)} points failed: " + "; ".join(failures))
    return pd.concat([_with_point(result.frame, point) for (point, _), result in zip(points, results)],
                     ignore_index=True)


class CampaignError(RuntimeError):
    """Some points of a campaign failed (each is named with its reason)."""


def _point_text(point: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


def run_campaign(name: str, data: dict, points: list[tuple[dict, Case]], options, identity: dict, *,
                 extra_files=None) -> tuple[int, pd.DataFrame | None]:
    """Run the points of a campaign into the run directory ``options.out`` and publish what finished.

    ``extra_files(stage, frame)`` writes more files into the staging folder.
    Returns (exit status, the concatenated table of the finished points)."""
    histories = sum(case.settings.histories for _, case in points)
    preflight(options, histories)
    backend = connect_backend(options, histories)
    labels = [f"point {i + 1} of {len(points)} ({_point_text(point)})" for i, (point, _) in enumerate(points)]
    with session(options, identity, label=name, points=len(points), backend=backend) as run:
        results = run_points(run, [case for _, case in points], labels, options)
        finished = [_with_point(r.frame, point) for (point, _), r in zip(points, results) if r.frame is not None]
        failures = [{"point": point, "error": r.error} for (point, _), r in zip(points, results) if r.error]
        if not finished:
            raise CampaignError(f"all {len(points)} points failed; nothing to write")
        frame = pd.concat(finished, ignore_index=True)
        directory = run.directory
        with directory.staging() as stage:
            write_table_files(frame, stage)
            write_case_toml(stage, name, data)
            if extra_files is not None:
                extra_files(stage, frame)
            provenance = directory.provenance(
                campaign=name, points=len(points), points_failed=failures, backend=run.backend.description,
                batches_resumed=sum(r.resumed for r in results), seed=points[0][1].settings.seed,
                wall_seconds=time.perf_counter() - run.started,
                transport_seconds=float(sum(r.seconds for r in results)))
            written = directory.publish(stage, provenance)
    report_written(written, options)
    if failures:
        print(f"emmc: {len(failures)} of {len(points)} points failed; the {len(finished)} others are in "
              f"{options.out / 'results.csv'}", file=sys.stderr)
        return EXIT_FAILED, frame
    return EXIT_OK, frame


def sweep_command(config: str, parameters: dict[str, list[Any]], options) -> int:
    """``emmc sweep``: validate every point, then run them into one run directory."""
    data, name = _case_source(config)
    points = campaign_cases(data, parameters, default_name=name)
    identity = run_identity("sweep", name, data, f"a sweep of {name!r} over {', '.join(parameters)}",
                            sweep=normal_case(parameters))
    status, _ = run_campaign(name, data, points, options, identity)
    return status


def converge_command(config: str, options, *, histories=None, steps: int = 4, factor: int = 4) -> int:
    """``emmc converge``: the case at ``steps`` history counts a ``factor`` apart, ending at ``histories``."""
    data, name = _case_source(config)
    base = parse_case(data, default_name=name, histories=histories)
    if steps is None or steps < 2:
        raise ConfigError("--steps", f"must be >= 2 to fit a slope, got {steps}")
    if factor is None or factor < 2:
        raise ConfigError("--factor", f"must be >= 2, got {factor}")
    top = base.settings.histories
    counts = [top // factor ** k for k in reversed(range(steps))]
    if counts[0] < base.settings.batches:
        raise ConfigError("--steps", f"{top:,} histories / {factor}^{steps - 1} = {counts[0]:,} is fewer than the "
                                     f"{base.settings.batches} batches; use more histories or fewer steps")
    points = campaign_cases(data, {"histories": counts}, default_name=name)

    def extra(stage: Path, frame: pd.DataFrame) -> None:
        from observables.convergence import convergence_slopes, plot_convergence

        slopes = convergence_slopes(frame)
        slopes.to_csv(stage / "convergence_slopes.csv", index=False)
        plot_convergence(frame, slopes, stage / "convergence.png", title=f"{name}: stderr against histories")

    identity = run_identity("converge", name, data, f"a convergence study of {name!r}", histories=counts)
    status, frame = run_campaign(name, data, points, options, identity, extra_files=extra)
    if options.progress and frame is not None:
        from observables.convergence import convergence_slopes

        slopes = convergence_slopes(frame)
        if not slopes.empty:
            summary = slopes.groupby("observable")["slope"].median()
            print("median fitted slope of log stderr against log N (expected -0.5): "
                  + ", ".join(f"{k} {v:+.3f}" for k, v in summary.items()))
    return status
