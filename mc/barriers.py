"""1D barriers: the impurity layer of a slab and the impurities of a chain (Sorbello Secs. III A, III B).

A layer (slab) |z| < d/2, infinite in x and y, has a 1D profile and its
R(cos theta); a chain 0 < z < L holds delta and square barriers (Eq. 27).

The slab is described by its 1D potential profile V(z) (energies in
hbar^2 k_F^2 / m, lengths in 1/k_F), from which R(theta) follows at
k_z = k_F cos(theta) by :mod:`mc.transfer_matrix`, or directly by a table of
R against cos(theta).  Profiles are confined to the slab: every layer lies in
[-d/2, d/2].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mc import transfer_matrix as tm
from mc.transfer_matrix import DELTA, LAYER


@dataclass(frozen=True)
class Slab:
    """Thickness d and either a profile (element list) or a table R(cos theta)."""

    thickness: float
    model: str
    elements: tuple = ()
    table_cos: np.ndarray = field(default_factory=lambda: np.zeros(0))
    table_reflection: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def uses_table(self) -> bool:
        return self.model == "table"

    def reflection(self, mu):
        """R at cos(theta) = mu (scalar or array): transfer matrix of the profile, or the table interpolated linearly."""
        if self.uses_table:
            return np.interp(mu, self.table_cos, self.table_reflection)
        return tm.reflection(mu, list(self.elements))

    def breakpoints(self) -> np.ndarray:
        """Kinks of R(mu) on [0, 1] (the table nodes) for exact quadrature."""
        if self.uses_table:
            return np.unique(np.concatenate([[0.0, 1.0], self.table_cos]))
        return np.array([0.0, 1.0])

    def kernel_arrays(self):
        """(kinds, starts, widths, values, table_cos, table_reflection) for the Monte Carlo kernel."""
        kinds, starts, widths, values = tm.as_arrays(list(self.elements))
        return kinds, starts, widths, values, np.asarray(self.table_cos, float), np.asarray(self.table_reflection, float)

    def profile(self, samples: int = 400) -> tuple[np.ndarray, np.ndarray]:
        """(z, V(z)) of the layered profile for plots (deltas are not drawn)."""
        half = 0.5 * self.thickness
        z = np.linspace(-half - 0.25 * self.thickness, half + 0.25 * self.thickness, samples)
        v = np.zeros_like(z)
        for kind, start, width, value in self.elements:
            if kind == tm.LAYER:
                v[(z >= start) & (z < start + width)] = value
        return z, v


def rectangular(thickness: float, height: float) -> Slab:
    return Slab(thickness, "rectangular", tuple(tm.rectangular_elements(height, thickness, -0.5 * thickness)))


def piecewise(thickness: float, edges, heights) -> Slab:
    return Slab(thickness, "piecewise", tuple(tm.piecewise_elements(edges, heights)))


def sampled(thickness: float, z, heights, cells: int) -> Slab:
    return Slab(thickness, "sampled", tuple(tm.sampled_elements(z, heights, cells)))


def table(thickness: float, cos_theta, reflection) -> Slab:
    return Slab(thickness, "table", (), np.asarray(cos_theta, float), np.asarray(reflection, float))


# ------------------------------------------------------------------ the chain (Sorbello Sec. III A)
# The chain occupies 0 < z < L (reservoirs at z <= 0 and z >= L).  Each potential is a delta
# barrier strength * delta(z - position) (strength in hbar^2 k_F/m) or a square barrier of
# height (hbar^2 k_F^2/m) and width centred at position (lengths in 1/k_F).  Sorbello requires
# the potentials not to overlap, so that V = 0 regions exist between them.




@dataclass(frozen=True)
class ChainPotential:
    """One impurity: model "delta" (strength) or "square" (height, width), centred at ``position``."""

    model: str
    position: float
    strength: float = 0.0
    height: float = 0.0
    width: float = 0.0

    @property
    def extent(self) -> tuple[float, float]:
        """The interval [z_left, z_right] where the potential is non-zero (a point for a delta)."""
        half = 0.5 * self.width if self.model == "square" else 0.0
        return self.position - half, self.position + half

    def element(self) -> tuple:
        """The transfer-matrix element (kind, start, width, value) of :mod:`mc.transfer_matrix`."""
        if self.model == "delta":
            return (DELTA, self.position, 0.0, self.strength)
        return (LAYER, self.extent[0], self.width, self.height)

    def scatterer(self) -> tuple:
        """The description used by :func:`observables.analytic.chain.coherent_rt`."""
        if self.model == "delta":
            return ("delta", self.position, self.strength)
        return ("square", self.position, self.height, self.width)


@dataclass(frozen=True)
class Chain:
    """Potentials sorted by position inside a chain of length ``length``."""

    length: float
    potentials: tuple[ChainPotential, ...]

    def elements(self) -> list[tuple]:
        return [p.element() for p in self.potentials]

    def scatterers(self) -> list[tuple]:
        return [p.scatterer() for p in self.potentials]

    @property
    def positions(self) -> list[float]:
        return [p.position for p in self.potentials]


def placement_problem(length: float, potentials) -> tuple[int, str] | None:
    """First placement error as (index into ``potentials``, reason), or None.

    Every potential must lie strictly inside (0, L); after sorting by
    position, consecutive potentials must leave a V = 0 gap between them.
    """
    for i, p in enumerate(potentials):
        lo, hi = p.extent
        if not (lo > 0.0 and hi < length):
            return i, f"extends over [{lo:g}, {hi:g}], outside the chain 0 < z < length = {length:g}"
    order = sorted(range(len(potentials)), key=lambda i: potentials[i].position)
    for a, b in zip(order[:-1], order[1:]):
        if not potentials[a].extent[1] < potentials[b].extent[0]:
            return b, (
                f"overlaps potential {a} ([{potentials[a].extent[0]:g}, {potentials[a].extent[1]:g}] and "
                f"[{potentials[b].extent[0]:g}, {potentials[b].extent[1]:g}]); Sorbello's chain needs V = 0 between impurities"
            )
    return None


def sorted_chain(length: float, potentials) -> Chain:
    return Chain(length=length, potentials=tuple(sorted(potentials, key=lambda p: p.position)))
