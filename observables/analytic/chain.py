"""1D chain between reservoirs: closed forms of Sorbello Eqs. 29-38 and independent references.

Reduced units hbar = m = e = k_F = 1, delta-mu = 1, v_F = 1.  1D both-spin
dn/dE = 2/(pi hbar v_F) = 2/pi and n0 = 2 k_F/pi (text after Eqs. 29 and 38);
the right-moving states of Eq. 28 carry delta-mu (dn/dE)/2 = 1/pi states per length.

Coherent chain (total R, T = 1 - R):
  potential_drop  e(dPhi_L - dPhi_R) = -R                  (Eq. 29)
  current         j_t = T / pi                              (Eq. 30)
  resistivity     rho = (pi / L) R / T       [hbar k_F / e^2] (Eq. 32)
  resistivity_reservoir rho' = (pi / L) / T                 (Eq. 33)
  force_total     F = 2 R / pi = -n0 e L rho J0, J0 = -e j_t (Eqs. 36-38)

The coherent R, T here come from an algorithm independent of
:mod:`mc.transfer_matrix`: single-scatterer S-matrices in closed form
(delta barrier, symmetric square barrier) composed by the Redheffer star
product.  The incoherent (phase-randomised) chain composes probabilities,
(1 - T)/T = sum_i R_i / T_i, and gives the fluxes in every gap in closed form.
"""

from __future__ import annotations

import math

import numpy as np

N0_1D = 2.0 / math.pi
"""1D equilibrium density n0 = 2 k_F / pi (Eq. 38)."""


def delta_smatrix(k: float, strength: float, position: float):
    """(r, t, r', t') of g delta(z - z0), absolute-phase plane waves: beta = -i g/k, t = 1/(1 - beta)."""
    beta = -1j * strength / k
    t = 1.0 / (1.0 - beta)
    phase = np.exp(2j * k * position)
    return beta * t * phase, t, beta * t / phase, t


def square_smatrix(k: float, height: float, width: float, centre: float):
    """(r, t, r', t') of a square barrier of ``height`` and ``width`` centred at ``centre``.

    For a barrier on [-a, a] (Merzbacher, Quantum Mechanics, Ch. 6):
    t = e^{-2ika} / D, r = (i/2)(q/k - k/q) sin(2qa) e^{-2ika} / D,
    D = cos 2qa - (i/2)(q/k + k/q) sin 2qa, q = sqrt(k^2 - 2V) (complex when evanescent).
    """
    q = np.sqrt(complex(k * k - 2.0 * height))
    if q == 0:
        q = complex(1e-300, 0.0)
    w = width
    denom = np.cos(q * w) - 0.5j * (q / k + k / q) * np.sin(q * w)
    t = np.exp(-1j * k * w) / denom
    r0 = 0.5j * (q / k - k / q) * np.sin(q * w) * np.exp(-1j * k * w) / denom
    return r0 * np.exp(2j * k * centre), t, r0 * np.exp(-2j * k * centre), t


def star(s1, s2):
    """Redheffer star product: scatterer s1 on the left of s2 (absolute-phase convention)."""
    r1, t1, rp1, tp1 = s1
    r2, t2, rp2, tp2 = s2
    loop = 1.0 / (1.0 - rp1 * r2)
    return (r1 + tp1 * r2 * t1 * loop, t2 * t1 * loop, rp2 + t2 * rp1 * tp2 * loop, tp1 * tp2 * loop)


def coherent_rt(k: float, scatterers) -> tuple[float, float]:
    """Coherent (R, T) of a chain by S-matrix composition.

    ``scatterers``: list of ("delta", position, strength) or ("square", centre, height, width).
    """
    total = (0j, 1 + 0j, 0j, 1 + 0j)
    for s in scatterers:
        if s[0] == "delta":
            piece = delta_smatrix(k, s[2], s[1])
        else:
            piece = square_smatrix(k, s[2], s[3], s[1])
        total = star(total, piece)
    return float(abs(total[0]) ** 2), float(abs(total[1]) ** 2)


