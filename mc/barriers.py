"""Impurity layers (slabs) |z| < d/2, infinite in x and y: a 1D barrier profile and its R(cos theta) (Sorbello Sec. III B).

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
