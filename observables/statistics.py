"""Batch statistics of Monte Carlo estimates (SPEC §5).

A run is split into B batches of (nearly) equal numbers of histories.  The
estimate is the total score over all histories divided by the number of
histories; its standard error is the standard deviation of the B batch means
divided by sqrt(B).  The figure of merit FOM = 1 / (rel_err^2 T), with T the
run time in seconds, compares estimators independently of run length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """Mean and standard error of a (possibly array-valued) estimate."""

    mean: np.ndarray
    stderr: np.ndarray

    def __getitem__(self, index) -> "Estimate":
        return Estimate(np.asarray(self.mean)[index], np.asarray(self.stderr)[index])

    def scaled(self, factor) -> "Estimate":
        return Estimate(self.mean * factor, self.stderr * np.abs(factor))

    def shifted(self, offset) -> "Estimate":
        return Estimate(self.mean + offset, self.stderr)

    def reshape(self, *shape) -> "Estimate":
        return Estimate(np.asarray(self.mean).reshape(*shape), np.asarray(self.stderr).reshape(*shape))

    def reciprocal(self) -> "Estimate":
        """1/x with the first-order (delta-method) error, e.g. a resistance from a current."""
        return Estimate(1.0 / self.mean, self.stderr / np.asarray(self.mean) ** 2)

    def unscored_as_nan(self) -> "Estimate":
        """Mark estimates that no history contributed to (zero mean and stderr) as unknown.

        A tally that nothing reached is not known to be zero: its standard error
        is NaN, never a misleading 0 +- 0.  A non-zero exact estimate keeps stderr 0."""
        stderr = np.asarray(self.stderr, dtype=float)
        return Estimate(self.mean, np.where((stderr == 0.0) & (np.asarray(self.mean) == 0.0), np.nan, stderr))


def batch_estimate(batch_totals: np.ndarray, batch_histories: np.ndarray) -> Estimate:
    """Per-history mean and its standard error from batch totals.

    ``batch_totals`` has shape (B, ...): the summed scores of each batch;
    ``batch_histories`` has shape (B,): how many histories each batch ran.
    """
    totals = np.asarray(batch_totals, dtype=float)
    counts = np.asarray(batch_histories, dtype=float)
    n_batches = totals.shape[0]
    shape = (n_batches,) + (1,) * (totals.ndim - 1)
    batch_means = totals / counts.reshape(shape)
    mean = totals.sum(axis=0) / counts.sum()
    stderr = batch_means.std(axis=0, ddof=1) / np.sqrt(n_batches)
    # a zero-variance estimator (every history scores the same) is exact: what is
    # left of its batch spread is rounding, not statistics
    stderr = np.where(stderr <= 1e-12 * np.abs(mean), 0.0, stderr)
    return Estimate(mean, stderr)


def ratio_estimate(numerator: np.ndarray, denominator: np.ndarray, batch_histories: np.ndarray) -> Estimate:
    """Ratio of two batch-tallied means with its standard error (delta method over batches).

    Used where an observable is a quotient of two tallies scored in the same
    histories (e.g. a resistance 1/I or a force per unit backscattered current),
    so the covariance between numerator and denominator is kept.
    """
    num = batch_estimate(numerator, batch_histories)
    den = batch_estimate(denominator, batch_histories)
    ratio = num.mean / den.mean
    counts = np.asarray(batch_histories, dtype=float)
    n_batches = len(counts)
    shape = (n_batches,) + (1,) * (np.asarray(numerator).ndim - 1)
    num_b = np.asarray(numerator, float) / counts.reshape(shape)
    den_b = np.asarray(denominator, float) / counts.reshape(shape)
    # linearised batch values of the ratio
    linear = (num_b - ratio * den_b) / den.mean
    stderr = linear.std(axis=0, ddof=1) / np.sqrt(n_batches)
    return Estimate(ratio, stderr)


def function_estimate(function, batch_totals: list[np.ndarray], batch_histories: np.ndarray) -> Estimate:
    """f(mean_1, mean_2, ...) of several batch-tallied means with its standard error by the delta
    method over batches (the covariances of quantities scored in the same histories are kept).

    The linearised batch values f'(m) . (x_b - m) are taken as a directional difference
    quotient, so ``function`` may be any smooth numpy expression of its arguments."""
    counts = np.asarray(batch_histories, dtype=float)
    n_batches = len(counts)
    batch_means, means = [], []
    for totals in batch_totals:
        totals = np.asarray(totals, dtype=float)
        shape = (n_batches,) + (1,) * (totals.ndim - 1)
        batch_means.append(totals / counts.reshape(shape))
        means.append(totals.sum(axis=0) / counts.sum())
    value = np.asarray(function(*means), dtype=float)
    step = 1e-6
    linear = np.stack([
        (np.asarray(function(*(m + step * (b[i] - m) for m, b in zip(means, batch_means))), dtype=float) - value) / step
        for i in range(n_batches)
    ])
    return Estimate(value, linear.std(axis=0, ddof=1) / np.sqrt(n_batches))


def relative_error(estimate: Estimate) -> np.ndarray:
    mean = np.asarray(estimate.mean, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean != 0.0, np.abs(np.asarray(estimate.stderr) / mean), np.inf)


def figure_of_merit(estimate: Estimate, seconds: float) -> np.ndarray:
    """FOM = 1 / (rel_err^2 T); infinite for an exact (zero-variance) estimate."""
    rel = relative_error(estimate)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rel > 0.0, 1.0 / (rel**2 * max(seconds, 1e-9)), np.inf)


def z_score(value, stderr, reference) -> np.ndarray:
    """(value - reference) / stderr, the agreement measure of SPEC §5."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.asarray(value, float) - np.asarray(reference, float)) / np.asarray(stderr, float)
