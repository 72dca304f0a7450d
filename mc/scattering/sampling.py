"""Exact sampling of outgoing directions from |f(k -> k')|^2 inside numba kernels.

Every scatterer is flattened by :meth:`Scatterer.sampling_table` into ONE
float64 array; the same njit functions serve all of them:

* :func:`sample_outgoing(table, kx, ky, kz, state) -> (kx2, ky2, kz2, state)`
  draws k' with density |f(k, k')|^2 / sigma_tot(k) over the unit sphere;
* :func:`total_cross_section(table, kx, ky, kz)` is sigma_tot(k) in 1/k_F^2
  (a constant for spherical scatterers; the optical theorem
  sigma_tot = (4 pi / k) Im f(k, k) for a cluster).

Table layout (``HEADER`` = 4 entries common to all kinds)::

    [0] kind   (KIND_ISOTROPIC, KIND_SPHERICAL, KIND_CLUSTER)
    [1] sigma_tot (spherical; 0 for a cluster)   [2] sigma_tr   [3] k (= 1)
  spherical, after the header:
    n_l, n_cells, pad, then Re c_l, Im c_l, alpha_l, beta_l (n_l each; f(mu) = sum c_l P_l(mu),
    c_l = (2l+1) a_l, P_{l+1} = alpha_l mu P_l - beta_l P_{l-1}, alpha_l = (2l+1)/(l+1), beta_l = l/(l+1)),
    zero padding to a multiple of RECORD entries, then one RECORD of 8 entries
    per cell i (64 bytes, one cache line when the array is 64-byte aligned):
    threshold_i, mu0 of alias cell, width/threshold_i, width/(1-threshold_i),
    squeeze ratio (lower/upper) and upper bound of cell i, then the same two of its alias
  cluster, after the header:
    n_sites, l_max, site positions (3 n_sites), Re M, Im M (n x n each,
    n = n_sites (l_max+1)^2, row-major), see :mod:`mc.scattering.cluster`.

Spherical sampling is alias + rejection with a squeeze: the cosine mu of the
scattering angle is split into ``n_cells`` equal cells; a cell is chosen by
Walker's alias method with probability proportional to an upper bound of
|f|^2 on it, mu uniformly inside it, and mu is accepted with probability
|f(mu)|^2 / upper.  Most draws are accepted by the cell's lower bound
without evaluating f; otherwise the Legendre sum is evaluated exactly.  The
accepted mu therefore has density exactly |f(mu)|^2 / (sigma_tot/2pi)
(no histogram bias).  The azimuth is uniform (a point in the unit disc by
rejection, no trigonometry).  The cluster is sampled by rejection from the
isotropic density with the bound
|f| <= (1/k) sum_{site, l} sqrt((2l+1)/4pi) ||b_{site, l}||.
"""

from __future__ import annotations

import math

import numpy as np

from geometry.jit import jit
from mc.streams import history_stream, uniform

KIND_ISOTROPIC = 0
KIND_SPHERICAL = 1
KIND_CLUSTER = 2
HEADER = 4
RECORD = 8


# ---------------------------------------------------------------- geometry helpers


@jit()
def _azimuth(state):
    """cos(phi), sin(phi) of a uniform azimuth: a uniform point (x, y) of the unit disc by rejection,
    cos(phi) = (x^2 - y^2)/r^2, sin(phi) = 2xy/r^2 (the doubled angle of a uniform angle is uniform)."""
    while True:
        u1, state = uniform(state)
        u2, state = uniform(state)
        x = 2.0 * u1 - 1.0
        y = 2.0 * u2 - 1.0
        r2 = x * x + y * y
        if r2 <= 1.0 and r2 > 1e-300:
            inv = 1.0 / r2
            return (x * x - y * y) * inv, 2.0 * x * y * inv, state


@jit()
def rotate(kx, ky, kz, mu, cphi, sphi):
    """Unit vector at polar cosine mu and azimuth phi about the unit vector (kx, ky, kz)."""
    s = math.sqrt(max(0.0, 1.0 - mu * mu))
    t2 = 1.0 - kz * kz
    if t2 > 1e-12:
        t = math.sqrt(t2)
        a = s / t
        return (
            mu * kx + a * (kx * kz * cphi - ky * sphi),
            mu * ky + a * (ky * kz * cphi + kx * sphi),
            mu * kz - s * t * cphi,
        )
    sign = 1.0 if kz > 0.0 else -1.0
    return s * cphi, s * sphi, sign * mu


# ---------------------------------------------------------------- spherical: |f(mu)|^2


