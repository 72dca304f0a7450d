"""The configuration registry (mc.schema) against the parsers: neither may list a key the other lacks.

* every registered key, set in a minimal case to its example value (its default
  when it has one), is accepted by the parsers, and setting it to its default
  gives the same model as leaving it out;
* every key a parser reads by name (a literal passed to a ``Table`` accessor)
  is registered for that parser's systems;
* every key of the shipped cases (``runs/*.toml``, the shared examples) is
  registered, and the cases parse.

No simulation runs: parsing a case builds its geometry and scatterers only.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import functools
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import EXAMPLES, ROOT
from mc import schema
from mc.campaign import set_key
from mc.case import parse_case
from mc.config import load_toml
from mc.errors import ConfigError

PARSERS = {
    "mc/config.py": schema.SYSTEM_FAMILIES,
    "mc/case.py": schema.SYSTEM_FAMILIES,
    "mc/point_contact.py": ("aperture", "constriction"),
    "mc/slab.py": ("slab",),
    "mc/chain.py": ("chain",),
    "mc/bulk.py": ("bulk",),
    "mc/impurity_array.py": ("impurity_array",),
    "mc/scatterer_input.py": ("scatterer", "potential"),
}
"""Every module that reads case keys, and the families whose keys it reads."""

ACCESSORS = {"raw", "number", "string", "vector", "vectors", "numbers", "table", "tables"}


@pytest.fixture(autouse=True)
def _gauss_legendre_once(monkeypatch):
    """The Born model draws 400 Gauss-Legendre nodes (an eigenvalue problem) per parse; this module parses
    a dozen Born tables, so it computes them once (copies, so no caller can alter the cache)."""
    leggauss = np.polynomial.legendre.leggauss
    cached = functools.lru_cache(maxsize=None)(leggauss)
    monkeypatch.setattr(np.polynomial.legendre, "leggauss",
                        lambda n: tuple(a.copy() for a in cached(n)))


def _hosts(group: schema.Group):
    """(system, dotted location of the group's table in that system's case, context) for every family."""
    for family in group.families:
        if family in schema.HOSTS:
            system, prefix, context = schema.HOSTS[family]
        else:
            system, prefix, context = family, "", {}
        location = group.location.replace("[]", "[0]")
        yield system, ".".join(p for p in (prefix, location) if p), context


def _when_combinations(group: schema.Group):
    names = list(group.when)
    values = [v if isinstance(v, tuple) else (v,) for v in (group.when[n] for n in names)]
    for combo in itertools.product(*values):
        yield dict(zip(names, combo))


def _case(group: schema.Group, system: str, location: str, context: dict, when: dict, assignments: dict) -> dict:
    """The system's minimal case with the group's table at ``location``, then ``assignments`` made in it."""
    case = schema.base_case(system)
    for path, value in {**group.context, **context}.items():
        set_key(case, path, copy.deepcopy(value))
    table = _table_at(case, location)
    table.update(copy.deepcopy(group.base))
    table.update(when)
    for name, value in assignments.items():
        if value is _OMIT:
            _drop(table, name)
        else:
            set_key(table, name, copy.deepcopy(value))
    return case


def _table_at(case: dict, location: str) -> dict:
    """The table at a dotted location (``impurities[0].scatterer``), created if missing; a table that is
    replaced by a group's base (an array element, a nested table) starts empty."""
    node = case
    parts = location.split(".") if location else []
    for i, part in enumerate(parts):
        name, _, index = part.partition("[")
        last = i == len(parts) - 1
        if index:
            items = node.setdefault(name, [])
            if not items:
                items.append({})
            if last:
                items[0] = {}
            node = items[0]
        else:
            if last and name != "geometry":
                node[name] = {}
            node = node.setdefault(name, {})
    return node


_OMIT = object()


def _drop(table: dict, dotted: str) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        table = table.get(p, {})
    table.pop(last, None)


def _settings(key: schema.Key, value) -> dict:
    return {**key.companions, key.name: value}


def _example(group: schema.Group, key: schema.Key, system: str):
    """The key's example, except where it would change the system under test: [geometry] kind is the system."""
    if group.location == "geometry" and key.name == "kind":
        return system
    if not group.location and key.name == "geometry":
        return schema.base_case(system)["geometry"]
    return key.example_value()


def _cases(key_filter=lambda key: True):
    for group in schema.groups():
        for key in group.keys:
            if not key_filter(key):
                continue
            for system, location, context in _hosts(group):
                for when in _when_combinations(group):
                    if group.location == "geometry" and when.get("kind", system) != system:
                        continue  # [geometry] kind is the system itself
                    yield group, key, system, location, {**context, **key.context}, when


def _label(group, key, system, when) -> str:
    return f"{group.title} / {key.name} in a {system} case" + (f" ({when})" if when else "")


