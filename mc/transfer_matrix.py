"""Exact 1D transfer matrices for delta barriers, square barriers and any piecewise-constant profile.

The 1D Schroedinger equation in reduced units (hbar = m = 1, lengths in 1/k_F,
energies in hbar^2 k_F^2 / m) reads

    -(1/2) psi'' + V(z) psi = (k^2 / 2) psi ,

so inside a layer of constant height V the local wave number is
q^2 = k^2 - 2 V (evanescent, q = i kappa, when 2 V > k^2), and a delta
barrier g delta(z - z0) makes psi' jump by 2 g psi(z0).  With this convention
one delta barrier transmits T = 1 / (1 + g^2 / k^2), i.e. 1 / (1 + g^2) at k_F
(the convention of ../shared/examples/chain_landauer.toml).

A profile is an ordered list of *elements* (arrays of equal length):

* ``kinds[i]``  -- :data:`DELTA` or :data:`LAYER`;
* ``starts[i]`` -- left edge z of the element (the position of a delta);
* ``widths[i]`` -- width (0 for a delta);
* ``values[i]`` -- delta strength g (hbar^2 k_F / m) or layer height V (hbar^2 k_F^2 / m).

Elements must not overlap; V = 0 between them.  Outside the elements the
wave function is written with absolute phases, psi = A e^{ikz} + B e^{-ikz},
so free propagation is the identity and each element is one 2x2 matrix M_i
(det M_i = 1) mapping (A, B) just left of it to (A, B) just right of it.
It is built from the real (psi, psi') matrix of the element,

    layer:  [[cos qw, sin(qw)/q], [-q sin qw, cos qw]],    delta: [[1, 0], [2 g, 1]],

conjugated by W(z) = [[e^{ikz}, e^{-ikz}], [ik e^{ikz}, -ik e^{-ikz}]].
For the whole profile M = M_N ... M_1 and the left-incident scattering state
(A, B) = (1, r) on the far left, (t, 0) on the far right gives

    r = -M_10 / M_11 ,   t = 1 / M_11 ,   R = |r|^2 ,  T = |t|^2 = 1 - R .

The amplitudes a_L^+-, a_R^+- around every element (Sorbello Eq. 35) are found
by propagating (t, 0) backwards from the right with M_i^{-1}, the direction
in which the physical solution grows, which keeps them accurate even for
long, strongly localising chains.
"""

from __future__ import annotations

import math

import numpy as np

from geometry.jit import jit

DELTA = 0
LAYER = 1


@jit()
def psi_matrix(k2, kind, width, value):
    """Real (psi, psi') transfer matrix (p00, p01, p10, p11) across one element at energy k2/2."""
    if kind == DELTA:
        return 1.0, 0.0, 2.0 * value, 1.0
    q2 = k2 - 2.0 * value
    if q2 > 0.0:
        q = math.sqrt(q2)
        c = math.cos(q * width)
        s = math.sin(q * width)
        return c, s / q, -q * s, c
    if q2 < 0.0:
        kappa = math.sqrt(-q2)
        c = math.cosh(kappa * width)
        s = math.sinh(kappa * width)
        return c, s / kappa, kappa * s, c
    return 1.0, width, 0.0, 1.0


@jit()
def plane_wave_matrix(k, kind, start, width, value):
    """Matrix (m00, m01, m10, m11) mapping absolute-phase plane-wave coefficients (A, B) across one element."""
    p00, p01, p10, p11 = psi_matrix(k * k, kind, width, value)
    za = start
    zb = start + width
    ea = complex(math.cos(k * za), math.sin(k * za))
    eb = complex(math.cos(k * zb), math.sin(k * zb))
    ik = complex(0.0, k)
    # W(za): columns are (e, ik e) and (1/e, -ik/e)
    w00 = ea
    w01 = 1.0 / ea
    w10 = ik * ea
    w11 = -ik / ea
    # P W(za)
    x00 = p00 * w00 + p01 * w10
    x01 = p00 * w01 + p01 * w11
    x10 = p10 * w00 + p11 * w10
    x11 = p10 * w01 + p11 * w11
    # W(zb)^{-1} = [[1/(2 e), 1/(2 ik e)], [e/2, -e/(2 ik)]]
    v00 = 0.5 / eb
    v01 = 0.5 / (ik * eb)
    v10 = 0.5 * eb
    v11 = -0.5 * eb / ik
    return (
        v00 * x00 + v01 * x10,
        v00 * x01 + v01 * x11,
        v10 * x00 + v11 * x10,
        v10 * x01 + v11 * x11,
    )


