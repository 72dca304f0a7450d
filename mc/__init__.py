"""emmc: Monte Carlo transport of Fermi-surface electrons and electromigration forces.

Python API (the same as the ``emmc`` command line)::

    import mc
    case = mc.load_case("point_contact_ballistic.toml", histories=200_000)
    table = mc.run(case)            # pandas DataFrame, SPEC §6 columns
    study = mc.sweep("case.toml", {"histories": [10_000, 40_000, 160_000]})

The names are imported on first use, so ``emmc --help`` and an early Ctrl-C
do not wait for numba and pandas.
"""

from importlib import import_module, metadata

try:
    __version__ = metadata.version("emmc")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"

_EXPORTS = {
    "ConfigError": "mc.errors",
    "sweep": "mc.campaign",
    "load_case": "mc.case",
    "parse_case": "mc.case",
    "plot": "mc.case",
    "run": "mc.case",
    "write_results": "mc.case",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mc' has no attribute {name!r}")
