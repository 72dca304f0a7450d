"""Reading and validating TOML cases.

A case file has a few top-level keys shared by every system (``name``,
``seed``, ``histories``, ``batches``) and a ``[geometry]`` table whose
``kind`` selects the system module that parses the rest (see
:mod:`mc.systems`).  Validation is strict and happens before any work:
every key must be consumed, every number must be finite and in range,
otherwise :class:`mc.errors.ConfigError` names the key and the reason.

Every real number of a case is bounded by :data:`MAX_MAGNITUDE` (1e12 in
reduced units: lengths in 1/k_F, so 1e12/k_F is about 100 m in a metal):
beyond it squares of lengths and solid angles lose all precision or overflow
long after the transport has run.  Every integer must fit a signed 64-bit
integer, and histories at most :data:`MAX_HISTORIES` (history indices and the
extension batches of a precision target stay 64-bit).
"""

from __future__ import annotations

import math
import numbers
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from mc.errors import ConfigError

_REQUIRED = object()

MAX_MAGNITUDE = 1e12
"""Largest |x| of a real number in a case (reduced units)."""

MAX_HISTORIES = 2**62


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Table:
    """A TOML table being read.

    Each accessor consumes one key and checks it; :meth:`finish` rejects any
    key that no accessor consumed (typos must not be silently ignored).
    ``path`` is the dotted location used in error messages, e.g.
    ``tallies[1].probes``.
    """

    def __init__(self, data: Any, path: str):
        if not isinstance(data, dict):
            raise ConfigError(path or "<case>", f"must be a table, got {type(data).__name__}")
        self._data = data
        self._used: set[str] = set()
        self.path = path

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def error(self, key: str, reason: str) -> ConfigError:
        return ConfigError(self.key_path(key), reason)

    def raw(self, key: str, default: Any = _REQUIRED) -> Any:
        if key not in self._data:
            if default is _REQUIRED:
                raise self.error(key, "is required")
            return default
        self._used.add(key)
        return self._data[key]

    def number(
        self,
        key: str,
        default: Any = _REQUIRED,
        *,
        gt: float | None = None,
        ge: float | None = None,
        le: float | None = None,
        lt: float | None = None,
        integer: bool = False,
    ) -> float | int | None:
        value = self.raw(key, default)
        if value is None or (value is default and default is not _REQUIRED):
            return value
        return check_number(value, self.key_path(key), gt=gt, ge=ge, le=le, lt=lt, integer=integer)

    def string(self, key: str, default: Any = _REQUIRED, *, choices: Iterable[str] | None = None) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
        return value

    def vector(self, key: str, default: Any = _REQUIRED, *, length: int = 3) -> tuple[float, ...]:
        value = self.raw(key, default)
        return check_vector(value, self.key_path(key), length=length)

    def vectors(self, key: str, default: Any = _REQUIRED, *, length: int = 3) -> list[tuple[float, ...]]:
        value = self.raw(key, default)
        if not isinstance(value, list) or not value:
            raise self.error(key, "must be a non-empty list of points")
        return [check_vector(v, f"{self.key_path(key)}[{i}]", length=length) for i, v in enumerate(value)]

    def numbers(self, key: str, default: Any = _REQUIRED, **bounds) -> list[float]:
        value = self.raw(key, default)
        if not isinstance(value, list) or not value:
            raise self.error(key, "must be a non-empty list of numbers")
        return [check_number(v, f"{self.key_path(key)}[{i}]", **bounds) for i, v in enumerate(value)]

    def table(self, key: str, default: Any = _REQUIRED) -> "Table | None":
        value = self.raw(key, default)
        if value is None:
            return None
        return Table(value, self.key_path(key))

    def tables(self, key: str) -> list["Table"]:
        value = self.raw(key, [])
        if not isinstance(value, list):
            raise self.error(key, "must be an array of tables ([[...]])")
        return [Table(v, f"{self.key_path(key)}[{i}]") for i, v in enumerate(value)]

    def finish(self) -> None:
        unknown = [k for k in self._data if k not in self._used]
        if unknown:
            raise self.error(unknown[0], "unknown key")


