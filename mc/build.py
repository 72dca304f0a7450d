"""Build a case from Python objects, beside TOML (in the spirit of OpenMC's model API).

    import mc
    from mc.build import Model, Geometry, Source, Impurity, Scatterer, Tally

    model = Model(
        "hole-with-impurity", seed=7, histories=200_000,
        geometry=Geometry("aperture", radius=10.0, wall="specular"),
        source=Source("aperture"),
        impurities=[Impurity([0.0, 0.0, 5.0], Scatterer("isotropic", cross_section=1.0))],
        tallies=[Tally("current"), Tally("wind_force", estimator="both")],
    )
    case = model.validate()          # the same rules and one-line messages as a TOML file
    model.to_toml("case.toml")       # and Model.from_toml("case.toml") == model
    table = model.run(threads=2)     # the SPEC §6 DataFrame

Every object is a TOML table: its first argument is the table's kind (``kind`` of a
geometry, source or tally; ``model`` of a scatterer or barrier) and its keywords are
the table's keys, exactly as ``emmc schema KIND`` lists them (``docs/configuration.md``).
Nothing is checked when an object is made: :meth:`Model.validate` hands the dict to
:func:`mc.case.parse_case`, the one parser, so a misspelt key or an impossible geometry
is refused with the message a TOML file would get (``geometry.radius: must be > 0``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path
from typing import Any

from mc.config import dump_toml


@dataclass
class _Table:
    """A TOML table: its kind (or model) and its keys."""

    _tag = "kind"
    kind: str
    keys: dict = _field(default_factory=dict)

    def __init__(self, kind: str, **keys):
        self.kind = kind
        self.keys = keys

    def to_dict(self) -> dict:
        return {self._tag: self.kind, **{k: _plain(v) for k, v in self.keys.items()}}

    @classmethod
    def from_dict(cls, data: dict):
        data = dict(data)
        return cls(data.pop(cls._tag), **{k: _objects(k, v) for k, v in data.items()})


class Geometry(_Table):
    """``[geometry]``: ``Geometry("aperture", radius=10.0)``, ``Geometry("slab", thickness=2.0, barrier=Barrier(...))``."""


class Source(_Table):
    """``[source]``: ``Source("aperture")``, ``Source("reservoir", reservoir_radius=100.0)``."""


class Tally(_Table):
    """One ``[[tallies]]`` table: ``Tally("density", probes=[[0, 0, 5]])``."""


class Scatterer(_Table):
    """A scatterer (``model`` and its parameters): ``Scatterer("phase_shifts", phase_shifts=[0.5, 0.2])``."""

    _tag = "model"


class Barrier(_Table):
    """A slab's barrier (``model`` and its parameters): ``Barrier("rectangular", height=0.3)``."""

    _tag = "model"


@dataclass
class Impurity:
    """One ``[[impurities]]`` table: a position, a scatterer and any further keys (``direct_valence``, ...)."""

    position: list
    scatterer: Scatterer | dict
    keys: dict = _field(default_factory=dict)

    def __init__(self, position, scatterer, **keys):
        self.position = list(position)
        self.scatterer = scatterer
        self.keys = keys

    def to_dict(self) -> dict:
        return {"position": _plain(self.position), "scatterer": _plain(self.scatterer),
                **{k: _plain(v) for k, v in self.keys.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "Impurity":
        data = dict(data)
        position, scatterer = data.pop("position", None), data.pop("scatterer", None)
        return cls(position if position is not None else [], _objects("scatterer", scatterer),
                   **{k: _objects(k, v) for k, v in data.items()})


_SECTIONS = ("background", "transport", "field")
"""Plain top-level tables without a kind: given as dicts (``background={"mean_free_path": 50.0}``)."""


@dataclass
class Model:
    """A whole case: the run settings, the system's tables and the tallies."""

    name: str
    geometry: Geometry
    tallies: list[Tally] = _field(default_factory=list)
    source: Source | None = None
    impurities: list[Impurity] = _field(default_factory=list)
    seed: int | None = None
    histories: int | None = None
    batches: int | None = None
    background: dict | None = None
    transport: dict | None = None
    field: dict | None = None
    extra: dict = _field(default_factory=dict)
    """Any other top-level key or table, passed through to the parser (which refuses the unknown)."""

    def to_dict(self) -> dict:
        """The case as the dict a TOML file parses to (keys in the order of the examples)."""
        data: dict[str, Any] = {"name": self.name}
        for key in ("seed", "histories", "batches"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        data["geometry"] = self.geometry.to_dict()
        for key in ("source",) + _SECTIONS:
            value = getattr(self, key)
            if value is not None:
                data[key] = _plain(value)
        if self.impurities:
            data["impurities"] = [_plain(i) for i in self.impurities]
        if self.tallies:
            data["tallies"] = [_plain(t) for t in self.tallies]
        data.update({k: _plain(v) for k, v in self.extra.items()})
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Model":
        data = dict(data)
        known = {"name": data.pop("name", "case")}
        for key in ("seed", "histories", "batches") + _SECTIONS:
            if key in data:
                known[key] = data.pop(key)
        geometry = data.pop("geometry", {})
        known["geometry"] = Geometry.from_dict(geometry) if isinstance(geometry, dict) and "kind" in geometry else geometry
        if isinstance(data.get("source"), dict) and "kind" in data["source"]:
            known["source"] = Source.from_dict(data.pop("source"))
        known["impurities"] = [Impurity.from_dict(i) for i in data.pop("impurities", [])]
        known["tallies"] = [Tally.from_dict(t) if isinstance(t, dict) and "kind" in t else t
                            for t in data.pop("tallies", [])]
        return cls(**known, extra=data)

    def to_toml(self, path: str | Path) -> Path:
        """Write the case as a TOML file that :meth:`from_toml` (and ``emmc run``) reads back identically."""
        path = Path(path)
        path.write_text(dump_toml(self.to_dict()), encoding="utf-8")
        return path

    @classmethod
    def from_toml(cls, path: str | Path) -> "Model":
        with open(path, "rb") as handle:
            return cls.from_dict(tomllib.load(handle))

    def validate(self, **overrides):
        """The validated :class:`mc.case.Case`: the TOML rules and messages (raises :class:`mc.ConfigError`)."""
        from mc.case import parse_case

        return parse_case(self.to_dict(), default_name=self.name, **overrides)

    def run(self, *, threads: int | None = None, progress: bool = False, **overrides):
        """Validate and simulate: the SPEC §6 results table (a pandas DataFrame)."""
        from mc.case import run

        return run(self.validate(**overrides), threads=threads, progress=progress)


_KINDS = {"geometry": Geometry, "source": Source, "scatterer": Scatterer, "barrier": Barrier}


def _plain(value):
    """Objects to the dicts and lists of TOML."""
    if isinstance(value, (_Table, Impurity)):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _objects(key: str, value):
    """Nested tables that have a class of their own back to objects (scatterers, barriers, members)."""
    if key in _KINDS and isinstance(value, dict) and _KINDS[key]._tag in value:
        return _KINDS[key].from_dict(value)
    if key == "members" and isinstance(value, list):
        return [Scatterer.from_dict(v) if isinstance(v, dict) and "model" in v else v for v in value]
    return value
