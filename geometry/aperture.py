"""The point contact: a circular hole of radius a in an opaque, infinitely thin plane z = 0.

Flights are straight lines x(t) = p + t u with |u| = 1; the functions here
return distances along a flight to the surfaces that end it, and what the
wall does to a particle that hits it (specular or diffuse, i.e. Lambertian
re-emission).  The system is bounded, where it must be, by a sphere of
radius R (the far hemispheres of the two reservoirs, which absorb).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numba import njit

from mc.streams import uniform

SPECULAR = 0
DIFFUSE = 1
WALL_KINDS = {"specular": SPECULAR, "diffuse": DIFFUSE}


@dataclass(frozen=True)
class Aperture:
    """Hole of ``radius`` (1/k_F) in the plane z = 0 whose wall is ``wall`` ('specular' or 'diffuse')."""

    radius: float
    wall: str = "specular"

    @property
    def area(self) -> float:
        return math.pi * self.radius**2

    def on_wall(self, position) -> bool:
        """Is the point on the opaque part of the plane (where nothing can sit)?"""
        x, y, z = position
        return z == 0.0 and math.hypot(x, y) >= self.radius

    def wall_hits_ball(self, centre, ball_radius: float) -> bool:
        """Does a ball (a probe volume) intersect the opaque part of the plane?"""
        x, y, z = centre
        if abs(z) >= ball_radius:
            return False
        reach = math.sqrt(ball_radius**2 - z**2)
        return math.hypot(x, y) + reach > self.radius


@njit(cache=True, inline="always")
def distance_to_plane(z, uz):
    """Distance to z = 0 along the flight, infinite if moving away from (or along) the plane."""
    if z * uz < 0.0:
        return -z / uz
    return math.inf


@njit(cache=True, inline="always")
def distance_to_sphere_exit(x, y, z, ux, uy, uz, radius):
    """Distance to leave the ball |r| < radius from inside it (infinite for radius = inf)."""
    if radius == math.inf:
        return math.inf
    b = x * ux + y * uy + z * uz
    c = x * x + y * y + z * z - radius * radius
    disc = b * b - c
    if disc <= 0.0:
        return 0.0
    return max(0.0, -b + math.sqrt(disc))


@njit(cache=True, inline="always")
def ball_interval(px, py, pz, ux, uy, uz, length, cx, cy, cz, ball_radius):
    """Parameters (t_in, t_out) of the part of the segment p + t u, 0 <= t <= length,
    inside the ball (centre c, radius); t_out <= t_in when it misses."""
    dx = px - cx
    dy = py - cy
    dz = pz - cz
    b = dx * ux + dy * uy + dz * uz
    c = dx * dx + dy * dy + dz * dz - ball_radius * ball_radius
    disc = b * b - c
    if disc <= 0.0:
        return 0.0, 0.0
    root = math.sqrt(disc)
    return max(-b - root, 0.0), min(-b + root, length)


@njit(cache=True, inline="always")
def chord_in_ball(px, py, pz, ux, uy, uz, length, cx, cy, cz, ball_radius):
    """Length of the segment p + t u, 0 <= t <= length, inside the ball (centre c, radius)."""
    t_in, t_out = ball_interval(px, py, pz, ux, uy, uz, length, cx, cy, cz, ball_radius)
    if t_out > t_in:
        return t_out - t_in
    return 0.0


@njit(cache=True, inline="always")
def back_ray_through_hole(x0, y0, z0, kx, ky, kz, hole_radius):
    """Is the incoming direction k at r0 (z0 >= 0) one of Omega0(r0), i.e. does the ray
    r0 - t k, t > 0, cross the plane z = 0 inside the hole (Sorbello Eq. 49)?"""
    if kz <= 0.0:
        return False
    t = z0 / kz
    x = x0 - t * kx
    y = y0 - t * ky
    return x * x + y * y < hole_radius * hole_radius


def hole_cone(position, hole_radius: float, n_rim: int = 2048) -> tuple[np.ndarray, float]:
    """Axis and cosine of the half-angle of a cone of incoming directions containing Omega0(r0).

    Directions k in Omega0(r0) point from the hole to r0 (z0 >= 0).  The axis
    is the direction from the hole centre to r0; the half-angle is the largest
    angle to any rim point, widened by a margin that covers the rim's
    discretisation; where that cone would pass 90 degrees the hemisphere
    k_z > 0 is used (it always contains Omega0).
    """
    x0, y0, z0 = (float(v) for v in position)
    if z0 <= 0.0:
        return np.array([0.0, 0.0, 1.0]), 0.0
    axis = np.array([x0, y0, z0])
    axis /= np.linalg.norm(axis)
    psi = np.linspace(0.0, 2.0 * np.pi, n_rim, endpoint=False)
    rim = np.stack([hole_radius * np.cos(psi), hole_radius * np.sin(psi), np.zeros_like(psi)], axis=1)
    towards = np.array([x0, y0, z0]) - rim
    towards /= np.linalg.norm(towards, axis=1)[:, None]
    angles = np.arccos(np.clip(towards @ axis, -1.0, 1.0))
    # inside the rim's projection the cone must reach the axis of every direction:
    step = 2.0 * np.pi * hole_radius / n_rim / max(z0, 1e-12)
    half_angle = angles.max() + 2.0 * step
    if half_angle >= np.pi / 2.0:
        # no narrower cone about this axis: the hemisphere k_z > 0 always contains Omega0
        return np.array([0.0, 0.0, 1.0]), 0.0
    return axis, float(np.cos(half_angle))


@njit(cache=True, inline="always")
def lambert_disk_sample(state):
    """A point uniform on the unit disk by rejection; with uz = sqrt(1 - x^2 - y^2) it is a
    cosine-weighted (Lambertian) direction (Malley's method)."""
    while True:
        u1, state = uniform(state)
        u2, state = uniform(state)
        x = 2.0 * u1 - 1.0
        y = 2.0 * u2 - 1.0
        if x * x + y * y < 1.0:
            return x, y, state


@njit(cache=True, inline="always")
def reflect_from_wall(ux, uy, uz, wall_kind, state):
    """New direction after hitting the wall while moving with uz (toward the plane).

    Specular: uz -> -uz.  Diffuse: Lambertian about the wall normal on the side
    the particle came from (the flux-conserving, isotropising wall)."""
    if wall_kind == SPECULAR:
        return ux, uy, -uz, state
    x, y, state = lambert_disk_sample(state)
    normal = math.sqrt(max(0.0, 1.0 - x * x - y * y))
    if uz > 0.0:
        normal = -normal
    return x, y, normal, state