@jit()
def profile_matrix(k, kinds, starts, widths, values):
    """Total plane-wave matrix M = M_N ... M_1 of a profile (tuple m00, m01, m10, m11)."""
    m00 = complex(1.0, 0.0)
    m01 = complex(0.0, 0.0)
    m10 = complex(0.0, 0.0)
    m11 = complex(1.0, 0.0)
    for i in range(kinds.shape[0]):
        e00, e01, e10, e11 = plane_wave_matrix(k, kinds[i], starts[i], widths[i], values[i])
        n00 = e00 * m00 + e01 * m10
        n01 = e00 * m01 + e01 * m11
        n10 = e10 * m00 + e11 * m10
        n11 = e10 * m01 + e11 * m11
        m00, m01, m10, m11 = n00, n01, n10, n11
    return m00, m01, m10, m11


@jit()
def profile_reflection(k, kinds, starts, widths, values):
    """Reflection probability R(k) = |M_10 / M_11|^2 of a profile for a wave incident from the left."""
    m00, m01, m10, m11 = profile_matrix(k, kinds, starts, widths, values)
    return (abs(m10) / abs(m11)) ** 2


@jit()
def profile_reflection_many(ks, kinds, starts, widths, values):
    """R(k) for an array of wave numbers (quadratures, plots)."""
    out = np.empty(ks.shape[0])
    for j in range(ks.shape[0]):
        out[j] = profile_reflection(ks[j], kinds, starts, widths, values)
    return out


@jit()
def profile_amplitudes(k, kinds, starts, widths, values):
    """Amplitudes of the left-incident scattering state around every element (Sorbello Eq. 35).

    Returns ``(left, right, r, t)``: ``left[i] = (a_L^+, a_L^-)`` just left of
    element i and ``right[i] = (a_R^+, a_R^-)`` just right of it, normalised
    to unit incident amplitude on the far left.
    """
    n = kinds.shape[0]
    left = np.zeros((n, 2), dtype=np.complex128)
    right = np.zeros((n, 2), dtype=np.complex128)
    a = complex(1.0, 0.0)
    b = complex(0.0, 0.0)
    for i in range(n - 1, -1, -1):
        right[i, 0] = a
        right[i, 1] = b
        e00, e01, e10, e11 = plane_wave_matrix(k, kinds[i], starts[i], widths[i], values[i])
        # inverse of a det-1 matrix
        a, b = e11 * a - e01 * b, -e10 * a + e00 * b
        left[i, 0] = a
        left[i, 1] = b
    scale = 1.0 / a  # a = 1/t on the far left
    for i in range(n):
        left[i, 0] *= scale
        left[i, 1] *= scale
        right[i, 0] *= scale
        right[i, 1] *= scale
    r = left[0, 1] if n > 0 else complex(0.0, 0.0)
    t = scale
    return left, right, r, t


# ----------------------------------------------------------------------------------------------
# Plain-Python conveniences


def as_arrays(elements) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Element list ``[(kind, start, width, value), ...]`` -> the four kernel arrays."""
    if len(elements) == 0:
        return (np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0))
    kinds = np.array([e[0] for e in elements], dtype=np.int64)
    starts = np.array([e[1] for e in elements], dtype=float)
    widths = np.array([e[2] for e in elements], dtype=float)
    values = np.array([e[3] for e in elements], dtype=float)
    return kinds, starts, widths, values


def reflection(k, elements) -> np.ndarray:
    """R(k) of an element list for scalar or array k (k in k_F)."""
    arrays = as_arrays(elements)
    ks = np.atleast_1d(np.asarray(k, dtype=float))
    out = profile_reflection_many(ks, *arrays)
    return out if np.ndim(k) else float(out[0])


def scattering(k, elements) -> tuple[complex, complex]:
    """Complex amplitudes (r, t) of a left-incident wave (absolute-phase convention)."""
    m00, m01, m10, m11 = profile_matrix(float(k), *as_arrays(elements))
    return -m10 / m11, 1.0 / m11


def amplitudes(k, elements):
    """(left, right, r, t) of :func:`profile_amplitudes` for an element list."""
    return profile_amplitudes(float(k), *as_arrays(elements))


def rectangular_elements(height: float, width: float, start: float) -> list[tuple]:
    """One square barrier of ``height`` on [start, start + width]."""
    return [(LAYER, start, width, height)]


def piecewise_elements(edges, heights) -> list[tuple]:
    """Contiguous layers: heights[j] on [edges[j], edges[j+1]] (edges increasing)."""
    return [(LAYER, float(edges[j]), float(edges[j + 1] - edges[j]), float(heights[j])) for j in range(len(heights))]


def sampled_elements(z, heights, cells: int) -> list[tuple]:
    """Piecewise-linear profile through samples (z_j, V_j) cut into ``cells`` equal layers.

    Each layer carries the profile's value at its midpoint (midpoint rule),
    so R converges to the smooth profile's with an O(h^2) bias, h = span / cells.
    """
    z = np.asarray(z, float)
    heights = np.asarray(heights, float)
    edges = np.linspace(z[0], z[-1], cells + 1)
    mids = 0.5 * (edges[1:] + edges[:-1])
    return piecewise_elements(edges, np.interp(mids, z, heights))