@jit()
def legendre_intensity(table, n_l, mu):
    """|f(mu)|^2, f = sum_l c_l P_l(mu) with c_l = (2l+1) a_l and the Bonnet factors read from the table."""
    base = HEADER + 3
    c_re = base
    c_im = base + n_l
    alpha = base + 2 * n_l
    beta = base + 3 * n_l
    p_prev = 1.0
    p = mu
    re = table[c_re]
    im = table[c_im]
    if n_l > 1:
        re += table[c_re + 1] * p
        im += table[c_im + 1] * p
    for l in range(1, n_l - 1):
        p_next = table[alpha + l] * mu * p - table[beta + l] * p_prev
        p_prev = p
        p = p_next
        re += table[c_re + l + 1] * p
        im += table[c_im + l + 1] * p
    return re * re + im * im


def records_start(n_l):
    """Index of the first cell record in a spherical table (records start at a multiple of RECORD entries)."""
    start = HEADER + 3 + 4 * n_l
    return start + (-start) % RECORD


records_start_jit = jit(inline="always")(records_start)


@jit()
def intensity_grid(a_re, a_im, mu):
    """|sum_l (2l+1) a_l P_l(mu)|^2 on an array of mu (Bonnet recursion, as :func:`legendre_intensity`)."""
    n_l = a_re.shape[0]
    alpha = np.empty(max(n_l, 1))
    beta = np.empty(max(n_l, 1))
    for l in range(n_l):
        alpha[l] = (2 * l + 1) / (l + 1)
        beta[l] = l / (l + 1)
    c_re = np.empty(n_l)
    c_im = np.empty(n_l)
    for l in range(n_l):
        c_re[l] = (2 * l + 1) * a_re[l]
        c_im[l] = (2 * l + 1) * a_im[l]
    out = np.empty(mu.shape[0])
    for i in range(mu.shape[0]):
        x = mu[i]
        p_prev = 1.0
        p = x
        re = c_re[0]
        im = c_im[0]
        if n_l > 1:
            re += c_re[1] * p
            im += c_im[1] * p
        for l in range(1, n_l - 1):
            p_next = alpha[l] * x * p - beta[l] * p_prev
            p_prev = p
            p = p_next
            re += c_re[l + 1] * p
            im += c_im[l + 1] * p
        out[i] = re * re + im * im
    return out


@jit()
def _sample_mu(table, state):
    n_l = int(table[HEADER])
    n_cells = int(table[HEADER + 1])
    rec = records_start_jit(n_l)
    width = 2.0 / n_cells
    while True:
        u, state = uniform(state)
        x = u * n_cells
        i = int(x)
        if i >= n_cells:
            i = n_cells - 1
        frac = x - i
        r = rec + RECORD * i
        threshold = table[r]
        # both candidates are computed so that the choice compiles to selects, not a branch
        own = frac < threshold
        mu_own = -1.0 + i * width + frac * table[r + 2]
        mu_alias = table[r + 1] + (frac - threshold) * table[r + 3]
        mu = mu_own if own else mu_alias
        ratio = table[r + 4] if own else table[r + 6]
        upper = table[r + 5] if own else table[r + 7]
        if mu > 1.0:
            mu = 1.0
        v, state = uniform(state)
        if v <= ratio:
            return mu, state
        if v * upper <= legendre_intensity(table, n_l, mu):
            return mu, state


# ---------------------------------------------------------------- cluster: f(k, k')


@jit()
def spherical_harmonics(x, y, z, l_max, out):
    """Complex Y_lm(r_hat) (Condon–Shortley phase, as scipy.special.sph_harm_y) into out[l^2+l+m]."""
    xy = complex(x, y)
    ymm = 1.0 / math.sqrt(4.0 * math.pi) + 0j
    for m in range(l_max + 1):
        if m > 0:
            ymm = -math.sqrt((2.0 * m + 1.0) / (2.0 * m)) * xy * ymm
        out[m * m + 2 * m] = ymm
        if m < l_max:
            y1 = math.sqrt(2.0 * m + 3.0) * z * ymm
            out[(m + 1) * (m + 1) + (m + 1) + m] = y1
            y0 = ymm
            for l in range(m + 2, l_max + 1):
                a = math.sqrt((4.0 * l * l - 1.0) / (l * l - m * m))
                b = math.sqrt(((l - 1.0) ** 2 - m * m) / (4.0 * (l - 1.0) ** 2 - 1.0))
                y2 = a * (z * y1 - b * y0)
                out[l * l + l + m] = y2
                y0 = y1
                y1 = y2
    for l in range(1, l_max + 1):
        for m in range(1, l + 1):
            v = out[l * l + l + m]
            sign = -1.0 if m % 2 else 1.0
            out[l * l + l - m] = sign * v.conjugate()


