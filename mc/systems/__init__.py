"""Registry of simulated systems, selected by ``[geometry] kind``.

Each system module provides

* ``parse(root, geometry, settings)`` (``root`` and ``geometry`` are
  :class:`mc.config.Table`, ``settings`` the shared :class:`mc.config.RunSettings`)
  returning its validated model; it consumes every key it understands,
  unknown keys are then rejected by the caller;
* ``prepare(case) -> mc.batches.Simulation``: the kernel over histories and the
  decoder of its batch totals into ``observables.tables.ResultRows`` (the
  batch loop itself is the caller's), and
* optionally ``plot(case, frame, out_dir) -> list[Path]`` for ``emmc run --plot``.

Modules are imported lazily so that a case only compiles the kernels it uses.
"""

from __future__ import annotations

import importlib
from types import ModuleType

SYSTEMS = {
    "aperture": "mc.point_contact",
    "constriction": "mc.point_contact",
    "slab": "mc.slab",
    "chain": "mc.chain",
    "bulk": "mc.bulk",
    "impurity_array": "mc.impurity_array",
}
"""[geometry] kind -> module; the 3D systems are builders of a model on the one engine (mc.engine)."""


def system_module(kind: str) -> ModuleType:
    return importlib.import_module(SYSTEMS[kind])
