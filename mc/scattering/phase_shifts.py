"""Phase shifts delta_l(k_F) of spherically symmetric potentials, and the screened ion.

Reduced units (SPEC §1): hbar = m = k_F = 1, energies in hbar^2 k_F^2 / m
(eps_F = 1/2), lengths in 1/k_F.  The radial Schrödinger equation then reads
u'' + [k^2 - U(r) - l(l+1)/r^2] u = 0 with U = 2 m V / hbar^2 = 2 V.

The Coulomb coupling of the electron gas is not 1 in these units: with e the
electron charge, e^2 / (hbar^2 k_F / m) = 1 / (k_F a_0) and
k_F a_0 = (9 pi / 4)^(1/3) / r_s.  An ion of valence Z is the bare potential
V0(q) = -4 pi Z e^2 / q^2 (Das Eq. 1, attractive for electrons), screened
either by Thomas–Fermi, eps(q) = 1 + q_TF^2 / q^2, or by the static Lindhard
(RPA) function of Das Eqs. 2 and 5 at u = 0,
eps(q) = 1 + (q_TF^2 / q^2) G(q / 2k_F),
G(x) = 1/2 + (1 - x^2)/(4x) ln|(1 + x)/(1 - x)|,
with q_TF^2 = alpha^2 = 4 k_F / (pi a_0) (Das's alpha).  (Das Eq. 5 prints
eps = 1 - X_1/q^2 with a positive X_1; the physical static dielectric
function is eps = 1 + X_1/q^2 > 1, which is what is used here.)

Phase shifts of smooth potentials come from the variable phase method
(Calogero): d delta_l / dr = -(1/k) U(r) [jhat_l(kr) cos delta_l - nhat_l(kr) sin delta_l]^2
with Riccati–Bessel jhat_l = x j_l(x), nhat_l = x y_l(x), integrated by RK4 on
a uniform grid from r = 0 to ``r_max``; delta_l(r) is continuous, so bound
states are counted as in Levinson's theorem and the Friedel sum
Z = (2/pi) sum_l (2l+1) delta_l is meaningful.  Hard spheres and square
wells use their closed forms.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.fft import dst
from scipy.optimize import brentq
from scipy.special import spherical_jn, spherical_yn

from geometry.jit import jit

KF_A0_RS = (9.0 * math.pi / 4.0) ** (1.0 / 3.0)
"""k_F a_0 r_s = (9 pi / 4)^(1/3) for the free-electron gas."""

PHASE_TOLERANCE = 1e-12
"""Partial waves with |delta_l| below this (and all beyond) are dropped."""


def coulomb_coupling(rs: float) -> float:
    """e^2 in reduced units, i.e. 1/(k_F a_0) = r_s / (9 pi/4)^(1/3)."""
    return rs / KF_A0_RS


def thomas_fermi_wavenumber(rs: float) -> float:
    """q_TF / k_F = sqrt(4 / (pi k_F a_0)) (Das's alpha, Eq. 5)."""
    return math.sqrt(4.0 * coulomb_coupling(rs) / math.pi)


def lindhard_g(x):
    """Static Lindhard function G(x), x = q / 2k_F: G(0) = 1, G(1) = 1/2, G ~ 1/(3x^2) for large x."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = x < 1e-6
    one = np.abs(x - 1.0) < 1e-12
    regular = ~(small | one)
    xr = x[regular]
    out[regular] = 0.5 + (1.0 - xr**2) / (4.0 * xr) * np.log(np.abs((1.0 + xr) / (1.0 - xr)))
    out[small] = 1.0 - x[small] ** 2 / 3.0
    out[one] = 0.5
    return out


def screened_coulomb_q(q, valence: float, coupling: float, q_screen: float, screening: str):
    """Screened ion V(q) = -4 pi Z e^2 / (q^2 eps(q)) (Das Eq. 1), energies in hbar^2 k_F^2/m."""
    q = np.asarray(q, dtype=float)
    if screening == "thomas_fermi":
        denominator = q**2 + q_screen**2
    else:
        denominator = q**2 + q_screen**2 * lindhard_g(q / 2.0)
    return -4.0 * math.pi * valence * coupling / denominator


@lru_cache(maxsize=8)
def _lindhard_difference(q_screen: float, dq: float = 0.002, n: int = 100_000):
    """r and r [V_Lindhard(r) - V_TF(r)] / (-Z e^2) on the DST-I grid r_k = pi k / (n dq).

    V(r) = (1 / 2 pi^2 r) int_0^inf q sin(qr) V(q) dq; the Thomas–Fermi part is
    done in closed form (Z e^2 e^{-q_TF r}/r), the remainder, which decays as
    q^-4 with a logarithmic kink at q = 2 k_F (the Friedel oscillations), by a
    sine transform on a uniform q grid up to q = n dq.
    """
    q = dq * np.arange(1, n)
    g = lindhard_g(q / 2.0)
    # dV(q) / (-4 pi Z e^2) = 1/(q^2 + s^2 G) - 1/(q^2 + s^2)
    s2 = q_screen**2
    delta = s2 * (1.0 - g) / ((q**2 + s2 * g) * (q**2 + s2))
    transform = 0.5 * dq * dst(q * delta, type=1)  # sum_n q_n delta_n sin(q_n r_k) dq
    r = math.pi * np.arange(1, n) / (n * dq)
    # V_diff(r) = (1/(2 pi^2 r)) * (-4 pi Z e^2) * transform  -> r V_diff / (-Z e^2) = (2/pi) transform
    return r, (2.0 / math.pi) * transform


def screened_coulomb_r(r, valence: float, coupling: float, q_screen: float, screening: str):
    """Screened ion V(r) in real space (reduced units), attractive for Z > 0."""
    r = np.asarray(r, dtype=float)
    with np.errstate(divide="ignore"):
        tf = -valence * coupling * np.exp(-q_screen * r) / r
    if screening == "thomas_fermi":
        return tf
    spline = _lindhard_spline(float(q_screen))
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = -valence * coupling * spline(r) / r
    return tf + diff


@lru_cache(maxsize=8)
def _lindhard_spline(q_screen: float):
    """Cubic spline of r [V_Lindhard - V_TF](r) / (-Z e^2) for r < 1000 (it vanishes at r = 0)."""
    from scipy.interpolate import CubicSpline

    grid_r, r_vdiff = _lindhard_difference(q_screen)
    mask = grid_r < 1000.0
    return CubicSpline(np.concatenate([[0.0], grid_r[mask]]), np.concatenate([[0.0], r_vdiff[mask]]))


# ---------------------------------------------------------------- variable phase method


@lru_cache(maxsize=8)
def _riccati_tables(l_max: int, r_max: float, step: float):
    """jhat_l, nhat_l (k = 1) at r = i step/2, i = 0..2n; nhat clipped where it overflows."""
    n_steps = int(round(r_max / step))
    r = 0.5 * step * np.arange(2 * n_steps + 1)
    ls = np.arange(l_max + 1)[:, None]
    x = np.maximum(r[None, :], 1e-300)
    with np.errstate(over="ignore", invalid="ignore"):
        jhat = x * spherical_jn(ls, x)
        nhat = x * spherical_yn(ls, x)
    jhat[:, 0] = 0.0
    nhat = np.nan_to_num(nhat, nan=-1e250, neginf=-1e250, posinf=1e250)
    nhat = np.clip(nhat, -1e250, 1e250)
    return r, np.ascontiguousarray(jhat), np.ascontiguousarray(nhat)


@jit()
def _vpm_rk4(u_half, jhat, nhat, step):
    """RK4 of Calogero's phase equation (k = 1) for every l; u_half = U(r) on the half-step grid."""
    n_l = jhat.shape[0]
    n_steps = (u_half.shape[0] - 1) // 2
    delta = np.zeros(n_l)
    for l in range(n_l):
        d = 0.0
        for i in range(n_steps):
            a = 2 * i
            # stage values; at r = 0 the product U jhat^2 vanishes (jhat ~ r^(l+1))
            k1 = 0.0
            if a > 0:
                w = jhat[l, a] * math.cos(d) - nhat[l, a] * math.sin(d)
                k1 = -u_half[a] * w * w
            d2 = d + 0.5 * step * k1
            w = jhat[l, a + 1] * math.cos(d2) - nhat[l, a + 1] * math.sin(d2)
            k2 = -u_half[a + 1] * w * w
            d3 = d + 0.5 * step * k2
            w = jhat[l, a + 1] * math.cos(d3) - nhat[l, a + 1] * math.sin(d3)
            k3 = -u_half[a + 1] * w * w
            d4 = d + step * k3
            w = jhat[l, a + 2] * math.cos(d4) - nhat[l, a + 2] * math.sin(d4)
            k4 = -u_half[a + 2] * w * w
            d = d + step * (k1 + 2.0 * k2 + 2.0 * k3 + k4) / 6.0
        delta[l] = d
    return delta


@lru_cache(maxsize=4)
def _tail_tables(l_max: int, r_start: float, r_end: float, step: float):
    """jhat_l, nhat_l on the tail grid and trapezoid weights with a cos^2 taper over the last 20 %."""
    r = np.arange(r_start, r_end + 0.5 * step, step)
    ls = np.arange(l_max + 1)[:, None]
    jhat = r * spherical_jn(ls, r)
    nhat = r * spherical_yn(ls, r)
    weights = np.full(r.size, step)
    weights[0] = weights[-1] = 0.5 * step
    taper_start = r_start + 0.8 * (r_end - r_start)
    x = np.clip((r - taper_start) / (r_end - taper_start), 0.0, 1.0)
    weights *= np.cos(0.5 * math.pi * x) ** 2
    return r, jhat, nhat, weights


def variable_phase_shifts(
    potential, *, l_max: int = 40, r_max: float = 60.0, step: float = 0.004, tail: float = 900.0
) -> np.ndarray:
    """Phase shifts delta_l (k = k_F = 1) of a potential V(r) by the variable phase method.

    ``potential(r)`` returns V in hbar^2 k_F^2 / m for an array of r (r = 0
    excluded: the value there is never used).  RK4 up to ``r_max``; the weak
    tail from r_max to ``tail`` (the Friedel oscillations of a Lindhard-screened
    ion decay only as cos(2 k_F r)/r^3) is added to first order,
    -(1/k) int U (jhat cos delta - nhat sin delta)^2 dr, with a smooth taper.
    Returns delta_0..delta_L with trailing |delta_l| < PHASE_TOLERANCE dropped.
    """
    r, jhat, nhat = _riccati_tables(int(l_max), float(r_max), float(step))
    u = np.zeros_like(r)
    u[1:] = 2.0 * np.asarray(potential(r[1:]), dtype=float)
    if not np.all(np.isfinite(u[1:])):
        raise ValueError("potential is not finite on the radial grid")
    delta = _vpm_rk4(u, jhat, nhat, float(step))
    if tail > r_max:
        r_t, j_t, n_t, w_t = _tail_tables(int(l_max), float(r_max), float(tail), 0.02)
        u_t = 2.0 * np.asarray(potential(r_t), dtype=float)
        wave = j_t * np.cos(delta)[:, None] - n_t * np.sin(delta)[:, None]
        delta = delta - (wave**2 * (u_t * w_t)[None, :]).sum(axis=1)
    return trim_phase_shifts(delta)


def trim_phase_shifts(delta) -> np.ndarray:
    delta = np.asarray(delta, dtype=float)
    big = np.nonzero(np.abs(delta) >= PHASE_TOLERANCE)[0]
    if big.size == 0:
        return delta[:1].copy()
    return delta[: big[-1] + 1].copy()


# ---------------------------------------------------------------- closed forms


def _unwrapped_phase(numerator_fn, x_max: float, l: int, n: int = 400) -> float:
    """Continuous phase arg of a smooth complex function along x in (0, x_max]."""
    xs = np.linspace(x_max * 1e-3, x_max, n)
    values = numerator_fn(l, xs)
    phase = np.unwrap(np.angle(values))
    return float(phase[-1])


def hard_sphere_phase_shifts(radius: float, *, l_cap: int = 400) -> np.ndarray:
    """tan delta_l = j_l(kR) / y_l(kR) (impenetrable sphere), k = 1, continuous in kR (delta_0 = -kR)."""
    x = float(radius)
    l_max = int(min(l_cap, x + 12.0 + 4.0 * x ** (1.0 / 3.0) + 10))
    deltas = []
    for l in range(l_max + 1):
        # delta_l = -arg(-y_l + i j_l), continuous along x from x -> 0 where it vanishes
        phase = _unwrapped_phase(lambda l_, xs: spherical_yn(l_, xs) * -1.0 + 1j * spherical_jn(l_, xs), x, l)
        deltas.append(phase)
    deltas = -np.array(deltas)
    return trim_phase_shifts(deltas)


def _square_well_tangent_parts(l: int, radius: float, depth):
    """(num, den) with tan delta_l = num / den for wells of the given depths (k = 1, no poles)."""
    from scipy.special import spherical_in

    depth = np.asarray(depth, dtype=float)
    kin2 = 1.0 + 2.0 * depth
    kin = np.sqrt(np.abs(kin2))
    x = kin * radius
    # regular interior solution u_l(r) ~ r j_l(K r) (or r i_l(kappa r)); g = u value, dg = derivative
    g = np.where(kin2 >= 0, spherical_jn(l, x), spherical_in(l, x))
    dg = np.where(kin2 >= 0, kin * spherical_jn(l, x, derivative=True), kin * spherical_in(l, x, derivative=True))
    j, dj = spherical_jn(l, radius), spherical_jn(l, radius, derivative=True)
    y, dy = spherical_yn(l, radius), spherical_yn(l, radius, derivative=True)
    return g * dj - dg * j, g * dy - dg * y


SQUARE_WELL_MAX_WORK = 1e7
"""Most (partial wave, ramp depth) points :func:`square_well_phase_shifts` may evaluate (about 40 s here)."""

SQUARE_WELL_MAX_KAPPA_R = 600.0
"""Largest kappa R of a repulsive step: its interior solution i_l(kappa r) ~ e^(kappa R) overflows near 710."""


def _square_well_grid(radius: float, depth: float, l_cap: int = 400) -> tuple[int, int]:
    """(highest partial wave, ramp steps) of the continuation in depth: both grow with K R."""
    kin_max = math.sqrt(max(1.0 + 2.0 * depth, 1.0))
    l_max = int(min(l_cap, radius * kin_max + 12.0 + 4.0 * radius ** (1.0 / 3.0) + 10))
    return l_max, int(200 + 40 * radius * kin_max)


def square_well_work(radius: float, depth: float) -> float:
    """Bessel-function points :func:`square_well_phase_shifts` evaluates for this well."""
    l_max, n_ramp = _square_well_grid(float(radius), float(depth))
    return float(l_max + 1) * float(n_ramp + 1)


def square_well_phase_shifts(radius: float, depth: float, *, l_cap: int = 400) -> np.ndarray:
    """Square well V = -depth for r < R (depth > 0 attractive, < 0 a repulsive step), k = 1.

    Matching the interior solution j_l(K r), K^2 = 1 + 2 depth (i_l(kappa r)
    for K^2 < 0) to j_l cos delta - y_l sin delta at R gives
    tan delta_l = [g j_l'(R) - g' j_l(R)] / [g y_l'(R) - g' y_l(R)], g = j_l(KR), g' = K j_l'(KR).
    The branch is fixed by continuity from depth 0 (delta = 0) along a ramp of
    depths, so bound states add multiples of pi (Levinson) exactly as in the
    variable phase method and the Friedel sum counts them.
    """
    x = float(radius)
    depth = float(depth)
    l_max, n_ramp = _square_well_grid(x, depth, l_cap)
    ramp = depth * np.linspace(0.0, 1.0, n_ramp + 1)
    deltas = np.empty(l_max + 1)
    for l in range(l_max + 1):
        num, den = _square_well_tangent_parts(l, x, ramp)
        # 2 delta = arg((den + i num)^2) is continuous in the depth; unwrap it from 0
        two_delta = np.unwrap(2.0 * np.angle(den + 1j * num))
        two_delta -= two_delta[0]
        deltas[l] = 0.5 * two_delta[-1]
    return trim_phase_shifts(deltas)


def friedel_sum(phase_shifts) -> float:
    """Friedel sum (2/pi) sum_l (2l+1) delta_l (electrons displaced, both spins)."""
    d = np.asarray(phase_shifts, dtype=float)
    return float(2.0 / math.pi * np.sum((2 * np.arange(d.size) + 1) * d))


def screened_coulomb_phase_shifts(valence: float, rs: float, screening: str, screening_scale: float = 1.0):
    """Exact (VPM) phase shifts of the screened ion with q_screen = scale * q_TF(r_s)."""
    coupling = coulomb_coupling(rs)
    q_screen = screening_scale * thomas_fermi_wavenumber(rs)
    return variable_phase_shifts(lambda r: screened_coulomb_r(r, valence, coupling, q_screen, screening))


def fit_friedel_screening(valence: float, rs: float, screening: str) -> tuple[float, np.ndarray]:
    """Screening scale s (q_screen = s q_TF) with (2/pi) sum (2l+1) delta_l = Z; raises ValueError if unreachable."""
    scale, deltas = _fit_friedel_cached(float(valence), float(rs), str(screening))
    return scale, deltas.copy()


@lru_cache(maxsize=32)
def _fit_friedel_cached(valence: float, rs: float, screening: str) -> tuple[float, np.ndarray]:

    def residual(scale):
        return friedel_sum(screened_coulomb_phase_shifts(valence, rs, screening, scale)) - valence

    lo, hi = 0.25, 6.0
    f_lo, f_hi = residual(lo), residual(hi)
    if f_lo * f_hi > 0:
        if abs(f_hi + valence) > abs(valence):
            detail = f"even screening at {hi:g} q_TF gives (2/pi) sum (2l+1) delta_l = {f_hi + valence:.6g}"
        else:
            detail = f"even screening at {lo:g} q_TF gives only (2/pi) sum (2l+1) delta_l = {f_lo + valence:.6g}"
        raise ValueError(f"Friedel sum rule cannot be met for Z = {valence:g}: {detail}")
    scale = brentq(residual, lo, hi, xtol=1e-10, rtol=1e-12)
    return scale, screened_coulomb_phase_shifts(valence, rs, screening, scale)