def single_reflection(k: float, scatterer) -> float:
    """R_i of one scatterer alone (closed form)."""
    return coherent_rt(k, [scatterer])[0]


def landauer(R: float, T: float, length: float) -> dict[str, float]:
    """Eqs. 29, 30, 32, 33, 36, 38 from the chain's R and T."""
    j = T / math.pi
    rho = math.pi * R / (length * T)
    return {
        "potential_drop": -R,
        "current": j,
        "resistivity": rho,
        "resistivity_reservoir": math.pi / (length * T),
        "force_total": 2.0 * R / math.pi,
        "force_identity": -N0_1D * length * rho * (-j),  # -n0 e L rho J0, J0 = -e j
        "transmission": T,
        "reflection": R,
    }


def incoherent_chain(reflections) -> dict[str, np.ndarray | float]:
    """Phase-randomised chain: probabilities compose, (1 - T)/T = sum_i R_i / T_i.

    Returns T, R, the right/left-moving fluxes ``plus[j]``, ``minus[j]`` in gap j
    (gap 0 left of impurity 0, gap N right of the last), in units of the incident flux,
    the force on each impurity (1/pi)(plus_{i} + minus_{i} - plus_{i+1} - minus_{i+1})
    = (2/pi) T R_i / T_i, and the gap potentials e dPhi_j = 1/2 - (plus_j + minus_j)/2
    (reservoirs at -1/2 and +1/2).
    """
    reflections = np.asarray(reflections, float)
    ratio = reflections / (1.0 - reflections)
    T = 1.0 / (1.0 + ratio.sum())
    right_sum = np.concatenate([np.cumsum(ratio[::-1])[::-1], [0.0]])  # sum_{i >= j} R_i/T_i
    plus = T * (1.0 + right_sum)
    minus = T * right_sum
    force = 2.0 * T * ratio / math.pi
    return {
        "transmission": T,
        "reflection": 1.0 - T,
        "plus": plus,
        "minus": minus,
        "force": force,
        "potential": 0.5 - (plus + minus) / 2.0,
    }


def coherent_gap_fluxes(k: float, scatterers) -> tuple[np.ndarray, np.ndarray]:
    """|a^+|^2 and |a^-|^2 in every gap of a coherent chain by S-matrix composition (independent of transfer matrices).

    Gap j lies between scatterers j-1 and j (gap 0 on the far left, gap N on the
    far right).  With A the part on the left of the gap and B the part on its
    right, the multiple reflections between them sum to
    a^+ = t_A / (1 - r'_A r_B), a^- = r_B a^+ for unit incidence from the left.
    """
    n = len(scatterers)
    pieces = []
    for s in scatterers:
        pieces.append(delta_smatrix(k, s[2], s[1]) if s[0] == "delta" else square_smatrix(k, s[2], s[3], s[1]))
    identity = (0j, 1 + 0j, 0j, 1 + 0j)
    plus = np.zeros(n + 1)
    minus = np.zeros(n + 1)
    for j in range(n + 1):
        left = identity
        for p in pieces[:j]:
            left = star(left, p)
        right = identity
        for p in pieces[j:]:
            right = star(right, p)
        a_plus = left[1] / (1.0 - left[2] * right[0])
        plus[j] = abs(a_plus) ** 2
        minus[j] = abs(right[0] * a_plus) ** 2
    return plus, minus


def coherent_forces(k: float, scatterers) -> np.ndarray:
    """Wind force on each impurity, Eq. 35 with 1/pi states per length: (1/pi)(|a_L|^2 - |a_R|^2 summed over +-)."""
    plus, minus = coherent_gap_fluxes(k, scatterers)
    density = plus + minus
    return (density[:-1] - density[1:]) / math.pi
