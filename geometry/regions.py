"""Regions: half-space algebra over surfaces (intersection ``&``, union ``|``, complement ``~``).

``-sphere & +plane`` is the part of the ball on the + side of the plane.  In
Python a region answers :meth:`Region.contains` for arrays of points; for the
kernels it is flattened into a postfix (reverse Polish) program of int64
tokens over surface indices, evaluated by :func:`region_contains` with a
small boolean stack:

* ``2 s + 1`` / ``2 s``: the point is on the + / - side of surface s;
* :data:`AND`, :data:`OR`, :data:`NOT`: operators on the stack.

The empty program is the whole space.  A point that sits on surface
``on_surface`` (a particle crossing it) is put on the side it moves into,
``sense_of_surface`` (+1 or -1), so cell membership never depends on
rounding at the crossing point.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from geometry.jit import jit
from geometry.surfaces import Surface, surface_value

AND, OR, NOT = -1, -2, -3
MAX_DEPTH = 63
"""Deepest operand stack a region program may need: the stack is the bits of one integer."""


class Region:
    def __and__(self, other: "Region") -> "Region":
        return Intersection(self, other)

    def __or__(self, other: "Region") -> "Region":
        return Union(self, other)

    def __invert__(self) -> "Region":
        return Complement(self)

    def contains(self, points) -> np.ndarray:
        """Boolean array: which of the points (shape (..., 3)) lie in the region."""
        raise NotImplementedError

    def surfaces(self) -> list[Surface]:
        raise NotImplementedError

    def program(self, index: Callable[[Surface], int]) -> list[int]:
        """Postfix tokens with surfaces numbered by ``index``."""
        raise NotImplementedError


class Everywhere(Region):
    """The whole space (an empty program)."""

    def contains(self, points) -> np.ndarray:
        return np.ones(np.asarray(points).shape[:-1], dtype=bool)

    def surfaces(self) -> list[Surface]:
        return []

    def program(self, index) -> list[int]:
        return []


class Halfspace(Region):
    """The + side (f > 0) or - side (f < 0) of a surface."""

    def __init__(self, surface: Surface, positive: bool):
        self.surface = surface
        self.positive = positive

    def contains(self, points) -> np.ndarray:
        f = self.surface.value(points)
        # a point on the surface (f = 0) counts as on its - side, as in region_contains
        return f > 0.0 if self.positive else ~(f > 0.0)

    def surfaces(self) -> list[Surface]:
        return [self.surface]

    def program(self, index) -> list[int]:
        return [2 * index(self.surface) + (1 if self.positive else 0)]

    def __repr__(self) -> str:
        return f"{'+' if self.positive else '-'}{self.surface!r}"


class Intersection(Region):
    def __init__(self, *parts: Region):
        self.parts = parts

    def contains(self, points) -> np.ndarray:
        result = self.parts[0].contains(points)
        for part in self.parts[1:]:
            result = result & part.contains(points)
        return result

    def surfaces(self) -> list[Surface]:
        return [s for part in self.parts for s in part.surfaces()]

    def program(self, index) -> list[int]:
        tokens = self.parts[0].program(index)
        for part in self.parts[1:]:
            tokens = tokens + part.program(index) + [AND]
        return tokens


class Union(Region):
    def __init__(self, *parts: Region):
        self.parts = parts

    def contains(self, points) -> np.ndarray:
        result = self.parts[0].contains(points)
        for part in self.parts[1:]:
            result = result | part.contains(points)
        return result

    def surfaces(self) -> list[Surface]:
        return [s for part in self.parts for s in part.surfaces()]

    def program(self, index) -> list[int]:
        tokens = self.parts[0].program(index)
        for part in self.parts[1:]:
            tokens = tokens + part.program(index) + [OR]
        return tokens


class Complement(Region):
    def __init__(self, part: Region):
        self.part = part

    def contains(self, points) -> np.ndarray:
        return ~self.part.contains(points)

    def surfaces(self) -> list[Surface]:
        return self.part.surfaces()

    def program(self, index) -> list[int]:
        if isinstance(self.part, Everywhere):
            raise ValueError("the complement of everywhere is empty")
        return self.part.program(index) + [NOT]


def stack_depth(tokens: list[int]) -> int:
    depth = deepest = 0
    for token in tokens:
        if token >= 0:
            depth += 1
        elif token != NOT:
            depth -= 1
        deepest = max(deepest, depth)
    return deepest


@jit()
def region_contains(tokens, start, end, surfaces, x, y, z, on_surface, sense_of_surface):
    """Is the point in the region whose postfix program is tokens[start:end]?"""
    if end == start:
        return True
    # the operand stack lives in the bits of one integer (top = lowest bit): no allocation
    stack = 0
    for i in range(start, end):
        token = tokens[i]
        if token >= 0:
            s = token >> 1
            if s == on_surface:
                positive = sense_of_surface > 0
            else:
                positive = surface_value(surfaces, s, x, y, z) > 0.0
            bit = 1 if positive == ((token & 1) == 1) else 0
            stack = (stack << 1) | bit
        elif token == NOT:
            stack ^= 1
        else:
            top = stack & 1
            stack >>= 1
            if token == AND:
                stack = (stack & ~1) | (stack & top & 1)
            else:
                stack = stack | top
    return (stack & 1) == 1
