"""Transmission of a cylindrical neck with diffuse or partially specular walls (Clausing's problem).

A straight cylindrical neck of radius a and length L joins two ballistic
half-spaces (screens at both ends).  The left half-space delivers the left
reservoir's distribution onto the entrance disk: a Lambertian flux of
occupation 1 in every incoming direction (nothing else reaches the opening:
the screen is a plane, and a flight that leaves it, diffusely or specularly,
moves away from that plane for ever).  Whatever leaves the neck through
either end never returns, for the same reason.  So the particle current is

    I = (a^2 / 4 pi) W(L/a, p),     R = R_Sharvin(a) / W = 4 pi / (a^2 W)

(reduced units, SPEC §1: hbar = m = e = k_F = 1, delta-mu = 1; R in hbar/e^2),
with W the probability that a Lambertian particle entering one end leaves by
the other: the Clausing factor of free-molecular flow (P. Clausing, Ann.
Phys. 12, 961 (1932); the same integral equation as the rarefied-gas tube
conductance, tabulated e.g. by A. S. Berman, J. Appl. Phys. 36, 3356 (1965)).

Here W is computed, independently of the Monte Carlo, by solving Clausing's
integral equation for the density n(x) of diffuse wall events along the
tube (lengths in units of a, the entrance flux density 1):

    n(x) = q(x) + int_0^L K_p(|x - x'|) n(x') dx',
    W    = T_direct + 2 int_0^L n(x) E(L - x) dx,

with the view factors of a unit cylinder (Siegel & Howell, catalogue of
configuration factors):

* F(z) = (z^2 + 2) / (2 sqrt(z^2 + 4)) - z/2: from a wall element to an end
  disk at axial distance z (F(0) = 1/2);
* K(z) = -dF/dz = 1/2 - z (z^2 + 6) / (2 (z^2 + 4)^(3/2)): per unit length,
  to a wall ring at axial distance z (int_0^inf K = 1/2 per side);
* F_dd(L) = (X - sqrt(X^2 - 4)) / 2, X = 2 + L^2: disk to disk.

Partially specular walls (Fuchs' p: specular with probability p, else
Lambertian).  Specular reflection in a cylinder keeps the axial velocity and
the chord, so the k-th wall hit after a diffuse emission lies at k times
the first hop: K_p(z) = (1 - p) sum_k p^(k-1) K(z/k)/k.  A diffuse emission
at distance s from an end leaves through it before its next diffuse event
with probability E(s) = (1 - p) sum_k p^(k-1) F(s/k) (the first specular
hops telescope), by reciprocity (specular reflection conserves radiance)
the entrance flux makes its first diffuse event at x with density
q(x) = (1 - p) E(x), and the rest passes straight through:
T_direct = 1 - 2 int_0^L q (a specular wall never reverses v_z).  p = 0 is
Clausing's equation (q = F, E = F, T_direct = F_dd); p = 1 gives W = 1.

Numerics: Nystrom on equal composite Gauss-Legendre panels; K_p has a kink
at z = 0, so the row of a node integrates its own panel by product
integration (Lagrange basis on two Gauss rules split at the node).  Checked by
refinement, by the equilibrium identity n_left(x) + n_left(L - x) = 1 - p
(both ends fed equally, the wall sees an isotropic gas) and by W + back = 1
(tests/test_constriction.py).  Tabulated values of the Clausing factor
(Berman 1965, to 4 digits): W(1) = 0.6720, W(2) = 0.5142, W(10) = 0.1909;
this solution gives 0.671984, 0.514231, 0.190942 (and W(0.1) = 0.952399,
W(5) = 0.310525, W(100) = 0.025276).  Limits: W = 1 - L/2 + O(L^2) (short),
W -> 8/(3L) (long, Knudsen; W 3L/8 = 0.948 at L = 100: the approach is slow).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from observables.analytic.point_contact import sharvin_resistance

PANEL_LENGTH = 1.0
"""Panel length in units of a (the kernels vary on the scale of the radius): 12 nodes a panel
agree with 0.2 a panels of 16 nodes to 1e-10."""
MAX_LENGTH_OVER_RADIUS = 400.0
"""Longest neck solved (4,800 nodes, a dense matrix of 184 MB, a few seconds)."""
ORDER = 12
SERIES_TOLERANCE = 1e-15
"""The specular series stops when p^(k-1) falls below this."""


def wall_to_disk(z):
    """View factor from a wall element of a unit cylinder to an end disk at axial distance z >= 0."""
    z = np.asarray(z, dtype=float)
    return (z * z + 2.0) / (2.0 * np.sqrt(z * z + 4.0)) - 0.5 * z


def wall_to_ring(z):
    """View factor per unit axial length from a wall element to a wall ring at axial distance |z|: -dF/dz."""
    z = np.abs(np.asarray(z, dtype=float))
    return 0.5 - z * (z * z + 6.0) / (2.0 * (z * z + 4.0) ** 1.5)


def disk_to_disk(length):
    """View factor between the two end disks of a unit cylinder of the given length."""
    x = 2.0 + np.asarray(length, dtype=float) ** 2
    # (X - sqrt(X^2 - 4))/2 = 2 / (X + sqrt(X^2 - 4)) without the cancellation at large L
    return 2.0 / (x + np.sqrt(x * x - 4.0))


def _specular_sum(function, s, specularity: float, scale_by_k: bool):
    """sum_k p^(k-1) f(s/k) [/k]: a diffuse emission's k-th hop after k - 1 specular reflections."""
    s = np.asarray(s, dtype=float)
    total = np.zeros_like(s)
    k = 1
    weight = 1.0
    while weight > SERIES_TOLERANCE:
        term = function(s / k)
        total += weight * (term / k if scale_by_k else term)
        k += 1
        weight *= specularity
        if specularity == 0.0:
            break
    return total