def test_every_registered_key_is_accepted_by_its_parser():
    for group, key, system, location, context, when in _cases():
        case = _case(group, system, location, context, when, _settings(key, _example(group, key, system)))
        try:
            parse_case(case)
        except ConfigError as exc:
            pytest.fail(f"{_label(group, key, system, when)}: the parser refuses the registered key: {exc}")


def _normal(value, depth=0):
    """A comparable form of a parsed model (dataclasses, arrays and plain objects by their contents)."""
    if depth > 8:
        return "..."
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple(_normal(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)))
    if isinstance(value, dict):
        return tuple(sorted((str(k), _normal(v, depth + 1)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(map(repr, value)))
    if isinstance(value, (list, tuple)):
        return tuple(_normal(v, depth + 1) for v in value)
    if isinstance(value, np.ndarray):
        return ("array", value.shape, tuple(np.asarray(value, dtype=complex).ravel().tolist()))
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, (float, np.floating)):
        return "nan" if math.isnan(value) else float(value)
    if callable(value) and not hasattr(value, "__dict__"):
        return getattr(value, "__name__", type(value).__name__)
    if hasattr(value, "__dict__"):
        return (type(value).__name__, _normal(vars(value), depth + 1))
    return repr(value)


def test_registered_defaults_are_the_parsers_defaults():
    def has_default(key):
        return not key.required and key.default is not None

    checked, seen = 0, set()
    for group, key, system, location, context, when in _cases(has_default):
        if id(key) in seen:
            continue  # a key shared by two tables (screened-ion keys of a scatterer and of a Born potential)
        seen.add(id(key))
        omitted = _case(group, system, location, context, when, {**key.companions, key.name: _OMIT})
        given = _case(group, system, location, context, when, _settings(key, key.default))
        a, b = parse_case(omitted), parse_case(given)
        assert _normal(a.settings) == _normal(b.settings) and _normal(a.model) == _normal(b.model), \
            f"{_label(group, key, system, when)}: the registered default {key.default!r} is not the parser's"
        checked += 1
    assert checked > 20


def test_registered_required_keys_are_required():
    for group, key, system, location, context, when in _cases(lambda key: key.required):
        if key.name in group.when or key.name in ("geometry",) or "." in key.name:
            continue  # discriminators and sub-table keys are required by construction
        case = _case(group, system, location, context, when, {**key.companions, key.name: _OMIT})
        with pytest.raises(ConfigError):
            parse_case(case)
            pytest.fail(f"{_label(group, key, system, when)}: registered as required, but the case parses without it")


def _literal_keys(path: Path) -> set[str]:
    """Keys a parser reads by name: string literals passed to a Table accessor (``table.number("radius")``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ACCESSORS
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    return names


def _registered_names(families) -> set[str]:
    names = set()
    for group in schema.groups():
        if set(group.families) & set(families):
            names |= {part for key in group.keys for part in key.name.split(".")}
            names |= {part.removesuffix("[]") for part in group.location.split(".") if part}
            names |= set(group.when)
    return names


@pytest.mark.parametrize("module", sorted(PARSERS))
def test_every_key_a_parser_reads_is_registered(module):
    read = _literal_keys(ROOT / module)
    assert read, f"{module} reads no key by name: is PARSERS out of date?"
    missing = read - _registered_names(PARSERS[module])
    assert not missing, f"{module} reads keys that mc.schema does not register: {sorted(missing)}"


def _shipped_cases() -> list[Path]:
    return sorted((ROOT / "runs").glob("*.toml")) + sorted(EXAMPLES.glob("*.toml"))


def test_shipped_cases_use_registered_keys_and_parse():
    paths = _shipped_cases()
    assert len(paths) >= 10
    for path in paths:
        data = load_toml(path)
        assert schema.unregistered_keys(data) == [], f"{path.name}: keys missing from mc.schema"
        parse_case(data, default_name=path.stem)


def test_unregistered_keys_are_found():
    case = schema.base_case("aperture")
    case["geometry"]["radus"] = 5.0
    case["tallies"].append({"kind": "density", "probes": [[0, 0, 5]], "mesh": {"rho_max": 1.0, "nrho": 2}})
    case["impurities"] = [{"position": [0, 0, 5], "scatterer": {"model": "cluster", "centres": [[0, 0, 0]],
                                                                "members": [{"model": "isotropic", "sigma": 1}]}}]
    assert schema.unregistered_keys(case) == ["geometry.radus", "tallies[1].mesh.nrho",
                                              "impurities[0].scatterer.members[0].sigma"]
    for system in schema.SYSTEM_FAMILIES:
        assert schema.unregistered_keys(schema.base_case(system)) == []


def test_the_reference_page_lists_every_key():
    page = schema.schema_markdown()
    for group in schema.groups():
        assert f"### {group.title}" in page
        for key in group.keys:
            assert f"`{key.name}`" in page
