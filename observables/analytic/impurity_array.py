"""Boltzmann references of a random impurity array between reservoirs (independent scatterers).

Reduced units hbar = m = e = k_F = 1, v_F = 1, dn/dE = 1/pi^2; the left reservoir is
raised by delta-mu = 1, the right one is not.  To first order in the impurity
density n_i (independent scatterers, no recollisions), the impurities are a
uniform medium with mean free path l = 1/(n_i sigma_tot) whose collisions scatter
into k' ~ |f|^2; for the transport of the current only sigma_tr matters in the
interior, but the slab problem below is solved for isotropic scattering
(sigma_tr = sigma_tot), the case the campaign runs.

Slab of optical thickness tau = L/l, coordinate s = z/l + tau/2 in [0, tau],
occupation g(s, mu) with mu = cos(theta): the uncollided left-reservoir states
g(0, mu > 0) = 1, nothing from the right.  The mean occupation
gbar(s) = (1/2) int_{-1}^{1} g dmu (the density in units delta-mu dn/dE) obeys the
integral equation of the isotropically scattering slab (Case & Zweifel Ch. 6)

    gbar(s) = (1/2) E2(s) + (1/2) int_0^tau E1(|s - s'|) gbar(s') ds',

and the particle current density through the right face is

    J = (1/(2 pi^2)) [E3(tau) + int_0^tau gbar(s') E2(tau - s') ds']

(J = 1/(4 pi^2) = the Sharvin current density at tau = 0).  Solved by collocation
on cells graded towards both faces (the derivative of gbar is log-singular
there), with the kernel integrated over each cell exactly (E2 differences).

In the interior the solution is the diffusion solution exactly (conservative
isotropic scattering: a linear gbar is an exact solution of the transport
equation away from the faces), so d gbar/dz = -rho J with the Drude resistivity
rho = 3 pi^2 / l = 3 pi^2 n_i sigma_tr (hbar/(e^2 k_F)), and for tau >> 1
J -> (1/(4 pi^2)) (4/3) / (tau + 2 z0), z0 = 0.710446 the Milne extrapolation
length (Case & Zweifel Table 6.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expn

MILNE_EXTRAPOLATION = 0.7104461
"""z0/l of the Milne problem for conservative isotropic scattering."""
SHARVIN_CURRENT_DENSITY = 1.0 / (4.0 * math.pi**2)


def drude_resistivity(density: float, sigma_tr: float) -> float:
    """rho = m / (n0 e^2 tau) = 3 pi^2 / l with 1/l = n_i sigma_tr (hbar/(e^2 k_F)), first order in n_i."""
    return 3.0 * math.pi**2 * density * sigma_tr


def landauer_dipole_per_current(sigma_tr: float) -> float:
    """Sorbello Eq. 6: p = 3 pi hbar J0 S0 / (4 k_F^2 e^2) per unit particle current density J0,
    dn(r) = (dn/dE) p cos(theta)/r^2 with theta from the current's direction; reduced:
    p / J0 = 3 pi sigma_tr / 4 (in 1/k_F^2 per (k_F^2 delta-mu / hbar), i.e. dn/dE delta-mu / k_F^2)."""
    return 0.75 * math.pi * sigma_tr


def _graded_edges(tau: float, cells: int) -> np.ndarray:
    """Cell edges on [0, tau], fine at both faces (a sine map: widths ~ (pi/2)^2 tau / cells^2 there)."""
    u = np.linspace(0.0, 1.0, cells + 1)
    return tau * 0.5 * (1.0 - np.cos(np.pi * u))


@dataclass(frozen=True)
class SlabSolution:
    """The Boltzmann slab of optical thickness tau: mean occupation on cells and the current density."""

    tau: float
    edges: np.ndarray
    occupation: np.ndarray
    current_density: float

    def density(self, s) -> np.ndarray:
        """gbar at optical depths s (linear between the cell midpoints)."""
        mid = 0.5 * (self.edges[1:] + self.edges[:-1])
        return np.interp(s, mid, self.occupation)

    def cell_average(self, s_lower, s_upper) -> np.ndarray:
        """The mean of gbar over [s_lower, s_upper] (mesh bins of a tally), from the piecewise-constant cells."""
        s_lower, s_upper = np.atleast_1d(s_lower), np.atleast_1d(s_upper)
        out = np.empty(len(s_lower))
        a, b = self.edges[:-1], self.edges[1:]
        for i, (lo, hi) in enumerate(zip(s_lower, s_upper)):
            overlap = np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0.0, None)
            out[i] = float(overlap @ self.occupation) / (hi - lo)
        return out


def solve_slab(tau: float, cells: int = 600) -> SlabSolution:
    """Collocation solution of the slab integral equation (module docstring) at the cell midpoints."""
    if tau <= 0.0:
        return SlabSolution(0.0, np.array([0.0, 0.0]), np.array([0.5]), SHARVIN_CURRENT_DENSITY)
    edges = _graded_edges(tau, cells)
    mid = 0.5 * (edges[1:] + edges[:-1])
    # K[i, j] = (1/2) int_cell_j E1(|s_i - s'|) ds' = (1/2) |E2(|s_i - a_j|) - E2(|s_i - b_j|)| off the
    # diagonal (E2' = -E1), and 1 - E2(h/2) on it (the two halves of the own cell)
    da = np.abs(mid[:, None] - edges[None, :-1])
    db = np.abs(mid[:, None] - edges[None, 1:])
    kernel = 0.5 * np.abs(expn(2, da) - expn(2, db))
    half = 0.5 * (edges[1:] - edges[:-1])
    kernel[np.diag_indices(cells)] = 1.0 - expn(2, half)
    source = 0.5 * expn(2, mid)
    occupation = np.linalg.solve(np.eye(cells) - kernel, source)
    # int_cell E2(tau - s') ds' = E3(tau - b) - E3(tau - a)
    transmitted = expn(3, tau - edges[1:]) - expn(3, tau - edges[:-1])
    current = (expn(3, tau) + float(transmitted @ occupation)) / (2.0 * math.pi**2)
    return SlabSolution(float(tau), edges, occupation, float(current))


def milne_current_density(tau: float) -> float:
    """The thick-slab limit J = (1/4 pi^2) (4/3) / (tau + 2 z0) (diffusion with the Milne extrapolation length)."""
    return SHARVIN_CURRENT_DENSITY * (4.0 / 3.0) / (tau + 2.0 * MILNE_EXTRAPOLATION)


def lorentz_cavity_factor(local_density_ratio: float = 1.0) -> float:
    """Fraction of the macroscopic density gradient that the dipoles of randomly placed impurities
    give at the centre of an impurity-free sphere in an unbounded array (the Lorentz cavity of a
    slab-shaped sample), when the impurities around the sphere have f = n_local / n_avg times the
    density that sets the macroscopic gradient:

        gradient / (d mu/dz)_macro = 1 - f/3      (= 2/3 for a uniform array).

    Each dipole dn = (dn/dE) p e.r/r^3 adds a step 4 pi p to the plane-averaged density (sum over
    impurities: the macroscopic gradient rho J = 4 pi n_avg p, Sorbello's Discussion); a column of
    dipoles uniform along the field makes no field at all (its potential is odd in z), so a lateral
    variation of n_i leaves the macroscopic gradient uniform across the section.  The empty sphere
    lacks the dipoles n_local (4 pi/3) c^3 p, whose field inside is -(4 pi/3) n_local p whatever c
    (the delta-function part of d_i d_j (1/r)).  Kinetically, for f = 1: inside the sphere the
    backward rays fly through it before their last collision, and the mean chord they add, -(r . k),
    carries a third of the gradient back (first order in sphere radius / l).  The f != 1 case is the
    impurity array's: its disks keep a disk radius a from the side walls, so in the core
    f = W^2 / (W - 2a)^2 (docs/systems/impurity-array.md, where arrays with f = 1 ... 2.25 are run)."""
    return 1.0 - local_density_ratio / 3.0


MIRROR_IMAGES = 10
"""Image cells |m|, |n| <= MIRROR_IMAGES summed one by one in :func:`mirror_cavity_correction`;
the rest as a continuum."""


def mirror_cavity_correction(centres_xy, width: float, radius: float, images: int = MIRROR_IMAGES) -> np.ndarray:
    """What the mirror images of an impurity-free sphere take off the Lorentz factor, per sphere centre,
    for a sphere in an array of the average density (f times this where the local density is f n_avg).

    Between specular side walls at |x|, |y| = W/2 the array is mirror-periodic: a sphere of radius c
    free of impurities at (x, y) has an image sphere, equally empty, at every (x_m, y_n) with
    x_m = (-1)^m x + m W.  An empty sphere in the array lacks the dipoles n_i (4 pi/3) c^3 p, so
    outside it the density gains the dipole field of -(c^3/3) (d mu/dz)_macro (uniformly polarised
    sphere, exact outside it).  The images lie in the sphere's own z plane (cos theta = 0), so at the
    centre each adds (c^3/3)/d^3 of the macroscopic gradient against the Lorentz 2/3:

        gradient / (d mu/dz)_macro = 2/3 - (c^3/3) sum_{(m,n) != (0,0)} 1/d_mn^3 .

    Valid while no image sphere overlaps the sphere (c <= distance to each wall); the cells beyond
    |m|, |n| <= images are summed as a continuum of image density 1/W^2 outside the square of
    half-side (images + 1/2) W, whose integral of 1/r^3 is 4 sqrt(2) / half-side."""
    centres_xy = np.atleast_2d(np.asarray(centres_xy, dtype=float))
    m = np.arange(-images, images + 1)
    sign = np.where(m % 2 == 0, 1.0, -1.0)
    x_images = sign[None, :] * centres_xy[:, :1] + m[None, :] * width  # (probes, cells)
    y_images = sign[None, :] * centres_xy[:, 1:2] + m[None, :] * width
    dx2 = (x_images - centres_xy[:, :1]) ** 2
    dy2 = (y_images - centres_xy[:, 1:2]) ** 2
    distance2 = dx2[:, :, None] + dy2[:, None, :]
    distance2[:, images, images] = np.inf  # the sphere itself
    near = np.sum(distance2 ** -1.5, axis=(1, 2))
    far = 4.0 * math.sqrt(2.0) / (width**2 * (images + 0.5) * width)
    return radius**3 / 3.0 * (near + far)


def mirrored_cavity_factor(centres_xy, width: float, radius: float, local_density_ratio: float = 1.0) -> np.ndarray:
    """The predicted gradient inside each impurity-free sphere over the macroscopic gradient: the
    Lorentz cavity (:func:`lorentz_cavity_factor`) less its mirror images
    (:func:`mirror_cavity_correction`), every image lacking the local density's dipoles too:

        gradient / (d mu/dz)_macro = 1 - f/3 - f (c^3/3) sum' 1/d_mn^3 ,   f = n_local / n_avg."""
    f = local_density_ratio
    return lorentz_cavity_factor(f) - f * mirror_cavity_correction(centres_xy, width, radius)
