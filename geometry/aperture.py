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


def hole_view(position, hole_radius: float) -> tuple[float, float, float]:
    """How the hole is seen from r0 (z0 >= 0), for sampling Omega0(r0) by the azimuth of rays
    from the foot point (x0, y0, 0): (rho0, azimuth pointing to the hole centre, phi_max),
    with |phi| < phi_max the rays that cross the hole (pi if the foot lies inside it)."""
    x0, y0, _ = (float(v) for v in position)
    rho0 = math.hypot(x0, y0)
    toward_centre = math.atan2(-y0, -x0) if rho0 > 0.0 else 0.0
    phi_max = math.pi if rho0 <= hole_radius else math.asin(hole_radius / rho0)
    return rho0, toward_centre, phi_max


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
