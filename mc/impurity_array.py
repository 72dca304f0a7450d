"""A random array of explicit impurities between reservoirs (``kind = "impurity_array"``).

Sorbello's Discussion ("chameleon"): in a metal whose background scattering is a
random array of impurities, the macroscopic field E0 is the volume average of the
residual-resistivity dipoles (Eq. 6) around each impurity.  The system shows it
with no uniform background at all, on the one engine:

* a box |z| < L/2 between two reservoir planes (the left one raised by
  delta-mu = 1; its particles are emitted from the rectangle with cos(theta)
  uniform, :data:`mc.sources.STATES`) with specular side walls at |x|, |y| = W/2:
  the mirror-periodic extension of the box is an infinite metal, so every
  tally is per unit area;
* N = round(n_i V) impurities of one library scatterer at uniform random positions
  (numpy's Generator seeded by (seed, configuration, "impurities")), each disk
  of radius sqrt(sigma_tot/pi) clear of the walls and the reservoirs; optionally a
  tagged impurity at the centre of an impurity-free sphere (``cavity``);
* multiple scattering: an analog flight is deflected by the first equivalent disk
  it crosses (mc.engine), so the impurities themselves make the diffusion.

``configurations = "per_batch"`` (default) draws a new array for every batch, so the
batch means sample the ensemble of arrays and their standard error holds the
sample-to-sample spread: the estimates are ensemble averages, compared with the
Boltzmann (independent-scatterer) references of
:mod:`observables.analytic.impurity_array`.  ``"fixed"`` keeps batch 0's array in
every batch: the per-impurity wind forces and their histogram belong to that one
array, whose rows carry the ensemble values in ``ensemble_reference`` only.  The
references are first order in n_i (corrections ~ disk radius / l, recollisions):
the ``reference`` column holds them only while disk radius / l <= :data:`DILUTE`.

Tallies (weights are particle currents; track length x weight / volume is the density):
current density J and the two-terminal resistance per area 1/J; the density
profile dn(z)/(dn/dE) on a z mesh; the resistivity rho = -(d mu/dz)/J from the
linear part of the profile in the interior (a local, four-terminal definition:
1/J also holds the contact resistance of the two Milne boundary layers, 3 pi^2 2 z0
per area); the density gradient in the gaps (probe balls away from every impurity,
gradient = (15/(4 pi R^5)) int mu (r - c) dV, exact for a linear mu and for the
harmonic dipole fields of impurities outside the ball); the tagged impurity's own
dipole and the gradient the others make at its site (shells around it, the first
moment fitted as P (4 pi/3)(r2^2 - r1^2)/2 + G (4 pi/15)(r2^5 - r1^5)); the wind force
on every impurity (its analog momentum transfer, Sorbello Eq. 20) and the direct
force Z_d e E on the tagged ion in the two pictures of the Discussion.
"""

from __future__ import annotations

import bisect
import math
import zlib
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from geometry.model import Geometry, Reservoir, Specular
from geometry.surfaces import Plane, ZPlane
from mc.batches import Simulation, batch_plan, batch_sizes
from mc.config import RunSettings, Table
from mc.engine import engine_histories
from mc.errors import ConfigError
from mc.model import ImpurityModel, TransportModel, chunk_histories
from mc.scatterer_input import parse_scatterer
from mc.sources import STATES, PlaneEmitter
from observables.analytic import impurity_array as analytic
from observables.statistics import batch_estimate, figure_of_merit, function_estimate
from observables.tables import ResultRows
from observables.tallies import ANALOG, IMPURITY_MOMENTUM_X, MOMENT_X, TRACK_LENGTH, Ball, CartesianMesh

TALLY_KINDS = ("current", "density", "resistivity", "wind_force", "gap_gradient", "tagged_dipole", "direct_force")
CONFIGURATIONS = ("per_batch", "fixed")
MAX_IMPURITIES = 200_000
DENSITY_OF_STATES = 1.0 / math.pi**2
DEFAULT_BINS = 40
DEFAULT_PROBES = 32
DEFAULT_PROBE_RADIUS = 1.0
DEFAULT_PROBE_CLEARANCE = 3.0
DEFAULT_SHELLS = (1.5, 2.5, 3.5, 4.5)
_PLACEMENT_TRIES = 200
DILUTE = 0.05
"""Largest disk radius / l at which the rows claim the independent-scatterer references."""
CAVITY_AREA_FRACTION = 0.05
"""Largest pi r_c^2 / W^2 at which a case with a cavity claims the references."""


