"""Point contacts on the one engine: Sorbello's aperture (Sec. III C) and constrictions of finite length.

``[geometry] kind = "aperture"``: a hole of ``radius`` a in an opaque, infinitely
thin screen z = 0.  ``kind = "constriction"``: a neck of ``length`` L joining
two half-spaces, screens at z = -L/2 and +L/2, the neck a cylinder of radius a
or, with ``radius_exit``, a cone from a at z = -L/2 to radius_exit at +L/2.
Every wall is specular, diffuse or partially specular (``specularity`` p,
Fuchs).  ``lead_radius`` W and ``lead_length`` feed the contact by cylindrical
wires with the reservoirs at their far ends instead of half-spaces.  The left
reservoir is raised by delta-mu = 1; the current is the one into the right.

Sources: ``reservoir`` (analog emission from the far left hemisphere of
``reservoir_radius``, or from the end of the left wire), or ``aperture`` (the
equivalent Lambertian source on the opening z = -L/2: a +1 electron
downstream, a -1 "missing electron" upstream, the upstream +1 baseline added
here to every density tally, which requires a ballistic upstream that sees
only the left reservoir).

This module only builds: config -> :class:`PointContactModel` ->
:class:`mc.model.TransportModel` (geometry from surfaces, emitters, tallies)
-> the engine -> batch totals -> estimates with the closed forms of
:mod:`observables.analytic.point_contact` as references where they hold (the
ballistic aperture) -> table rows.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from geometry.model import Geometry, Medium, Reservoir, wall_condition
from geometry.regions import Everywhere
from geometry.shapes import annulus_distance, cap_below_plane
from geometry.sphere import sphere_quadrature
from geometry.surfaces import Sphere, ZCone, ZCylinder, ZPlane
from mc.config import RunSettings, Table
from mc.errors import ConfigError
from mc.model import MAX_EVENTS, ImpurityModel, OpeningView, TransportModel, engine_simulation
from mc.scatterer_input import parse_scatterer
from mc.chapman_enskog import PARTICLES_PER_HISTORY, source_particles
from mc.sources import DiskEmitter, HemisphereEmitter, TableEmitter
from observables.analytic import constriction as neck_form
from observables.analytic import maxwell_orifice
from observables.analytic import point_contact as closed_form
from observables.statistics import Estimate, batch_estimate, figure_of_merit, function_estimate
from observables.tables import ResultRows
from observables.tallies import (
    ANALOG,
    BACKSCATTER,
    COLLISIONS,
    CROSSINGS,
    CURRENT_X,
    DROPPED,
    IMPURITY_MOMENTUM_X,
    LOST,
    MOMENT_X,
    NEXT_EVENT,
    TRACK_LENGTH,
    Ball,
    CartesianMesh,
    CylindricalMesh,
)

FIELD_TALLIES = ("current", "density", "current_density")
IMPURITY_TALLIES = ("wind_force", "backscatter_current", "direct_force", "collision_rate")
TALLY_KINDS = FIELD_TALLIES + IMPURITY_TALLIES
ESTIMATORS = ("next_event", "analog", "both")
BACKGROUND_ESTIMATORS = ("analog", "first_order", "correlated", "chapman_enskog")
SOURCES = ("aperture", "reservoir")
DEFAULT_DIRECT_VALENCE = 1.0
DEFAULT_PROBE_RADIUS = 0.5
DEFAULT_RESERVOIR_RADIUS = 200.0
MAX_MESH_CELLS = 1_000_000
MILNE_EXTRAPOLATION = 0.7104
"""Extrapolation length / l of an absorbing boundary in an isotropically scattering medium."""


@dataclass(frozen=True)
class Contact:
    """The shape of the contact: opening radius a, neck length L (0: a thin screen), exit radius,
    wall specularity p, and the wires (radius W, length) if the contact is fed by leads."""

    radius: float
    length: float = 0.0
    exit_radius: float | None = None
    specularity: float = 1.0
    lead_radius: float = math.inf
    lead_length: float = math.inf

    @property
    def entrance_z(self) -> float:
        return 0.0 - 0.5 * self.length  # 0.0, not -0.0, for a thin screen

    @property
    def exit_z(self) -> float:
        return 0.5 * self.length

    @property
    def outlet_radius(self) -> float:
        return self.radius if self.exit_radius is None else self.exit_radius

    @property
    def has_leads(self) -> bool:
        return self.lead_radius < math.inf

    @property
    def is_aperture(self) -> bool:
        return self.length == 0.0

    @property
    def narrowest(self) -> float:
        return min(self.radius, self.outlet_radius)

    def neck_radius_at(self, z: float) -> float:
        """Radius of the neck (cylinder or cone) at height z between the screens."""
        return self.radius + (self.outlet_radius - self.radius) * (z - self.entrance_z) / self.length

    def in_neck_wall(self, position) -> bool:
        """Is the point in the solid beside the neck (between the screens, outside the neck)?"""
        x, y, z = position
        if self.is_aperture or not self.entrance_z < z < self.exit_z:
            return False
        return math.hypot(x, y) >= self.neck_radius_at(z)

    def wall_clearance(self, position) -> float:
        """Distance from a point downstream of the contact (z >= exit) to the nearest wall: the outlet
        screen with its rim (the neck lies behind it) and, with leads, the wire."""
        clearance = annulus_distance(position, self.exit_z, self.outlet_radius)
        if self.has_leads:
            clearance = min(clearance, self.lead_radius - math.hypot(position[0], position[1]))
        return clearance


@dataclass(frozen=True)
class Probe:
    """A ball of ``radius`` around ``centre`` on which density and current density are tallied."""

    centre: tuple[float, float, float]
    radius: float


@dataclass(frozen=True)
class Impurity:
    """A scatterer at ``position`` with direct valence Z_d (Sorbello Eq. 59).

    ``gradient_radius`` is the ball on which the density gradient (direct force) is
    estimated from the track-length first moment: for a harmonic density
    int_ball (r - r0) n dV = grad n(r0) R^2 V / 5 exactly (mean-value property)."""

    position: tuple[float, float, float]
    scatterer: object
    direct_valence: float
    gradient_radius: float


@dataclass
class PointContactModel:
    contact: Contact
    source: str
    reservoir_radius: float
    mean_free_path: float = math.inf
    background_estimator: str = "analog"
    """How the background enters (BACKGROUND_ESTIMATORS): analog collisions only; "first_order" in
    1/l (flights ballistic, Gamma(K -> inf)); "correlated": analog flights that also score the
    exact change G_l C G_0 of the current against the ballistic contact (see mc.engine);
    "chapman_enskog": analog flights from the residual source of the Maxwell solution's
    Chapman–Enskog occupation (mc.chapman_enskog; small K, specular aperture only)."""
    tallies: set[str] = field(default_factory=set)
    density_probes: list[Probe] = field(default_factory=list)
    current_probes: list[Probe] = field(default_factory=list)
    mesh: CylindricalMesh | CartesianMesh | None = None
    planes: list[float] = field(default_factory=list)
    impurities: list[Impurity] = field(default_factory=list)
    estimators: set[str] = field(default_factory=set)
    multiple_scattering: bool = False

    @property
    def first_order(self) -> bool:
        return self.background_estimator == "first_order"

    @property
    def correlated(self) -> bool:
        return self.background_estimator == "correlated"

    @property
    def chapman_enskog(self) -> bool:
        return self.background_estimator == "chapman_enskog"

    @property
    def ballistic(self) -> bool:
        """Are the simulated flights ballistic (no background, or a first-order one)?"""
        return self.mean_free_path == math.inf or self.first_order

    @property
    def probes(self) -> list[Probe]:
        """All distinct probe balls, in order of first appearance (each is tallied once)."""
        seen: dict[Probe, None] = {}
        for probe in self.density_probes + self.current_probes:
            seen.setdefault(probe, None)
        return list(seen)

    @property
    def closed_forms_hold(self) -> bool:
        """Sorbello's closed forms: a ballistic thin aperture between half-spaces (any wall law)."""
        return self.contact.is_aperture and not self.contact.has_leads and self.ballistic

    def _contact_passes_sharvin(self) -> bool:
        """Does every electron that enters the narrowest section pass it, nothing else limiting the
        ballistic current (an aperture; a specular neck that does not narrow; specular wires)?"""
        c = self.contact
        neck_passes = c.is_aperture or (c.specularity == 1.0 and c.outlet_radius >= c.radius)
        leads_pass = not c.has_leads or c.specularity == 1.0
        return neck_passes and leads_pass

    def _straight_neck(self) -> bool:
        """A straight neck between half-spaces (no leads): the Clausing problem."""
        c = self.contact
        return not c.is_aperture and c.outlet_radius == c.radius and not c.has_leads

    def ballistic_current_reference(self) -> float:
        """The current the same contact carries without background scattering (NaN where no closed
        form or independent reference holds): Sharvin's a^2/4 pi, or a^2 W(L/a, p)/4 pi."""
        c = self.contact
        if self._contact_passes_sharvin():
            return closed_form.sharvin_current(c.narrowest)
        if self._straight_neck() and c.length <= neck_form.MAX_LENGTH_OVER_RADIUS * c.radius:
            return neck_form.current(c.radius, c.length, c.specularity)
        return math.nan

    def current_reference(self) -> float:
        """The particle current's reference where one holds (NaN elsewhere)."""
        return self.ballistic_current_reference() if self.ballistic else math.nan


