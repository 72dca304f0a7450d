"""Small shapes that flights are measured against: balls and disks.

Flights are straight lines p + t u with |u| = 1 (lengths in 1/k_F).
"""

from __future__ import annotations

import math

from geometry.jit import jit


@jit()
def first_not_below(sorted_values, start, stop, bound):
    """Smallest i in [start, stop) with sorted_values[i] >= bound (stop if none): a binary search of
    the ascending slice, which lets a flight test only the shapes whose z lies near its own."""
    while start < stop:
        middle = (start + stop) // 2
        if sorted_values[middle] < bound:
            start = middle + 1
        else:
            stop = middle
    return start


@jit()
def z_window(pz, uz, length, reach):
    """The z range a flight p + t u, 0 <= t <= length, comes within ``reach`` of (all z if endless)."""
    if not length < math.inf:
        return -math.inf, math.inf
    z_end = pz + length * uz
    return min(pz, z_end) - reach, max(pz, z_end) + reach


@jit()
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


def disk_view(position, disk_z: float, disk_radius: float) -> tuple[float, float, float, float]:
    """How the disk rho < R in the plane z = disk_z is seen from r0 (z0 >= disk_z).

    The directions from r0 through the disk are parametrised by the azimuth phi
    of rays from the foot point (x0, y0, disk_z) (|phi| < phi_max, measured from
    the direction to the disk centre) and the polar angle about -z.  Returns
    (height z0 - disk_z, rho0, azimuth pointing to the centre, phi_max); phi_max
    is pi when the foot lies inside the disk."""
    x0, y0, z0 = (float(v) for v in position)
    rho0 = math.hypot(x0, y0)
    toward_centre = math.atan2(-y0, -x0) if rho0 > 0.0 else 0.0
    phi_max = math.pi if rho0 <= disk_radius else math.asin(disk_radius / rho0)
    return z0 - disk_z, rho0, toward_centre, phi_max


def disk_distance(position, disk_z: float, disk_radius: float) -> float:
    """Distance from a point to the disk rho <= R, z = disk_z."""
    x0, y0, z0 = (float(v) for v in position)
    rho = math.hypot(x0, y0)
    return math.hypot(max(rho - disk_radius, 0.0), z0 - disk_z)


def annulus_distance(position, plane_z: float, hole_radius: float) -> float:
    """Distance from a point to the plane z = plane_z outside the hole rho < R (an opaque screen)."""
    x0, y0, z0 = (float(v) for v in position)
    rho = math.hypot(x0, y0)
    return math.hypot(max(hole_radius - rho, 0.0), z0 - plane_z)


def cap_below_plane(centre_z: float, radius: float, plane_z: float) -> tuple[float, float]:
    """Volume of the part of a ball below the plane z = plane_z, and its first moment int (z - centre_z) dV.

    With d = plane_z - centre_z clipped to [-R, R]: V = pi (R^2 (d + R) - (d^3 + R^3)/3) and
    int (z - z_c) dV = -(pi/4) (R^2 - d^2)^2."""
    d = min(max(plane_z - centre_z, -radius), radius)
    volume = math.pi * (radius**2 * (d + radius) - (d**3 + radius**3) / 3.0)
    return volume, -0.25 * math.pi * (radius**2 - d**2) ** 2