@dataclass
class ArrayModel:
    """A validated impurity array: box, impurity density and scatterer, the tagged impurity and the tallies."""

    length: float
    width: float
    density: float
    scatterer: object
    configurations: str
    cavity: float
    interior: float
    tallies: set
    bins: int
    probes: int
    probe_radius: float
    probe_clearance: float
    shells: tuple
    valence: float
    count: int
    """N, the impurities of every configuration besides the tagged one."""

    @property
    def disk_radius(self) -> float:
        return ImpurityModel((0.0, 0.0, 0.0), self.scatterer).disk_radius()

    @property
    def probe_exclusion_radius(self) -> float:
        """c = R + clearance x (disk radius): no impurity centre within c of a gap probe's centre."""
        return self.probe_radius + self.probe_clearance * self.disk_radius

    def probe_lateral_extent(self) -> float:
        """Largest |x|, |y| of a gap probe's centre: its empty sphere keeps a disk radius from the walls."""
        return 0.5 * self.width - self.probe_exclusion_radius - self.disk_radius

    @property
    def tagged(self) -> bool:
        return self.cavity > 0.0

    def allowed_volume(self) -> float:
        """The slab the array fills: the box less the margins of a disk radius at the reservoirs and the
        cavity.  The disks also keep a radius from the side walls, but a flight between walls samples the
        lateral average of the density (the margins are thin against l), so n_i is counted over the whole
        cross-section W^2."""
        a = self.disk_radius
        box = self.width**2 * (self.length - 2.0 * a)
        return box - (4.0 / 3.0 * math.pi * self.cavity**3 if self.tagged else 0.0)

    @property
    def core_density_ratio(self) -> float:
        """f = n_i in the core |x|, |y| <= W/2 - a (where the disk centres lie) over its average across
        W^2: W^2 / (W - 2a)^2.  It sets the field in the gaps, 1 - f/3 of the macroscopic one
        (:func:`observables.analytic.lorentz_cavity_factor`): 0.58 rather than 2/3 (before the
        images) for a = 1.13, W = 20."""
        return (self.width / (self.width - 2.0 * self.disk_radius)) ** 2

    @property
    def effective_density(self) -> float:
        """n_i of the drawn array: N over the volume it fills."""
        return self.count / self.allowed_volume()

    @property
    def mean_free_path(self) -> float:
        """l = 1 / (n_i sigma_tr) of the drawn array (Boltzmann, first order in n_i)."""
        return 1.0 / (self.effective_density * float(self.scatterer.sigma_tr))