def escape_probability(s, specularity: float = 0.0):
    """E(s): a diffuse wall emission at distance s from an end leaves through that end before its next
    diffuse event, (1 - p) sum_k p^(k-1) F(s/k)."""
    return (1.0 - specularity) * _specular_sum(wall_to_disk, s, specularity, scale_by_k=False)


def diffuse_kernel(z, specularity: float = 0.0):
    """K_p(z): density per unit length of the next diffuse event at axial distance |z| from a diffuse emission."""
    return (1.0 - specularity) * _specular_sum(wall_to_ring, np.abs(z), specularity, scale_by_k=True)


def _lagrange_basis(nodes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(len(points), len(nodes)) values of the Lagrange basis polynomials of ``nodes`` at ``points``."""
    diff = points[:, None, None] - nodes[None, None, :]  # (P, 1, N)
    own = nodes[:, None] - nodes[None, :]  # (N, N)
    np.fill_diagonal(own, 1.0)
    factors = diff / own[None, :, :]  # (P, N, N): (t - x_m)/(x_j - x_m)
    index = np.arange(len(nodes))
    factors[:, index, index] = 1.0
    return np.prod(factors, axis=2)


@dataclass(frozen=True)
class WallSolution:
    """Nodes x (units of a), weights, and the diffuse-event density n(x) of a neck fed at x = 0."""

    length: float
    specularity: float
    nodes: np.ndarray
    weights: np.ndarray
    density: np.ndarray

    @property
    def transmission(self) -> float:
        """W = T_direct + 2 int n(x) E(L - x) dx (wall area 2 pi a dx over the opening's pi a^2)."""
        p = self.specularity
        exit_side = escape_probability(self.length - self.nodes, p)
        return float(self.direct + 2.0 * np.sum(self.weights * self.density * exit_side))

    @property
    def reflection(self) -> float:
        """Probability of leaving back through the entrance (only via diffuse events)."""
        back = escape_probability(self.nodes, self.specularity)
        return float(2.0 * np.sum(self.weights * self.density * back))

    @property
    def direct(self) -> float:
        """Entrance flux that reaches the exit without a diffuse event."""
        p = self.specularity
        if p == 0.0:
            return float(disk_to_disk(self.length))
        first = (1.0 - p) * escape_probability(self.nodes, p)
        return float(1.0 - 2.0 * np.sum(self.weights * first))


def solve_wall_density(length_over_radius: float, specularity: float = 0.0, *, panel_length: float = PANEL_LENGTH,
                       order: int = ORDER) -> WallSolution:
    """Nystrom solution of n = q + K_p n on [0, L] (see the module docstring); lengths in units of a."""
    length = float(length_over_radius)
    p = float(specularity)
    if not 0.0 < length <= MAX_LENGTH_OVER_RADIUS:
        raise ValueError(f"length_over_radius must be in (0, {MAX_LENGTH_OVER_RADIUS:g}], got {length_over_radius}")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"specularity must be in [0, 1) for the wall density (p = 1 has no diffuse events), got {p}")
    panels = max(1, math.ceil(length / panel_length))
    width = length / panels
    t, w = np.polynomial.legendre.leggauss(order)
    local = 0.5 * width * (t + 1.0)  # nodes inside one panel, from its left edge
    nodes = (width * np.arange(panels)[:, None] + local[None, :]).ravel()
    weights = np.tile(0.5 * width * w, panels)
    # smooth part: the Gauss rule of each source panel.  The panels are equal, so the kernel
    # between two depends only on how many panels apart they are (2 panels - 1 blocks)
    apart = np.arange(-(panels - 1), panels)
    blocks = diffuse_kernel(apart[:, None, None] * width + local[None, :, None] - local[None, None, :], p)
    panel_of = np.repeat(np.arange(panels), order)
    index = np.tile(np.arange(order), panels)
    matrix = blocks[panel_of[:, None] - panel_of[None, :] + panels - 1, index[:, None], index[None, :]] * weights[None, :]
    # own panel: product integration split at the node, where K_p has its kink (Lagrange basis
    # of the panel's nodes on a Gauss rule either side); the same block for every panel
    ts, ws = np.polynomial.legendre.leggauss(2 * order)
    own = np.empty((order, order))
    for i, x in enumerate(local):
        points = np.concatenate([x * 0.5 * (ts + 1.0), x + (width - x) * 0.5 * (ts + 1.0)])
        point_weights = np.concatenate([0.5 * x * ws, 0.5 * (width - x) * ws])
        own[i] = (point_weights * diffuse_kernel(x - points, p)) @ _lagrange_basis(local, points)
    for panel in range(panels):
        block = slice(panel * order, (panel + 1) * order)
        matrix[block, block] = own
    source = (1.0 - p) * escape_probability(nodes, p)
    density = np.linalg.solve(np.eye(len(nodes)) - matrix, source)
    return WallSolution(length, p, nodes, weights, density)


@lru_cache(maxsize=256)
def transmission(length_over_radius: float, specularity: float = 0.0) -> float:
    """W(L/a, p): probability that a Lambertian particle entering one end of the neck leaves by the other.

    p = 0 is the Clausing factor; p = 1 gives 1 (specular walls never reverse v_z); L -> 0 gives 1."""
    if specularity == 1.0:
        return 1.0
    return solve_wall_density(length_over_radius, specularity).transmission


def resistance(radius: float, length: float, specularity: float = 0.0) -> float:
    """Two-terminal resistance of the neck between ballistic half-spaces, R_Sharvin(a) / W(L/a, p), in hbar/e^2."""
    return sharvin_resistance(radius) / transmission(length / radius, specularity)


def current(radius: float, length: float, specularity: float = 0.0) -> float:
    """Particle current a^2 W / (4 pi) through the neck (delta-mu = 1)."""
    return radius**2 * transmission(length / radius, specularity) / (4.0 * math.pi)


def short_tube_limit(length_over_radius):
    """W = 1 - L/(2a) + O((L/a)^2): the disk-to-disk factor 1 - L/a plus half of what hits the wall."""
    return 1.0 - 0.5 * np.asarray(length_over_radius, dtype=float)


def long_tube_limit(length_over_radius):
    """W -> 8a/(3L) (Knudsen's long-tube conductance) for L >> a, diffuse walls."""
    return 8.0 / (3.0 * np.asarray(length_over_radius, dtype=float))
