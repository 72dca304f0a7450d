"""Impurity layer (slab) between reservoirs: theta-quadratures of Sorbello Eqs. 41-47c.

Reduced units hbar = m = e = k_F = 1 (v_F = 1, both-spin dn/dE = 1/pi^2);
the drive is delta-mu = 1 for the reservoir ("ballistic") feed of Eq. 39 and
e E0 tau = 1 for the bulk feed of Eq. 1.  mu = cos(theta) = k_z / k_F.
Resistivities are returned as rho * L (L the reservoir separation), in
hbar / (e^2 k_F^2), because the paper's L is not a property of the slab.

Normalisation (checked against the Sharvin current of Sec. III C): the
hemisphere of Eq. 39 holds delta-mu (dn/dE)/2 = 1/(2 pi^2) states per volume,
so j_t = (1/2pi^2) int mu T.  Sorbello's Eq. 42 prints a leading "2" in front
of delta-mu k_F^2/(2 pi^2 hbar); it is scanning debris like that of Eq. 47b:
only without it do Eqs. 42, 43, 44 agree with each other and T = 1 gives the
Sharvin current density k_F^2 delta-mu / (4 pi^2 hbar).

Also the closed-form transmissions used as independent references for the
transfer matrices: the delta barrier, the rectangular barrier and the
Poeschl-Teller barrier V0 / cosh^2(alpha z).
"""

from __future__ import annotations

import math

import numpy as np

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(20)


def gauss_legendre(function, breakpoints, panels_per_interval: int = 64) -> float:
    """Composite 20-point Gauss-Legendre integral of a vectorised ``function`` over [breakpoints[0], breakpoints[-1]]
    (a float; an array for a function that returns (len(x), ...) values).

    Panel edges include every breakpoint (kinks of an interpolated table), so
    a piecewise-polynomial integrand is integrated exactly and an analytic one
    to machine precision.
    """
    total = 0.0
    breakpoints = np.asarray(breakpoints, float)
    for a, b in zip(breakpoints[:-1], breakpoints[1:]):
        edges = np.linspace(a, b, panels_per_interval + 1)
        half = 0.5 * np.diff(edges)
        mids = 0.5 * (edges[1:] + edges[:-1])
        x = (mids[:, None] + half[:, None] * _NODES[None, :]).ravel()
        w = (half[:, None] * _WEIGHTS[None, :]).ravel()
        total = total + np.tensordot(w, function(x), axes=(0, 0))
    return total if np.ndim(total) else float(total)


def moment(reflection, power: int, breakpoints=(0.0, 1.0), *, transmitted: bool = False) -> float:
    """int_0^1 dmu mu^power R(mu)  (or T = 1 - R with ``transmitted``)."""
    if transmitted:
        return gauss_legendre(lambda mu: mu**power * (1.0 - reflection(mu)), breakpoints)
    return gauss_legendre(lambda mu: mu**power * reflection(mu), breakpoints)


def ballistic_references(reflection, breakpoints=(0.0, 1.0), *, symmetric: bool = False) -> dict[str, float]:
    """Slab fed by the reservoirs (Eq. 39, delta-mu = 1 on the left, or +-1/2 with ``symmetric``).

    * potential_drop = e(dPhi_L - dPhi_R) = -int R                      (Eq. 41)
    * current        = j_t = (1/2pi^2) int mu T                         (Eq. 42, debris "2" removed)
    * resistivity    = rho L = 2 pi^2 int R / int mu T                  (Eq. 43)
    * resistivity_reservoir = rho' L = 2 pi^2 / int mu T                (Eq. 44)
    * wind_force     = F_w / A = (1/pi^2) int mu^2 R, along +z          (Eq. 46)
    * density_left/right = dn/(dn/dE) beside the layer, Friedel terms dropped:
      (1 + int R)/2 and (1 - int R)/2 (Eqs. 3, 40; e dPhi = -dn/(dn/dE), Eq. 5);
      +-(int R)/2 with the symmetric bias (all other rows unchanged)
    """
    r0 = moment(reflection, 0, breakpoints)
    t1 = moment(reflection, 1, breakpoints, transmitted=True)
    r2 = moment(reflection, 2, breakpoints)
    return {
        "potential_drop": -r0,
        "current": t1 / (2.0 * math.pi**2),
        "resistivity": 2.0 * math.pi**2 * r0 / t1,
        "resistivity_reservoir": 2.0 * math.pi**2 / t1,
        "wind_force": r2 / math.pi**2,
        "density_left": 0.5 * r0 if symmetric else 0.5 * (1.0 + r0),
        "density_right": -0.5 * r0 if symmetric else 0.5 * (1.0 - r0),
    }