def parse(root: Table, geometry: Table, settings: RunSettings) -> ArrayModel:
    length = float(geometry.number("length", gt=0.0))
    width = float(geometry.number("width", gt=0.0))
    density = float(geometry.number("density", gt=0.0))
    scatterer = parse_scatterer(geometry.table("scatterer"))
    if not getattr(scatterer, "spherical", True):
        raise geometry.error("scatterer", "must be spherically symmetric (the Boltzmann references use sigma_tr)")
    configurations = geometry.string("configurations", "per_batch", choices=CONFIGURATIONS)
    cavity = float(geometry.number("cavity", 0.0, ge=0.0))
    interior = float(geometry.number("interior", 0.6, gt=0.0, lt=1.0))
    a = ImpurityModel((0.0, 0.0, 0.0), scatterer).disk_radius()
    if a == 0.0:
        raise geometry.error("scatterer", "has no cross section: the array would not scatter")
    if width <= 4.0 * a:
        raise geometry.error("width", f"must exceed 4 disk radii sqrt(sigma_tot/pi) = {4 * a:.4g}, got {width!r}")
    if length <= 4.0 * a:
        raise geometry.error("length", f"must exceed 4 disk radii sqrt(sigma_tot/pi) = {4 * a:.4g}, got {length!r}")
    if cavity > 0.0 and cavity + a >= 0.5 * min(width, length):
        raise geometry.error("cavity", f"the sphere of radius {cavity:g} around the centre (plus a disk radius "
                                       f"{a:.4g}) must fit inside the box, whose half-side is {0.5 * min(width, length):g}")
    if 0.0 < cavity < 2.0 * a:
        raise geometry.error("cavity", f"must be 0 (no tagged impurity) or >= 2 disk radii = {2 * a:.4g}, got {cavity!r}")

    tallies: set = set()
    bins, probes, probe_radius, probe_clearance = DEFAULT_BINS, DEFAULT_PROBES, DEFAULT_PROBE_RADIUS, DEFAULT_PROBE_CLEARANCE
    shells = DEFAULT_SHELLS
    valence = 1.0
    for tally in root.tables("tallies"):
        kind = tally.string("kind", choices=TALLY_KINDS)
        tallies.add(kind)
        if kind == "density":
            bins = int(tally.number("bins", DEFAULT_BINS, ge=4, le=10_000, integer=True))
        elif kind == "gap_gradient":
            probes = int(tally.number("probes", DEFAULT_PROBES, ge=1, le=10_000, integer=True))
            probe_radius = float(tally.number("probe_radius", DEFAULT_PROBE_RADIUS, gt=0.0))
            probe_clearance = float(tally.number("clearance", DEFAULT_PROBE_CLEARANCE, ge=1.0))
        elif kind == "tagged_dipole":
            shells = tuple(float(r) for r in tally.numbers("shells", list(DEFAULT_SHELLS), gt=0.0))
            if len(shells) < 3 or any(b <= s for s, b in zip(shells[:-1], shells[1:])):
                raise tally.error("shells", f"must be >= 3 strictly increasing radii (>= 2 shells), got {list(shells)}")
        elif kind == "direct_force":
            valence = float(tally.number("valence", 1.0))
        tally.finish()
    if not tallies:
        tallies = set(TALLY_KINDS)
    if "resistivity" in tallies:
        tallies |= {"current", "density"}
    if tallies & {"tagged_dipole", "direct_force"}:
        if cavity == 0.0:
            raise geometry.error("cavity", "is required (> 0) by the tagged_dipole and direct_force tallies: "
                                           "the tagged impurity sits at the centre of that impurity-free sphere")
        tallies.add("tagged_dipole")
        if shells[0] <= a or shells[-1] > cavity - a:
            raise root.error("tallies", f"tagged_dipole shells must lie in ({a:.4g}, cavity - disk radius = "
                                        f"{cavity - a:.4g}], got {list(shells)}")
    if "direct_force" in tallies:
        tallies |= {"current", "density"}
    half_interior = 0.5 * interior * length
    model = ArrayModel(length, width, density, scatterer, configurations, cavity, interior, tallies, bins, probes,
                       probe_radius, probe_clearance, shells, valence, 0)
    if "gap_gradient" in tallies and (model.probe_lateral_extent() <= 0.0 or probe_radius >= half_interior):
        raise root.error("tallies", f"gap_gradient probes need an impurity-free sphere of radius probe_radius + "
                                    f"clearance x disk radius = {model.probe_exclusion_radius:.4g} at a disk "
                                    f"radius from the side walls (half-width {0.5 * width:g}) and probe_radius "
                                    f"{probe_radius:g} below the interior half-length {half_interior:g}")
    if model.allowed_volume() <= 0.0:
        raise geometry.error("cavity", "leaves no room for the impurities")
    model.count = int(round(density * model.allowed_volume()))
    if model.count < 1:
        raise geometry.error("density", f"gives no impurity in the box (n_i V = {density * model.allowed_volume():.3g})")
    if model.count > MAX_IMPURITIES:
        raise geometry.error("density", f"gives {model.count} impurities, more than {MAX_IMPURITIES}: every one holds "
                                        "its own tallies and sampling table")
    return model


# ----------------------------------------------------------------------------------------------
# the random arrays


def _generator(seed: int, configuration: int, what: str) -> np.random.Generator:
    """The documented draw: numpy's default Generator seeded by (seed, configuration, crc32(what))."""
    return np.random.default_rng([int(seed), int(configuration), zlib.crc32(what.encode())])