# ------------------------------------------------------------------------------------ geometry


@dataclass
class ContactGeometry:
    """The composed geometry and the surfaces a builder refers back to."""

    geometry: Geometry
    entrance: ZPlane
    left_surface: object  # where the left reservoir emits (sphere or wire end)
    left_cell_region: object


def build_geometry(model: PointContactModel) -> ContactGeometry:
    """Surfaces, walls, reservoirs and cells of the contact (see the module docstring)."""
    c = model.contact
    wall = wall_condition(c.specularity)
    medium = Medium(mean_free_path=model.mean_free_path, first_order=model.first_order, correlated=model.correlated)
    g = Geometry()
    entrance = ZPlane(c.entrance_z, name="entrance")
    outlet = entrance if c.is_aperture else ZPlane(c.exit_z, name="exit")
    inlet_hole = ZCylinder(c.radius, name="opening")
    outlet_hole = inlet_hole if c.exit_radius is None else ZCylinder(c.outlet_radius, name="outlet")
    if c.is_aperture:
        neck_inside = None
    else:
        neck = inlet_hole if c.exit_radius is None else ZCone(c.entrance_z, c.radius, (c.outlet_radius - c.radius) / c.length,
                                                             name="neck")
        g.add_boundary(neck, wall, +entrance & -outlet, name="neck wall")
        neck_inside = -neck & +entrance & -outlet
    if c.has_leads:
        wire = ZCylinder(c.lead_radius, name="wire")
        left_end = ZPlane(c.entrance_z - c.lead_length, name="left wire end")
        right_end = ZPlane(c.exit_z + c.lead_length, name="right wire end")
        g.add_boundary(entrance, wall, +inlet_hole & -wire, name="left screen")
        if not c.is_aperture:
            g.add_boundary(outlet, wall, +outlet_hole & -wire, name="right screen")
        g.add_boundary(wire, wall, +left_end & -right_end, name="wire wall")
        g.add_boundary(left_end, Reservoir("left"), -wire)
        g.add_boundary(right_end, Reservoir("right"), -wire)
        left = -entrance & -wire & +left_end
        right = +outlet & -wire & -right_end
        g.add_cell(left, medium, name="left lead")
        g.add_cell(right, medium, name="right lead")
        left_surface = left_end
    else:
        g.add_boundary(entrance, wall, +inlet_hole, name="left screen")
        if not c.is_aperture:
            g.add_boundary(outlet, wall, +outlet_hole, name="right screen")
        if model.reservoir_radius == math.inf:
            left, right = -entrance, +outlet
            g.add_cell(left, medium, escape="left", name="left half-space")
            g.add_cell(right, medium, escape="right", name="right half-space")
            left_surface = None
        else:
            left_sphere = Sphere(model.reservoir_radius, (0.0, 0.0, c.entrance_z), name="left reservoir")
            right_sphere = left_sphere if c.is_aperture else Sphere(model.reservoir_radius, (0.0, 0.0, c.exit_z),
                                                                    name="right reservoir")
            g.add_boundary(left_sphere, Reservoir("left"), -entrance)
            g.add_boundary(right_sphere, Reservoir("right"), +outlet)
            left = -entrance & -left_sphere
            right = +outlet & -right_sphere
            g.add_cell(left, medium, name="left half-space")
            g.add_cell(right, medium, name="right half-space")
            left_surface = left_sphere
    if neck_inside is not None:
        g.add_cell(neck_inside, medium, name="neck")
    return ContactGeometry(g, entrance, left_surface, left)


def source_emitters(model: PointContactModel, built: ContactGeometry) -> list:
    c = model.contact
    if model.chapman_enskog:
        # the residual of psi_A replaces the reservoirs' and the opening's emission (mc.chapman_enskog)
        return [TableEmitter(j) for j in range(PARTICLES_PER_HISTORY)]
    if model.source == "aperture":
        # the equivalent source on the opening: the left reservoir as seen through it, and the
        # states going back through it, which the analytic +1 baseline upstream counts as filled
        return [DiskEmitter(c.entrance_z, c.radius, +1, 1.0, surface=built.entrance),
                DiskEmitter(c.entrance_z, c.radius, -1, -1.0, surface=built.entrance)]
    if c.has_leads:
        return [DiskEmitter(c.entrance_z - c.lead_length, c.lead_radius, +1, 1.0, reservoir="left",
                            surface=built.left_surface)]
    return [HemisphereEmitter((0.0, 0.0, c.entrance_z), model.reservoir_radius, -1, 1.0, reservoir="left",
                              surface=built.left_surface)]


# ------------------------------------------------------------------------------------ parse