def bulk_references(reflection, breakpoints=(0.0, 1.0)) -> dict[str, float]:
    """Slab fed from both sides by the bulk distribution of Eq. 1 (e E0 tau = 1, E0 along -z).

    * potential_drop = -2 int mu R   (close-in drop, Eq. 47a)
    * wind_force     = F_w / A = (2/pi^2) int mu^3 R   (Eq. 47b without the debris "2", SPEC §4)
    * current        = net particle current through the layer (1/pi^2) int mu^2 T
      (= n0 = 1/(3 pi^2) for R = 0)
    * resistivity    = rho L = 2 pi^2 int mu R / int mu^2 T, the close-in Landauer
      resistivity "Eq. 43 with an extra cos(theta) in the integrands" (text after Eq. 47c)
    * far_field_drop = -6 int mu^3 R  (Eq. 47c, needs background scattering; reference only)
    * density_left/right = dn/(dn/dE) = +int mu R and -int mu R beside the layer
    """
    r1 = moment(reflection, 1, breakpoints)
    r3 = moment(reflection, 3, breakpoints)
    t2 = moment(reflection, 2, breakpoints, transmitted=True)
    return {
        "potential_drop": -2.0 * r1,
        "wind_force": 2.0 * r3 / math.pi**2,
        "current": t2 / math.pi**2,
        "resistivity": 2.0 * math.pi**2 * r1 / t2,
        "far_field_drop": -6.0 * r3,
        "density_left": r1,
        "density_right": -r1,
    }


def delta_transmission(k, strength):
    """T = 1 / (1 + g^2 / k^2) of the barrier g delta(z) (hbar = m = 1)."""
    k = np.asarray(k, float)
    return 1.0 / (1.0 + (strength / k) ** 2)


def rectangular_transmission(k, height, width):
    """Closed-form T of a square barrier: 1 / (1 + V^2 sin^2(q d) / (k^2 q^2)), q^2 = k^2 - 2V.

    (The textbook 1/(1 + V0^2 sin^2(qd) / (4 E (E - V0))) with E = k^2/2;
    sin -> sinh for q^2 < 0 and sin^2(qd)/q^2 -> d^2 at q = 0.)
    """
    k = np.asarray(k, float)
    q2 = k * k - 2.0 * height
    q = np.sqrt(np.abs(q2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(q2 > 0, np.sin(q * width) ** 2, np.sinh(q * width) ** 2) / np.abs(q2)
    ratio = np.where(q2 == 0.0, width * width, ratio)
    return 1.0 / (1.0 + height**2 * ratio / (k * k))


def poschl_teller_transmission(k, height, alpha):
    """Closed-form T of V(z) = height / cosh^2(alpha z) (Landau & Lifshitz QM, problem to Sec. 25).

    T = sinh^2(pi k/alpha) / (sinh^2(pi k/alpha) + cos^2((pi/2) sqrt(1 - 8 height/alpha^2)))
    with cos^2 -> cosh^2((pi/2) sqrt(8 height/alpha^2 - 1)) when 8 height > alpha^2 (hbar = m = 1).
    """
    k = np.asarray(k, float)
    s = np.sinh(math.pi * k / alpha) ** 2
    x = 1.0 - 8.0 * height / alpha**2
    c = math.cos(0.5 * math.pi * math.sqrt(x)) ** 2 if x >= 0 else math.cosh(0.5 * math.pi * math.sqrt(-x)) ** 2
    return s / (s + c)
