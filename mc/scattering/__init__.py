"""Scattering library: t-matrix cross sections on the Fermi shell and exact direction sampling (SPEC §3).

Python API::

    from mc.scattering import hard_sphere, sample_outgoing, total_cross_section
    s = hard_sphere(1.5)                             # or a case's table: mc.scatterer_input.parse_scatterer
    s.sigma_tot, s.sigma_tr, s.phase_shifts, s.friedel_sum, s.spherical
    s.differential_cross_section(k_in, k_out); s.dcs(cos_gamma); s.amplitude(k_in, k_out)
    table = s.sampling_table()                      # one float64 array per scatterer
    kx2, ky2, kz2, state = sample_outgoing(table, kx, ky, kz, state)   # inside njit kernels
    sigma = total_cross_section(table, kx, ky, kz)                      # inside njit kernels
    flat, offsets = pack_tables([s1.sampling_table(), s2.sampling_table()])  # many scatterers
    # in a kernel: sample_outgoing(flat[offsets[j]:offsets[j + 1]], kx, ky, kz, state)

Reduced units hbar = m = k_F = 1; cross sections in 1/k_F^2.  The library reads no
configuration: :mod:`mc.scatterer_input` turns a case's scatterer tables into these models.
"""

from mc.scattering.models import (
    MODELS,
    ClusterScatterer,
    Scatterer,
    SphericalScatterer,
    born,
    cluster,
    from_phase_shifts,
    hard_sphere,
    isotropic,
    screened_coulomb,
    square_well,
)
from mc.scattering.sampling import pack_tables, sample_moments, sample_outgoing, scattering_intensity, total_cross_section

__all__ = [
    "MODELS",
    "ClusterScatterer",
    "Scatterer",
    "SphericalScatterer",
    "born",
    "cluster",
    "from_phase_shifts",
    "hard_sphere",
    "isotropic",
    "pack_tables",
    "sample_moments",
    "sample_outgoing",
    "scattering_intensity",
    "screened_coulomb",
    "square_well",
    "total_cross_section",
]