def _parse_contact(geometry: Table, kind: str) -> Contact:
    radius = float(geometry.number("radius", gt=0.0))
    if "wall" in geometry and "specularity" in geometry:
        raise geometry.error("specularity", "give either wall or specularity, not both")
    if "specularity" in geometry:
        specularity = float(geometry.number("specularity", ge=0.0, le=1.0))
    else:
        specularity = 1.0 if geometry.string("wall", "specular", choices=("specular", "diffuse")) == "specular" else 0.0
    length, exit_radius = 0.0, None
    if kind == "constriction":
        length = float(geometry.number("length", gt=0.0))
        if "radius_exit" in geometry:
            exit_radius = float(geometry.number("radius_exit", gt=0.0))
    lead_radius = lead_length = math.inf
    if "lead_radius" in geometry or "lead_length" in geometry:
        lead_radius = float(geometry.number("lead_radius", gt=0.0))
        lead_length = float(geometry.number("lead_length", gt=0.0))
        widest = max(radius, exit_radius or radius)
        if lead_radius <= widest:
            raise geometry.error("lead_radius", f"must exceed the contact radius {widest:g}, got {lead_radius:g}")
    return Contact(radius, length, exit_radius, specularity, lead_radius, lead_length)


def _parse_mesh(table: Table, contact: Contact) -> CylindricalMesh | CartesianMesh:
    """A cylindrical (rho, z) mesh about the axis, or (``kind = "cartesian"``) a box mesh."""
    kind = table.string("kind", "cylindrical", choices=("cylindrical", "cartesian"))
    if kind == "cylindrical":
        mesh = CylindricalMesh(
            rho_max=float(table.number("rho_max", gt=0.0)),
            n_rho=int(table.number("n_rho", ge=1, integer=True)),
            z_min=float(table.number("z_min")),
            z_max=float(table.number("z_max")),
            n_z=int(table.number("n_z", ge=1, integer=True)),
        )
        z_min, z_max, z_edges, size_key = mesh.z_min, mesh.z_max, mesh.z_edges, "n_rho"
        if z_max <= z_min:
            raise table.error("z_max", f"must exceed z_min ({z_min}), got {z_max}")
    else:
        lower, upper = table.vector("lower"), table.vector("upper")
        shape = tuple(int(n) for n in table.numbers("shape", ge=1, integer=True))
        if len(shape) != 3:
            raise table.error("shape", f"must be three cell counts [nx, ny, nz], got {list(shape)}")
        for axis in range(3):
            if not upper[axis] > lower[axis]:
                raise table.error("upper", f"must exceed lower in every coordinate, got {list(lower)} and {list(upper)}")
        mesh = CartesianMesh(lower, upper, shape)
        z_min, z_max, z_edges, size_key = lower[2], upper[2], mesh.edges(2), "shape"
    table.finish()
    if mesh.cells > MAX_MESH_CELLS:
        raise table.error(size_key, f"mesh has {mesh.cells} cells, more than {MAX_MESH_CELLS}")
    for plane in sorted({contact.entrance_z, contact.exit_z}):
        if z_min < plane < z_max and np.min(np.abs(z_edges - plane)) > 1e-9 * (z_max - z_min):
            raise table.error("shape" if kind == "cartesian" else "n_z",
                              f"the screen plane z = {plane:g} must be a cell edge (cells may not straddle a wall)")
    spans_neck = z_min < contact.exit_z and z_max > contact.entrance_z and not contact.is_aperture
    spans = f"the mesh spans the neck (z between {contact.entrance_z:g} and {contact.exit_z:g}): "
    if spans_neck and kind == "cartesian":
        raise table.error("lower", spans + "box cells would straddle the neck wall; use a cylindrical mesh there")
    if spans_neck and mesh.rho_max > contact.narrowest:
        # the neck wall must be a cell edge too: a straight neck's radius a, and no cell beside a cone
        if contact.outlet_radius != contact.radius:
            raise table.error("rho_max", spans + f"must not exceed the narrowest neck radius {contact.narrowest:g} "
                                                 f"(cells may not straddle the cone's wall)")
        if np.min(np.abs(mesh.rho_edges - contact.radius)) > 1e-9 * mesh.rho_max:
            raise table.error("n_rho", spans + f"the neck radius {contact.radius:g} must be a cell edge (cells may "
                                               f"not straddle a wall)")
    return mesh


def parse(root: Table, geometry: Table, settings: RunSettings) -> PointContactModel:
    kind = geometry.raw("kind")
    contact = _parse_contact(geometry, kind)

    source = root.table("source", {})
    source_kind = source.string("kind", "aperture", choices=SOURCES)
    if contact.has_leads:
        if "reservoir_radius" in source:
            raise source.error("reservoir_radius", "the reservoirs are the ends of the wires (geometry.lead_length)")
        reservoir_radius = math.inf
    else:
        default_radius = DEFAULT_RESERVOIR_RADIUS if source_kind == "reservoir" else math.inf
        reservoir_radius = float(source.number("reservoir_radius", default_radius, gt=0.0))
        widest = max(contact.radius, contact.outlet_radius)
        if reservoir_radius <= widest:
            raise source.error("reservoir_radius", f"must exceed the contact radius {widest:g}, got {reservoir_radius:g}")
    source.finish()

    background = root.table("background", {})
    mean_free_path = float(background.number("mean_free_path", math.inf, gt=0.0))
    estimator = background.string("estimator", "analog", choices=BACKGROUND_ESTIMATORS)
    background.finish()
    model = PointContactModel(contact, source_kind, reservoir_radius, mean_free_path, estimator)
    if estimator != "analog" and mean_free_path == math.inf:
        raise background.error("mean_free_path", f"estimator = \"{estimator}\" measures what a finite mean free "
                                                 f"path changes: give it")
    if mean_free_path < math.inf and reservoir_radius == math.inf and not contact.has_leads:
        raise source.error("reservoir_radius", "a background scatters on every flight, which must end in a "
                                               "reservoir: give finite reservoirs")
    if estimator in ("first_order", "correlated") and not contact.is_aperture and contact.specularity == 1.0:
        raise background.error("estimator", f"\"{estimator}\" follows ballistic electrons, and one that grazes a "
                                            f"specular neck's wall bounces without end (the event cap would refuse "
                                            f"the run); use \"analog\" or a specularity below 1")
    if model.correlated and math.isnan(model.ballistic_current_reference()):
        raise background.error("estimator", "\"correlated\" measures I(l) - I(ballistic) and needs the ballistic "
                                            "current's closed form (an aperture, a specular or straight neck "
                                            "between half-spaces, specular wires); use \"analog\"")
    if model.chapman_enskog:
        _check_chapman_enskog(model, source, source_kind)
    if not model.ballistic:
        _check_diffusion_cost(model)
    if source_kind == "aperture" and contact.has_leads and contact.specularity < 1.0:
        raise source.error("kind", "the equivalent source on the opening needs specular wires (a diffuse wire wall "
                                   "sends electrons back to the opening); use kind = \"reservoir\"")
    built = build_geometry(model)

    transport = root.table("transport", {})
    multiple = transport.raw("multiple_scattering", False)
    if not isinstance(multiple, bool):
        raise transport.error("multiple_scattering", f"must be true or false, got {multiple!r}")
    model.multiple_scattering = multiple
    transport.finish()
    for table in root.tables("impurities"):
        model.impurities.append(_parse_impurity(table, model, built.geometry))
    tallies = root.tables("tallies")
    if not tallies:
        raise root.error("tallies", "at least one [[tallies]] table is required")
    for tally in tallies:
        _parse_tally(tally, model, built.geometry)
    _check_impurity_estimators(model)
    if model.chapman_enskog and (model.impurities or model.tallies != {"current"} or model.planes):
        raise ConfigError("background.estimator", "\"chapman_enskog\" measures the current through the contact only "
                                                  "(one [[tallies]] kind = \"current\" without planes, no impurities); "
                                                  "use \"analog\" for fields and impurities")
    return model


