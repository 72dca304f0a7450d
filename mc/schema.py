"""The configuration schema: every key a case may hold, with its type, default, unit and allowed range.

The parsers (:func:`mc.config.read_run_settings` and the ``parse`` of every
system module, :func:`mc.scatterer_input.parse_scatterer`) are what validate a
case; this registry describes what they accept, for people (the configuration
reference of the documentation is :func:`schema_markdown`, rendered at every
docs build) and for tools.  ``tests/test_schema.py`` keeps the two in step:
every key registered here is parsed in a minimal case at its example value,
every key a parser reads by name is registered, and every key of the shipped
cases (``runs/*.toml`` and the shared examples) is registered.

Layout: a :class:`Group` is one TOML table of a case, found at ``location``
(``""`` the top level, ``"geometry"``, ``"tallies[]"`` an array of tables,
``"geometry.barrier"`` a nested table), for the ``families`` it applies to
(``[geometry] kind`` values, or ``"scatterer"`` / ``"potential"`` for the
tables that describe a scatterer wherever it appears), and only ``when`` its
discriminating keys (``kind``, ``model``) have the given values.  Its
:class:`Key` entries name keys relative to that table (dotted for the keys of
an inline sub-table such as ``mesh.rho_max``).

Importing this module imports only :mod:`mc.config`; the registry itself
(:func:`groups`) reads its choices and defaults from the parsers' own
constants, so they cannot drift apart.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any


class _Marker:
    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


REQUIRED = _Marker("REQUIRED")
"""Default of a key that must be given."""

NO_EXAMPLE = _Marker("NO_EXAMPLE")


@dataclass(frozen=True)
class Key:
    """One key of a table.

    ``default`` is :data:`REQUIRED`, a value, or ``None`` when leaving the key
    out means something other than a value (``default_text`` says what).
    ``example`` is a value the parser accepts (the default when omitted);
    ``companions`` are sibling keys that must be given with it and
    ``context`` dotted case keys (:func:`mc.campaign.set_key` syntax) that a
    case needs before the key makes sense, both used to build a case that
    sets the key.  ``holds`` names the family of the table(s) the key holds
    (``"scatterer"``, ``"potential"``)."""

    name: str
    type: str
    default: Any = REQUIRED
    unit: str = ""
    allowed: str = ""
    doc: str = ""
    default_text: str = ""
    example: Any = NO_EXAMPLE
    companions: dict = field(default_factory=dict)
    context: dict = field(default_factory=dict)
    holds: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def example_value(self) -> Any:
        if self.example is not NO_EXAMPLE:
            return self.example
        if self.default is REQUIRED or self.default is None:
            raise ValueError(f"key {self.name!r} needs an example value")
        return self.default


@dataclass(frozen=True)
class Group:
    """One TOML table of a case (see the module docstring)."""

    title: str
    location: str
    families: tuple[str, ...]
    keys: tuple[Key, ...]
    when: dict = field(default_factory=dict)
    base: dict = field(default_factory=dict)
    """A minimal valid table at ``location`` (with the ``when`` keys), to which a key is added."""
    context: dict = field(default_factory=dict)
    """Dotted case keys a case needs for this table to be valid (impurities for an impurity tally)."""
    doc: str = ""

    @property
    def toml(self) -> str:
        """The table as a TOML header: ``[geometry]``, ``[[tallies]]``, ``impurities[].scatterer``."""
        if not self.location:
            return "top level"
        if self.location.endswith("[]") and "." not in self.location:
            return f"[[{self.location[:-2]}]]"
        if "[]" not in self.location:
            return f"[{self.location}]"
        return self.location

    def key(self, name: str) -> Key:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(name)


SYSTEM_FAMILIES = ("aperture", "constriction", "slab", "chain", "bulk", "impurity_array")
"""The ``[geometry] kind`` values (:data:`mc.systems.SYSTEMS`)."""

HOSTS = {
    "scatterer": ("bulk", "impurities[0].scatterer", {}),
    "potential": ("bulk", "impurities[0].scatterer.potential", {"impurities[0].scatterer": {"model": "born"}}),
}
"""Where a table of a non-system family sits in a case that tests it: (system, dotted location, context)."""

_LENGTH = "1/k_F"
_ENERGY = "hbar^2 k_F^2/m (eps_F = 1/2)"
_AREA = "1/k_F^2"


def _choices(values) -> str:
    return " | ".join(f'"{v}"' for v in values)


def base_case(system: str) -> dict:
    """A minimal valid case of ``system`` (no transport runs while it is parsed)."""
    tallies = {"aperture": "current", "constriction": "current", "slab": "current", "chain": "transmission",
               "bulk": "wind_force", "impurity_array": "current"}[system]
    case: dict = {"name": f"schema-{system}", "histories": 1000, "geometry": {"kind": system},
                  "tallies": [{"kind": tallies}]}
    geometry = case["geometry"]
    if system in ("aperture", "constriction"):
        geometry["radius"] = 5.0
        if system == "constriction":
            geometry["length"] = 4.0
    elif system == "slab":
        geometry.update(thickness=2.0, barrier={"model": "rectangular", "height": 0.3})
    elif system == "chain":
        geometry.update(length=50.0, potentials=[{"position": 25.0, "model": "delta", "strength": 0.5}])
    elif system == "impurity_array":
        geometry.update(length=40.0, width=20.0, density=0.01, cavity=6.0,
                        scatterer={"model": "isotropic", "cross_section": 1.0})
    else:
        case.update(background={"mean_free_path": 100.0}, field={"direction": [0.0, 0.0, 1.0]},
                    impurities=[{"scatterer": {"model": "isotropic", "cross_section": 1.0}}])
    return case


_IMPURITY = {"position": [0.0, 0.0, 10.0], "scatterer": {"model": "isotropic", "cross_section": 1.0}}


def _optional_tallies(title: str, system: str, kinds, example: str) -> Group:
    """``[[tallies]]`` of a system that reports every kind when none is given (slab, chain)."""
    return Group(title, "tallies[]", (system,), (
        Key("kind", "string", REQUIRED, allowed=_choices(kinds),
            doc="What to report; without any `[[tallies]]` every kind is reported.", example=example),
    ), base={"kind": example})


@functools.lru_cache(maxsize=None)
def groups() -> tuple[Group, ...]:
    """The registry: every table of every family, in the order of the reference page."""
    from mc import bulk, chain, impurity_array, point_contact, slab, slab_in_metal
    from mc.config import MAX_HISTORIES
    from mc.scattering.cluster import CLUSTER_L_MAX
    from mc.scattering.models import DEFAULT_RS, MODELS
    from mc.scatterer_input import MATERIAL_RS
    from mc.systems import SYSTEMS

    assert tuple(sorted(SYSTEMS)) == tuple(sorted(SYSTEM_FAMILIES)), "mc.schema.SYSTEM_FAMILIES is out of date"
    everything = SYSTEM_FAMILIES
    contacts = ("aperture", "constriction")
    pc = point_contact
    out = [
        Group("Run settings", "", everything, (
            Key("name", "string", None, default_text="the file name without .toml",
                doc="Names the case in the `case` column of the table and in run directories.", example="my-case"),
            Key("seed", "integer", 1, allowed="0 <= seed < 2^63",
                doc="Seed of every history's counter-based random stream: the same seed gives the same table, "
                    "bit for bit, on any number of threads, processes or cluster workers."),
            Key("histories", "integer", 100_000, allowed=f"1 <= histories <= 2^62 (= {MAX_HISTORIES:.3g})",
                doc="Histories of the run (`--histories` overrides it). Floats with an integral value such as "
                    "`2e6` are accepted."),
            Key("batches", "integer", 20, allowed="2 <= batches <= histories",
                doc="Batches the histories are split into; each standard error is that of the batch means."),
            Key("geometry", "table", REQUIRED, doc="The system (below): its `kind` selects the parser of the rest.",
                example={"kind": "aperture", "radius": 5.0}),
        ), doc="Keys every case shares, read by `mc.config.read_run_settings`."),
        Group("System", "geometry", everything, (
            Key("kind", "string", REQUIRED, allowed=_choices(sorted(SYSTEMS)),
                doc="The system: `aperture` and `constriction` (point contacts), `slab`, `chain`, `bulk`, "
                    "`impurity_array`.",
                example="aperture"),
        )),
    ]

    # ---------------------------------------------------------------- point contacts
    out += [
        Group("Contact geometry", "geometry", contacts, (
            Key("radius", "float", REQUIRED, _LENGTH, "> 0", "Radius a of the opening (the hole, or the neck's "
                "entrance at z = -L/2).", example=5.0),
            Key("wall", "string", "specular", allowed=_choices(("specular", "diffuse")),
                doc="Wall law of every screen and neck wall; not together with `specularity`."),
            Key("specularity", "float", None, allowed="0 <= p <= 1", default_text="1 (from `wall`)",
                doc="Fuchs specularity p of the walls: reflected specularly with probability p, diffusely "
                    "(Lambertian) otherwise.", example=0.5),
            Key("lead_radius", "float", None, _LENGTH, "> the widest contact radius",
                default_text="none: half-spaces", doc="Radius W of cylindrical wires feeding the contact; the "
                "reservoirs are then the far ends of the wires. Needs `lead_length`.", example=20.0,
                companions={"lead_length": 30.0}),
            Key("lead_length", "float", None, _LENGTH, "> 0", default_text="none: half-spaces",
                doc="Length of each wire, from the screen to its reservoir. Needs `lead_radius`.", example=30.0,
                companions={"lead_radius": 20.0}),
        ), when={"kind": contacts}, base={"radius": 5.0}),
        Group("Constriction neck", "geometry", ("constriction",), (
            Key("length", "float", REQUIRED, _LENGTH, "> 0", "Length L of the neck: screens at z = -L/2 and +L/2.",
                example=4.0),
            Key("radius_exit", "float", None, _LENGTH, "> 0", default_text="= radius (a cylinder)",
                doc="Radius at z = +L/2: the neck is then a cone (taper) from `radius` to `radius_exit`.",
                example=3.0),
        ), when={"kind": "constriction"}, base={"radius": 5.0, "length": 4.0}),
        Group("Source", "source", contacts, (
            Key("kind", "string", "aperture", allowed=_choices(pc.SOURCES),
                doc="`aperture`: the equivalent Lambertian source on the opening (exact with any background: the "
                    "upstream occupation 1 is unchanged by collisions and walls); "
                    "`reservoir`: analog emission from the far left hemisphere (or the left wire's end)."),
            Key("reservoir_radius", "float", None, _LENGTH, "> the widest contact radius",
                default_text=f"{pc.DEFAULT_RESERVOIR_RADIUS:g} for `reservoir`, infinite for `aperture`",
                doc="Radius of the hemispherical reservoirs centred on the openings; not with leads.",
                example=50.0),
        )),
        Group("Background scattering", "background", contacts, (
            Key("mean_free_path", "float", math.inf, _LENGTH, "> 0", default_text="infinite (ballistic)",
                doc="Isotropic elastic background scattering of mean free path l everywhere: the Sharvin to "
                    "Maxwell crossover (`gamma_wexler` rows). Needs finite reservoirs (`[source] "
                    "reservoir_radius`, or leads); either source works. The cost grows as (R_res/l)^2 "
                    "collisions per history.", example=50.0,
                context={"source": {"kind": "reservoir"}}),
            Key("estimator", "string", "analog", allowed=_choices(pc.BACKGROUND_ESTIMATORS),
                doc="How the background is scored. `analog`: real collisions, the current counted in the drain. "
                    "`first_order`: only to first order in 1/l, flights stay ballistic and every flight segment "
                    "scores the drain-current change of one collision on it: Gamma(K -> inf) directly "
                    "(`gamma_wexler` with estimator `first_order`). `correlated`: real collisions, and every "
                    "segment also scores the exact change against the ballistic contact (G_l - G_0 = G_l C G_0), "
                    "extra rows with estimator `correlated` whose variance comes only from what the background "
                    "changes (far better than analog for K = l/a >~ 10). `chapman_enskog`: for K = l/a <~ 0.3, "
                    "the occupation is the Chapman-Enskog form n - l k.grad n of the Maxwell solution plus a "
                    "correction phi simulated from the residual source l k.H.k (its own source: reservoirs emit "
                    "the Chapman-Enskog incoming part), so only the O(K) departure from Maxwell is Monte Carlo "
                    "(rows with estimator `chapman_enskog`; specular thin aperture and the current tally only). "
                    "Needs a finite `mean_free_path`; `correlated` needs a contact whose ballistic current has a "
                    "closed form, and neither perturbative estimator takes a specular neck (a grazing ballistic "
                    "electron would bounce without end).",
                example="correlated",
                companions={"mean_free_path": 1000.0},
                # a diffuse wall: a neck's default specular wall is refused for the perturbative estimators
                context={"source": {"kind": "aperture", "reservoir_radius": 50.0}, "geometry.specularity": 0.0}),
        )),
        Group("Transport", "transport", contacts, (
            Key("multiple_scattering", "bool", False,
                doc="Impurities deflect the particle itself (all orders, analog estimator only) instead of "
                    "being independent first-order problems. Needs impurities and `estimator = \"analog\"` on "
                    "every impurity tally.", example=True, context={"impurities": [_IMPURITY]}),
        )),
        Group("Impurities", "impurities[]", contacts, (
            Key("position", "vector", REQUIRED, _LENGTH, "z >= the exit plane (L/2, or 0 for an aperture), clear "
                "of every wall by more than the scatterer's reach",
                "Position r0 of the impurity (downstream of the contact; upstream is the mirror problem).",
                example=[0.0, 0.0, 10.0]),
            Key("scatterer", "table", REQUIRED, doc="The impurity's scatterer (see Scatterer tables).",
                example={"model": "isotropic", "cross_section": 1.0}, holds="scatterer"),
            Key("direct_valence", "float", pc.DEFAULT_DIRECT_VALENCE, "e", "finite",
                doc="Z_d of the direct force F_d = Z_d e (-grad dPhi_tot) (Sorbello Eq. 59)."),
            Key("gradient_radius", "float", None, _LENGTH, "> 0 and < the distance to the nearest wall",
                default_text="min(a/2, 0.9 x wall clearance)",
                doc="Radius of the ball whose track-length first moment gives the density gradient (direct force).",
                example=2.0),
        ), base=dict(_IMPURITY)),
        Group("Tallies", "tallies[]", contacts, (
            Key("kind", "string", REQUIRED, allowed=_choices(pc.TALLY_KINDS),
                doc="What to tally; at least one `[[tallies]]` table. `current` adds `resistance`, `density` "
                    "adds `potential`, `backscatter_current` adds `delta_resistance`.", example="current"),
        ), base={"kind": "current"}),
        Group("Current tally", "tallies[]", contacts, (
            Key("planes", "list of floats", None, _LENGTH, "finite", default_text="none",
                doc="Also count the net crossings of the planes z = ... (surface-crossing estimator of the same "
                    "current).", example=[5.0, 20.0]),
        ), when={"kind": "current"}, base={"kind": "current"}),
        Group("Density and current-density tallies", "tallies[]", contacts, (
            Key("probes", "list of vectors", None, _LENGTH, "balls inside the simulated region, cutting no wall",
                default_text="none (then `mesh` is required)", doc="Centres of the probe balls.",
                example=[[0.0, 0.0, 10.0]]),
            Key("probe_radius", "float", pc.DEFAULT_PROBE_RADIUS, _LENGTH, "> 0",
                "Radius of every probe ball of the tally (only with `probes`).",
                companions={"probes": [[0.0, 0.0, 10.0]]}),
            Key("mesh", "table", None, default_text="none (then `probes` is required)",
                doc="A cylindrical (rho, z) mesh about the axis, or a box mesh (`mesh.kind = \"cartesian\"`); one "
                    "mesh per case, shared by its tallies.",
                example={"rho_max": 10.0, "n_rho": 4, "z_min": 2.0, "z_max": 10.0, "n_z": 4}),
            Key("mesh.rho_max", "float", REQUIRED, _LENGTH, "> 0", "Outer radius of the mesh.", example=10.0),
            Key("mesh.n_rho", "integer", REQUIRED, "", f">= 1; n_rho x n_z <= {pc.MAX_MESH_CELLS:,}",
                "Radial bins.", example=4),
            Key("mesh.z_min", "float", REQUIRED, _LENGTH, "screen planes must fall on cell edges",
                "Lower z edge.", example=2.0),
            Key("mesh.z_max", "float", REQUIRED, _LENGTH, "> z_min; inside the reservoir ball", "Upper z edge.",
                example=10.0),
            Key("mesh.n_z", "integer", REQUIRED, "", ">= 1", "Axial bins.", example=4),
            Key("mesh.kind", "string", "cylindrical", allowed='"cylindrical" | "cartesian"',
                doc="The mesh: cylindrical (the keys above) or a box of cells (the keys below).", example="cylindrical"),
        ), when={"kind": ("density", "current_density")},
            base={"kind": "density", "mesh": {"rho_max": 10.0, "n_rho": 4, "z_min": 2.0, "z_max": 10.0, "n_z": 4}}),
        Group("Box mesh of a density or current-density tally", "tallies[]", contacts, (
            Key("mesh.lower", "vector", REQUIRED, _LENGTH, "inside the reservoir ball; screen planes on cell edges; "
                "not across a neck", "Lower corner (x, y, z) of the box.", example=[-10.0, -10.0, 2.0]),
            Key("mesh.upper", "vector", REQUIRED, _LENGTH, "> lower in every coordinate", "Upper corner of the box.",
                example=[10.0, 10.0, 10.0]),
            Key("mesh.shape", "list of 3 integers", REQUIRED, "", f">= 1 each; nx ny nz <= {pc.MAX_MESH_CELLS:,}",
                "Cells along x, y and z.", example=[2, 2, 4]),
        ), when={"kind": ("density", "current_density")},
            base={"kind": "density", "mesh": {"kind": "cartesian", "lower": [-10.0, -10.0, 2.0],
                                              "upper": [10.0, 10.0, 10.0], "shape": [2, 2, 4]}}),
        Group("Impurity tallies", "tallies[]", contacts, (
            Key("estimator", "string", "next_event", allowed=_choices(pc.ESTIMATORS),
                doc="Estimator of the impurity's scores (see Estimators): `both` reports each."),
        ), when={"kind": ("wind_force", "backscatter_current", "collision_rate")}, base={"kind": "wind_force"},
            context={"impurities": [_IMPURITY]}),
        Group("Direct-force tally", "tallies[]", contacts, (), when={"kind": "direct_force"},
              base={"kind": "direct_force"}, context={"impurities": [_IMPURITY]},
              doc="No keys besides `kind`: the track-length first moment over each impurity's gradient ball."),
    ]

    # ---------------------------------------------------------------- slab
    out += [
        Group("Slab geometry", "geometry", ("slab",), (
            Key("thickness", "float", REQUIRED, _LENGTH, "> 0", "Thickness d of the layer |z| < d/2.", example=2.0),
            Key("length", "float", None, _LENGTH, ">= thickness", default_text="none: reservoirs at +-3d/2, "
                "resistivities reported as rho L", doc="Reservoir separation L (reservoir planes at +-L/2); "
                "resistivities are then per length.", example=10.0),
            Key("barrier", "table", REQUIRED, doc="The layer's 1D profile V(z) or its R(cos theta) (below).",
                example={"model": "rectangular", "height": 0.3}),
        ), when={"kind": "slab"}, base={"thickness": 2.0, "barrier": {"model": "rectangular", "height": 0.3}}),
        Group("Barrier", "geometry.barrier", ("slab",), (
            Key("model", "string", REQUIRED, allowed=_choices(("rectangular", "piecewise", "sampled", "table")),
                doc="How R(theta) is given.", example="rectangular"),
        ), base={"model": "rectangular", "height": 0.3}),
        Group("Rectangular barrier", "geometry.barrier", ("slab",), (
            Key("height", "float", REQUIRED, _ENERGY, "finite (negative: a well)", "V0 over the whole slab.",
                example=0.3),
        ), when={"model": "rectangular"}, base={"model": "rectangular", "height": 0.3}),
        Group("Piecewise-constant barrier", "geometry.barrier", ("slab",), (
            Key("edges", "list of floats", REQUIRED, _LENGTH, "strictly increasing, inside [-d/2, d/2]",
                "Layer edges.", example=[-1.0, 0.0, 1.0]),
            Key("heights", "list of floats", REQUIRED, _ENERGY, "len(edges) - 1 values", "Height of each layer.",
                example=[0.2, 0.4]),
        ), when={"model": "piecewise"}, base={"model": "piecewise", "edges": [-1.0, 0.0, 1.0], "heights": [0.2, 0.4]}),
        Group("Sampled barrier", "geometry.barrier", ("slab",), (
            Key("z", "list of floats", REQUIRED, _LENGTH, ">= 2 samples, strictly increasing, inside [-d/2, d/2]",
                "Sample positions of a piecewise-linear profile.", example=[-1.0, 0.0, 1.0]),
            Key("heights", "list of floats", REQUIRED, _ENERGY, "one per z sample", "V at each sample.",
                example=[0.0, 0.4, 0.0]),
            Key("cells", "integer", 400, "", ">= 1", "Equal layers (midpoint values) the profile is cut into; "
                "R converges as O(1/cells^2)."),
        ), when={"model": "sampled"}, base={"model": "sampled", "z": [-1.0, 0.0, 1.0], "heights": [0.0, 0.4, 0.0]}),
        Group("Tabulated reflection", "geometry.barrier", ("slab",), (
            Key("cos_theta", "list of floats", REQUIRED, "", "strictly increasing from 0 to 1",
                "Nodes of cos theta = k_z/k_F.", example=[0.0, 1.0]),
            Key("reflection", "list of floats", REQUIRED, "", "in [0, 1], one per node, not all 1",
                "R at each node (interpolated linearly).", example=[1.0, 0.2]),
        ), when={"model": "table"}, base={"model": "table", "cos_theta": [0.0, 1.0], "reflection": [1.0, 0.2]}),
        Group("Slab source", "source", ("slab",), (
            Key("kind", "string", "reservoirs", allowed='"reservoirs"', doc="Reservoir planes on both sides."),
            Key("distribution", "string", "ballistic", allowed=_choices(("ballistic", "bulk")),
                doc="`ballistic`: the reservoir distribution of Sorbello Eq. 39 (delta-mu = 1); `bulk`: the "
                    "bulk distribution of Eq. 1 from both sides (e E0 tau = 1, E0 along -z)."),
            Key("bias", "string", "left", allowed=_choices(("left", "symmetric")),
                doc="Ballistic feed only: `left` raises the left reservoir by delta-mu; `symmetric` puts "
                    "+-delta-mu/2 on the two sides (only the densities shift)."),
        )),
        Group("Slab in a metal", "background", ("slab",), (
            Key("mean_free_path", "float", REQUIRED, _LENGTH, ">= 2 thickness",
                doc="Isotropic elastic background scattering of mean free path l = v_F tau between the reservoirs: "
                    "the layer in a real metal (Eqs. 47a-c, 26; see Slab). Needs `[source] distribution = \"bulk\"` "
                    "and `[geometry] length` >= 8 l; costs about 3 (L/2l)^2 collisions per history.", example=20.0),
            Key("estimator", "string", "deviational", allowed=_choices(slab_in_metal.ESTIMATORS),
                doc="`deviational`: only the deviation from the layer-free bulk distribution is simulated, "
                    "emitted by the layer's sheet source -+2 mu R(mu) (error bars proportional to R, exact at any R); "
                    "`analog`: the reservoirs emit the whole bulk inflow (a check of the former, far noisier)."),
        ), base={"mean_free_path": 20.0},
            context={"geometry": {"kind": "slab", "thickness": 2.0, "length": 160.0,
                                  "barrier": {"model": "rectangular", "height": 0.3}},
                     "source": {"distribution": "bulk"}}),
        _optional_tallies("Slab tallies", "slab", slab.TALLY_KINDS, "current"),
    ]

    # ---------------------------------------------------------------- chain
    out += [
        Group("Chain geometry", "geometry", ("chain",), (
            Key("length", "float", REQUIRED, _LENGTH, "> 0", "Length L: reservoirs at z <= 0 and z >= L.",
                example=50.0),
            Key("potentials", "array of tables", None, default_text="none (then `random` is required)",
                doc="The impurities (below); they must not overlap and must lie inside (0, L).",
                example=[{"position": 25.0, "model": "delta", "strength": 0.5}]),
            Key("random", "table", None, default_text="none",
                doc="Delta barriers at random positions, added to `potentials` (below).",
                example={"count": 3, "strength": [0.2, 0.6]}),
            Key("coherence", "string", "coherent", allowed=_choices(("coherent", "incoherent")),
                doc="`coherent`: exact transfer matrices beside the phase-randomised Monte Carlo; "
                    "`incoherent`: the Monte Carlo alone."),
        ), when={"kind": "chain"},
            base={"length": 50.0, "potentials": [{"position": 25.0, "model": "delta", "strength": 0.5}]}),
        Group("Delta impurity", "geometry.potentials[]", ("chain",), (
            Key("position", "float", REQUIRED, _LENGTH, "0 < position < L", "Where the barrier sits.", example=25.0),
            Key("model", "string", REQUIRED, allowed=_choices(("delta", "square")), doc="`delta` here.",
                example="delta"),
            Key("strength", "float", REQUIRED, "hbar^2 k_F/m", "finite",
                "g of g delta(z - position): T = 1/(1 + g^2) at k_F.", example=0.5),
        ), when={"model": "delta"}, base={"position": 25.0, "model": "delta", "strength": 0.5}),
        Group("Square impurity", "geometry.potentials[]", ("chain",), (
            Key("position", "float", REQUIRED, _LENGTH, "the barrier inside (0, L)", "Centre of the barrier.",
                example=25.0),
            Key("model", "string", REQUIRED, allowed=_choices(("delta", "square")), doc="`square` here.",
                example="square"),
            Key("height", "float", REQUIRED, _ENERGY, "finite", "Barrier height.", example=0.3),
            Key("width", "float", REQUIRED, _LENGTH, "> 0", "Barrier width.", example=1.5),
        ), when={"model": "square"}, base={"position": 25.0, "model": "square", "height": 0.3, "width": 1.5}),
        Group("Random chain", "geometry.random", ("chain",), (
            Key("count", "integer", REQUIRED, "", ">= 1", "Number of delta barriers, uniform in (0, L).", example=3),
            Key("model", "string", "delta", allowed='"delta"', doc="Only delta barriers."),
            Key("strength", "float or [low, high]", REQUIRED, "hbar^2 k_F/m", "low <= high",
                "One strength, or strengths uniform in [low, high].", example=[0.2, 0.6]),
            Key("seed", "integer", None, allowed="0 <= seed < 2^63", default_text="the case's seed",
                doc="Seed of the positions and strengths (a random chain is fixed by it).", example=7),
        ), base={"count": 3, "strength": 0.5}),
        _optional_tallies("Chain tallies", "chain", chain.TALLY_KINDS, "transmission"),
    ]

    # ---------------------------------------------------------------- bulk
    out += [
        Group("Bulk background", "background", ("bulk",), (
            Key("mean_free_path", "float", REQUIRED, _LENGTH, "> 0", "Background mean free path l = v_F tau0.",
                example=100.0),
            Key("anisotropy", "float", 0.0, "", "> -1",
                "alpha of tau(k) = tau0 (1 + alpha (k.n)^2)/(1 + alpha/3); 0 is the Appendix's uniform "
                "scattering, anything else breaks Eq. 26.", example=0.5),
            Key("anisotropy_axis", "vector", [0.0, 0.0, 1.0], "", "not the zero vector (normalised)",
                "The axis n of the anisotropy."),
        ), base={"mean_free_path": 100.0}),
        Group("Field", "field", ("bulk",), (
            Key("direction", "vector", REQUIRED, "", "not the zero vector (normalised)",
                "Direction of E0; the bulk distribution of Eq. 1 flows against it.", example=[0.0, 0.0, 1.0]),
        ), base={"direction": [0.0, 0.0, 1.0]}),
        Group("Scattering complex", "impurities[]", ("bulk",), (
            Key("position", "vector", [0.0, 0.0, 0.0], _LENGTH, "finite",
                "Only labels the rows: a uniform bulk is translation invariant."),
            Key("scatterer", "table", REQUIRED, doc="The complex (any scatterer table, e.g. a `cluster`).",
                example={"model": "isotropic", "cross_section": 1.0}, holds="scatterer"),
        ), base={"scatterer": {"model": "isotropic", "cross_section": 1.0}},
            doc="Exactly one `[[impurities]]` table."),
        Group("Bulk tallies", "tallies[]", ("bulk",), (
            Key("kind", "string", REQUIRED, allowed=_choices(bulk.TALLY_KINDS),
                doc="What to tally; at least one `[[tallies]]` table.", example="wind_force"),
        ), base={"kind": "wind_force"}),
        Group("Density-dipole tally", "tallies[]", ("bulk",), (
            Key("shell", "[r_inner, r_outer]", list(bulk.DEFAULT_SHELL), _LENGTH, "0 < r_inner < r_outer",
                "The spherical shell around the complex whose free paths give the dipole strength."),
        ), when={"kind": "density_dipole"}, base={"kind": "density_dipole"}),
    ]

    # ---------------------------------------------------------------- impurity array
    ia = impurity_array
    out += [
        Group("Impurity array", "geometry", ("impurity_array",), (
            Key("length", "float", REQUIRED, _LENGTH, "> 4 disk radii", "Distance L between the reservoir planes "
                "z = -L/2 (raised by delta-mu = 1) and z = L/2.", example=40.0),
            Key("width", "float", REQUIRED, _LENGTH, "> 4 disk radii", "Side W of the square cross-section; "
                "specular walls at |x|, |y| = W/2 (the box's mirror images fill space).", example=20.0),
            Key("density", "float", REQUIRED, "k_F^3", "> 0, 1 <= n_i V <= 200000",
                "Impurity density n_i: N = round(n_i V) impurities at uniform random positions.", example=0.01),
            Key("scatterer", "table", REQUIRED, doc="Every impurity's scatterer (spherically symmetric).",
                example={"model": "isotropic", "cross_section": 1.0}, holds="scatterer"),
            Key("configurations", "string", "per_batch", allowed=_choices(ia.CONFIGURATIONS),
                doc="`per_batch`: a new random array per batch (ensemble averages, compared with the Boltzmann "
                    "references); `fixed`: one array in every batch (per-impurity wind forces)."),
            Key("cavity", "float", 0.0, _LENGTH, "0 or >= 2 disk radii, inside the box",
                "Radius of the impurity-free sphere around a tagged impurity at the centre (0: none); "
                "required by the `tagged_dipole` and `direct_force` tallies.", example=6.0),
            Key("interior", "float", 0.6, "", "0 < interior < 1",
                "Fraction of L about the centre where the density profile is fitted by a line and the probe "
                "balls are placed (away from the reservoirs' boundary layers)."),
        ), base={"kind": "impurity_array", "length": 40.0, "width": 20.0, "density": 0.01,
                 "scatterer": {"model": "isotropic", "cross_section": 1.0}}),
        Group("Impurity-array tallies", "tallies[]", ("impurity_array",), (
            Key("kind", "string", REQUIRED, allowed=_choices(ia.TALLY_KINDS),
                doc="What to report; without any `[[tallies]]` every kind is reported.", example="current"),
        ), base={"kind": "current"}),
        Group("Density profile", "tallies[]", ("impurity_array",), (
            Key("bins", "integer", ia.DEFAULT_BINS, "", "4 <= bins <= 10000", "z bins of the plane-averaged density."),
        ), when={"kind": "density"}, base={"kind": "density"}),
        Group("Gap probes", "tallies[]", ("impurity_array",), (
            Key("probes", "integer", ia.DEFAULT_PROBES, "", "1 <= probes <= 10000", "Probe balls in the gaps."),
            Key("probe_radius", "float", ia.DEFAULT_PROBE_RADIUS, _LENGTH, "> 0", "Radius R of each probe ball."),
            Key("clearance", "float", ia.DEFAULT_PROBE_CLEARANCE, "disk radii", ">= 1",
                "Each probe centre lies farther than R + clearance x (disk radius) from every impurity."),
        ), when={"kind": "gap_gradient"}, base={"kind": "gap_gradient"}),
        Group("Tagged-impurity shells", "tallies[]", ("impurity_array",), (
            Key("shells", "list of radii", list(ia.DEFAULT_SHELLS), _LENGTH,
                ">= 3 increasing radii in (disk radius, cavity - disk radius]",
                "Shell edges around the tagged impurity whose first moments give its own dipole and the "
                "gradient of the others at its site."),
        ), when={"kind": "tagged_dipole"}, base={"kind": "tagged_dipole"}),
        Group("Direct force", "tallies[]", ("impurity_array",), (
            Key("valence", "float", 1.0, "e", "finite", "Z_d of the direct force Z_d e E on the tagged ion."),
        ), when={"kind": "direct_force"}, base={"kind": "direct_force"}),
    ]

    # ---------------------------------------------------------------- scatterers
    screened = (
        Key("valence", "float", REQUIRED, "e", "non-zero, |Z| <= 10", "Valence Z of the ion (Z > 0 attracts "
            "electrons).", example=1.0),
        Key("screening", "string", "thomas_fermi", allowed=_choices(("thomas_fermi", "lindhard")),
            doc="Thomas-Fermi, or the static Lindhard (RPA) dielectric function of Das Eqs. 2 and 5.",
            example="lindhard"),
        Key("rs", "float", DEFAULT_RS, "Bohr radii", "0.5 <= rs <= 10",
            "Electron-gas parameter r_s (sets e^2 = 1/(k_F a_0) and q_TF); not with `material`."),
        Key("material", "string", None, allowed=_choices(sorted(MATERIAL_RS)), default_text="none (use rs)",
            doc="Take r_s of a free-electron material preset; not with `rs`.", example="Al"),
        Key("friedel", "bool", False, doc="Fit the screening length so that the Friedel sum "
            "(2/pi) sum (2l+1) delta_l equals Z; not with `screening_scale`.", example=True),
        Key("screening_scale", "float", 1.0, "q_TF", "0.05 <= scale <= 20", "q_screen / q_TF."),
    )
    out += [
        Group("Scatterer", "", ("scatterer",), (
            Key("model", "string", REQUIRED, allowed=_choices(MODELS), doc="The scattering model (below).",
                example="isotropic"),
        ), base={"model": "isotropic", "cross_section": 1.0},
            doc="A scatterer table, `scatterer = { model = ... }`, sits in `[[impurities]]` (and as a member of "
                "a cluster); `emmc scatterer MODEL --set KEY=VALUE` takes the same keys."),
        Group("Isotropic", "", ("scatterer",), (
            Key("cross_section", "float", REQUIRED, _AREA, "0 <= sigma <= 4 pi (s-wave unitarity)",
                "sigma_tot of a pure s wave, sin^2 delta_0 = sigma/(4 pi).", example=1.0),
        ), when={"model": "isotropic"}, base={"model": "isotropic", "cross_section": 1.0}),
        Group("Phase shifts", "", ("scatterer",), (
            Key("phase_shifts", "list of floats", REQUIRED, "rad", "at most 200 values", "delta_0, delta_1, ... at k_F.",
                example=[0.6, 0.25, 0.05]),
        ), when={"model": "phase_shifts"}, base={"model": "phase_shifts", "phase_shifts": [0.5]}),
        Group("Hard sphere", "", ("scatterer",), (
            Key("radius", "float", REQUIRED, _LENGTH, "0 < R <= 100", "Radius of the impenetrable sphere.",
                example=1.5),
        ), when={"model": "hard_sphere"}, base={"model": "hard_sphere", "radius": 1.0}),
        Group("Square well", "", ("scatterer",), (
            Key("radius", "float", REQUIRED, _LENGTH, "0 < R <= 100", "Radius of the well.", example=1.5),
            Key("depth", "float", REQUIRED, _ENERGY, "> 0 attractive, < 0 a repulsive step; (K R) bounded",
                "V = -depth for r < R.", example=0.5),
        ), when={"model": "square_well"}, base={"model": "square_well", "radius": 1.0, "depth": 0.5}),
        Group("Screened Coulomb ion", "", ("scatterer",), screened, when={"model": "screened_coulomb"},
              base={"model": "screened_coulomb", "valence": 1.0},
              doc="Exact phase shifts (variable phase method) of V(q) = -4 pi Z e^2/(q^2 eps(q))."),
        Group("Born approximation", "", ("scatterer",), (
            Key("potential", "table", REQUIRED, doc="The potential (below): `square_well` or `screened_coulomb`.",
                example={"model": "square_well", "radius": 1.0, "depth": 0.2}, holds="potential"),
        ), when={"model": "born"}, base={"model": "born", "potential": {"model": "square_well", "radius": 1.0,
                                                                           "depth": 0.2}}),
        Group("Cluster", "", ("scatterer",), (
            Key("centres", "list of vectors", REQUIRED, _LENGTH, "at most 16, members not overlapping",
                "Positions of the members.", example=[[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]],
                companions={"members": [{"model": "isotropic", "cross_section": 0.4}] * 2}),
            Key("members", "array of tables", REQUIRED, allowed=f"one per centre; spherical (not cluster or born); "
                f"partial waves up to l = {CLUSTER_L_MAX}", doc="The members' scatterer tables.",
                example=[{"model": "isotropic", "cross_section": 0.4}] * 2, holds="scatterer",
                companions={"centres": [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]]}),
        ), when={"model": "cluster"}, base={"model": "cluster", "centres": [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]],
                                            "members": [{"model": "isotropic", "cross_section": 0.4}] * 2}),
        Group("Born potential", "", ("potential",), (
            Key("model", "string", REQUIRED, allowed=_choices(("square_well", "screened_coulomb")),
                doc="The potential whose Fourier transform gives f_B(q).", example="square_well"),
        ), base={"model": "square_well", "radius": 1.0, "depth": 0.2}),
        Group("Born square well", "", ("potential",), (
            Key("radius", "float", REQUIRED, _LENGTH, "0 < R <= 100", "Radius of the well.", example=1.0),
            Key("depth", "float", REQUIRED, _ENERGY, "finite", "V = -depth for r < R.", example=0.2),
        ), when={"model": "square_well"}, base={"model": "square_well", "radius": 1.0, "depth": 0.2}),
        Group("Born screened Coulomb ion", "", ("potential",), screened, when={"model": "screened_coulomb"},
              base={"model": "screened_coulomb", "valence": 1.0}),
    ]
    return tuple(out)


# -------------------------------------------------------------------------------- matching


def _when_values(group: Group, name: str) -> tuple:
    value = group.when[name]
    return value if isinstance(value, tuple) else (value,)


def _applies(group: Group, table: dict) -> bool:
    return all(table.get(name) in _when_values(group, name) for name in group.when)


def groups_at(family: str, location: str, table: dict) -> list[Group]:
    """The groups of ``family`` that describe ``table`` found at ``location``."""
    return [g for g in groups() if family in g.families and g.location == location and _applies(g, table)]


def unregistered_keys(case: dict) -> list[str]:
    """Dotted paths of the keys of a case (a parsed TOML dict) that no group registers.

    Only the registry is consulted (not the parsers): a case that passes here
    may still hold values the parsers reject."""
    kind = case.get("geometry", {}).get("kind") if isinstance(case.get("geometry"), dict) else None
    if kind not in SYSTEM_FAMILIES:
        return ["geometry.kind"]
    return _check_table(kind, "", case, "")


def _sub_locations(family: str, location: str) -> set[str]:
    prefix = f"{location}." if location else ""
    names = set()
    for g in groups():
        if family in g.families and g.location.startswith(prefix) and g.location != location:
            names.add(g.location[len(prefix):].split(".")[0].removesuffix("[]"))
    return names


def _check_table(family: str, location: str, table: dict, path: str) -> list[str]:
    matching = groups_at(family, location, table)
    keys = {k.name: k for g in matching for k in g.keys}
    nested = _sub_locations(family, location)
    problems = []
    for name, value in table.items():
        where = f"{path}.{name}" if path else name
        key = keys.get(name)
        if name in nested:
            child = f"{location}.{name}" if location else name
            if isinstance(value, list):
                for i, item in enumerate(value):
                    problems += _check_table(family, child + "[]", item, f"{where}[{i}]") if isinstance(item, dict) else []
            elif isinstance(value, dict):
                problems += _check_table(family, child, value, where)
            if key is None and not any(g.location.startswith(child) for g in groups() if family in g.families):
                problems.append(where)
            continue
        if key is None:
            problems.append(where)
            continue
        if key.holds and isinstance(value, dict):
            problems += _check_table(key.holds, "", value, where)
        elif key.holds and isinstance(value, list):
            problems += [p for i, item in enumerate(value) if isinstance(item, dict)
                         for p in _check_table(key.holds, "", item, f"{where}[{i}]")]
        elif isinstance(value, dict):
            for sub in value:
                if f"{name}.{sub}" not in keys:
                    problems.append(f"{where}.{sub}")
    return problems


# -------------------------------------------------------------------------------- rendering


def _format(value: Any) -> str:
    from mc.config import _toml_value

    if isinstance(value, float) and math.isinf(value):
        return "inf"
    try:
        return f"`{_toml_value(value)}`"
    except TypeError:
        return f"`{value!r}`"


def _default_text(key: Key) -> str:
    if key.default_text:
        return key.default_text
    if key.required:
        return "**required**"
    return _format(key.default)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _when_text(group: Group) -> str:
    parts = []
    for name in group.when:
        values = _when_values(group, name)
        parts.append(f"`{name}` = " + " or ".join(f'`"{v}"`' for v in values))
    return ", ".join(parts)


FAMILY_TITLES = (
    (("aperture", "constriction", "slab", "chain", "bulk", "impurity_array"), "Every case", ""),
    (("aperture", "constriction"), "Point contacts: `kind = \"aperture\"` and `kind = \"constriction\"`",
     "Sorbello Sec. III C and its extensions; see [Point contact](systems/point-contact.md) and "
     "[Constrictions and leads](systems/constriction.md)."),
    (("slab",), "Slab: `kind = \"slab\"`", "Sorbello Sec. III B; see [Slab](systems/slab.md)."),
    (("chain",), "Chain: `kind = \"chain\"`", "Sorbello Sec. III A; see [Chain](systems/chain.md)."),
    (("bulk",), "Bulk: `kind = \"bulk\"`", "Sorbello Appendix and Eq. 26; see [Bulk](systems/bulk.md)."),
    (("impurity_array",), "Impurity array: `kind = \"impurity_array\"`",
     "Sorbello's Discussion; see [Impurity array](systems/impurity-array.md)."),
    (("scatterer",), "Scatterer tables", "See [Scatterers](systems/scatterers.md) for the models and their conventions."),
    (("potential",), "Born potentials: `scatterer = { model = \"born\", potential = { ... } }`", ""),
)


def schema_markdown() -> str:
    """The configuration reference page (Markdown), generated from :func:`groups`."""
    from mc.config import MAX_MAGNITUDE

    lines = [
        "# Configuration reference",
        "",
        "<!-- generated by mc.schema.schema_markdown() at every docs build; edit mc/schema.py, not this page -->",
        "",
        "A case is a TOML file. Its keys are validated before any work starts: an unknown key, a value of the "
        "wrong type, a number out of range or impossible geometry is refused with one line naming the key and "
        "the reason (`emmc: error: geometry.radius: must be > 0, got -1.0`, exit status 2). Every real number "
        f"must be finite and within +-{MAX_MAGNITUDE:g} (reduced units), every integer a signed 64-bit integer.",
        "",
        "Units are the reduced units of [Units](guide/units.md): lengths in 1/k_F, energies in "
        "hbar^2 k_F^2/m (so eps_F = 1/2), cross sections in 1/k_F^2. A table below applies where its "
        "header says: `[geometry]` is a table, `[[tallies]]` an array of tables (one `[[tallies]]` block per "
        "entry), and a condition such as `kind = \"density\"` selects the entries it describes. Keys written "
        "`mesh.rho_max` are keys of an inline sub-table (`mesh = { rho_max = 10.0, ... }`).",
        "",
        "This page is generated from `mc/schema.py` at every documentation build; `tests/test_schema.py` checks "
        "the registry against the parsers (every key registered here is accepted, every key a parser reads is "
        "registered), so the two cannot drift apart.",
        "",
    ]
    sections: dict[int, list[Group]] = {}
    for group in groups():
        home = next(i for i, (families, _, _) in enumerate(FAMILY_TITLES) if set(group.families) <= set(families))
        sections.setdefault(home, []).append(group)
    for i, (families, title, intro) in enumerate(FAMILY_TITLES):
        chosen = sections.get(i, [])
        if not chosen:
            continue
        lines += [f"## {title}", ""]
        if intro:
            lines += [intro, ""]
        for group in chosen:
            header = f"### {group.title}"
            lines += [header, ""]
            where = f"In `{group.toml}`" if group.location else "At the top level of the case"
            if families in (("scatterer",), ("potential",)):
                where = "In the scatterer table" if families == ("scatterer",) else "In the `potential` table"
            condition = _when_text(group)
            lines += [where + (f", when {condition}" if condition else "") + "."
                      + (f" {group.doc}" if group.doc else ""), ""]
            if not group.keys:
                continue
            lines += ["| key | type | default | unit | allowed | meaning |", "|---|---|---|---|---|---|"]
            for key in group.keys:
                lines.append("| " + " | ".join(_cell(t) for t in (
                    f"`{key.name}`", key.type, _default_text(key), key.unit, key.allowed, key.doc)) + " |")
            lines.append("")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ the command line

LISTINGS = ("geometries", "tallies", "sources", "scatterers", "materials", "observables", "units")


def _families_of(kind: str) -> list[Group]:
    """The tables ``emmc schema KIND`` shows: a system, a tally kind, a source kind or a scatterer model."""
    systems = [g for g in groups() if kind in g.families and g.families != SYSTEM_FAMILIES]
    if systems:
        return [g for g in groups() if g.families == SYSTEM_FAMILIES] + systems
    chosen = []
    for group in groups():
        values = _when_values(group, "kind") if "kind" in group.when else ()
        models = _when_values(group, "model") if "model" in group.when else ()
        if kind in values or kind in models:
            chosen.append(group)
    if chosen and any("model" in g.when for g in chosen):
        general = [g for g in groups() if g.families == ("scatterer",) and not g.when]
        return general + chosen
    if not chosen:  # a source kind: a value of the kind key of a [source] table
        chosen = [g for g in groups() if g.location == "source" and kind in _source_kinds(g)]
    return chosen


def _source_kinds(group: Group) -> list[str]:
    return [part.strip().strip('"') for key in group.keys if key.name == "kind" for part in key.allowed.split("|")]


def schema_kinds() -> list[str]:
    """Every name ``emmc schema`` accepts."""
    names = set(SYSTEM_FAMILIES)
    for group in groups():
        for discriminator in ("kind", "model"):
            if discriminator in group.when:
                names.update(_when_values(group, discriminator))
        if group.location == "source":
            names.update(_source_kinds(group))
    return sorted(names)


def schema_text(kind: str, width: int = 100) -> str:
    """The keys of one system, tally, source or scatterer model as plain text (``emmc schema KIND``)."""
    import textwrap

    from mc.errors import ConfigError

    chosen = _families_of(kind)
    if not chosen:
        raise ConfigError("schema", f"unknown kind {kind!r}; one of: {', '.join(schema_kinds())}")
    lines = [f"Keys of {kind!r} (units reduced: lengths in 1/k_F; `emmc list` shows the kinds):", ""]
    for group in chosen:
        where = f"[{group.location}]" if group.location and "[]" not in group.location else group.toml
        if group.families in (("scatterer",), ("potential",)):
            where = "scatterer = { ... }" if group.families == ("scatterer",) else "potential = { ... }"
        condition = _when_text(group).replace("`", "")
        lines.append(f"{group.title}: {where}" + (f" when {condition}" if condition else ""))
        for key in group.keys:
            default = _default_text(key).replace("`", "").replace("**", "")
            head = f"  {key.name} ({key.type}; default {default}" + (f"; unit {key.unit}" if key.unit else "") + ")"
            lines.append(head)
            text = " ".join(t for t in (key.allowed and f"Allowed: {key.allowed}.", key.doc) if t).replace("`", "")
            if text:
                lines += textwrap.wrap(text, width, initial_indent="      ", subsequent_indent="      ")
        lines.append("")
    return "\n".join(lines)


def listing(what: str) -> str:
    """``emmc list WHAT``: the names a case may use, one per line with what it is."""
    from mc.errors import ConfigError

    if what not in LISTINGS:
        raise ConfigError("list", f"unknown listing {what!r}; one of: {', '.join(LISTINGS)}")
    if what == "geometries":
        titles = {"aperture": "hole of radius a in an opaque screen (Sorbello Sec. III C)",
                  "constriction": "a neck of length L (cylinder or cone) between two screens",
                  "slab": "an impurity layer between reservoirs (Sec. III B)",
                  "chain": "a 1D chain of barriers between reservoirs (Sec. III A)",
                  "bulk": "one scattering complex in a bulk metal (Appendix, Eq. 26)",
                  "impurity_array": "random explicit impurities between reservoirs (Discussion)"}
        from mc.systems import SYSTEMS

        return "\n".join(f"{kind:<14}{titles.get(kind, '')}" for kind in sorted(SYSTEMS))
    if what in ("tallies", "sources"):
        location = "tallies[]" if what == "tallies" else "source"
        rows = []
        for system in SYSTEM_FAMILIES:
            for group in groups():
                if system in group.families and group.location == location:
                    for key in group.keys:
                        if key.name in ("kind", "distribution") and key.allowed:
                            rows.append(f"{system:<14}{key.name}: {key.allowed}")
        return "\n".join(dict.fromkeys(rows))
    if what == "scatterers":
        from mc.scattering.models import MODELS

        docs = {g.when["model"]: g.title for g in groups() if g.families == ("scatterer",) and "model" in g.when
                and isinstance(g.when["model"], str)}
        return "\n".join(f"{model:<18}{docs.get(model, '')}" for model in MODELS)
    if what == "materials":
        from observables.materials import MATERIALS

        lines = [f"{'name':<6}{'k_F (1/Angstrom)':>18}{'r_s':>7}{'valence':>9}"]
        for name, metal in MATERIALS.items():
            lines.append(f"{name:<6}{metal.k_fermi:>18.4g}{metal.rs:>7.3g}{metal.valence:>9d}")
        return "\n".join(lines)
    from observables.tables import OBSERVABLES, REDUCED_UNITS, UNITS

    if what == "observables":
        return "\n".join(f"{name:<24}{REDUCED_UNITS.get(name, '')}" for name in sorted(OBSERVABLES))
    return "\n".join(f"{unit:<24}{meaning}" for unit, meaning in UNITS.items())
