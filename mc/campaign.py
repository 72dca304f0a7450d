"""Campaigns: one case swept over the values of some of its keys (``emmc sweep``).

    emmc sweep CASE.toml --set geometry.radius=[5.0, 10.0, 20.0] --set histories=[1e4, 4e4] --out DIR

Every combination of the swept values (their cartesian product) is a case of
its own, validated before any of them runs; the tables are concatenated with
one extra column per swept key (named by the key).  Keys are dotted paths into
the TOML tables, with ``[i]`` for arrays of tables: ``impurities[0].position``.
Seeds are not changed unless swept, so a sweep over ``histories`` is a
convergence study on common random numbers.
"""

from __future__ import annotations

import copy
import itertools
import re
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from mc.case import Case, parse_case, run
from mc.config import load_toml
from mc.errors import ConfigError

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
    return key, parsed if isinstance(parsed, list) else [parsed]


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


def sweep(case: str | Path | dict, parameters: dict[str, list[Any]], *, threads: int | None = None,
          progress: bool = False) -> pd.DataFrame:
    """Run a case for every combination of ``parameters`` and return one concatenated table."""
    if isinstance(case, dict):
        data, name = case, "case"
    else:
        data, name = load_toml(case), Path(case).stem
    tables = []
    for point, parsed in campaign_cases(data, parameters, default_name=name):
        frame = run(parsed, threads=threads, progress=progress)
        for key, value in point.items():
            frame[key] = [value] * len(frame) if isinstance(value, (list, dict)) else value
        tables.append(frame)
    return pd.concat(tables, ignore_index=True)
