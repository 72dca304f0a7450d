"""A 1D chain of localized potentials between two reservoirs (Sorbello Sec. III A, Eq. 27).

The chain occupies 0 < z < L (reservoirs at z <= 0 and z >= L).  Each potential
is a delta barrier ``strength * delta(z - position)`` (strength in hbar^2 k_F/m)
or a square barrier of ``height`` (hbar^2 k_F^2/m) and ``width`` centred at
``position`` (lengths in 1/k_F).  Sorbello requires the potentials to be
non-overlapping so that V = 0 regions exist between them; this is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass

from mc.transfer_matrix import DELTA, LAYER


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