@jit()
def cluster_incoming(table, kx, ky, kz):
    """b = M . in(k): outgoing-wave coefficients of every site for incident direction k."""
    n_sites = int(table[HEADER])
    l_max = int(table[HEADER + 1])
    n_lm = (l_max + 1) * (l_max + 1)
    n = n_sites * n_lm
    k = table[3]
    pos = HEADER + 2
    m_re = pos + 3 * n_sites
    m_im = m_re + n * n
    ylm = np.empty(n_lm, dtype=np.complex128)
    spherical_harmonics(kx, ky, kz, l_max, ylm)
    vec = np.empty(n, dtype=np.complex128)
    for s in range(n_sites):
        phase = k * (kx * table[pos + 3 * s] + ky * table[pos + 3 * s + 1] + kz * table[pos + 3 * s + 2])
        e = complex(math.cos(phase), math.sin(phase))
        for l in range(l_max + 1):
            il = (1j) ** l
            for m in range(-l, l + 1):
                idx = l * l + l + m
                vec[s * n_lm + idx] = 4.0 * math.pi * il * ylm[idx].conjugate() * e
    b = np.empty(n, dtype=np.complex128)
    for r in range(n):
        acc = 0j
        for c in range(n):
            acc += complex(table[m_re + r * n + c], table[m_im + r * n + c]) * vec[c]
        b[r] = acc
    return b


@jit()
def cluster_amplitude_from(table, b, qx, qy, qz, ylm):
    """f(k, k') = (1/k) sum_{site,L} e^{-i k k'.R} (-i)^(l+1) Y_L(k') b_{site,L}."""
    n_sites = int(table[HEADER])
    l_max = int(table[HEADER + 1])
    n_lm = (l_max + 1) * (l_max + 1)
    k = table[3]
    pos = HEADER + 2
    spherical_harmonics(qx, qy, qz, l_max, ylm)
    total = 0j
    for s in range(n_sites):
        phase = -k * (qx * table[pos + 3 * s] + qy * table[pos + 3 * s + 1] + qz * table[pos + 3 * s + 2])
        e = complex(math.cos(phase), math.sin(phase))
        acc = 0j
        for l in range(l_max + 1):
            fac = (-1j) ** (l + 1)
            part = 0j
            for m in range(-l, l + 1):
                idx = l * l + l + m
                part += ylm[idx] * b[s * n_lm + idx]
            acc += fac * part
        total += e * acc
    return total / k


@jit()
def cluster_bound(table, b):
    """Upper bound of |f(k, k')| over k' (Cauchy–Schwarz per (site, l) with the addition theorem)."""
    n_sites = int(table[HEADER])
    l_max = int(table[HEADER + 1])
    n_lm = (l_max + 1) * (l_max + 1)
    total = 0.0
    for s in range(n_sites):
        for l in range(l_max + 1):
            norm2 = 0.0
            for m in range(-l, l + 1):
                v = b[s * n_lm + l * l + l + m]
                norm2 += v.real * v.real + v.imag * v.imag
            total += math.sqrt((2 * l + 1) / (4.0 * math.pi) * norm2)
    return total / table[3]


@jit()
def cluster_amplitude(table, kx, ky, kz, qx, qy, qz):
    """Complex f(k -> k') of a cluster table, unit vectors in (reduced units, 1/k_F)."""
    b = cluster_incoming(table, kx, ky, kz)
    l_max = int(table[HEADER + 1])
    ylm = np.empty((l_max + 1) * (l_max + 1), dtype=np.complex128)
    return cluster_amplitude_from(table, b, qx, qy, qz, ylm)


# ---------------------------------------------------------------- the public kernels


@jit()
def total_cross_section(table, kx, ky, kz, clusters=True):
    """sigma_tot(k) in 1/k_F^2; for a cluster (4 pi / k) Im f(k, k) (optical theorem, SPEC §3).

    ``clusters`` = None (here and in :func:`sample_outgoing`, :func:`scattering_intensity`)
    promises that the table is not a cluster's: numba then prunes the cluster branch before
    type inference, and a kernel that only meets spherical scatterers does not compile it."""
    if clusters is not None:
        if int(table[0]) == KIND_CLUSTER:
            f = cluster_amplitude(table, kx, ky, kz, kx, ky, kz)
            return 4.0 * math.pi / table[3] * f.imag
    return table[1]


@jit()
def _sample_cluster(table, kx, ky, kz, state):
    """Cluster: rejection from the isotropic density under the bound of :func:`cluster_bound`."""
    b = cluster_incoming(table, kx, ky, kz)
    bound = cluster_bound(table, b)
    bound2 = bound * bound
    l_max = int(table[HEADER + 1])
    ylm = np.empty((l_max + 1) * (l_max + 1), dtype=np.complex128)
    while True:
        u, state = uniform(state)
        mu = 2.0 * u - 1.0
        cphi, sphi, state = _azimuth(state)
        s = math.sqrt(max(0.0, 1.0 - mu * mu))
        qx = s * cphi
        qy = s * sphi
        qz = mu
        f = cluster_amplitude_from(table, b, qx, qy, qz, ylm)
        v, state = uniform(state)
        if v * bound2 <= f.real * f.real + f.imag * f.imag:
            return qx, qy, qz, state