def impurity_positions(model: ArrayModel, seed: int, configuration: int) -> np.ndarray:
    """(N, 3) uniform positions in the box shrunk by a disk radius, outside the cavity (re-drawn there)."""
    rng = _generator(seed, configuration, "impurities")
    a = model.disk_radius
    half = np.array([0.5 * model.width - a, 0.5 * model.width - a, 0.5 * model.length - a])
    out = np.empty((0, 3))
    while len(out) < model.count:
        points = rng.uniform(-half, half, size=(model.count - len(out), 3))
        if model.tagged:
            points = points[np.linalg.norm(points, axis=1) >= model.cavity]
        out = np.concatenate([out, points])
    return out


def probe_centres(model: ArrayModel, positions: np.ndarray, seed: int, configuration: int) -> np.ndarray:
    """Probe-ball centres uniform in the interior, farther than c = R + clearance x (disk radius) from
    every impurity (the tagged one included) and c + (disk radius) from the side walls: the empty
    sphere of radius c then neither merges with its mirror images nor with the impurity-free
    margins along the walls.  (Probes a mere R from a wall sat in a void elongated across the
    field, whose gradient is well below the sphere's 2/3: 0.50 +- 0.03 over 800 probes.)"""
    rng = _generator(seed, configuration, "probes")
    radius = model.probe_radius
    keep = model.probe_exclusion_radius
    lateral = model.probe_lateral_extent()
    half = np.array([lateral, lateral, 0.5 * model.interior * model.length])
    others = cKDTree(positions if not model.tagged else np.concatenate([positions, np.zeros((1, 3))]))
    accepted = []
    count = 0
    # candidates tested a block at a time; accepted in draw order
    block = 4 * model.probes
    for _ in range(0, _PLACEMENT_TRIES * model.probes, block):
        candidates = rng.uniform(-half, half, size=(block, 3))
        nearest, _ = others.query(candidates)
        accepted.append(candidates[nearest > keep])
        count += len(accepted[-1])
        if count >= model.probes:
            return np.concatenate(accepted)[:model.probes]
    raise ConfigError("tallies", f"cannot place {model.probes} gap_gradient probe balls of radius {radius:g} at {keep:.3g} from every "
                     "impurity: the gaps are too small (lower the probe radius or clearance, or the density)")


def transport_model(model: ArrayModel, seed: int, configuration: int) -> tuple[TransportModel, dict]:
    half_l, half_w = 0.5 * model.length, 0.5 * model.width
    geometry = Geometry()
    left, right = ZPlane(-half_l, name="left"), ZPlane(half_l, name="right")
    walls = [Plane((1.0, 0.0, 0.0), -half_w), Plane((1.0, 0.0, 0.0), half_w),
             Plane((0.0, 1.0, 0.0), -half_w), Plane((0.0, 1.0, 0.0), half_w)]
    geometry.add_cell(+left & -right & +walls[0] & -walls[1] & +walls[2] & -walls[3], name="box")
    geometry.add_boundary(left, Reservoir("left"))
    geometry.add_boundary(right, Reservoir("right"))
    for wall in walls:
        geometry.add_boundary(wall, Specular())
    positions = impurity_positions(model, seed, configuration)
    impurities = [ImpurityModel((0.0, 0.0, 0.0), model.scatterer)] if model.tagged else []
    impurities += [ImpurityModel(tuple(p), model.scatterer) for p in positions]
    emitters = [PlaneEmitter(-half_l, +1, 1.0, STATES, "left", surface=left, half_widths=(half_w, half_w))]
    mesh = CartesianMesh((-half_w, -half_w, -half_l), (half_w, half_w, half_l), (1, 1, model.bins))
    balls = []
    plan = {"positions": positions, "probes": np.zeros((0, 3)), "shell_ball": 0, "probe_ball": 0,
            "drain": geometry.reservoir_index("right")}
    if "tagged_dipole" in model.tallies:
        r = model.shells
        plan["shell_ball"] = len(balls)
        balls += [Ball((0.0, 0.0, 0.0), r[k + 1], r[k], moments=True) for k in range(len(r) - 1)]
    if "gap_gradient" in model.tallies:
        plan["probes"] = probe_centres(model, positions, seed, configuration)
        plan["probe_ball"] = len(balls)
        balls += [Ball(tuple(c), model.probe_radius, moments=True) for c in plan["probes"]]
    transport = TransportModel(geometry, emitters, drain="right", reservoir_excess={"left": 1.0},
                               impurities=impurities, balls=balls, cartesian_meshes=[mesh], analog=True,
                               multiple_scattering=True)
    return transport, plan