def _check_chapman_enskog(model: PointContactModel, source: Table, source_kind: str) -> None:
    """The Chapman–Enskog trial occupation is built from the Maxwell solution of a thin hole between
    half-spaces, and reflects into itself only at a specular screen."""
    c = model.contact
    if not c.is_aperture or c.has_leads:
        raise ConfigError("background.estimator", "\"chapman_enskog\" needs the Maxwell solution of the contact: "
                                                  "only a thin aperture between half-spaces has it (geometry.kind = "
                                                  "\"aperture\", no leads)")
    if c.specularity != 1.0:
        raise ConfigError("background.estimator", f"\"chapman_enskog\" needs a specular screen (its trial occupation "
                                                  f"n - l k.grad n is even in k_z there; a screen of specularity "
                                                  f"{c.specularity:g} would need a wall source), got wall specularity "
                                                  f"{c.specularity:g}")
    if source_kind != "aperture":
        raise source.error("kind", "\"chapman_enskog\" brings its own source (the residual of the Chapman–Enskog "
                                   "occupation, reservoirs emitting its incoming part); leave source.kind out")


def _check_diffusion_cost(model: PointContactModel) -> None:
    """A diffusing electron needs about (R / l)^2 collisions to reach reservoirs at distance R."""
    c = model.contact
    reach = (c.lead_length + 0.5 * c.length) if c.has_leads else model.reservoir_radius
    collisions = (reach / model.mean_free_path) ** 2
    if collisions > MAX_EVENTS / 10:
        raise ConfigError("background.mean_free_path",
                          f"l = {model.mean_free_path:g} needs about (R/l)^2 = {collisions:.2g} collisions per history to "
                          f"reach the reservoirs at R = {reach:g} (the cap is {MAX_EVENTS:.0e} events per particle); "
                          f"use a longer mean free path or nearer reservoirs")


def _inside_cells(geometry: Geometry, centre, radius: float) -> bool:
    """Does the ball lie in the simulated cells (no part of it in the void or beyond a reservoir)?"""
    directions, _ = sphere_quadrature(6)
    points = np.asarray(centre)[None, :] + np.concatenate([[[0.0, 0.0, 0.0]], radius * directions, 0.5 * radius * directions])
    return bool(np.all(geometry.find_cell(points) >= 0))


def _parse_tally(tally: Table, model: PointContactModel, geometry: Geometry) -> None:
    kind = tally.string("kind", choices=TALLY_KINDS)
    model.tallies.add(kind)
    if kind == "current":
        if "planes" in tally:
            model.planes = [float(z) for z in tally.numbers("planes")]
            _check_planes(tally, model)
        tally.finish()
        return
    if kind in IMPURITY_TALLIES:
        if not model.impurities:
            raise tally.error("kind", f"a {kind} tally needs at least one [[impurities]] entry")
        if kind != "direct_force":
            estimator = tally.string("estimator", "next_event", choices=ESTIMATORS)
            model.estimators.update(("analog", "next_event") if estimator == "both" else (estimator,))
        tally.finish()
        return
    if "probes" not in tally and "mesh" not in tally:
        raise tally.error("probes", f"a {kind} tally needs probes or a mesh")
    if "probes" in tally:
        probe_radius = float(tally.number("probe_radius", DEFAULT_PROBE_RADIUS, gt=0.0))
        for i, centre in enumerate(tally.vectors("probes")):
            if geometry.wall_points_within(centre, probe_radius):
                raise tally.error(f"probes[{i}]", f"probe ball of radius {probe_radius} at {list(centre)} cuts a wall")
            if not _inside_cells(geometry, centre, probe_radius):
                raise tally.error(f"probes[{i}]", f"probe ball of radius {probe_radius} at {list(centre)} is not inside "
                                                  f"the simulated region")
            probes = model.density_probes if kind == "density" else model.current_probes
            probes.append(Probe(centre=centre, radius=probe_radius))
    if "mesh" in tally:
        mesh = _parse_mesh(tally.table("mesh"), model.contact)
        if model.mesh is not None and model.mesh != mesh:
            raise tally.error("mesh", "all tallies of a case must share one mesh")
        if isinstance(mesh, CylindricalMesh):
            corner = math.hypot(mesh.rho_max, max(abs(mesh.z_min), abs(mesh.z_max)) + 0.5 * model.contact.length)
        else:
            corner = math.hypot(*np.maximum(np.abs(mesh.lower), np.abs(mesh.upper))) + 0.5 * model.contact.length
        if corner > model.reservoir_radius:
            raise tally.error("mesh", f"extends to {corner:g}, beyond the simulated ball of radius {model.reservoir_radius}")
        model.mesh = mesh
    tally.finish()


def _check_planes(tally: Table, model: PointContactModel) -> None:
    """A plane's net crossings are the current only where it is a whole cross-section between the reservoirs.

    Refused: a plane on a screen (a tally surface coinciding with a wall makes the nearest-surface
    step pick either one, and particles slipped through the screen), and a plane outside the neck
    when the reservoirs are hemispheres (the sphere cuts the plane: particles absorbed between
    the plane and the screen never cross it) or beyond the ends of the wires."""
    c = model.contact
    for i, z in enumerate(model.planes):
        key = f"planes[{i}]"
        scale = max(1.0, abs(z), c.radius)
        for screen in sorted({c.entrance_z, c.exit_z}):
            if abs(z - screen) <= 1e-9 * scale:
                raise tally.error(key, f"z = {z:g} lies on the screen plane z = {screen + 0.0:g}; move the plane off "
                                       f"the wall")
        if c.has_leads:
            lo, hi = c.entrance_z - c.lead_length, c.exit_z + c.lead_length
            if not lo < z < hi:
                raise tally.error(key, f"z = {z:g} is not between the wire ends (reservoirs) z = {lo:g} and {hi:g}")
        elif model.reservoir_radius < math.inf and not c.entrance_z < z < c.exit_z:
            whole = (f"only planes inside the neck (z between {c.entrance_z:g} and {c.exit_z:g}) are whole"
                     if not c.is_aperture else "no plane is whole beside an aperture")
            raise tally.error(key, f"z = {z:g} is cut by the reservoir hemispheres of radius {model.reservoir_radius:g}, "
                                   f"so its crossings miss current: with hemispherical reservoirs {whole}; the "
                                   f"aperture source (half-spaces to infinity) has whole planes everywhere")


