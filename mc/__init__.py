"""emmc: Monte Carlo transport of Fermi-surface electrons and electromigration forces.

Python API (the same as the ``emmc`` command line)::

    import mc
    case = mc.load_case("point_contact_ballistic.toml", histories=200_000)
    table = mc.run(case)            # pandas DataFrame, SPEC §6 columns
    study = mc.sweep("case.toml", {"histories": [10_000, 40_000, 160_000]})

The names (and ``__version__``) are resolved on first use: importing ``mc``
runs no heavy import, so ``emmc --help`` is quick and a Ctrl-C while numba
and pandas load is caught by the command line (one line, no traceback).
"""

from importlib import import_module

_EXPORTS = {
    "ConfigError": "mc.errors",
    "sweep": "mc.campaign",
    "load_case": "mc.case",
    "parse_case": "mc.case",
    "plot": "mc.case",
    "figures": "mc.case",
    "run": "mc.case",
    "write_results": "mc.case",
}

__all__ = list(_EXPORTS)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("emmc")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def __getattr__(name: str):
    if name == "__version__":
        globals()[name] = _version()
        return globals()[name]
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mc' has no attribute {name!r}")