def prepare(case) -> Simulation:
    """One engine model per configuration (per batch, or one); each kernel call lies inside one batch
    (the batch loop cuts its calls from each batch's first history), so it runs that batch's array."""
    model: ArrayModel = case.model
    settings = case.settings
    count = settings.batches if model.configurations == "per_batch" else 1
    built = [transport_model(model, settings.seed, c) for c in range(count)]
    compiled = [t.compile() for t, _ in built]
    layout = compiled[0][1]
    firsts = [first for first, _ in batch_plan(batch_sizes(settings.histories, settings.batches))]
    chunk = chunk_histories(layout.size)
    seed = settings.seed

    def kernel(first, n):
        b = min(max(bisect.bisect_right(firsts, first) - 1, 0), count - 1)
        return engine_histories(seed, first, n, chunk, compiled[b][0])

    plans = [plan for _, plan in built]
    return Simulation(case.name, kernel, lambda batches: results(case, plans, batches, layout), chunk)


# ----------------------------------------------------------------------------------------------
# results


def _interior_slope_weights(model: ArrayModel) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and the least-squares weights w with slope = w . mu over the interior bins."""
    edges = np.linspace(-0.5 * model.length, 0.5 * model.length, model.bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    inside = np.abs(centres) <= 0.5 * model.interior * model.length
    if inside.sum() < 2:
        inside = np.abs(centres) <= np.sort(np.abs(centres))[1]
    z = centres[inside]
    w = np.zeros(model.bins)
    w[inside] = (z - z.mean()) / np.sum((z - z.mean()) ** 2)
    return centres, w


def _shell_design(shells) -> np.ndarray:
    """Rows (P, G) -> first moment of each shell: P (4 pi/3)(r2^2 - r1^2)/2 + G (4 pi/15)(r2^5 - r1^5)."""
    r = np.asarray(shells, float)
    return np.stack([(4.0 * math.pi / 3.0) * 0.5 * (r[1:] ** 2 - r[:-1] ** 2),
                     (4.0 * math.pi / 15.0) * (r[1:] ** 5 - r[:-1] ** 5)], axis=1)


def results(case, plans, batches, layout) -> ResultRows:
    model: ArrayModel = case.model
    totals, histories, seconds = batches.totals, batches.histories, batches.seconds
    area = model.width**2
    a = model.disk_radius
    n_i = model.effective_density
    sigma_tr = float(model.scatterer.sigma_tr)
    # the Boltzmann slab of the impurity region (the disks keep a radius from the reservoirs;
    # the ballistic gaps change nothing in J)
    tau = (model.length - 2.0 * a) / model.mean_free_path
    slab = analytic.solve_slab(tau, cells=max(600, int(40 * tau)))
    j_boltzmann = slab.current_density
    rho_drude = analytic.drude_resistivity(n_i, sigma_tr)
    # the Boltzmann references are first order in the density: the table claims them only for a
    # dilute ensemble (disk radius / l <= DILUTE), beyond it the departure is the result
    # a cavity whose mirror images crowd the cross-section is a perforated layer, not a sphere in a
    # uniform array: it changes J and rho by percents and makes the others' field at the ion that of a
    # flattened cavity (0 for a flat one, 2/3 of E0 for a sphere), so no reference is claimed then
    small_cavity = not model.tagged or math.pi * model.cavity**2 <= CAVITY_AREA_FRACTION * model.width**2
    ensemble = model.configurations == "per_batch" and a / model.mean_free_path <= DILUTE and small_cavity

    def reference(value):
        return value if ensemble else np.nan

    rows = ResultRows(case.name, system="impurity_array", method="monte_carlo", configurations=model.configurations,
                      impurities=model.count, impurity_density=n_i, mean_free_path=model.mean_free_path,
                      length=model.length, width=model.width, disk_radius=a, histories=int(histories.sum()),
                      batches=len(histories), seconds=seconds)

    def add(observable, estimate, ref, units, eq, component="", position=None, **columns):
        rows.add(observable, estimate.mean, estimate.stderr, reference(ref),
                 component=component, units=units,
                 position=position, equation=eq, ensemble_reference=ref,
                 fom=float(figure_of_merit(estimate, seconds)), **columns)

    drain = layout.read(totals, "reservoirs")[:, plans[0]["drain"], 0] / area
    current = batch_estimate(drain, histories)
    mesh = layout.read(totals, "cartesian_mesh_0")[:, 0, 0, :, TRACK_LENGTH]
    cell_volume = area * model.length / model.bins
    occupation = mesh / (cell_volume * DENSITY_OF_STATES)
    centres, slope_weights = _interior_slope_weights(model)
    slope_totals = occupation @ slope_weights
    if "current" in model.tallies:
        add("current", current, j_boltzmann, "k_F^2 delta_mu / hbar", "Boltzmann slab, 1/l = n_i sigma_tr")
        add("resistance", current.reciprocal(), 1.0 / j_boltzmann, "hbar / (e^2 k_F^2)",
            "two-terminal R A = 1/J: rho L + Milne contacts")
    # the Boltzmann profile binned like the mesh (optical depth from the first impurity plane)
    depth = (centres + 0.5 * model.length - a) / model.mean_free_path
    half_bin = 0.5 * model.length / model.bins / model.mean_free_path
    boltzmann = slab.cell_average(depth - half_bin, depth + half_bin)
    # the same interior fit of the Boltzmann profile: -> Drude for L >> l, within 1 % from L = 4 l
    rho_boltzmann = -float(boltzmann @ slope_weights) / j_boltzmann
    if "density" in model.tallies:
        profile = batch_estimate(occupation, histories)
        # the end bins reach into the impurity-free margins of width a at the reservoirs, where the
        # slab's solution (optical depth < 0 or > L/l) does not hold: no reference claimed there
        # (a quick reproduction found the first bin 18 sigma off its extrapolated reference)
        thickness = (model.length - 2.0 * a) / model.mean_free_path
        inside = (depth - half_bin >= 0.0) & (depth + half_bin <= thickness)
        boltzmann_bins = np.where(inside, boltzmann, np.nan)
        rows.add_block("density", profile.mean, profile.stderr, boltzmann_bins if ensemble else np.nan,
                       positions=(np.nan, np.nan, centres), units="delta_mu dn/dE", equation="Boltzmann slab",
                       ensemble_reference=boltzmann)
    if "resistivity" in model.tallies:
        rho = function_estimate(lambda slope, j: -slope / j, [slope_totals, drain], histories)
        add("resistivity", rho, rho_boltzmann, "hbar / (e^2 k_F)",
            "Boltzmann slab's interior slope / J (-> Drude 3 pi^2 n_i sigma_tr)",
            estimator="interior slope of the density / J", interior=model.interior, drude=rho_drude)
    macroscopic = batch_estimate(slope_totals, histories)  # d mu/dz = e E0 (Eq. 5: e dPhi = -mu)
    if "gap_gradient" in model.tallies:
        k0 = model.probes
        balls = layout.read(totals, "balls")
        first = plans[0]["probe_ball"]
        moments = balls[:, first:first + k0, MOMENT_X:MOMENT_X + 3] / DENSITY_OF_STATES
        gradient = moments.mean(axis=1) * 15.0 / (4.0 * math.pi * model.probe_radius**5)
        estimate = batch_estimate(gradient, histories)
        macro_ref = -rho_boltzmann * j_boltzmann
        exclusion = model.probe_exclusion_radius
        f = model.core_density_ratio
        # every configuration's probes sit elsewhere, so their images take off a little more or less
        factor = float(np.mean([analytic.mirrored_cavity_factor(plan["probes"][:, :2], model.width, exclusion, f)
                                for plan in plans]))
        lorentz = analytic.lorentz_cavity_factor(f)
        described = dict(probes=k0, probe_radius=model.probe_radius, probe_clearance=model.probe_clearance,
                         exclusion_radius=exclusion, core_density_ratio=f, lorentz=lorentz,
                         mirror_correction=lorentz - factor)
        for i, comp in enumerate("xyz"):
            ref = factor * macro_ref if comp == "z" else 0.0
            add("density_gradient", estimate[i], ref, "k_F delta_mu dn/dE",
                "Discussion: Lorentz cavity 1 - f/3 (less its mirror images) of -rho J" if comp == "z" else "symmetry",
                component=comp, estimator=f"mean over {k0} probe balls in the gaps",
                macroscopic=-rho_boltzmann * j_boltzmann, **described)
        ratio = function_estimate(lambda g, m: g / m, [gradient[:, 2], slope_totals], histories)
        add("density_gradient", ratio, factor, "1",
            "gap gradient / macroscopic gradient (Lorentz 1 - f/3 less its mirror images)",
            component="ratio", estimator="gap over interior slope", **described)
        add("density_gradient", macroscopic, macro_ref, "k_F delta_mu dn/dE", "-rho J (Drude, Boltzmann J)",
            component="z", estimator="interior slope of the plane-averaged density")
    if "tagged_dipole" in model.tallies:
        first = plans[0]["shell_ball"]
        n_shells = len(model.shells) - 1
        balls = layout.read(totals, "balls")
        moments = balls[:, first:first + n_shells, MOMENT_X:MOMENT_X + 3] / DENSITY_OF_STATES  # (B, shells, 3)
        design = _shell_design(model.shells)
        fit = np.linalg.pinv(design)  # (2, shells): (P, G) from the moments, a fixed linear map
        fitted = np.einsum("ps,bsc->bpc", fit, moments)
        estimate = batch_estimate(fitted.reshape(len(histories), 6), histories).reshape(2, 3)
        p_ref = -analytic.landauer_dipole_per_current(sigma_tr) * j_boltzmann  # along E0 = -z
        # the cavity and its mirror images lack the core's dipoles, as the gap probes' spheres do
        cavity_factor = float(analytic.mirrored_cavity_factor([[0.0, 0.0]], model.width, model.cavity,
                                                              model.core_density_ratio)[0])
        g_ref = cavity_factor * (-rho_boltzmann * j_boltzmann)
        for i, comp in enumerate("xyz"):
            add("density_dipole", estimate[0, i], p_ref if comp == "z" else 0.0, "delta_mu dn/dE / k_F^2",
                "6 with the local current J", component=comp, position=(0.0, 0.0, 0.0),
                estimator="shell moments fit", shells=str(list(model.shells)))
        # the same dipole from the tagged impurity's collisions: its first-flight scattered electrons
        # (+k') and their shadow (-k) cross the shells straight (the cavity holds no other scatterer), so
        # int mu (r - c) dV = -pi^2 F_w (r2^2 - r1^2)/2, P = -(3 pi/4) F_w (Eq. 6 <=> Eq. 63: p = 3 pi F_w/4)
        momentum = layout.read(totals, "impurities")[:, 0, ANALOG, IMPURITY_MOMENTUM_X:IMPURITY_MOMENTUM_X + 3]
        first_flight = batch_estimate(momentum, histories).scaled(-0.75 * math.pi)
        add("density_dipole", first_flight[2], p_ref, "delta_mu dn/dE / k_F^2", "6 with the local current J",
            component="z", position=(0.0, 0.0, 0.0), estimator="first flight: -(3 pi/4) x momentum transfer")
        for i, comp in enumerate("xyz"):
            add("density_gradient", estimate[1, i], g_ref if comp == "z" else 0.0, "k_F delta_mu dn/dE",
                "other impurities at the tagged site: Lorentz cavity 1 - f/3 (less its mirror images) of -rho J",
                component=comp, position=(0.0, 0.0, 0.0),
                estimator="shell moments fit: the other impurities' field at the ion", cavity=model.cavity)
        if "direct_force" in model.tallies:
            z_d = model.valence
            # F_d = Z_d e E with e E = grad mu (Eq. 5, e dPhi = -mu): the field of the uniform-background
            # picture (E0, the interior slope) and the field the other impurities' dipoles make at the ion
            add("direct_force", macroscopic.scaled(z_d), -z_d * rho_boltzmann * j_boltzmann, "k_F delta_mu",
                "59: Z_d e E0 (uniform background picture)", component="z", position=(0.0, 0.0, 0.0),
                picture="uniform_background", valence=z_d)
            local = batch_estimate(fitted[:, 1, 2], histories)
            add("direct_force", local.scaled(z_d), z_d * g_ref, "k_F delta_mu",
                "59 with the other impurities' dipole field at the ion", component="z", position=(0.0, 0.0, 0.0),
                picture="other_dipoles", valence=z_d)
    if "wind_force" in model.tallies:
        block = layout.read(totals, "impurities")[:, :, ANALOG, IMPURITY_MOMENTUM_X:IMPURITY_MOMENTUM_X + 3]
        untagged = block[:, 1:] if model.tagged else block
        wind_ref = sigma_tr * j_boltzmann  # Eq. 63: hbar k_F sigma_tr j, along the electron flow
        mean = batch_estimate(untagged.mean(axis=1), histories)
        for i, comp in enumerate("xyz"):
            add("wind_force", mean[i], wind_ref if comp == "z" else 0.0, "k_F delta_mu",
                "63: hbar k_F sigma_tr J, mean over impurities", component=comp,
                estimator="analog momentum transfer, mean over the untagged impurities")
        ratio = function_estimate(lambda f, j: f / (sigma_tr * j), [untagged[:, :, 2].mean(axis=1), drain], histories)
        add("wind_force", ratio, 1.0, "1", "63: mean F_w / (hbar k_F sigma_tr J) with the simulated J",
            component="ratio", estimator="mean over the untagged impurities")
        if model.tagged:
            tagged = batch_estimate(block[:, 0], histories)
            for i, comp in enumerate("xyz"):
                add("wind_force", tagged[i], wind_ref if comp == "z" else 0.0, "k_F delta_mu",
                    "63: hbar k_F sigma_tr J at the tagged impurity", component=comp, position=(0.0, 0.0, 0.0),
                    estimator="analog momentum transfer of the tagged impurity")
        if not ensemble:
            each = batch_estimate(untagged[:, :, 2], histories)
            p = plans[0]["positions"]
            rows.add_block("wind_force", each.mean, each.stderr, np.nan, positions=(p[:, 0], p[:, 1], p[:, 2]),
                           component="z", units="k_F delta_mu", equation="63 per impurity (one array)",
                           ensemble_reference=wind_ref, impurity=np.arange(1 if model.tagged else 0,
                                                                           len(p) + (1 if model.tagged else 0)))
    return rows


def figures(case, frame) -> dict:
    """The density profile against the Boltzmann slab, and (one array) the histogram of the wind forces."""
    import matplotlib.pyplot as plt

    out = {}
    profile = frame[frame.observable == "density"]
    if len(profile):
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.errorbar(profile.z, profile.value, 2 * profile.stderr, fmt=".", label="Monte Carlo (±2σ)")
        ax.plot(profile.z, profile.ensemble_reference, "-", lw=1, label="Boltzmann slab, 1/l = n_i σ_tr")
        ax.set_xlabel("z (1/k_F)")
        ax.set_ylabel("δn / (dn/dE) (δμ)")
        ax.legend()
        ax.set_title(f"{case.name}: density between the reservoirs")
        out["density_profile"] = fig
    if "impurity" in frame and frame.impurity.notna().any():
        each = frame[(frame.observable == "wind_force") & frame.impurity.notna()]
        fig, ax = plt.subplots(figsize=(7, 4))
        ref = float(each.ensemble_reference.iloc[0])
        ax.hist(each.value / ref, bins=40)
        ax.axvline(1.0, color="k", lw=1, label="ħk_F σ_tr J (uniform background)")
        ax.set_xlabel("F_w / (ħ k_F σ_tr J_Boltzmann)")
        ax.set_ylabel("impurities")
        ax.legend()
        out["wind_force_histogram"] = fig
    return out
