"""geometry.jit, the one decorator of every kernel: its cache key and its one specialisation per type."""

from __future__ import annotations

import numpy as np
from numba import njit

import geometry.jit as kernel_jit
from geometry.jit import jit


# not cached: a caller loaded from the cache would not compile its callee at all
@jit(cache=False)
def _scaled(k, x):
    return k * x


@jit(cache=False)
def _calls_with_a_literal_and_a_variable(x, n):
    return _scaled(-1, x) + _scaled(n, x)


@njit
def _plain_scaled(k, x):
    return k * x


@njit
def _plain_calls(x, n):
    return _plain_scaled(-1, x) + _plain_scaled(n, x)


def test_a_literal_argument_does_not_compile_the_callee_twice():
    """numba alone types f(-1, x) as Literal[int](-1) and compiles f once more for it (the
    control); through geometry.jit both calls share the int64 specialisation."""
    assert _plain_calls(2.0, np.int64(3)) == 4.0
    assert len(_plain_scaled.overloads) == 2  # what numba does by itself
    assert _calls_with_a_literal_and_a_variable(2.0, np.int64(3)) == 4.0
    assert [str(t) for t in _scaled.signatures[0]] == ["int64", "float64"]
    assert len(_scaled.overloads) == 1


def _tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_cache_key_follows_the_kernel_sources_and_what_they_import(tmp_path, monkeypatch):
    """A kernel inlines helpers from other files: an edit there must change the key (else numba
    loads stale machine code); an edit to a file no kernel imports must not (users compile once)."""
    _tree(tmp_path, {
        "geometry/__init__.py": "",
        "geometry/kernels.py": "from geometry.jit import jit\nfrom mc.helpers import helper\n",
        "mc/__init__.py": "",
        "mc/helpers.py": "def helper():\n    return 1\n",
        "mc/cli.py": "import argparse\n",
    })
    monkeypatch.setattr(kernel_jit, "_ROOT", tmp_path)
    kernel_jit.sources_digest.cache_clear()
    try:
        sources = {p.relative_to(tmp_path).as_posix() for p in kernel_jit.kernel_sources()}
        assert sources == {"geometry/kernels.py", "mc/helpers.py"}
        before = kernel_jit.sources_digest()
        kernel_jit.sources_digest.cache_clear()
        (tmp_path / "mc/cli.py").write_text("import argparse  # edited\n")
        assert kernel_jit.sources_digest() == before
        kernel_jit.sources_digest.cache_clear()
        (tmp_path / "mc/helpers.py").write_text("def helper():\n    return 2\n")
        assert kernel_jit.sources_digest() != before
    finally:
        kernel_jit.sources_digest.cache_clear()
