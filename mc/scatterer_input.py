"""Scatterer tables of a case, ``scatterer = { model = ... }``, read into scattering-library models.

The scattering library (:mod:`mc.scattering`) knows nothing of configuration;
this module validates the keys of each model (one :class:`mc.errors.ConfigError`
naming the key and the reason) and resolves material presets to r_s.
"""

from __future__ import annotations

import math

import numpy as np

from mc.config import Table
from mc.scattering import phase_shifts as ps
from mc.scattering.cluster import CLUSTER_L_MAX
from mc.scattering.models import (
    DEFAULT_RS,
    MODELS,
    Scatterer,
    born,
    cluster,
    from_phase_shifts,
    hard_sphere,
    isotropic,
    screened_coulomb,
    square_well,
    square_well_q,
)
from observables.materials import MATERIALS

MATERIAL_RS = {name: metal.rs for name, metal in MATERIALS.items()}
"""Free-electron r_s of the material presets (observables.materials, Ashcroft & Mermin Table 1.1)."""


def parse_scatterer(table: Table, *, allow_cluster: bool = True, allow_born: bool = True) -> Scatterer:
    """Validate a ``scatterer = { model = ... }`` table and build the scatterer (ConfigError on bad input)."""
    model = table.string("model", choices=MODELS)
    if model == "cluster" and not allow_cluster:
        raise table.error("model", "a cluster member must be spherical (not another cluster)")
    if model == "born" and not allow_born:
        raise table.error("model", "a cluster member needs a unitary t-matrix; the Born approximation has none")
    builder = _PARSERS[model]
    scatterer = builder(table)
    table.finish()
    return scatterer


def _parse_isotropic(t: Table):
    sigma = t.number("cross_section", ge=0.0)
    limit = 4.0 * math.pi
    if sigma > limit:
        raise t.error("cross_section", f"exceeds the s-wave unitarity limit 4 pi / k_F^2 = {limit:.6g}, got {sigma!r}")
    return isotropic(float(sigma))


def _parse_phase_shifts(t: Table):
    deltas = t.numbers("phase_shifts")
    if len(deltas) > 200:
        raise t.error("phase_shifts", f"at most 200 partial waves, got {len(deltas)}")
    return from_phase_shifts([float(d) for d in deltas])


def _parse_hard_sphere(t: Table):
    radius = t.number("radius", gt=0.0)
    if radius > 100.0:
        raise t.error("radius", f"must be <= 100 / k_F (partial-wave series too long), got {radius!r}")
    return hard_sphere(float(radius))


def _parse_square_well(t: Table):
    radius = t.number("radius", gt=0.0, le=100.0)
    depth = t.number("depth")
    if 1.0 + 2.0 * depth < 0.0 and radius * math.sqrt(-1.0 - 2.0 * depth) > ps.SQUARE_WELL_MAX_KAPPA_R:
        raise t.error("depth", f"a repulsive step of radius {radius:g} and height {-depth:g} has kappa R = "
                               f"{radius * math.sqrt(-1.0 - 2.0 * depth):.4g} > {ps.SQUARE_WELL_MAX_KAPPA_R:g}: its "
                               "interior solution overflows; it scatters as model = 'hard_sphere' of that radius")
    # the branch of each delta_l follows a ramp of depths: work ~ (K R)^2, K = sqrt|1 + 2 depth|
    work = ps.square_well_work(radius, depth)
    if work > ps.SQUARE_WELL_MAX_WORK:
        raise t.error("depth", f"radius {radius:g} and depth {depth:g} (K R = {radius * math.sqrt(abs(1 + 2 * depth)):.4g}) "
                               f"need {work:.2g} Bessel-function points for the phase shifts, more than the "
                               f"{ps.SQUARE_WELL_MAX_WORK:.0e} emmc allows (about a minute); use a shallower or smaller well")
    return square_well(float(radius), float(depth))


