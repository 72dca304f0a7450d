"""emmc: Monte Carlo transport of Fermi-surface electrons and electromigration forces.

Python API (the same as the ``emmc`` command line)::

    import mc
    case = mc.load_case("point_contact_ballistic.toml", histories=200_000)
    table = mc.run(case)            # pandas DataFrame, SPEC §6 columns
    study = mc.sweep("case.toml", {"histories": [10_000, 40_000, 160_000]})
"""

from mc.errors import ConfigError
from mc.campaign import sweep
from mc.case import load_case, parse_case, plot, run, write_results

__all__ = ["ConfigError", "load_case", "parse_case", "plot", "run", "sweep", "write_results"]
