"""The unit sphere of directions."""

from __future__ import annotations

import math

import numpy as np


def sphere_quadrature(n_theta: int = 48, phase: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Directions (N, 3) and weights (sum 4 pi) of a Gauss-Legendre (in cos theta) x trapezoid
    (in phi, 2 n_theta points offset by ``phase`` of a step) product rule on the unit sphere."""
    mu, w = np.polynomial.legendre.leggauss(n_theta)
    n_phi = 2 * n_theta
    phi = 2.0 * math.pi * (np.arange(n_phi) + phase) / n_phi
    s = np.sqrt(1.0 - mu**2)
    dirs = np.stack([np.outer(s, np.cos(phi)).ravel(), np.outer(s, np.sin(phi)).ravel(), np.repeat(mu, n_phi)], 1)
    return dirs, np.repeat(w, n_phi) * (2.0 * math.pi / n_phi)
