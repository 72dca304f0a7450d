"""The impurity layer in a real metal, first order in R: Sorbello Eqs. 47a-c, 26 and the profile between them.

Reduced units hbar = m = e = k_F = 1 (v_F = 1, dn/dE = 1/pi^2); the drive is
e E0 l = 1 (l = v_F tau the background mean free path), E0 along -z, so the
layer-free occupation is the bulk distribution of Eq. 1 plus its density
gradient, f0(z, mu) = mu - z/l (an exact solution of the Boltzmann equation
with isotropic elastic background scattering), with current density
J0 = 1/(3 pi^2) and resistivity rho0 = 3 pi^2 / l (hbar/(e^2 k_F)).

The layer at z = 0 reflects f0 with R(mu): the deviation delta f = f - f0
obeys the same Boltzmann equation with no inflow at the reservoirs (z = +-H)
and the sheet source of the layer (from f(0+, mu) = T f(0-, mu) + R f(0+, -mu),
mu > 0):

    delta f(0+, mu) = -2 mu R(mu),   delta f(0-, -mu) = +2 mu R(mu).

To first order in R the layer is transparent to the deviation, whose
occupation n(z) = <delta f> then solves the Peierls equation of the slab
[-H, H] with conservative isotropic scattering,

    n(z) = n_unc(z) + int_{-H}^{H} dz' E1(|z - z'|/l) n(z') / (2 l),
    n_unc(z) = -sign(z) int_0^1 dmu mu R(mu) exp(-|z|/(mu l)),

solved here by Galerkin's method with piecewise-constant cells (the double
integrals of E1 over two cells are differences of E3, exactly), and its
current into the right reservoir follows from the collision density and the
uncollided sheet.  Limits (the closed forms of the paper, first order in R):

* close-in drop (Eq. 47a): -(n(0-) - n(0+)) = -2 int mu R;
* far-field drop at fixed current (Eq. 47c): -6 int mu^3 R, the jump of the
  two linear far fields; in the slab [-H, H] the deviation's far field
  extrapolates to zero at the Milne distance z0 = 0.7104 l beyond each
  reservoir, so the drop is (2H + 2 z0)/l * dJ / J at current J = J0 + dJ;
* wind force per area (Eq. 47b, debris "2" removed): (2/pi^2) int mu^3 R;
* Eq. 26 for a layer: F_w / A = n0 e r J with r = -drop / J the layer's
  resistance per area and n0 = 1/(3 pi^2): the ratio is 1.

The resistances per area are r = 18 pi^2 int mu^3 R (far field) against the
close-in Landauer value 6 pi^2 int mu R (Eq. 43 with cos-weighted integrands):
they differ, which is the paper's point after Eq. 47c.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expn

from observables.analytic.slab import gauss_legendre, moment

MILNE_EXTRAPOLATION = 0.7104460895
"""z0 / l: where the linear far field of the conservative Milne problem (isotropic scattering)
extrapolates to zero beyond a vacuum (absorbing) boundary (Davison, Neutron Transport Theory,
1957; Case and Zweifel, Linear Transport Theory, 1967, Table 6-1)."""

BULK_DENSITY = 1.0 / (3.0 * math.pi**2)
"""n0 = k_F^3 / (3 pi^2): the electron density, and the current density J0 = n0 e^2 tau E0 / m of
the drive e E0 l = 1 (both 1/(3 pi^2) in reduced units)."""


def background_resistivity(mean_free_path: float) -> float:
    """rho0 = 3 pi^2 / l (hbar / (e^2 k_F)), Drude with 1/l = the background's rate."""
    return 3.0 * math.pi**2 / mean_free_path


def closed_forms(reflection, breakpoints=(0.0, 1.0)) -> dict[str, float]:
    """Eqs. 47a-c, the resistances per area and Eq. 26 (drive e E0 l = 1), first order in R."""
    r1 = moment(reflection, 1, breakpoints)
    r3 = moment(reflection, 3, breakpoints)
    return {
        "potential_drop": -2.0 * r1,                  # Eq. 47a
        "far_field_drop": -6.0 * r3,                  # Eq. 47c
        "wind_force": 2.0 * r3 / math.pi**2,          # Eq. 47b
        "resistivity": 18.0 * math.pi**2 * r3,        # -47c / J0: the layer's resistance per area
        "resistivity_close_in": 6.0 * math.pi**2 * r1,  # -47a / J0: the close-in Landauer value
        "eq26_ratio": 1.0,
    }


