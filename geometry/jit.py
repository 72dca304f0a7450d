"""The one decorator of every emmc kernel: numba's ``njit`` with an on-disk cache keyed on emmc's sources.

numba stamps a cached kernel with the source of the file that defines it only.
A kernel that inlines a function from another file (the engine inlines
surfaces, tallies and samplers) would then load stale machine code after that
other file changed.  :func:`jit` registers, once, cache locators that add a
digest of every ``.py`` file of the ``geometry``, ``mc`` and ``observables``
packages to the stamp of emmc's own kernels, so any change to them recompiles
(an installed package never changes, so users pay nothing for this).

It lives here, at the bottom of the import graph, because every package with
kernels may import ``geometry`` and ``geometry`` imports nothing of emmc.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from numba import njit
from numba.core import caching

PACKAGES = ("geometry", "mc", "observables")
_ROOT = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def sources_digest() -> str:
    """SHA-256 of the paths and contents of every source file of the kernel packages."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        for path in sorted((_ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _is_emmc_source(py_file) -> bool:
    try:
        relative = Path(py_file).resolve().relative_to(_ROOT)
    except (ValueError, OSError):
        return False
    return relative.parts[0] in PACKAGES


def _keyed(locator: type) -> type:
    class KeyedLocator(locator):
        emmc_keyed = True

        def get_source_stamp(self):
            return super().get_source_stamp(), sources_digest()

        @classmethod
        def from_function(cls, py_func, py_file):
            if not _is_emmc_source(py_file):
                return None
            return super().from_function(py_func, py_file)

    KeyedLocator.__name__ = KeyedLocator.__qualname__ = f"Emmc{locator.__name__}"
    return KeyedLocator


def _install_locators() -> None:
    implementation = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl")
    classes = list(implementation._locator_classes)
    if any(getattr(c, "emmc_keyed", False) for c in classes):
        return
    source_backed = [c for c in classes if issubclass(c, caching._SourceFileBackedLocatorMixin)]
    implementation._locator_classes = [_keyed(c) for c in source_backed] + classes


_install_locators()


def jit(**options):
    """``numba.njit(cache=True, **options)`` for emmc's kernels (see the module docstring)."""
    return njit(cache=True, **options)
