"""The one decorator of every emmc kernel: numba's ``njit`` with an on-disk cache keyed on emmc's sources.

numba stamps a cached kernel with the source of the file that defines it only.
A kernel that inlines a function or a constant from another file (the engine
inlines surfaces, tallies, samplers and the codes of geometry.model) would then
load stale machine code after that other file changed.  :func:`jit` registers,
once, cache locators that add a digest of the kernel sources to the stamp of
emmc's own kernels: every file that defines kernels, and every emmc module
those import from, transitively.  Any change to them recompiles; a change elsewhere
(the command line, tables, references) does not.

It lives here, at the bottom of the import graph, because every package with
kernels may import ``geometry`` and ``geometry`` imports nothing of emmc.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

from numba import njit, types
from numba.core import caching

PACKAGES = ("geometry", "mc", "observables")
_ROOT = Path(__file__).resolve().parents[1]


def _module_file(module: str) -> Path | None:
    base = _ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _emmc_imports(path: Path) -> set[Path]:
    """The emmc source files a file imports from (``from mc.x import y`` may name module mc.x.y)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.split(".")[0] in PACKAGES and (file := _module_file(name)) is not None:
                found.add(file)
    return found


def _defines_kernels(path: Path) -> bool:
    """Does the file compile code: import this module's decorator or numba's extension API?"""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module in ("geometry.jit", "numba.extending"):
            return True
    return False


def kernel_sources() -> list[Path]:
    """Files that define kernels, and the emmc files they import from, transitively."""
    pending = [p for package in PACKAGES for p in (_ROOT / package).rglob("*.py") if _defines_kernels(p)]
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path not in seen:
            seen.add(path)
            pending.extend(_emmc_imports(path) - seen)
    return sorted(seen)


@functools.lru_cache(maxsize=None)
def sources_digest() -> str:
    """SHA-256 of the paths and contents of the kernel sources (:func:`kernel_sources`)."""
    digest = hashlib.sha256()
    for path in kernel_sources():
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


def _typed_by_type(dispatcher):
    """Resolve calls from other kernels with the arguments' types, never their literal values.

    numba types an integer constant argument (``f(x, -1)``, a module constant, an IR-inlined
    helper's ``hit = -1`` before type inference has widened it) as ``Literal[int](-1)`` and
    compiles the callee once more for it: a second copy of the surface crossing, the region
    test and the surface normal cost about 3 s of every cold start.  No emmc kernel depends on
    a literal argument, so one specialisation per argument type serves them all."""
    resolve = dispatcher.get_call_template

    def get_call_template(args, kws):
        return resolve(tuple(types.unliteral(a) for a in args), {k: types.unliteral(v) for k, v in kws.items()})

    dispatcher.get_call_template = get_call_template
    return dispatcher


def jit(**options):
    """``numba.njit(cache=True, **options)`` for emmc's kernels, one specialisation per argument
    types (see the module docstring and :func:`_typed_by_type`)."""
    decorate = njit(**{"cache": True, **options})
    return lambda function: _typed_by_type(decorate(function))