def _physical_radius(scatterer) -> float:
    """How far the scatterer reaches: its own radius where it has one, else its equivalent disk."""
    parameters = getattr(scatterer, "parameters", {}) or {}
    return float(parameters.get("radius", 0.0))


def _parse_impurity(table: Table, model: PointContactModel, geometry: Geometry) -> Impurity:
    position = table.vector("position")
    c = model.contact
    x, y, z = position
    if c.in_neck_wall(position):
        raise table.error("position", f"{list(position)} is inside the wall beside the neck")
    if z < c.exit_z:
        raise table.error("position", f"must have z >= {c.exit_z:g} (downstream of the contact; the upstream side is "
                                      f"the mirror problem, the inside of the neck is not supported), got {list(position)}")
    clearance = c.wall_clearance(position)
    if clearance <= 0.0:
        raise table.error("position", f"{list(position)} is inside the wall")
    if not (c.is_aperture and z == 0.0) and geometry.find_cell(np.asarray(position)[None, :])[0] < 0:
        raise table.error("position", f"{list(position)} is outside the simulated region")
    scatterer = parse_scatterer(table.table("scatterer"))
    reach = max(ImpurityModel(position, scatterer).disk_radius(), _physical_radius(scatterer))
    if reach >= clearance:
        raise table.error("position", f"the scatterer at {list(position)} reaches a wall: its equivalent disk or "
                                      f"size has radius {reach:.3g}, the wall is {clearance:.3g} away (a point "
                                      f"scatterer must be clear of the walls)")
    valence = float(table.number("direct_valence", DEFAULT_DIRECT_VALENCE))
    if "gradient_radius" in table:
        gradient_radius = float(table.number("gradient_radius", gt=0.0))
        if gradient_radius >= clearance:
            raise table.error("gradient_radius", f"ball of radius {gradient_radius} around {list(position)} reaches "
                                                 f"the wall (clearance {clearance:.4g})")
    else:
        # the pure-contact density is harmonic away from the walls, so any ball clear of
        # them gives the exact gradient at its centre; a larger ball collects more track
        gradient_radius = min(0.5 * c.narrowest, 0.9 * clearance)
    table.finish()
    return Impurity(position=position, scatterer=scatterer, direct_valence=valence, gradient_radius=gradient_radius)


def _check_impurity_estimators(model: PointContactModel) -> None:
    if model.multiple_scattering and not model.impurities:
        raise ConfigError("transport.multiple_scattering", "needs [[impurities]]")
    if model.multiple_scattering and "next_event" in model.estimators:
        raise ConfigError("transport.multiple_scattering",
                          "the next-event estimator is first order; multiple scattering needs estimator = \"analog\" "
                          "on every impurity tally")
    if model.multiple_scattering:
        for i, a in enumerate(model.impurities):
            for j, b in enumerate(model.impurities[:i]):
                reach = ImpurityModel(a.position, a.scatterer).disk_radius() + ImpurityModel(b.position, b.scatterer).disk_radius()
                if math.dist(a.position, b.position) < reach:
                    raise ConfigError(f"impurities[{i}].position",
                                      f"overlaps impurities[{j}] (distance {math.dist(a.position, b.position):.3g} < "
                                      f"{reach:.3g}, the sum of their equivalent disk radii): point scatterers under "
                                      f"multiple scattering must not overlap")
    if "analog" in model.estimators:
        z_screen = model.contact.exit_z
        for i, imp in enumerate(model.impurities):
            b = ImpurityModel(imp.position, imp.scatterer).disk_radius()
            if imp.position[2] - z_screen < b:
                # the equivalent disk would reach across the screen plane, where flights see the
                # other side's distribution (and the equivalent source's flights start): a point
                # scatterer at r0 sees neither
                raise ConfigError(f"impurities[{i}].position",
                                  f"the analog estimator needs the impurity's equivalent disk (radius {b:.3g}) clear "
                                  f"of the screen plane z = {z_screen:g}, got z = {imp.position[2]:g}; use the "
                                  f"next_event estimator (exact there)")


# ------------------------------------------------------------------------------------ model


@dataclass
class Plan:
    """Where each physical tally lives in the transport model."""

    probe_balls: list[int]
    gradient_balls: list[int]
    drain: int
    """Index of the right reservoir in the reservoir block."""
    upstream: int
    """Index of the left reservoir."""


def transport_model(model: PointContactModel, seed: int = 0) -> tuple[TransportModel, Plan]:
    built = build_geometry(model)
    c = model.contact
    balls = [Ball(p.centre, p.radius) for p in model.probes]
    probe_balls = list(range(len(balls)))
    gradient_balls = []
    if "direct_force" in model.tallies:
        for imp in model.impurities:
            gradient_balls.append(len(balls))
            balls.append(Ball(imp.position, imp.gradient_radius, moments=True))
    planes = [ZPlane(z, name=f"plane z = {z:g}") for z in model.planes]
    next_event = "next_event" in model.estimators
    impurities = []
    for imp in model.impurities:
        view = None
        if model.ballistic and imp.position[2] >= c.exit_z:
            # every flight from the outlet comes through it: sample its view; exactly known to come
            # from the left reservoir through a thin opening into a ballistic half-space
            exact = c.is_aperture and (not c.has_leads or c.specularity == 1.0)
            view = OpeningView(c.exit_z, c.outlet_radius, "left", exact=exact)
        impurities.append(ImpurityModel(imp.position, imp.scatterer, next_event=next_event, view=view))
    transport = TransportModel(
        geometry=built.geometry,
        emitters=source_emitters(model, built),
        drain="right",
        reservoir_excess={"left": 1.0},
        impurities=impurities,
        balls=balls,
        cylindrical_meshes=[model.mesh] if isinstance(model.mesh, CylindricalMesh) else [],
        cartesian_meshes=[model.mesh] if isinstance(model.mesh, CartesianMesh) else [],
        surface_tallies=[(plane, Everywhere()) for plane in planes],
        analog="analog" in model.estimators,
        multiple_scattering=model.multiple_scattering,
        # the background changes the current where the opening sees it: around the neck's middle
        background_focus=(0.0, 0.0, 0.5 * (c.entrance_z + c.exit_z), max(c.narrowest, 0.5 * c.length)),
        particle_table=(functools.partial(source_particles, seed, radius=c.radius, mean_free_path=model.mean_free_path,
                                          reservoir_radius=model.reservoir_radius)
                        if model.chapman_enskog else None),
    )
    return transport, Plan(probe_balls, gradient_balls, built.geometry.reservoir_index("right"),
                           built.geometry.reservoir_index("left"))


def prepare(case):
    model: PointContactModel = case.model
    transport, plan = transport_model(model, case.settings.seed)
    references = References(model)
    return engine_simulation(case.name, case.settings.seed, transport,
                             lambda batches, layout: results(case, plan, references, batches, layout))


# ------------------------------------------------------------------------------------ decode


