"""Frozen copy of the point-contact kernel before the one-engine rewrite (issue 8), for benchmarks only.

``bench/bench_point_contact.py`` times the engine against this kernel in the same
run (the issue's target: the engine at >= 0.8x of it).  Nothing in emmc uses this
file; it is today's code, gathered from geometry/aperture.py, mc/sources.py,
observables/tallies.py and mc/transport.py as they were, and must not change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geometry.jit import jit
from mc.scattering.sampling import sample_outgoing, scattering_intensity, total_cross_section
from mc.streams import history_stream, uniform

CHUNK = 2048


# ------------------------------ the aperture geometry (geometry/aperture.py)

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


@jit(inline="always")
def distance_to_plane(z, uz):
    """Distance to z = 0 along the flight, infinite if moving away from (or along) the plane."""
    if z * uz < 0.0:
        return -z / uz
    return math.inf


@jit(inline="always")
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


@jit(inline="always")
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


@jit(inline="always")
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


@jit(inline="always")
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


@jit(inline="always")
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


# ------------------------------ the sources (mc/legacy_sources.py)

APERTURE_SOURCE = 0
RESERVOIR_SOURCE = 1
SOURCE_KINDS = {"aperture": APERTURE_SOURCE, "reservoir": RESERVOIR_SOURCE}

EMISSION_PER_AREA = 1.0 / (4.0 * math.pi**2)
"""Emitted particle current per unit area of a reservoir boundary, (dn/dE) v_F delta-mu / 4."""


def source_strength(kind: int, hole_radius: float, reservoir_radius: float) -> float:
    """Particle current emitted by the source (e delta-mu / hbar), the weight of all histories.

    aperture: the Lambertian flux through the hole, a^2/4 pi (Liouville: the
    hole is seen full from the left, so this is the Sharvin current, Eq. 54);
    reservoir: the flux emitted inward by the far hemisphere, 2 pi R^2 / (4 pi^2).
    """
    if kind == APERTURE_SOURCE:
        return math.pi * hole_radius**2 * EMISSION_PER_AREA
    return 2.0 * math.pi * reservoir_radius**2 * EMISSION_PER_AREA


@jit(inline="always")
def about_axis(nx, ny, nz, x, y, along):
    """The vector with components (x, y, along) in an orthonormal frame whose third axis is n
    (Duff et al. 2017, branch-free frame)."""
    sign = 1.0 if nz >= 0.0 else -1.0
    a = -1.0 / (sign + nz)
    b = nx * ny * a
    t1x, t1y, t1z = 1.0 + sign * nx * nx * a, sign * b, -sign * nx
    t2x, t2y, t2z = b, sign + ny * ny * a, -ny
    return (
        x * t1x + y * t2x + along * nx,
        x * t1y + y * t2y + along * ny,
        x * t1z + y * t2z + along * nz,
    )


@jit(inline="always")
def lambert_about(nx, ny, nz, state):
    """A direction cosine-distributed about the unit normal n."""
    x, y, state = lambert_disk_sample(state)
    along = math.sqrt(max(0.0, 1.0 - x * x - y * y))
    ux, uy, uz = about_axis(nx, ny, nz, x, y, along)
    return ux, uy, uz, state


@jit(inline="always")
def aperture_emission(hole_radius, side, state):
    """Equivalent source on the hole: uniform on the disk, Lambertian toward z * side > 0."""
    x, y, state = lambert_disk_sample(state)
    ux, uy, state = lambert_disk_sample(state)
    uz = side * math.sqrt(max(0.0, 1.0 - ux * ux - uy * uy))
    return hole_radius * x, hole_radius * y, 0.0, ux, uy, uz, state


@jit(inline="always")
def reservoir_emission(reservoir_radius, state):
    """Analog source: uniform on the left hemisphere |r| = R, z < 0, Lambertian inward."""
    x1, x2, state = lambert_disk_sample(state)  # Marsaglia: uniform on the sphere
    s = x1 * x1 + x2 * x2
    root = 2.0 * math.sqrt(1.0 - s)
    nx, ny, nz = x1 * root, x2 * root, -abs(1.0 - 2.0 * s)
    ux, uy, uz, state = lambert_about(-nx, -ny, -nz, state)
    return reservoir_radius * nx, reservoir_radius * ny, reservoir_radius * nz, ux, uy, uz, state


# ------------------------------ the tallies (observables/legacy_tallies.py)

PROBE_SCORES = 4
"""Per probe: sum w l, sum w l ux, sum w l uy, sum w l uz."""

MESH_SCORES = 3
"""Per cylindrical-mesh cell: sum w l, sum w d(rho) (= int u.rho_hat dl), sum w l uz."""

IMPURITY_SCORES = 14
"""Per impurity: analog [collisions, Px, Py, Pz, backscatter], next-event [the same five],
density-moment ball [sum w l, sum w l (mid - r0)_x, _y, _z]; offsets below."""
ANALOG, NEXT_EVENT, MOMENT = 0, 5, 10


@dataclass(frozen=True)
class CylindricalMesh:
    """Uniform (rho, z) mesh: rho in [0, rho_max] in n_rho bins, z in [z_min, z_max] in n_z bins."""

    rho_max: float
    n_rho: int
    z_min: float
    z_max: float
    n_z: int

    @property
    def rho_edges(self) -> np.ndarray:
        return np.linspace(0.0, self.rho_max, self.n_rho + 1)

    @property
    def z_edges(self) -> np.ndarray:
        return np.linspace(self.z_min, self.z_max, self.n_z + 1)

    @property
    def cell_volumes(self) -> np.ndarray:
        r = self.rho_edges
        annulus = np.pi * (r[1:] ** 2 - r[:-1] ** 2)
        return annulus[:, None] * np.diff(self.z_edges)[None, :]

    def as_arrays(self):
        return (
            np.array([self.rho_max, self.z_min, self.z_max], dtype=np.float64),
            np.array([self.n_rho, self.n_z], dtype=np.int64),
        )


@dataclass(frozen=True)
class ScoreLayout:
    """Where each tally lives in the score vector of a point-contact history."""

    n_probes: int
    n_mesh_cells: int
    n_impurities: int = 0

    current: int = 0

    @property
    def probes(self) -> int:
        return 1

    @property
    def mesh(self) -> int:
        return self.probes + PROBE_SCORES * self.n_probes

    @property
    def impurities(self) -> int:
        return self.mesh + MESH_SCORES * self.n_mesh_cells

    @property
    def size(self) -> int:
        return self.impurities + IMPURITY_SCORES * self.n_impurities


@jit(inline="always")
def score_probes(acc, offset, px, py, pz, ux, uy, uz, length, weight, centres, radii):
    for i in range(centres.shape[0]):
        chord = chord_in_ball(px, py, pz, ux, uy, uz, length, centres[i, 0], centres[i, 1], centres[i, 2], radii[i])
        if chord > 0.0:
            k = offset + PROBE_SCORES * i
            wl = weight * chord
            acc[k] += wl
            acc[k + 1] += wl * ux
            acc[k + 2] += wl * uy
            acc[k + 3] += wl * uz


@jit(inline="always")
def _radius_at(px, py, ux, uy, t):
    x = px + t * ux
    y = py + t * uy
    return math.sqrt(x * x + y * y)


@jit()
def score_mesh(acc, offset, px, py, pz, ux, uy, uz, length, weight, bounds, shape, times):
    """Split the segment at every cylinder rho = const and plane z = const it crosses and
    score each piece into the cell that contains its midpoint.  ``times`` is scratch
    space of at least 2 n_rho + n_z + 3 entries."""
    rho_max, z_min, z_max = bounds[0], bounds[1], bounds[2]
    n_rho, n_z = shape[0], shape[1]
    t0, t1 = 0.0, length
    # clip to the z slab of the mesh
    if uz != 0.0:
        ta = (z_min - pz) / uz
        tb = (z_max - pz) / uz
        t0 = max(t0, min(ta, tb))
        t1 = min(t1, max(ta, tb))
    elif pz < z_min or pz > z_max:
        return
    # clip to the cylinder rho < rho_max
    a = ux * ux + uy * uy
    b = px * ux + py * uy
    c = px * px + py * py
    if a > 0.0:
        disc = b * b - a * (c - rho_max * rho_max)
        if disc <= 0.0:
            return
        root = math.sqrt(disc)
        t0 = max(t0, (-b - root) / a)
        t1 = min(t1, (-b + root) / a)
    elif c >= rho_max * rho_max:
        return
    if t1 <= t0:
        return
    n = 0
    times[n] = t0
    n += 1
    dz = (z_max - z_min) / n_z
    if uz != 0.0:
        for j in range(1, n_z):
            t = (z_min + j * dz - pz) / uz
            if t0 < t < t1:
                times[n] = t
                n += 1
    drho = rho_max / n_rho
    if a > 0.0:
        for i in range(1, n_rho):
            r = i * drho
            disc = b * b - a * (c - r * r)
            if disc > 0.0:
                root = math.sqrt(disc)
                t = (-b - root) / a
                if t0 < t < t1:
                    times[n] = t
                    n += 1
                t = (-b + root) / a
                if t0 < t < t1:
                    times[n] = t
                    n += 1
    times[n] = t1
    n += 1
    # insertion sort: the lists are short and nearly ordered
    for i in range(1, n):
        key = times[i]
        j = i - 1
        while j >= 0 and times[j] > key:
            times[j + 1] = times[j]
            j -= 1
        times[j + 1] = key
    rho_a = _radius_at(px, py, ux, uy, times[0])
    for k in range(n - 1):
        ta, tb = times[k], times[k + 1]
        rho_b = _radius_at(px, py, ux, uy, tb)
        if tb > ta:
            tm = 0.5 * (ta + tb)
            i_rho = min(int(_radius_at(px, py, ux, uy, tm) / drho), n_rho - 1)
            i_z = min(max(int((pz + tm * uz - z_min) / dz), 0), n_z - 1)
            cell = offset + MESH_SCORES * (i_rho * n_z + i_z)
            acc[cell] += weight * (tb - ta)
            acc[cell + 1] += weight * (rho_b - rho_a)
            acc[cell + 2] += weight * (tb - ta) * uz
        rho_a = rho_b


# ------------------------------ the kernel (mc/transport.py)

MAX_EVENTS = 100_000
"""Safety cap on surface and collision events per particle."""


@jit(inline="always")
def _leaves_hole_plane(x, y, z, uz, hole_radius):
    """-1 if a particle scattered by an impurity sitting in the hole (z = 0, on the right
    side by convention) leaves to the left, i.e. is backscattered through the hole."""
    if z == 0.0 and uz < 0.0 and x * x + y * y < hole_radius * hole_radius:
        return -1.0
    return 0.0


@jit(inline="always")
def _secondary_crossings(x, y, z, ux, uy, uz, hole_radius, wall_kind, domain_radius, state):
    """Follow a particle scattered at an impurity at r = (x, y, z), z >= 0, without further
    collisions, and return its signed hole crossings."""
    crossings = _leaves_hole_plane(x, y, z, uz, hole_radius)
    for _ in range(MAX_EVENTS):
        t_plane = distance_to_plane(z, uz)
        if t_plane == math.inf or distance_to_sphere_exit(x, y, z, ux, uy, uz, domain_radius) <= t_plane:
            break
        x += t_plane * ux
        y += t_plane * uy
        z = 0.0
        if x * x + y * y < hole_radius * hole_radius:
            crossings += 1.0 if uz > 0.0 else -1.0
        else:
            ux, uy, uz, state = reflect_from_wall(ux, uy, uz, wall_kind, state)
    return crossings, state


@jit(inline="always")
def _score_moments(acc, offset, px, py, pz, ux, uy, uz, length, weight, centres, radii):
    """Track-length first moment about each impurity: sum w l and sum w l (midpoint - r0),
    whose ratio to R^2 V / 5 is the ball-averaged density gradient."""
    for i in range(centres.shape[0]):
        if radii[i] <= 0.0:
            continue
        t_in, t_out = ball_interval(px, py, pz, ux, uy, uz, length, centres[i, 0], centres[i, 1], centres[i, 2], radii[i])
        if t_out > t_in:
            k = offset + IMPURITY_SCORES * i + MOMENT
            wl = weight * (t_out - t_in)
            mid = 0.5 * (t_in + t_out)
            acc[k] += wl
            acc[k + 1] += wl * (px + mid * ux - centres[i, 0])
            acc[k + 2] += wl * (py + mid * uy - centres[i, 1])
            acc[k + 3] += wl * (pz + mid * uz - centres[i, 2])


@jit(inline="always")
def _collision_distance(x, y, z, ux, uy, uz, length, cx, cy, cz, table):
    """Distance along the flight to the impurity at c if the flight passes through its
    equivalent disk (area sigma_tot(u), normal to u, centred on c) before ``length``,
    else NaN.  (With the aperture source the disk must lie above the plane, see
    mc.point_contact: flights start on it.)"""
    dx = cx - x
    dy = cy - y
    dz = cz - z
    t = dx * ux + dy * uy + dz * uz
    if t <= 0.0 or t >= length:
        return math.nan
    miss2 = dx * dx + dy * dy + dz * dz - t * t
    if miss2 * math.pi < total_cross_section(table, ux, uy, uz):
        return t
    return math.nan


@jit(inline="always")
def _first_collision(x, y, z, ux, uy, uz, length, positions, tables, table_start, skip):
    """Earliest analog collision along the flight, skipping impurity ``skip``:
    (impurity index or -1, distance)."""
    hit = -1
    t_hit = length
    for i in range(positions.shape[0]):
        if i != skip:
            t = _collision_distance(x, y, z, ux, uy, uz, t_hit, positions[i, 0], positions[i, 1], positions[i, 2],
                                    tables[table_start[i]:table_start[i + 1]])
            if t == t:  # not NaN
                hit = i
                t_hit = t
    return hit, t_hit


@jit(inline="always")
def _score_collision(acc, k, weight, ux, uy, uz, qx, qy, qz):
    """One scattering k -> q: a collision and the momentum transfer hbar (k - k') (Sorbello Eq. 20)."""
    acc[k] += weight
    acc[k + 1] += weight * (ux - qx)
    acc[k + 2] += weight * (uy - qy)
    acc[k + 3] += weight * (uz - qz)


@jit(inline="always")
def _follow(acc, x, y, z, ux, uy, uz, weight, state, hole_radius, wall_kind, domain_radius,
            mean_free_path, background_table, probe_centres, probe_radii, mesh_bounds, mesh_shape, times,
            positions, tables, table_start, moment_radii, analog, multiple, impurity_offset):
    """Follow one particle to its death, scoring every segment; returns the stream state.

    With a finite ``mean_free_path`` the flight also ends at a background collision
    (exponential distance, direction from ``background_table``)."""
    hole_radius2 = hole_radius * hole_radius
    use_mesh = mesh_shape[0] > 0
    mesh_offset = 1 + 4 * probe_centres.shape[0]
    last_hit = -1
    for _ in range(MAX_EVENTS):
        t_plane = distance_to_plane(z, uz)
        t_exit = distance_to_sphere_exit(x, y, z, ux, uy, uz, domain_radius)
        t_background = math.inf
        if mean_free_path < math.inf:
            u, state = uniform(state)
            t_background = -mean_free_path * math.log(u)
        length = min(t_plane, t_exit, t_background)
        hit = -1
        if multiple and weight > 0.0:
            hit, length = _first_collision(x, y, z, ux, uy, uz, length, positions, tables, table_start, last_hit)
        score_probes(acc, 1, x, y, z, ux, uy, uz, length, weight, probe_centres, probe_radii)
        if use_mesh:
            score_mesh(acc, mesh_offset, x, y, z, ux, uy, uz, length, weight, mesh_bounds, mesh_shape, times)
        _score_moments(acc, impurity_offset, x, y, z, ux, uy, uz, length, weight, positions, moment_radii)
        if analog and not multiple and weight > 0.0:
            # first order: each impurity the primary passes scatters an independent
            # secondary; the primary flies on as if the impurity were absent
            for i in range(positions.shape[0]):
                table = tables[table_start[i]:table_start[i + 1]]
                t_c = _collision_distance(x, y, z, ux, uy, uz, length, positions[i, 0], positions[i, 1], positions[i, 2], table)
                if t_c != t_c:
                    continue
                qx, qy, qz, state = sample_outgoing(table, ux, uy, uz, state)
                k = impurity_offset + IMPURITY_SCORES * i + ANALOG
                _score_collision(acc, k, weight, ux, uy, uz, qx, qy, qz)
                # the point scatterer re-emits from its centre (as in Eqs. 55-61)
                crossings, state = _secondary_crossings(positions[i, 0], positions[i, 1], positions[i, 2], qx, qy, qz,
                                                        hole_radius, wall_kind, domain_radius, state)
                acc[k + 4] += weight * crossings
        if hit >= 0:
            # multiple scattering: the particle itself is deflected at the impurity
            table = tables[table_start[hit]:table_start[hit + 1]]
            qx, qy, qz, state = sample_outgoing(table, ux, uy, uz, state)
            _score_collision(acc, impurity_offset + IMPURITY_SCORES * hit + ANALOG, weight, ux, uy, uz, qx, qy, qz)
            x, y, z = positions[hit, 0], positions[hit, 1], positions[hit, 2]
            ux, uy, uz = qx, qy, qz
            acc[0] += weight * _leaves_hole_plane(x, y, z, uz, hole_radius)
            last_hit = hit
            continue
        if t_background < min(t_plane, t_exit):
            x += length * ux
            y += length * uy
            z += length * uz
            ux, uy, uz, state = sample_outgoing(background_table, ux, uy, uz, state)
            last_hit = -1
            continue
        if t_exit <= t_plane:
            return state
        x += length * ux
        y += length * uy
        z = 0.0
        last_hit = -1
        if x * x + y * y < hole_radius2:
            acc[0] += weight if uz > 0.0 else -weight
        else:
            ux, uy, uz, state = reflect_from_wall(ux, uy, uz, wall_kind, state)
    return state


@jit(inline="always")
def _incoming_direction(z0, rho0, toward_centre, phi_max, hole_radius, state):
    """A direction k of Omega0(r0) and its weight 1/p(k) (Sorbello Eq. 49).

    Omega0 is parametrised as in the quadrature of observables.analytic:
    the azimuth phi of the ray from the foot point of r0 (measured from the
    direction to the hole centre, |phi| < phi_max) and the polar angle beta
    about -z, between atan(s_in/z0) and atan(s_out/z0) where that ray enters
    and leaves the hole.  phi is uniform, cos(beta) uniform in its range, so
    every draw lies in Omega0 and the weight 2 phi_max (cos b_in - cos b_out)
    varies only with phi (constant on the axis and in the hole)."""
    u, state = uniform(state)
    phi = phi_max * (2.0 * u - 1.0)
    cos_phi = math.cos(phi)
    sin_phi = math.sin(phi)
    half = math.sqrt(max(0.0, hole_radius * hole_radius - (rho0 * sin_phi) ** 2))
    s_out = rho0 * cos_phi + half
    s_in = max(0.0, rho0 * cos_phi - half) if rho0 > hole_radius else 0.0
    if s_out <= s_in:
        return 0.0, 0.0, 1.0, 0.0, state
    cos_in = z0 / math.sqrt(z0 * z0 + s_in * s_in) if s_in > 0.0 else 1.0
    cos_out = z0 / math.sqrt(z0 * z0 + s_out * s_out)
    v, state = uniform(state)
    cos_beta = cos_out + v * (cos_in - cos_out)
    sin_beta = math.sqrt(max(0.0, 1.0 - cos_beta * cos_beta))
    angle = toward_centre + phi
    weight = 2.0 * phi_max * (cos_in - cos_out)
    return -sin_beta * math.cos(angle), -sin_beta * math.sin(angle), cos_beta, weight, state


@jit(inline="always")
def _next_event(acc, k, z0, rho0, toward_centre, phi_max, hole_radius, table, state):
    """Variance-reduced scores of one impurity for one history (before the 1/4 pi^3 flux factor).

    Incoming k ~ Omega0 with weight w: collision rate w sigma_tot(k), momentum
    transfer w sigma_tot(k) (k - k') with k' ~ |f|^2 (Sorbello Eq. 61);
    backscatter -w w_b |f(k -> -k_b)|^2 for a second draw k_b (Eq. 57: the
    directions towards the hole are -Omega0)."""
    kx, ky, kz, weight, state = _incoming_direction(z0, rho0, toward_centre, phi_max, hole_radius, state)
    bx, by, bz, weight_b, state = _incoming_direction(z0, rho0, toward_centre, phi_max, hole_radius, state)
    if weight > 0.0:
        sigma = total_cross_section(table, kx, ky, kz)
        qx, qy, qz, state = sample_outgoing(table, kx, ky, kz, state)
        _score_collision(acc, k, weight * sigma, kx, ky, kz, qx, qy, qz)
        if weight_b > 0.0:
            acc[k + 4] -= weight * weight_b * scattering_intensity(table, kx, ky, kz, -bx, -by, -bz)
    return state


@jit(nogil=True, parallel=True)  # see mc.batches: serial loop, parallel passes
def point_contact_histories(seed, first, count, source_kind, hole_radius, wall_kind, domain_radius,
                            mean_free_path, background_table, probe_centres, probe_radii, mesh_bounds, mesh_shape,
                            positions, tables, table_start, moment_radii, hole_views,
                            analog, next_event, multiple, n_scores):
    """Run histories first .. first+count-1; returns per-chunk score sums (n_chunks, n_scores).

    Score layout: [0] signed hole crossings (+1 to the right), then 4 per probe,
    3 per mesh cell, IMPURITY_SCORES per impurity (see ScoreLayout).  ``hole_views`` holds per
    impurity (rho0, azimuth from its foot point to the hole centre, phi_max) for _incoming_direction."""
    n_chunks = (count + CHUNK - 1) // CHUNK
    acc = np.zeros((n_chunks, n_scores))
    impurity_offset = 1 + 4 * probe_centres.shape[0] + 3 * mesh_shape[0] * mesh_shape[1]
    n_impurities = positions.shape[0]
    for chunk in range(n_chunks):
        row = acc[chunk]
        times = np.empty(2 * mesh_shape[0] + mesh_shape[1] + 4)
        stop = min(count, (chunk + 1) * CHUNK)
        for h in range(chunk * CHUNK, stop):
            state = history_stream(seed, first + h)
            # one call site of the (inlined) follower keeps the compiled kernel small
            for particle in range(2 if source_kind == APERTURE_SOURCE else 1):
                if source_kind == APERTURE_SOURCE:
                    weight = 1.0 - 2.0 * particle  # +1 to the right, then -1 to the left
                    x, y, z, ux, uy, uz, state = aperture_emission(hole_radius, weight, state)
                else:
                    weight = 1.0
                    x, y, z, ux, uy, uz, state = reservoir_emission(domain_radius, state)
                state = _follow(row, x, y, z, ux, uy, uz, weight, state, hole_radius, wall_kind, domain_radius,
                                mean_free_path, background_table, probe_centres, probe_radii, mesh_bounds, mesh_shape, times,
                                positions, tables, table_start, moment_radii, analog, multiple, impurity_offset)
            if next_event:
                for i in range(n_impurities):
                    state = _next_event(row, impurity_offset + IMPURITY_SCORES * i + NEXT_EVENT, positions[i, 2],
                                        hole_views[i, 0], hole_views[i, 1], hole_views[i, 2], hole_radius,
                                        tables[table_start[i]:table_start[i + 1]], state)
    return acc