def reflected_wind_force(reflection, breakpoints=(0.0, 1.0)) -> float:
    """F_w / A that f0 itself gives the layer: 2 k_z per reflection of its flux (Eq. 47b)."""
    return 2.0 * moment(reflection, 3, breakpoints) / math.pi**2


@dataclass(frozen=True)
class DeviationSolution:
    """The deviation's occupation on cells of [-H, H], its current and its reflections' force."""

    edges: np.ndarray       # cell edges
    occupation: np.ndarray  # cell averages of n(z) = <delta f> (units e E0 l dn/dE)
    current: float          # dJ: the deviation's current density through the slab (k_F^2 e E0 l / hbar)
    force: float            # F_w / A from the layer's reflections of the deviation (0 at first order)
    half_length: float
    mean_free_path: float
    order: str              # "first" (in R) or "exact" (an angle-independent R)

    def bin_average(self, lower: float, upper: float) -> float:
        """Average of n over [lower, upper] (its edges must be cell edges)."""
        i, j = (int(np.argmin(np.abs(self.edges - edge))) for edge in (lower, upper))
        scale = self.mean_free_path
        if abs(self.edges[i] - lower) > 1e-6 * scale or abs(self.edges[j] - upper) > 1e-6 * scale:
            raise ValueError(f"[{lower}, {upper}] is not a union of cells")
        widths = np.diff(self.edges[i:j + 1])
        return float(np.sum(widths * self.occupation[i:j]) / np.sum(widths))

    def far_field_drop(self) -> float:
        """The far-field drop at fixed current of this solution: (2H + 2 z0)/l * dJ / J, with J = J0 at first
        order (-> Eq. 47c as H/l -> inf) and J = J0 + dJ for the exact one (the Monte Carlo's estimator)."""
        current = BULK_DENSITY if self.order == "first" else BULK_DENSITY + self.current
        length = 2.0 * self.half_length + 2.0 * MILNE_EXTRAPOLATION * self.mean_free_path
        return length / self.mean_free_path * self.current / current


def far_field_drop(current_change, half_length: float, mean_free_path: float):
    """Extra drop at fixed current from the current change dJ that the layer makes between reservoirs at +-H.

    The deviation's far fields are linear and vanish at the Milne distance beyond each reservoir,
    n = s (H + z0 - z) for z > 0 and -s (H + z0 + z) for z < 0, so their jump at the layer is s (2H + 2 z0) with
    dJ = (l / 3 pi^2) s (Fick, D = l/3); at current J = J0 + dJ the drop per unit drive current is
    (2H + 2 z0)/l * dJ / J (units e E0 l, i.e. the drop the layer adds at the current J0)."""
    length = 2.0 * half_length + 2.0 * MILNE_EXTRAPOLATION * mean_free_path
    return length / mean_free_path * current_change / (BULK_DENSITY + current_change)


def _cells(required_edges, half_length: float, mean_free_path: float, finest: float, coarsest: float) -> np.ndarray:
    """Cell edges on [0, H] that contain every required edge, of width ~finest * l near the layer growing
    geometrically to coarsest * l (the deviation varies on the scale of mu l near z = 0)."""
    l = mean_free_path
    grid = [0.0]
    width = finest * l
    while grid[-1] < half_length:
        grid.append(grid[-1] + width)
        width = min(width * 1.08, coarsest * l)
    grid = np.asarray(grid[:-1])
    required = np.unique(np.concatenate([[0.0, half_length],
                                         np.clip(np.abs(np.asarray(required_edges, float)), 0.0, half_length)]))
    # grid points too near a required edge would cut slivers off its cells
    gap = np.min(np.abs(grid[:, None] - required[None, :]), axis=1)
    spacing = np.gradient(grid) if len(grid) > 1 else np.full(len(grid), finest * l)
    edges = np.union1d(grid[gap > 0.3 * spacing], required)
    return edges[np.concatenate([[True], np.diff(edges) > 1e-9 * l])]  # the same edge met twice by rounding


def _e3_double(near_i, far_i, near_j, far_j):
    """int_i int_j E1(x + y) dx dy over distances [near_i, far_i] x [near_j, far_j] (units of l)."""
    return (expn(3, near_i + near_j) - expn(3, far_i + near_j) - expn(3, near_i + far_j) + expn(3, far_i + far_j))