def _screened_keys(t: Table):
    valence = t.number("valence")
    if valence == 0:
        raise t.error("valence", "must be non-zero (an ion of valence 0 does not scatter)")
    if abs(valence) > 10:
        raise t.error("valence", f"must be within [-10, 10], got {valence!r}")
    screening = t.string("screening", "thomas_fermi", choices=("thomas_fermi", "lindhard"))
    if "rs" in t and "material" in t:
        raise t.error("material", "give either rs or material, not both")
    if "material" in t:
        material = t.string("material", choices=sorted(MATERIAL_RS))
        rs = MATERIAL_RS[material]
    else:
        rs = float(t.number("rs", DEFAULT_RS, gt=0.0, le=10.0))
        if rs < 0.5:
            raise t.error("rs", f"must be >= 0.5 (outside the electron-gas range), got {rs!r}")
    friedel = t.raw("friedel", False)
    if not isinstance(friedel, bool):
        raise t.error("friedel", f"must be true or false, got {friedel!r}")
    scale = t.number("screening_scale", None, gt=0.0)
    if friedel and scale is not None:
        raise t.error("screening_scale", "cannot be given with friedel = true (the Friedel sum rule fixes it)")
    scale = 1.0 if scale is None else float(scale)
    if not 0.05 <= scale <= 20.0:
        raise t.error("screening_scale", f"must be within [0.05, 20], got {scale!r}")
    return float(valence), screening, rs, friedel, scale


def _parse_screened_coulomb(t: Table):
    valence, screening, rs, friedel, scale = _screened_keys(t)
    try:
        return screened_coulomb(valence, screening, rs, friedel=friedel, screening_scale=scale)
    except ValueError as exc:
        raise t.error("friedel" if friedel else "valence", str(exc)) from None


def _parse_born(t: Table):
    inner = t.table("potential")
    kind = inner.string("model", choices=MODELS)
    if kind == "square_well":
        radius = inner.number("radius", gt=0.0, le=100.0)
        depth = inner.number("depth")
        inner.finish()
        params = {"potential": {"model": kind, "radius": radius, "depth": depth}}
        return born(lambda q: square_well_q(q, radius, depth), params)
    if kind == "screened_coulomb":
        valence, screening, rs, friedel, scale = _screened_keys(inner)
        inner.finish()
        if friedel:
            try:
                scale, _ = ps.fit_friedel_screening(valence, rs, screening)
            except ValueError as exc:
                raise inner.error("friedel", str(exc)) from None
        coupling = ps.coulomb_coupling(rs)
        q_screen = scale * ps.thomas_fermi_wavenumber(rs)
        params = {
            "potential": {"model": kind, "valence": valence, "screening": screening, "rs": rs, "screening_scale": scale}
        }
        return born(lambda q: ps.screened_coulomb_q(q, valence, coupling, q_screen, screening), params)
    reason = {
        "hard_sphere": "an infinite wall has no Born approximation",
        "isotropic": "needs a potential, not a cross section",
        "phase_shifts": "needs a potential, not phase shifts",
    }.get(kind, "must be a potential model")
    raise inner.error("model", f"{kind!r}: {reason}; use 'square_well' or 'screened_coulomb'")


def _parse_cluster(t: Table):
    centres = t.vectors("centres")
    raw_members = t.raw("members")
    if not isinstance(raw_members, list) or not raw_members:
        raise t.error("members", "must be a non-empty list of scatterer tables")
    if len(raw_members) != len(centres):
        raise t.error("members", f"needs one member per centre ({len(centres)}), got {len(raw_members)}")
    members = []
    for i, raw in enumerate(raw_members):
        sub = Table(raw, f"{t.key_path('members')}[{i}]")
        member = parse_scatterer(sub, allow_cluster=False, allow_born=False)
        d = np.asarray(member.phase_shifts)
        big = np.nonzero(np.abs(np.sin(d)) >= 1e-10)[0]
        if big.size and big[-1] > CLUSTER_L_MAX:
            raise sub.error("model", f"needs partial waves up to l = {big[-1]}; a cluster member may use at most l = {CLUSTER_L_MAX}")
        members.append(member)
    points = np.asarray(centres)
    radii = [m.parameters.get("radius", 0.0) for m in members]
    for i in range(len(points)):
        for j in range(i):
            d = float(np.linalg.norm(points[i] - points[j]))
            if d <= radii[i] + radii[j] or d < 1e-6:
                raise t.error(f"centres[{i}]", f"member overlaps member {j} (distance {d:.6g})")
    if len(points) > 16:
        raise t.error("centres", f"at most 16 sites, got {len(points)}")
    return cluster(points, members)


_PARSERS = {
    "isotropic": _parse_isotropic,
    "phase_shifts": _parse_phase_shifts,
    "hard_sphere": _parse_hard_sphere,
    "square_well": _parse_square_well,
    "screened_coulomb": _parse_screened_coulomb,
    "born": _parse_born,
    "cluster": _parse_cluster,
}