@jit()
def scattering_intensity(table, kx, ky, kz, qx, qy, qz, clusters=True):
    """|f(k -> q)|^2 in 1/k_F^2 for any scatterer table (unit vectors in; ``clusters``: see
    :func:`total_cross_section`)."""
    kind = int(table[0])
    if kind == KIND_ISOTROPIC:
        return table[1] / (4.0 * math.pi)
    if clusters is not None:
        if kind == KIND_CLUSTER:
            f = cluster_amplitude(table, kx, ky, kz, qx, qy, qz)
            return f.real * f.real + f.imag * f.imag
    return legendre_intensity(table, int(table[HEADER]), kx * qx + ky * qy + kz * qz)


@jit()
def sample_outgoing(table, kx, ky, kz, state, clusters=True):
    """Outgoing unit vector drawn from |f(k -> k')|^2 / sigma_tot(k); returns (kx2, ky2, kz2, state)
    (``clusters``: see :func:`total_cross_section`)."""
    kind = int(table[0])
    if clusters is not None:
        if kind == KIND_CLUSTER:
            return _sample_cluster(table, kx, ky, kz, state)
    if kind == KIND_ISOTROPIC:
        u, state = uniform(state)
        mu = 2.0 * u - 1.0
    else:
        mu, state = _sample_mu(table, state)
    cphi, sphi, state = _azimuth(state)
    qx, qy, qz = rotate(kx, ky, kz, mu, cphi, sphi)
    return qx, qy, qz, state


@jit()
def cluster_amplitudes(table, k_in, k_out):
    """f(k_in[i] -> k_out[i]) for arrays of unit vectors of shape (N, 3)."""
    n = k_in.shape[0]
    out = np.empty(n, dtype=np.complex128)
    l_max = int(table[HEADER + 1])
    ylm = np.empty((l_max + 1) * (l_max + 1), dtype=np.complex128)
    last = np.empty(3)
    last[:] = np.nan
    b = cluster_incoming(table, 0.0, 0.0, 1.0)
    for i in range(n):
        if not (k_in[i, 0] == last[0] and k_in[i, 1] == last[1] and k_in[i, 2] == last[2]):
            b = cluster_incoming(table, k_in[i, 0], k_in[i, 1], k_in[i, 2])
            last[:] = k_in[i]
        out[i] = cluster_amplitude_from(table, b, k_out[i, 0], k_out[i, 1], k_out[i, 2], ylm)
    return out


def pack_tables(tables) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate several sampling tables: (flat, offsets); table j is flat[offsets[j]:offsets[j+1]].

    Inside a kernel, ``sample_outgoing(flat[offsets[j]:offsets[j + 1]], ...)``
    uses a view (no copy), so any number of scatterers can be passed as two arrays.
    """
    tables = [np.asarray(t, dtype=np.float64) for t in tables]
    offsets = np.zeros(len(tables) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([t.size for t in tables])
    flat = np.concatenate(tables) if tables else np.zeros(0)
    return flat, offsets


# ---------------------------------------------------------------- table construction helpers


@jit()
def alias_table(weights):
    """Walker/Vose alias table: (threshold, alias) so that cell i is drawn with probability w_i / sum w."""
    n = weights.shape[0]
    total = weights.sum()
    scaled = weights * (n / total)
    threshold = np.ones(n)
    alias = np.arange(n).astype(np.float64)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        threshold[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    while nl > 0:
        nl -= 1
        threshold[large[nl]] = 1.0
    while ns > 0:
        ns -= 1
        threshold[small[ns]] = 1.0
    return threshold, alias


@jit()
def sample_moments(table, kx, ky, kz, seed, count):
    """Sum over ``count`` draws of (k'x, k'y, k'z, mu, mu^2), mu = k.k' (one stream per 2048 draws)."""
    sums = np.zeros(5)
    n_streams = (count + 2047) // 2048
    for s in range(n_streams):
        state = history_stream(seed, s)
        stop = min(count, (s + 1) * 2048)
        for _ in range(s * 2048, stop):
            qx, qy, qz, state = sample_outgoing(table, kx, ky, kz, state)
            mu = kx * qx + ky * qy + kz * qz
            sums[0] += qx
            sums[1] += qy
            sums[2] += qz
            sums[3] += mu
            sums[4] += mu * mu
    return sums