class References:
    """Closed forms of the case (computed once, on first use, for every finalize call)."""

    def __init__(self, model: PointContactModel):
        self.model = model
        self._cache: dict = {}

    def get(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def probes(self):
        a = self.model.contact.radius

        def compute():
            density, current = [], []
            for probe in self.model.probes:
                density.append(closed_form.ball_average(lambda x, y, z: closed_form.excess_density(np.hypot(x, y), z, a),
                                                        probe.centre, probe.radius))
                current.append(closed_form.ball_average(lambda x, y, z: closed_form.cartesian_current_density(x, y, z, a),
                                                        probe.centre, probe.radius))
            return np.array(density), np.array(current).reshape(-1, 3)

        return self.get("probes", compute)

    def mesh(self):
        a, mesh = self.model.contact.radius, self.model.mesh

        def compute():
            if isinstance(mesh, CartesianMesh):
                edges = [mesh.edges(axis) for axis in range(3)]
                density = closed_form.box_average(
                    lambda x, y, z: closed_form.excess_density(np.hypot(x, y), z, a), *edges, a)
                current = closed_form.box_average(lambda x, y, z: closed_form.cartesian_current_density(x, y, z, a),
                                                  *edges, a)
                return (density, *current)
            rho_edges, z_edges = mesh.rho_edges, mesh.z_edges
            density = closed_form.annulus_average(lambda r, z: closed_form.excess_density(r, z, a), rho_edges, z_edges, a)
            j_rho, j_z = closed_form.annulus_average(lambda r, z: closed_form.current_density(r, z, a), rho_edges, z_edges, a)
            return density, j_rho, j_z

        return self.get("mesh", compute)

    def impurity(self, i: int, what: str):
        a = self.model.contact.radius
        imp = self.model.impurities[i]

        def compute():
            if what == "collision_rate":
                return closed_form.collision_rate(imp.scatterer, imp.position, a)
            if what == "wind_force":
                return closed_form.wind_force(imp.scatterer, imp.position, a)
            if what == "backscatter_current":
                return closed_form.backscatter_current(imp.scatterer, imp.position, a)
            return closed_form.direct_force(imp.position, a, imp.direct_valence)

        return self.get((i, what), compute)


def _check_diagnostics(case, scores, layout) -> None:
    diagnostics = layout.read(scores, "diagnostics").sum(axis=0)
    if diagnostics[DROPPED] > 0:
        raise ConfigError("histories", f"{int(diagnostics[DROPPED])} histories reached the cap on surface and collision "
                                       f"events per particle (mc.model.MAX_EVENTS); results that would miss them are "
                                       f"refused")
    if diagnostics[LOST] > 0:
        raise ConfigError("geometry", f"{int(diagnostics[LOST])} particles left every cell (lost): the geometry "
                                      f"has a gap; results refused")


def _baseline_fraction_of_balls(balls: list[Ball], plane_z: float) -> tuple[np.ndarray, np.ndarray]:
    """Volume and z first moment (about the centre) of each ball below the plane z = plane_z."""
    volume, moment = [], []
    for b in balls:
        v, m = cap_below_plane(b.centre[2], b.outer, plane_z)
        volume.append(v)
        moment.append(m)
    return np.array(volume), np.array(moment)


def results(case, plan: Plan, references: References, batches, layout) -> ResultRows:
    model: PointContactModel = case.model
    c = model.contact
    totals, histories, seconds = batches.totals, batches.histories, batches.seconds
    _check_diagnostics(case, totals, layout)
    rows = ResultRows(case.name, source=model.source, wall_specularity=c.specularity, radius=c.radius,
                      length=c.length, seconds=seconds)
    aperture_source = model.source == "aperture"
    closed = model.closed_forms_hold

    def fom(estimate):
        return float(figure_of_merit(estimate, seconds))

    drain = layout.read(totals, "reservoirs")[:, plan.drain, 0]
    current = batch_estimate(drain, histories)
    if model.chapman_enskog:
        _chapman_enskog_rows(rows, model, layout.read(totals, "reservoirs")[:, :, 0], plan, histories, fom)
        return rows
    if "current" in model.tallies:
        reference = model.current_reference()
        rows.add("current", current.mean, current.stderr, reference, tally="global", fom=fom(current))
        resistance = current.reciprocal()
        rows.add("resistance", resistance.mean, resistance.stderr, 1.0 / reference, tally="global",
                 fom=fom(resistance))
        if model.planes:
            crossings = layout.read(totals, "surfaces")[:, :, CROSSINGS]
            through = batch_estimate(crossings, histories)
            for k, z in enumerate(model.planes):
                # steady state: the net current through any whole cross-section is the current
                rows.add("current", through.mean[k], through.stderr[k], reference, position=(np.nan, np.nan, z),
                         tally="plane", estimator="surface_crossing", fom=fom(through[k]))
        if model.mean_free_path < math.inf and c.is_aperture and not c.has_leads:
            if model.first_order:
                _first_order_gamma_rows(rows, model, layout, totals, drain, histories, fom)
            else:
                _gamma_rows(rows, model, current, fom)
        if model.correlated:
            _correlated_rows(rows, model, layout, totals, histories, fom)

    balls = layout.read(totals, "balls") if "balls" in layout else None
    probes = model.probes
    if probes:
        scores = balls[:, plan.probe_balls, :]
        volumes = np.array([4.0 / 3.0 * math.pi * p.radius**3 for p in probes])
        density = batch_estimate(scores[:, :, TRACK_LENGTH], histories).scaled(
            1.0 / (closed_form.DENSITY_OF_STATES * volumes))
        if aperture_source:
            below, _ = _baseline_fraction_of_balls([Ball(p.centre, p.radius) for p in probes], c.entrance_z)
            density = density.shifted(below / volumes)
        j = batch_estimate(scores[:, :, CURRENT_X:CURRENT_X + 3], histories).scaled(1.0 / volumes[:, None])
        ref_density, ref_current = references.probes() if closed else (np.full(len(probes), np.nan),
                                                                        np.full((len(probes), 3), np.nan))
        for i, probe in enumerate(probes):
            common = dict(position=probe.centre, tally="probe", probe_radius=probe.radius)
            if probe in model.density_probes:
                n = density[i]
                rows.add("density", n.mean, n.stderr, ref_density[i], fom=fom(n), **common)
                rows.add("potential", 0.5 - n.mean, n.stderr, 0.5 - ref_density[i], fom=fom(n.shifted(-0.5)), **common)
            if probe in model.current_probes:
                for k, comp in enumerate("xyz"):
                    rows.add("current_density", j.mean[i, k], j.stderr[i, k], ref_current[i, k], component=comp,
                             fom=fom(j[i, k]), **common)
    if isinstance(model.mesh, CylindricalMesh):
        _mesh_rows(rows, model, references, layout.read(totals, "cylindrical_mesh_0"), histories, closed)
    elif model.mesh is not None:
        _cartesian_mesh_rows(rows, model, references, layout.read(totals, "cartesian_mesh_0"), histories, closed)
    if model.impurities:
        _impurity_rows(rows, model, plan, references, layout, totals, histories, current, balls, fom)
    return rows


def _gamma_rows(rows: ResultRows, model: PointContactModel, current: Estimate, fom, **extra) -> None:
    """Finite mean free path: Wexler's Gamma(K) of R = R_Sharvin + Gamma(K) R_Maxwell, K = l/a.

    The simulated reservoirs are hemispheres of radius R_res; each half-space then lacks its
    spreading resistance beyond them, rho / (2 pi R_eff) with R_eff = R_res + 0.7104 l (the Milne
    extrapolation length of an absorbing boundary in an isotropically scattering medium).  That
    correction assumes a, l << R_res."""
    a, l = model.contact.radius, model.mean_free_path
    correction = closed_form.drude_resistivity(l) / (np.pi * (model.reservoir_radius + MILNE_EXTRAPOLATION * l))
    resistance = current.reciprocal().shifted(correction)
    gamma = resistance.shifted(-closed_form.sharvin_resistance(a)).scaled(1.0 / closed_form.maxwell_resistance(a, l))
    rows.add("gamma_wexler", gamma.mean, gamma.stderr, np.nan, tally="global", fom=fom(gamma), knudsen=l / a,
             mean_free_path=l, reservoir_correction=correction, **extra)


def _chapman_enskog_rows(rows: ResultRows, model: PointContactModel, reservoirs, plan: Plan, histories, fom) -> None:
    """The Chapman–Enskog estimator: I = I_M + I_phi, and Gamma(K) with its reservoir correction.

    psi = psi_A + phi, psi_A = n - l k.grad n carrying exactly I_M = 2 a l / (3 pi^2) through the
    hole; phi's source particles are drawn on the right only (the left ones are their negative
    mirror images), so I_phi = <[right] - [left]> over their fates (mc.chapman_enskog).

    Reservoirs: the simulated reservoirs (hemispheres of radius R) emit psi_A's incoming part, the
    Chapman–Enskog occupation of n.  Outside a boundary layer that makes the diffusive density
    n + f match n at R_eff = R + 0.7104 l (Milne: zero incoming data for the deviation f).  The
    infinite contact's far field is n + (I - I_M) R_s(r) on the right, R_s(r) = rho / (2 pi r) the
    spreading resistance beyond r, and the simulated one is a multiple of it plus a constant that
    matches n's far field I_M R_s on both spheres: I_sim = (1 - 2 I_M R_s) / (R - 2 R_s), so

        R = 1/I_sim + 2 R_s (1 - I_M / I_sim),    R_s = rho / (2 pi R_eff),

    a correction (2a / pi R_eff) (I_sim - I_M) / I_sim in Gamma units, O(K) of the analog one's
    2a / (pi R_eff) (reservoirs at n = 1 and 0).  The quadrupole (l = 2) parts of the far fields
    left out enter only as their product, O((a/R)^4) of the correction."""
    a, l = model.contact.radius, model.mean_free_path
    maxwell = maxwell_orifice.maxwell_current(a, l)
    current = batch_estimate(reservoirs[:, plan.drain] - reservoirs[:, plan.upstream], histories).shifted(maxwell)
    rows.add("current", current.mean, current.stderr, np.nan, tally="global", estimator="chapman_enskog",
             fom=fom(current), maxwell_current=maxwell)
    resistance = current.reciprocal()
    rows.add("resistance", resistance.mean, resistance.stderr, np.nan, tally="global", estimator="chapman_enskog",
             fom=fom(resistance))
    spreading = closed_form.drude_resistivity(l) / (2.0 * math.pi * (model.reservoir_radius + MILNE_EXTRAPOLATION * l))
    corrected = resistance.scaled(1.0 - 2.0 * maxwell * spreading).shifted(2.0 * spreading)
    gamma = corrected.shifted(-closed_form.sharvin_resistance(a)).scaled(1.0 / closed_form.maxwell_resistance(a, l))
    rows.add("gamma_wexler", gamma.mean, gamma.stderr, np.nan, tally="global", estimator="chapman_enskog",
             fom=fom(gamma), knudsen=l / a, mean_free_path=l,
             reservoir_correction=float(corrected.mean - resistance.mean))


def _correlated_rows(rows: ResultRows, model: PointContactModel, layout, totals, histories, fom) -> None:
    """The correlated background estimator: I(l) = I_ballistic + b / l, b the score of
    mc.engine._background_collision on the analog flights (G_l - G_0 = G_l C G_0, exact at any l),
    I_ballistic the contact's closed form.  Its variance comes only from what the background
    changes, so it resolves a 1 % resistance change where the analog drain count cannot."""
    l = model.mean_free_path
    background = layout.read(totals, "background")[:, 0]
    current = batch_estimate(background, histories).scaled(1.0 / l).shifted(model.ballistic_current_reference())
    rows.add("current", current.mean, current.stderr, np.nan, tally="global", estimator="correlated",
             fom=fom(current))
    resistance = current.reciprocal()
    rows.add("resistance", resistance.mean, resistance.stderr, np.nan, tally="global", estimator="correlated",
             fom=fom(resistance))
    if model.contact.is_aperture and not model.contact.has_leads:
        _gamma_rows(rows, model, current, fom, estimator="correlated")


def _first_order_gamma_rows(rows: ResultRows, model: PointContactModel, layout, totals, drain, histories, fom) -> None:
    """Gamma(K -> inf) from the first-order background estimator.

    The background, to first order in 1/l, changes the current by dI = b / l with b the score
    of mc.engine._background_collision, so dR = -dI / I^2 and Gamma = dR / R_Maxwell does not
    depend on l: it is the limit K = l/a -> inf.  Reservoirs at R_res miss the collisions
    beyond them; at first order the far field is the Lambertian flux I cos(theta) / (pi r^2),
    a collision at r sends the electron back through the hole with probability
    a^2 cos(theta) / (4 r^2), and both half-spaces beyond R_res miss
    dR = 4 pi / (3 l R_res), i.e. dGamma = 8 a / (9 pi R_res), added here."""
    a, l = model.contact.radius, model.mean_free_path
    background = layout.read(totals, "background")[:, 0]
    r_maxwell = closed_form.maxwell_resistance(a, l)
    correction = 8.0 * a / (9.0 * math.pi * model.reservoir_radius)
    delta_r = function_estimate(lambda b, i: -(b / l) / i**2, [background, drain], histories)
    gamma = delta_r.scaled(1.0 / r_maxwell).shifted(correction)
    rows.add("delta_resistance", delta_r.mean, delta_r.stderr, np.nan, tally="global", estimator="first_order",
             fom=fom(delta_r), mean_free_path=l)
    # the reference is the derivation: the same first-order integral over the ballistic solution
    # by quadrature (any wall law: a collision's electron that hits the screen leaves it away
    # from the hole, so specular and diffuse screens give one Gamma(inf))
    rows.add("gamma_wexler", gamma.mean, gamma.stderr, closed_form.gamma_wexler_limit(), tally="global",
             estimator="first_order", fom=fom(gamma), knudsen=math.inf, mean_free_path=l,
             reservoir_correction=correction)


def _mesh_rows(rows: ResultRows, model: PointContactModel, references: References, scores, histories, closed) -> None:
    mesh = model.mesh
    volumes = mesh.cell_volumes
    density = batch_estimate(scores[..., 0], histories).scaled(1.0 / (closed_form.DENSITY_OF_STATES * volumes))
    rho_c, z_c = mesh.centres()
    if model.source == "aperture":
        # cells do not straddle the opening plane: wholly upstream or not
        density = density.shifted(np.where(z_c < model.contact.entrance_z, 1.0, 0.0)[None, :])
    current = batch_estimate(scores[..., 1:], histories).scaled(1.0 / volumes[..., None])
    if closed:
        ref_density, ref_j_rho, ref_j_z = references.mesh()
    else:
        ref_density = ref_j_rho = ref_j_z = np.full(volumes.shape, np.nan)
    R, Z = np.meshgrid(rho_c, z_c, indexing="ij")
    where = dict(positions=(R, np.zeros_like(R), Z), tally="mesh")
    if "density" in model.tallies:
        rows.add_block("density", density.mean, density.stderr, ref_density, **where)
        rows.add_block("potential", 0.5 - density.mean, density.stderr, 0.5 - ref_density, **where)
    if "current_density" in model.tallies:
        rows.add_block("current_density", current.mean[..., 0], current.stderr[..., 0], ref_j_rho, component="x", **where)
        rows.add_block("current_density", current.mean[..., 1], current.stderr[..., 1], ref_j_z, component="z", **where)


def _cartesian_mesh_rows(rows: ResultRows, model: PointContactModel, references: References, scores, histories,
                         closed) -> None:
    mesh = model.mesh
    volume = mesh.cell_volume
    density = batch_estimate(scores[..., 0], histories).scaled(1.0 / (closed_form.DENSITY_OF_STATES * volume))
    X, Y, Z = np.meshgrid(*(mesh.centres(axis) for axis in range(3)), indexing="ij")
    if model.source == "aperture":
        # cells do not straddle the opening plane: wholly upstream or not
        density = density.shifted(np.where(Z < model.contact.entrance_z, 1.0, 0.0))
    current = batch_estimate(scores[..., 1:], histories).scaled(1.0 / volume)
    refs = references.mesh() if closed else tuple(np.full(mesh.shape, np.nan) for _ in range(4))
    where = dict(positions=(X, Y, Z), tally="mesh")
    if "density" in model.tallies:
        rows.add_block("density", density.mean, density.stderr, refs[0], **where)
        rows.add_block("potential", 0.5 - density.mean, density.stderr, 0.5 - refs[0], **where)
    if "current_density" in model.tallies:
        for k, component in enumerate("xyz"):
            rows.add_block("current_density", current.mean[..., k], current.stderr[..., k], refs[1 + k],
                           component=component, **where)


def _impurity_rows(rows, model: PointContactModel, plan: Plan, references: References, layout, totals, histories,
                   current: Estimate, balls, fom) -> None:
    """Sorbello Eqs. 57-64 per impurity, by each estimator asked for, with their references."""
    c = model.contact
    closed = model.closed_forms_hold
    scores = layout.read(totals, "impurities")  # (B, impurity, estimator, score)
    drain = layout.read(totals, "reservoirs")[:, plan.drain, 0]
    first_order_delta_r = 0.0
    for i, imp in enumerate(model.impurities):
        common = dict(position=imp.position, impurity=i)
        wants_back = "backscatter_current" in model.tallies and not model.multiple_scattering
        ref_rate = references.impurity(i, "collision_rate") if closed else np.nan
        ref_force = references.impurity(i, "wind_force") if closed and "wind_force" in model.tallies else np.full(3, np.nan)
        ref_back = references.impurity(i, "backscatter_current") if closed and (wants_back or model.multiple_scattering) else np.nan
        if np.isfinite(ref_back):
            first_order_delta_r += closed_form.delta_resistance(ref_back, c.radius)
        for name in sorted(model.estimators):
            e = batch_estimate(scores[:, i, ANALOG if name == "analog" else NEXT_EVENT, :], histories)
            tagged = dict(common, estimator=name)
            if "collision_rate" in model.tallies:
                rows.add("collision_rate", e.mean[COLLISIONS], e.stderr[COLLISIONS], ref_rate, fom=fom(e[COLLISIONS]),
                         **tagged)
            if "wind_force" in model.tallies:
                for k, comp in enumerate("xyz"):
                    f = e[IMPURITY_MOMENTUM_X + k]
                    rows.add("wind_force", f.mean, f.stderr, ref_force[k], component=comp, fom=fom(f), **tagged)
            if wants_back:
                back = e[BACKSCATTER]
                rows.add("backscatter_current", back.mean, back.stderr, ref_back, fom=fom(back), **tagged)
                # delta R = -delta I / I^2 (Sorbello Eq. 58 with I = a^2/4pi); I from the same histories
                delta_r = function_estimate(lambda d, i_: -d / i_**2,
                                            [scores[:, i, ANALOG if name == "analog" else NEXT_EVENT, BACKSCATTER], drain],
                                            histories)
                ref_delta_r = closed_form.delta_resistance(ref_back, c.radius) if np.isfinite(ref_back) else np.nan
                rows.add("delta_resistance", delta_r.mean, delta_r.stderr, ref_delta_r, fom=fom(delta_r), **tagged)
        if "direct_force" in model.tallies:
            ball = plan.gradient_balls[i]
            radius = imp.gradient_radius
            volume = 4.0 / 3.0 * math.pi * radius**3
            moments = batch_estimate(balls[:, ball, MOMENT_X:MOMENT_X + 3], histories).scaled(
                1.0 / closed_form.DENSITY_OF_STATES)
            if model.source == "aperture":
                # the +1 baseline upstream fills the part of the ball below the opening (a cap)
                _, cap_moment = cap_below_plane(imp.position[2], radius, c.entrance_z)
                moments = moments.shifted(np.array([0.0, 0.0, cap_moment]))
            # ball first moment: int (r - r0) n dV = grad n R^2 V / 5 (exact for a harmonic density)
            f = moments.scaled(imp.direct_valence * 5.0 / (radius**2 * volume))
            ref = references.impurity(i, "direct_force") if closed else np.full(3, np.nan)
            for k, comp in enumerate("xyz"):
                rows.add("direct_force", f.mean[k], f.stderr[k], ref[k], component=comp, fom=fom(f[k]),
                         estimator="track_length_moment", gradient_radius=radius, **common)
    if model.multiple_scattering and "current" in model.tallies and closed:
        delta_r = current.reciprocal().shifted(-closed_form.sharvin_resistance(c.radius))
        # all impurities at once, to all orders: compare with the first-order sum of Eq. 58
        rows.add("delta_resistance", delta_r.mean, delta_r.stderr, np.nan, estimator="analog_multiple",
                 first_order_reference=first_order_delta_r, tally="global")


def figures(case, frame) -> dict:
    from observables.plots import point_contact_figures

    return point_contact_figures(frame, case.model.contact.radius, case.name)