def _cell_kernel(edges: np.ndarray, mean_free_path: float, reflection: float) -> np.ndarray:
    """K_ij = (1/(2 l w_i)) int_i int_j k(z, z') dz dz' on cells with edges ``edges`` (Galerkin): the
    uncollided flight between collisions, E1(|z - z'|/l), times T = 1 - R when it crosses the layer, plus
    R E1((|z| + |z'|)/l) for the flight reflected by it (one reflection at most: a straight flight meets
    the plane once); exact for an angle-independent R, and first order in R with ``reflection = 0``."""
    x = edges / mean_free_path
    a, b = x[:-1], x[1:]
    w = b - a
    e3 = lambda t: expn(3, np.abs(t))  # noqa: E731
    # int_a^b dx int_c^d dy E1(|x - y|) for disjoint cells: E3(c-b) - E3(c-a) - E3(d-b) + E3(d-a)
    c, d = a[None, :], b[None, :]
    aa, bb = a[:, None], b[:, None]
    double = e3(c - bb) - e3(c - aa) - e3(d - bb) + e3(d - aa)
    np.fill_diagonal(double, 2.0 * (w - 0.5 + expn(3, w)))
    if reflection > 0.0:
        right = a >= 0.0
        same = right[:, None] == right[None, :]
        near, far = np.minimum(np.abs(a), np.abs(b)), np.maximum(np.abs(a), np.abs(b))
        mirror = _e3_double(near[:, None], far[:, None], near[None, :], far[None, :])
        double = np.where(same, double + reflection * mirror, (1.0 - reflection) * double)
    return double / (2.0 * w[:, None])  # the l of the Jacobian cancels 1/l of the kernel


def deviation_solution(reflection, breakpoints, mean_free_path: float, half_length: float, required_edges=(),
                       constant_reflection: float | None = None, finest: float = 0.002,
                       coarsest: float = 0.04) -> DeviationSolution:
    """Galerkin solution of the deviation's Peierls equation (module docstring) on [-H, H].

    First order in R, or, for an angle-independent ``constant_reflection`` R, exact: the sheet source
    is exact at any R (f0's failure at the layer), and the kernel then carries the layer's T and R."""
    l, h = float(mean_free_path), float(half_length)
    r = 0.0 if constant_reflection is None else float(constant_reflection)
    right = _cells(required_edges, h, l, finest, coarsest)
    edges = np.concatenate([-right[::-1], right[1:]])
    lower, upper = edges[:-1], edges[1:]
    width = upper - lower
    side = np.where(lower >= 0.0, -1.0, 1.0)  # n_unc = -sign(z) ...
    near, far = np.minimum(np.abs(lower), np.abs(upper)), np.maximum(np.abs(lower), np.abs(upper))

    def uncollided(mu):
        # cell average of mu R e^{-|z|/(mu l)}: mu R * mu l (e^{-near/mu l} - e^{-far/mu l}) / width
        mu = mu[:, None]
        return (mu * reflection(mu[:, 0])[:, None] * mu * l
                * (np.exp(-near[None, :] / (mu * l)) - np.exp(-far[None, :] / (mu * l))) / width[None, :])

    source = side * gauss_legendre(uncollided, breakpoints, panels_per_interval=32)
    occupation = np.linalg.solve(np.eye(len(width)) - _cell_kernel(edges, l, r), source)
    # collided particles are emitted isotropically at the rate n/(pi^2 l) per volume
    emitted = occupation * width / (math.pi**2 * l)
    on_right = lower >= 0.0
    # into the right reservoir: the right-going sheet's uncollided flux, and every collided particle
    # that reaches z = H uncollided (directly, through the layer with T, or reflected with R):
    # the cell's share is (l/2w) int E2((H - z)/l) dz
    sheet = -gauss_legendre(lambda mu: mu**2 * reflection(mu) * np.exp(-h / (mu * l)), breakpoints) / math.pi**2
    direct = l * (expn(3, (h - upper) / l) - expn(3, (h - lower) / l)) / (2.0 * width)
    mirrored = l * (expn(3, (h + near) / l) - expn(3, (h + far) / l)) / (2.0 * width)
    reach = np.where(on_right, direct + r * mirrored, (1.0 - r) * direct)
    current = sheet + float(np.sum(emitted * reach))
    # momentum 2 k_z to the layer per reflection of a collided particle: R int_0^1 mu e^{-d/mu l} dmu = R E3(d/l)
    # per particle emitted at distance d, along +z from the left side
    hits = l * (expn(4, near / l) - expn(4, far / l)) / width
    force = r * float(np.sum(np.where(on_right, -1.0, 1.0) * emitted * hits))
    return DeviationSolution(edges, occupation, current, force, h, l, "exact" if constant_reflection is not None else "first")