def check_number(value: Any, key: str, *, gt=None, ge=None, le=None, lt=None, integer=False):
    """Check that ``value`` is a finite number within the given bounds."""
    if not _is_number(value):
        raise ConfigError(key, f"must be a number, got {value!r}")
    if integer and not isinstance(value, int):
        if float(value).is_integer():
            value = int(value)
        else:
            raise ConfigError(key, f"must be an integer, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(key, f"must be finite, got {value!r}")
    if integer and not -(2**63) <= value < 2**63:
        raise ConfigError(key, f"must be a 64-bit integer (|n| < 2**63), got {float(value):.3g}")
    if not integer and abs(value) > MAX_MAGNITUDE:
        raise ConfigError(key, f"must be within +-{MAX_MAGNITUDE:g} (reduced units, lengths in 1/k_F), got {value!r}")
    if gt is not None and not value > gt:
        raise ConfigError(key, f"must be > {gt}, got {value!r}")
    if ge is not None and not value >= ge:
        raise ConfigError(key, f"must be >= {ge}, got {value!r}")
    if lt is not None and not value < lt:
        raise ConfigError(key, f"must be < {lt}, got {value!r}")
    if le is not None and not value <= le:
        raise ConfigError(key, f"must be <= {le}, got {value!r}")
    return value


def check_vector(value: Any, key: str, *, length: int = 3) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)) or len(value) != length:
        raise ConfigError(key, f"must be a list of {length} numbers, got {value!r}")
    return tuple(float(check_number(v, f"{key}[{i}]")) for i, v in enumerate(value))


@dataclass(frozen=True)
class RunSettings:
    """The top-level keys every case shares (SPEC §7)."""

    name: str
    seed: int
    histories: int
    batches: int


def read_run_settings(root: Table, *, default_name: str) -> RunSettings:
    name = root.string("name", default_name)
    seed = int(root.number("seed", 1, ge=0, lt=2**63, integer=True))
    histories = int(root.number("histories", 100_000, ge=1, integer=True))
    if histories > MAX_HISTORIES:
        raise root.error("histories", f"must be <= 2**62 = {MAX_HISTORIES:.3g} (64-bit history indices), "
                                      f"got {histories:.3g}")
    batches = int(root.number("batches", 20, ge=2, integer=True))
    if batches > histories:
        raise root.error("batches", f"must not exceed histories ({histories}), got {batches}")
    return RunSettings(name=name, seed=seed, histories=histories, batches=batches)


def load_toml(path: str | Path) -> dict:
    """Read a TOML file; a missing file or a syntax error is a ConfigError."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), "no such file") from None
    except IsADirectoryError:
        raise ConfigError(str(path), "is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"invalid TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                                     "a case file is TOML, which is UTF-8") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read ({exc.strerror})") from None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):  # numpy scalars too (a case built in Python may hold them)
        value = float(value)
        if not math.isfinite(value):
            return ("-" if value < 0 else "") + ("nan" if math.isnan(value) else "inf")
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dump_toml(data: dict) -> str:
    """A case dict as TOML text that reads back (``tomllib.loads``) to an equal dict.

    Top-level tables become ``[sections]``, arrays of tables ``[[sections]]``;
    deeper tables are inline.  Used to record in a run directory the case as run."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if not _is_section(v)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines += ["", f"[{_toml_key(key)}]"] + [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()]
        elif _is_section(value):
            for item in value:
                lines += ["", f"[[{_toml_key(key)}]]"] + [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items()]
    text = "\n".join(lines) + "\n"
    if tomllib.loads(text) != data:  # a writer bug must not record a different case than the one run
        raise ValueError("the case does not survive a TOML round trip")
    return text


def _is_section(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value))
