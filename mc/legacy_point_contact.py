"""The point-contact system (``[geometry] kind = "aperture"``): Sorbello Sec. III C.

config -> :class:`PointContactModel` (validated) -> transport kernel
(:func:`mc.transport.point_contact_histories`) -> batch totals -> estimates
with references -> results rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geometry.aperture import WALL_KINDS, Aperture, hole_view
from geometry.sphere import sphere_quadrature
from mc.batches import Simulation
from mc.config import RunSettings, Table
from mc.errors import ConfigError
from mc.legacy_sources import APERTURE_SOURCE, SOURCE_KINDS, source_strength
from mc.scattering import isotropic, pack_tables, parse_scatterer
from mc.transport import point_contact_histories
from observables.analytic import point_contact as closed_form
from observables.statistics import Estimate, batch_estimate, figure_of_merit
from observables.tables import ResultRows
from observables.legacy_tallies import (
    ANALOG,
    IMPURITY_SCORES,
    MESH_SCORES,
    MOMENT,
    NEXT_EVENT,
    PROBE_SCORES,
    CylindricalMesh,
    ScoreLayout,
)

FIELD_TALLIES = ("current", "density", "current_density")
IMPURITY_TALLIES = ("wind_force", "backscatter_current", "direct_force", "collision_rate")
TALLY_KINDS = FIELD_TALLIES + IMPURITY_TALLIES
ESTIMATORS = ("next_event", "analog", "both")
DEFAULT_DIRECT_VALENCE = 1.0
DEFAULT_PROBE_RADIUS = 0.5
DEFAULT_RESERVOIR_RADIUS = 200.0


@dataclass(frozen=True)
class Probe:
    """A ball of ``radius`` around ``centre`` on which density and current density are tallied."""

    centre: tuple[float, float, float]
    radius: float


@dataclass(frozen=True)
class Impurity:
    """A scatterer at ``position`` (z >= 0) with direct valence Z_d (Sorbello Eq. 59).

    ``gradient_radius`` is the ball on which the density gradient (direct force)
    is estimated from the track-length first moment: for a harmonic density
    int_ball (r - r0) n dV = grad n(r0) R^2 V / 5 exactly (mean-value property),
    and the density of the ballistic contact is harmonic off the wall."""

    position: tuple[float, float, float]
    scatterer: object
    direct_valence: float
    gradient_radius: float


@dataclass
class PointContactModel:
    aperture: Aperture
    source: str
    reservoir_radius: float
    tallies: set[str] = field(default_factory=set)
    density_probes: list[Probe] = field(default_factory=list)
    current_probes: list[Probe] = field(default_factory=list)
    mesh: CylindricalMesh | None = None
    impurities: list[Impurity] = field(default_factory=list)
    estimators: set[str] = field(default_factory=set)
    multiple_scattering: bool = False
    mean_free_path: float = math.inf

    @property
    def ballistic(self) -> bool:
        return self.mean_free_path == math.inf

    @property
    def probes(self) -> list[Probe]:
        """All distinct probe balls, in order of first appearance (each is tallied once)."""
        seen: dict[Probe, None] = {}
        for probe in self.density_probes + self.current_probes:
            seen.setdefault(probe, None)
        return list(seen)


def _parse_mesh(table: Table) -> CylindricalMesh:
    mesh = CylindricalMesh(
        rho_max=float(table.number("rho_max", gt=0.0)),
        n_rho=int(table.number("n_rho", ge=1, integer=True)),
        z_min=float(table.number("z_min")),
        z_max=float(table.number("z_max")),
        n_z=int(table.number("n_z", ge=1, integer=True)),
    )
    table.finish()
    if mesh.z_max <= mesh.z_min:
        raise table.error("z_max", f"must exceed z_min ({mesh.z_min}), got {mesh.z_max}")
    if mesh.n_rho * mesh.n_z > 1_000_000:
        raise table.error("n_rho", "mesh has more than 10^6 cells")
    if mesh.z_min < 0.0 < mesh.z_max:
        edges = mesh.z_edges
        if np.min(np.abs(edges)) > 1e-9 * (mesh.z_max - mesh.z_min):
            raise table.error("n_z", "the wall plane z = 0 must be a cell edge (cells may not straddle the wall)")
    return mesh


def parse(root: Table, geometry: Table, settings: RunSettings) -> PointContactModel:
    radius = float(geometry.number("radius", gt=0.0))
    wall = geometry.string("wall", "specular", choices=tuple(WALL_KINDS))
    aperture = Aperture(radius=radius, wall=wall)

    source = root.table("source", {})
    source_kind = source.string("kind", "aperture", choices=tuple(SOURCE_KINDS))
    default_radius = DEFAULT_RESERVOIR_RADIUS if source_kind == "reservoir" else math.inf
    reservoir_radius = float(source.number("reservoir_radius", default_radius, gt=0.0))
    if reservoir_radius != math.inf and reservoir_radius <= radius:
        raise source.error("reservoir_radius", f"must exceed the hole radius {radius}, got {reservoir_radius}")
    source.finish()

    background = root.table("background", {})
    mean_free_path = float(background.number("mean_free_path", math.inf, gt=0.0))
    background.finish()
    if mean_free_path != math.inf and source_kind == "aperture":
        raise source.error("kind", "the equivalent source on the hole holds for a ballistic left half-space only; "
                                   "a finite background.mean_free_path needs kind = \"reservoir\"")

    model = PointContactModel(aperture=aperture, source=source_kind, reservoir_radius=reservoir_radius,
                              mean_free_path=mean_free_path)
    transport_table = root.table("transport", {})
    multiple = transport_table.raw("multiple_scattering", False)
    if not isinstance(multiple, bool):
        raise transport_table.error("multiple_scattering", f"must be true or false, got {multiple!r}")
    model.multiple_scattering = multiple
    transport_table.finish()
    for table in root.tables("impurities"):
        model.impurities.append(_parse_impurity(table, aperture, reservoir_radius))
    if model.impurities and not model.ballistic:
        raise ConfigError("impurities", "not available with a finite background.mean_free_path (the estimators "
                                        "and references of Eqs. 55-64 assume ballistic flights to the impurity)")
    tallies = root.tables("tallies")
    if not tallies:
        raise root.error("tallies", "at least one [[tallies]] table is required")
    for tally in tallies:
        kind = tally.string("kind", choices=TALLY_KINDS)
        model.tallies.add(kind)
        if kind == "current":
            tally.finish()
            continue
        if kind in IMPURITY_TALLIES:
            if not model.impurities:
                raise tally.error("kind", f"a {kind} tally needs at least one [[impurities]] entry")
            if kind != "direct_force":
                estimator = tally.string("estimator", "next_event", choices=ESTIMATORS)
                model.estimators.update(("analog", "next_event") if estimator == "both" else (estimator,))
            tally.finish()
            continue
        if "probes" not in tally and "mesh" not in tally:
            raise tally.error("probes", f"a {kind} tally needs probes or a mesh")
        if "probes" in tally:
            probe_radius = float(tally.number("probe_radius", DEFAULT_PROBE_RADIUS, gt=0.0))
            for i, centre in enumerate(tally.vectors("probes")):
                if aperture.wall_hits_ball(centre, probe_radius):
                    raise tally.error(f"probes[{i}]", f"probe ball of radius {probe_radius} at {list(centre)} cuts the wall plane z = 0")
                if math.hypot(*centre) + probe_radius > reservoir_radius:
                    raise tally.error(f"probes[{i}]", f"probe at {list(centre)} is not inside the simulated ball of radius {reservoir_radius}")
                probes = model.density_probes if kind == "density" else model.current_probes
                probes.append(Probe(centre=centre, radius=probe_radius))
        if "mesh" in tally:
            mesh = _parse_mesh(tally.table("mesh"))
            if model.mesh is not None and model.mesh != mesh:
                raise tally.error("mesh", "all tallies of a case must share one cylindrical mesh")
            corner = math.hypot(mesh.rho_max, max(abs(mesh.z_min), abs(mesh.z_max)))
            if corner > reservoir_radius:
                raise tally.error("mesh", f"extends to {corner:g}, beyond the simulated ball of radius {reservoir_radius}")
            model.mesh = mesh
        tally.finish()
    if model.multiple_scattering and "next_event" in model.estimators:
        raise ConfigError("transport.multiple_scattering",
                          "the next-event estimator is first order; multiple scattering needs estimator = \"analog\" on every impurity tally")
    if model.multiple_scattering and not model.impurities:
        raise ConfigError("transport.multiple_scattering", "needs [[impurities]]")
    if "analog" in model.estimators and source_kind == "aperture":
        for i, imp in enumerate(model.impurities):
            b = equivalent_disk_radius(imp.scatterer)
            if imp.position[2] < b:
                # the equivalent source starts flights on the plane: electrons that cross the
                # disk below z = 0 and then hit the wall would be missing
                raise ConfigError(f"impurities[{i}].position",
                                  f"the analog estimator with the aperture source needs the equivalent disk "
                                  f"(radius {b:.3g}) clear of the plane z = 0, got z = {imp.position[2]:g}; "
                                  f"use [source] kind = \"reservoir\" or the next_event estimator")
    return model


def equivalent_disk_radius(scatterer) -> float:
    """Largest radius sqrt(sigma_tot(k)/pi) of the disk an analog flight must cross to collide."""
    if getattr(scatterer, "spherical", True):
        return math.sqrt(scatterer.sigma_tot / math.pi)
    directions, _ = sphere_quadrature(8)
    sigma = max(scatterer.sigma_tot_along(k) for k in directions)
    return math.sqrt(sigma / math.pi)


def _parse_impurity(table: Table, aperture: Aperture, reservoir_radius: float) -> Impurity:
    position = table.vector("position")
    x, y, z = position
    if z < 0.0:
        raise table.error("position", f"must have z >= 0 (the right half-space; the left one is its mirror image), got {list(position)}")
    if aperture.on_wall(position):
        raise table.error("position", f"{list(position)} is inside the wall (z = 0 outside the hole of radius {aperture.radius})")
    if math.hypot(*position) >= reservoir_radius:
        raise table.error("position", f"{list(position)} is outside the simulated ball of radius {reservoir_radius}")
    scatterer = parse_scatterer(table.table("scatterer"))
    valence = float(table.number("direct_valence", DEFAULT_DIRECT_VALENCE))
    clearance = _wall_clearance(position, aperture.radius)
    if "gradient_radius" in table:
        gradient_radius = float(table.number("gradient_radius", gt=0.0))
        if gradient_radius >= clearance:
            raise table.error("gradient_radius", f"ball of radius {gradient_radius} around {list(position)} reaches the wall (clearance {clearance:.4g})")
    else:
        # the pure-contact density is harmonic away from the wall, so any ball clear of
        # it gives the exact gradient at its centre; a larger ball collects more track
        gradient_radius = min(0.5 * aperture.radius, 0.9 * clearance)
    table.finish()
    return Impurity(position=position, scatterer=scatterer, direct_valence=valence, gradient_radius=gradient_radius)


def _wall_clearance(position, hole_radius: float) -> float:
    """Distance from a point to the opaque part of the plane z = 0 (to the rim if above the hole)."""
    x, y, z = position
    rho = math.hypot(x, y)
    if rho >= hole_radius:
        return abs(z)
    return math.hypot(hole_radius - rho, z)


@dataclass
class PointContactTotals:
    """Estimates of one run, in reduced units, before they become table rows."""

    current: Estimate
    probe_density: Estimate          # (n_probes,)
    probe_current_density: Estimate  # (n_probes, 3)
    mesh_density: Estimate | None    # (n_rho, n_z)
    mesh_current_density: Estimate | None  # (n_rho, n_z, 2): rho and z components
    seconds: float
    impurities: "ImpurityEstimates | None" = None


@dataclass
class ImpurityEstimates:
    """Per impurity (rows): [collision rate, F_w x, y, z, delta I] by each estimator, and F_d (x, y, z)."""

    analog: Estimate
    next_event: Estimate
    direct_force: Estimate


def transport_kernel(model: PointContactModel, settings: RunSettings):
    """The kernel over histories and the layout of its scores."""
    probes = model.probes
    centres = np.array([p.centre for p in probes], dtype=np.float64).reshape(-1, 3)
    radii = np.array([p.radius for p in probes], dtype=np.float64)
    mesh = model.mesh
    if mesh is not None:
        bounds, shape = mesh.as_arrays()
    else:
        bounds, shape = np.zeros(3), np.zeros(2, dtype=np.int64)
    layout = ScoreLayout(n_probes=len(probes), n_mesh_cells=int(shape[0] * shape[1]), n_impurities=len(model.impurities))
    impurities = impurity_arrays(model)
    # elastic, number-conserving background scattering: isotropic (only the angular law is used)
    background_table = isotropic(1.0).sampling_table()
    source_kind = SOURCE_KINDS[model.source]
    wall_kind = WALL_KINDS[model.aperture.wall]
    a = model.aperture.radius

    def kernel(first: int, count: int) -> np.ndarray:
        return point_contact_histories(settings.seed, first, count, source_kind, a, wall_kind,
                                       model.reservoir_radius, model.mean_free_path, background_table,
                                       centres, radii, bounds, shape, *impurities,
                                       "analog" in model.estimators, "next_event" in model.estimators,
                                       model.multiple_scattering, layout.size)

    return kernel, layout


def estimates(model: PointContactModel, layout: ScoreLayout, batches) -> PointContactTotals:
    """Batch totals -> estimates in reduced units."""
    probes = model.probes
    centres = np.array([p.centre for p in probes], dtype=np.float64).reshape(-1, 3)
    radii = np.array([p.radius for p in probes], dtype=np.float64)
    mesh = model.mesh
    impurities = impurity_arrays(model)
    source_kind = SOURCE_KINDS[model.source]
    a = model.aperture.radius
    per_history = source_strength(source_kind, a, model.reservoir_radius)
    scores = batch_estimate(batches.totals, batches.histories).scaled(per_history).unscored_as_nan()
    aperture_source = source_kind == APERTURE_SOURCE

    current = scores[layout.current]
    if aperture_source:
        # every +1 particle of the equivalent source is the Sharvin flux through the hole;
        # later crossings (none in the ballistic case) add to it
        crossings = batch_estimate(batches.totals[:, layout.current], batches.histories).scaled(per_history)
        current = crossings.shifted(closed_form.sharvin_current(a))

    probe_volumes = 4.0 / 3.0 * np.pi * radii**3
    time_in_probe = scores[layout.probes:layout.mesh].reshape(-1, PROBE_SCORES)
    probe_density = time_in_probe[:, 0].scaled(1.0 / (closed_form.DENSITY_OF_STATES * probe_volumes))
    if aperture_source:
        probe_density = probe_density.shifted(np.where(centres[:, 2] < 0.0, 1.0, 0.0))
    probe_current = time_in_probe[:, 1:].scaled(1.0 / probe_volumes[:, None])

    mesh_density = mesh_current = None
    if mesh is not None:
        cells = scores[layout.mesh:layout.impurities].reshape(mesh.n_rho, mesh.n_z, MESH_SCORES)
        volumes = mesh.cell_volumes
        mesh_density = cells[:, :, 0].scaled(1.0 / (closed_form.DENSITY_OF_STATES * volumes))
        if aperture_source:
            z_centres = 0.5 * (mesh.z_edges[1:] + mesh.z_edges[:-1])
            mesh_density = mesh_density.shifted(np.where(z_centres < 0.0, 1.0, 0.0)[None, :])
        mesh_current = cells[:, :, 1:].scaled(1.0 / volumes[:, :, None])
    impurity_estimates = None
    if model.impurities:
        per_impurity = scores[layout.impurities:layout.size].reshape(-1, IMPURITY_SCORES)
        gradient_radii = impurities[3]
        moment_scale = np.zeros_like(gradient_radii)
        used = gradient_radii > 0
        # ball first moment: int (r - r0) n dV = grad n R^2 V / 5 (exact for a harmonic density)
        moment_scale[used] = 5.0 / (gradient_radii[used] ** 2 * 4.0 / 3.0 * np.pi * gradient_radii[used] ** 3)
        valences = np.array([imp.direct_valence for imp in model.impurities])
        moments = per_impurity[:, MOMENT + 1:MOMENT + 4].scaled(1.0 / closed_form.DENSITY_OF_STATES)
        if aperture_source:
            # the +1 baseline of the left half-space lies in the part of the ball below z = 0
            # (a cap): int_cap (z - z0) dV = -(pi/4)(R^2 - z0^2)^2
            z0 = impurities[0][:, 2]
            cap = np.where(gradient_radii > z0, -0.25 * np.pi * (gradient_radii**2 - z0**2) ** 2, 0.0)
            moments = moments.shifted(np.stack([np.zeros_like(cap), np.zeros_like(cap), cap], axis=1))
        impurity_estimates = ImpurityEstimates(
            analog=per_impurity[:, ANALOG:ANALOG + 5],
            # next-event scores are flux-free: times (1/4 pi^3) instead of the source strength
            next_event=per_impurity[:, NEXT_EVENT:NEXT_EVENT + 5].scaled(closed_form.FLUX_PER_SOLID_ANGLE / per_history),
            direct_force=moments.scaled((valences * moment_scale)[:, None]),
        )
    return PointContactTotals(current, probe_density, probe_current, mesh_density, mesh_current, batches.seconds,
                              impurity_estimates)


def impurity_arrays(model: PointContactModel):
    """Plain arrays for the kernel: positions, packed sampling tables and their starts,
    gradient-ball radii (0 = no direct force tally) and how each impurity sees the hole (hole_view)."""
    n = len(model.impurities)
    positions = np.array([imp.position for imp in model.impurities], dtype=np.float64).reshape(n, 3)
    packed, table_start = pack_tables([imp.scatterer.sampling_table() for imp in model.impurities])
    wants_gradient = "direct_force" in model.tallies
    gradient_radii = np.array([imp.gradient_radius if wants_gradient else 0.0 for imp in model.impurities], dtype=np.float64)
    hole_views = np.array([hole_view(imp.position, model.aperture.radius) for imp in model.impurities],
                          dtype=np.float64).reshape(n, 3)
    return positions, packed, table_start, gradient_radii, hole_views


def prepare(case) -> Simulation:
    model: PointContactModel = case.model
    kernel, layout = transport_kernel(model, case.settings)
    return Simulation(case.name, kernel, lambda batches: results(case, estimates(model, layout, batches)))


def results(case, totals: PointContactTotals) -> ResultRows:
    model: PointContactModel = case.model
    a = model.aperture.radius
    seconds = totals.seconds
    rows = ResultRows(case.name, source=model.source, wall=model.aperture.wall, radius=a, seconds=seconds)

    def fom(estimate):
        return float(figure_of_merit(estimate, seconds))

    if "current" in model.tallies:
        I = totals.current
        rows.add("current", I.mean, I.stderr, closed_form.sharvin_current(a), tally="global", fom=fom(I))
        resistance = I.reciprocal()
        rows.add("resistance", resistance.mean, resistance.stderr, closed_form.sharvin_resistance(a),
                 tally="global", fom=fom(resistance))

    def density_at(x, y, z):
        return closed_form.excess_density(np.hypot(x, y), z, a)

    def current_at(x, y, z):
        return closed_form.cartesian_current_density(x, y, z, a)

    for i, probe in enumerate(model.probes):
        common = dict(position=probe.centre, tally="probe", probe_radius=probe.radius)
        if probe in model.density_probes:
            n = totals.probe_density[i]
            ref = closed_form.ball_average(density_at, probe.centre, probe.radius)
            point = float(density_at(*probe.centre))
            rows.add("density", n.mean, n.stderr, ref, reference_point=point, fom=fom(n), **common)
            rows.add("potential", 0.5 - n.mean, n.stderr, 0.5 - ref, reference_point=0.5 - point, fom=fom(n.shifted(-0.5)), **common)
        if probe in model.current_probes:
            j = totals.probe_current_density[i]
            refs = closed_form.ball_average(current_at, probe.centre, probe.radius)
            points = [float(v) for v in current_at(*probe.centre)]
            for k, comp in enumerate("xyz"):
                rows.add("current_density", j.mean[k], j.stderr[k], refs[k], component=comp,
                         reference_point=points[k], fom=fom(j[k]), **common)

    if model.mesh is not None:
        _add_mesh_rows(rows, model, totals, fom)
    if model.impurities:
        _add_impurity_rows(rows, model, totals, fom)
    if not model.ballistic:
        _diffusive_rows(rows, model, totals, fom)
    return rows


def _diffusive_rows(rows: ResultRows, model: PointContactModel, totals: PointContactTotals, fom) -> None:
    """Finite mean free path: the ballistic closed forms no longer apply; Wexler's Gamma(K) is measured.

    R = R_Sharvin + Gamma(K) R_Maxwell (K = l/a) for reservoirs at infinity, with
    Gamma(0) = 1 and Gamma(inf) = 9 pi^2 / 128 (Wexler 1966); the wall law matters
    here (specular and diffuse walls give different Gamma at K ~ 1).  The
    simulated reservoirs are hemispheres of radius R_res; each half-space then lacks
    its spreading resistance beyond them, rho / (2 pi R_eff), with R_eff = R_res + 0.7104 l
    (the Milne extrapolation length of an absorbing boundary in an isotropically
    scattering medium).  That correction assumes a, l << R_res.
    """
    a, l = model.aperture.radius, model.mean_free_path
    for row in rows.rows:
        if row["observable"] in FIELD_TALLIES + ("resistance",):
            row["reference"] = np.nan  # the closed forms of Eqs. 48-54 are ballistic
            row.pop("reference_point", None)
    if "current" not in model.tallies:
        return
    correction = closed_form.drude_resistivity(l) / (np.pi * (model.reservoir_radius + 0.7104 * l))
    resistance = totals.current.reciprocal().shifted(correction)
    r_sharvin, r_maxwell = closed_form.sharvin_resistance(a), closed_form.maxwell_resistance(a, l)
    knudsen = l / a
    gamma = resistance.shifted(-r_sharvin).scaled(1.0 / r_maxwell)
    # no closed form between the limits Gamma(0) = 1 (Maxwell) and Gamma(inf) = 9 pi^2/128 (Wexler)
    rows.add("gamma_wexler", gamma.mean, gamma.stderr, np.nan, tally="global", fom=fom(gamma),
             knudsen=knudsen, mean_free_path=l, reservoir_correction=correction)


def _add_impurity_rows(rows: ResultRows, model: PointContactModel, totals: PointContactTotals, fom) -> None:
    """Sorbello Eqs. 57-64 per impurity, by each estimator asked for, with their references."""
    a = model.aperture.radius
    estimates = totals.impurities
    r_sharvin = closed_form.sharvin_resistance(a)
    first_order_delta_r = 0.0
    for i, imp in enumerate(model.impurities):
        common = dict(position=imp.position, impurity=i)
        needs_backscatter = "backscatter_current" in model.tallies and not model.multiple_scattering
        ref_rate = closed_form.collision_rate(imp.scatterer, imp.position, a)
        ref_force = closed_form.wind_force(imp.scatterer, imp.position, a) if "wind_force" in model.tallies else None
        wants_back = "backscatter_current" in model.tallies or model.multiple_scattering
        ref_back = closed_form.backscatter_current(imp.scatterer, imp.position, a) if wants_back else np.nan
        first_order_delta_r += closed_form.delta_resistance(ref_back, a) if np.isfinite(ref_back) else 0.0
        for name in sorted(model.estimators):
            e = estimates.analog[i] if name == "analog" else estimates.next_event[i]
            tagged = dict(common, estimator=name)
            if "collision_rate" in model.tallies:
                rows.add("collision_rate", e.mean[0], e.stderr[0], ref_rate, fom=fom(e[0]), **tagged)
            if ref_force is not None:
                for k, comp in enumerate("xyz"):
                    rows.add("wind_force", e.mean[1 + k], e.stderr[1 + k], ref_force[k], component=comp,
                             fom=fom(e[1 + k]), **tagged)
            if needs_backscatter:
                back = e[4]
                rows.add("backscatter_current", back.mean, back.stderr, ref_back, fom=fom(back), **tagged)
                delta_r = back.scaled(-r_sharvin**2)
                rows.add("delta_resistance", delta_r.mean, delta_r.stderr, closed_form.delta_resistance(ref_back, a),
                         fom=fom(delta_r), **tagged)
        if "direct_force" in model.tallies:
            f = estimates.direct_force[i]
            ref = closed_form.direct_force(imp.position, a, imp.direct_valence)
            for k, comp in enumerate("xyz"):
                rows.add("direct_force", f.mean[k], f.stderr[k], ref[k], component=comp, fom=fom(f[k]),
                         estimator="track_length_moment", gradient_radius=imp.gradient_radius, **common)
    if model.multiple_scattering and "current" in model.tallies:
        delta_r = totals.current.reciprocal().shifted(-r_sharvin)
        # all impurities at once, to all orders: compare with the first-order sum of Eq. 58
        rows.add("delta_resistance", delta_r.mean, delta_r.stderr, np.nan, estimator="analog_multiple",
                 first_order_reference=first_order_delta_r, tally="global")


def _add_mesh_rows(rows: ResultRows, model: PointContactModel, totals: PointContactTotals, fom) -> None:
    mesh, a = model.mesh, model.aperture.radius
    rho_edges, z_edges = mesh.rho_edges, mesh.z_edges
    rho_c = 0.5 * (rho_edges[1:] + rho_edges[:-1])
    z_c = 0.5 * (z_edges[1:] + z_edges[:-1])
    ref_density = closed_form.annulus_average(lambda r, z: closed_form.excess_density(r, z, a), rho_edges, z_edges)
    ref_j_rho, ref_j_z = closed_form.annulus_average(lambda r, z: closed_form.current_density(r, z, a), rho_edges, z_edges)
    wants_density = "density" in model.tallies
    wants_current = "current_density" in model.tallies
    for i in range(mesh.n_rho):
        for k in range(mesh.n_z):
            common = dict(position=(rho_c[i], 0.0, z_c[k]), tally="mesh")
            if wants_density:
                n = totals.mesh_density[i, k]
                rows.add("density", n.mean, n.stderr, ref_density[i, k], fom=fom(n), **common)
                rows.add("potential", 0.5 - n.mean, n.stderr, 0.5 - ref_density[i, k], fom=fom(n.shifted(-0.5)), **common)
            if wants_current:
                j = totals.mesh_current_density[i, k]
                rows.add("current_density", j.mean[0], j.stderr[0], ref_j_rho[i, k], component="x", fom=fom(j[0]), **common)
                rows.add("current_density", j.mean[1], j.stderr[1], ref_j_z[i, k], component="z", fom=fom(j[1]), **common)


def plot(case, frame, out_dir: Path) -> list[Path]:
    from observables.plots import plot_point_contact

    return plot_point_contact(frame, case.model.aperture.radius, Path(out_dir), case.name)
