"""The verdict of a reproduction: does every Monte Carlo estimate agree with its reference?

Criterion (written into REPORT.md by :func:`report_markdown`), at a
family-wise false-failure rate ALPHA = 1 % for the whole report:

1. **Exact rows** (stderr 0: closed forms computed two ways, zero-variance
   estimators) pass when |value - reference| <= 1e-9 |reference| + 1e-15.
2. **Each statistical row**: z = (value - reference)/stderr with the stderr
   of B batch means follows Student's t with B - 1 degrees of freedom (not a
   normal law: P(|t_19| > 4) = 7.6e-4, so 4 sigma would fail one report in
   two with ~1,000 rows).  A row fails when its two-sided t p-value is below
   the Šidák level 1 - (1 - ALPHA)^(1/n) for the n statistical rows of the
   report.  Šidák's inequality makes this family-wise bound hold for jointly
   normal statistics whatever their correlation, so rows that share
   histories do not make it lie.
3. **Each group** (one source, equation and observable, with at least two
   statistical rows) catches a bias too small for any single row: the
   statistic X = sum z_i^2.  Its null distribution is taken from the data:
   the batch deviations d_b = (batch value - reference) are independent over
   batches and symmetric under the hypothesis, so flipping the signs of
   whole batches (the same sign for every row of a batch) keeps the
   correlation between rows and the t-like nature of 20-batch errors; the
   p-value is the tail of a scaled chi^2 matched to the mean and variance
   of X over FLIPS random sign patterns.  Derived rows without batch values
   (study tables) are grouped only when their rows are independent, with the
   moments of a sum of t^2 variables; a group fails when p is below the
   Šidák level over the groups.

A reproduction passes when no row and no group fails.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.01
"""Family-wise probability that a correct code fails the report (rows and groups each)."""

FLIPS = 2000
"""Random batch sign patterns per group for the randomisation null distribution."""

EXACT_RTOL, EXACT_ATOL = 1e-9, 1e-15

EQUATIONS = {
    ("aperture", "current"): "48, 54",
    ("aperture", "resistance"): "54",
    ("aperture", "density"): "50",
    ("aperture", "potential"): "51-52",
    ("aperture", "current_density"): "53-54",
    ("aperture", "backscatter_current"): "55-57",
    ("aperture", "delta_resistance"): "58",
    ("aperture", "wind_force"): "61, 63",
    ("aperture", "direct_force"): "59-60",
    ("aperture", "collision_rate"): "sigma_tot flux (SPEC 3)",
    ("constriction", "current"): "48 x W(L/a, p): Clausing, 1 if specular",
    ("constriction", "resistance"): "54 / W(L/a, p): Clausing, 1 if specular",
    ("aperture", "gamma_wexler"): "Gamma(inf) = (4/3 pi^4) int Omega0^2 dV (first order in 1/l)",
    ("bulk", "conductivity_change"): "A2-A5",
    ("bulk", "wind_force"): "A6, A7/26",
    ("bulk", "density_dipole"): "6 (Schaich 7)",
}
"""Sorbello equation (unless named otherwise) that each observable of a system checks, where its rows carry none."""

ROW_COLUMNS = ["source", "equation", "observable", "component", "x", "y", "z", "value", "stderr", "reference", "dof"]


@dataclass
class Checks:
    """Rows to judge: ``rows`` (ROW_COLUMNS), and for some groups the batch values of their rows."""

    rows: pd.DataFrame
    batch_values: dict = field(default_factory=dict)
    """group key (source, equation, observable) -> (values (B, n), batch sizes (B,), row index (n,))"""
    independent: set = field(default_factory=set)
    """group keys whose rows are statistically independent (derived rows without batch values)."""


def equation_of(kind: str, frame: pd.DataFrame) -> pd.Series:
    mapped = frame["observable"].map(lambda o: EQUATIONS.get((kind, o), ""))
    if "equation" in frame:
        given = frame["equation"].astype(object).where(frame["equation"].notna(), "")
        return given.where(given.astype(str) != "", mapped).astype(str)
    return mapped.astype(str)


def _checkable(frame: pd.DataFrame) -> pd.Series:
    reference = frame["reference"].to_numpy(float)
    stderr = frame["stderr"].to_numpy(float)
    return pd.Series(np.isfinite(reference) & np.isfinite(stderr) & (stderr >= 0), index=frame.index)


def checks_from_run(source: str, kind: str, frame: pd.DataFrame, simulation=None, totals=None) -> Checks:
    """The checkable rows of one run's table; with its simulation and batch totals, their batch values too."""
    keep = _checkable(frame)
    rows = frame[keep].copy()
    rows["source"] = source
    rows["equation"] = equation_of(kind, frame)[keep]
    rows["dof"] = float(totals.totals.shape[0] - 1) if totals is not None else float(frame["batches"].iloc[0] - 1)
    rows = rows[ROW_COLUMNS]
    checks = Checks(rows)
    if simulation is not None and totals is not None:
        values = batch_row_values(simulation, totals, len(frame))
        if values is not None:
            statistical = rows.index[rows["stderr"] > 0]
            for key, group in rows.loc[statistical].groupby(["source", "equation", "observable"], sort=False):
                checks.batch_values[key] = (values[:, group.index.to_numpy()], totals.histories.astype(float),
                                            group.index.to_numpy())
    return checks


def batch_row_values(simulation, totals, n_rows: int) -> np.ndarray | None:
    """Every row's value from each batch alone, (B, rows): the table of a run made of that batch twice.

    ``simulation`` and ``totals`` are a system's :class:`mc.batches.Simulation` and the run's batch totals."""
    out = np.empty((totals.totals.shape[0], n_rows))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for b in range(totals.totals.shape[0]):
            single = replace(totals, totals=totals.totals[[b, b]], histories=totals.histories[[b, b]])
            values = simulation.finalize(single).frame()["value"].to_numpy(float)
            if values.shape != (n_rows,):
                return None
            out[b] = values
    return out


def merge(parts: list[Checks]) -> Checks:
    rows = []
    values = {}
    independent = set()
    offset = 0
    for part in parts:
        shifted = part.rows.reset_index(drop=True)
        old_to_new = dict(zip(part.rows.index, shifted.index + offset))
        shifted.index = shifted.index + offset
        rows.append(shifted)
        for key, (v, sizes, index) in part.batch_values.items():
            values[key] = (v, sizes, np.array([old_to_new[i] for i in index]))
        independent |= part.independent
        offset += len(shifted)
    return Checks(pd.concat(rows) if rows else pd.DataFrame(columns=ROW_COLUMNS), values, independent)


def row_threshold(dof: float, n_rows: int) -> float:
    """|z| above which a row fails: the Šidák level over ``n_rows`` rows on Student's t with ``dof``."""
    level = 1.0 - (1.0 - ALPHA) ** (1.0 / max(n_rows, 1))
    return float(stats.norm.isf(level / 2) if not math.isfinite(dof) else stats.t.isf(level / 2, dof))


def _t_moments(dof: np.ndarray) -> tuple[float, float]:
    """Mean and variance of a sum of independent t^2 variables with the given degrees of freedom."""
    mean = np.where(np.isfinite(dof), dof / (dof - 2.0), 1.0)
    var = np.where(np.isfinite(dof), 2.0 * dof**2 * (dof - 1.0) / ((dof - 2.0) ** 2 * (dof - 4.0)), 2.0)
    return float(mean.sum()), float(var.sum())


def sign_flip_moments(values: np.ndarray, sizes: np.ndarray, reference: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """(observed X, mean and variance of X over random batch sign flips) for batch values (B, n)."""
    deviations = values - reference[None, :]
    batches = deviations.shape[0]
    weights = sizes / sizes.sum()

    def statistic(signs: np.ndarray) -> np.ndarray:
        flipped = signs[:, :, None] * deviations[None, :, :]
        mean = np.einsum("b,mbn->mn", weights, flipped)
        stderr = flipped.std(axis=1, ddof=1) / math.sqrt(batches)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nansum((mean / stderr) ** 2, axis=1)

    observed = float(statistic(np.ones((1, batches)))[0])
    rng = np.random.default_rng(seed)
    per_flip = max(1, int(4e7 // max(1, batches * deviations.shape[1])))
    samples = []
    for start in range(0, FLIPS, per_flip):
        signs = rng.choice([-1.0, 1.0], size=(min(per_flip, FLIPS - start), batches))
        samples.append(statistic(signs))
    null = np.concatenate(samples)
    return observed, float(null.mean()), float(null.var(ddof=1))


def scaled_chi2_p(observed: float, mean: float, var: float) -> float:
    """Upper tail of c chi^2_nu with c nu = mean and 2 c^2 nu = var (Satterthwaite)."""
    if not (var > 0 and mean > 0):
        return float("nan")
    scale = var / (2.0 * mean)
    dof = 2.0 * mean**2 / var
    return float(stats.chi2.sf(observed / scale, dof))


@dataclass
class Verdict:
    rows: pd.DataFrame
    groups: pd.DataFrame
    passed: bool
    n_statistical: int
    n_exact: int
    n_groups: int


def judge(checks: Checks) -> Verdict:
    """Apply the criterion of the module docstring to every row and group."""
    rows = checks.rows.copy()
    exact = rows["stderr"] == 0
    statistical = rows["stderr"] > 0
    n_stat = int(statistical.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        rows["z_score"] = np.where(statistical, (rows["value"] - rows["reference"]) / rows["stderr"], np.nan)
    rows["threshold"] = [row_threshold(d, n_stat) if s else np.nan for d, s in zip(rows["dof"], statistical)]
    rows["p_value"] = [
        (2 * (stats.norm.sf(abs(z)) if not math.isfinite(d) else stats.t.sf(abs(z), d))) if s else np.nan
        for z, d, s in zip(rows["z_score"], rows["dof"], statistical)
    ]
    exact_ok = (rows["value"] - rows["reference"]).abs() <= EXACT_RTOL * rows["reference"].abs() + EXACT_ATOL
    rows["passed"] = np.where(exact, exact_ok, rows["z_score"].abs() <= rows["threshold"])
    rows["kind"] = np.where(exact, "exact", "statistical")

    group_rows = []
    keys = ["source", "equation", "observable"]
    for key, group in rows.groupby(keys, sort=False):
        stat = group[group["kind"] == "statistical"]
        entry = dict(zip(keys, key), rows=len(group), statistical=len(stat), chi2=np.nan, chi2_mean=np.nan,
                     group_p=np.nan, group_test="")
        if len(stat) >= 2:
            if key in checks.batch_values:
                values, sizes, index = checks.batch_values[key]
                reference = rows.loc[index, "reference"].to_numpy(float)
                observed, mean, var = sign_flip_moments(values, sizes, reference)
                entry.update(chi2=observed, chi2_mean=mean, group_p=scaled_chi2_p(observed, mean, var),
                             group_test="batch sign flips")
            elif key in checks.independent:
                mean, var = _t_moments(stat["dof"].to_numpy(float))
                observed = float((stat["z_score"] ** 2).sum())
                entry.update(chi2=observed, chi2_mean=mean, group_p=scaled_chi2_p(observed, mean, var),
                             group_test="independent rows")
            else:
                entry["group_test"] = "none (correlated rows, no batch values)"
        worst = group.loc[group["z_score"].abs().idxmax()] if stat.size else group.iloc[0]
        entry.update(worst_value=worst["value"], worst_stderr=worst["stderr"], worst_reference=worst["reference"],
                     worst_z=worst["z_score"], worst_threshold=worst["threshold"],
                     rows_failed=int((~group["passed"].astype(bool)).sum()))
        group_rows.append(entry)
    groups = pd.DataFrame(group_rows)
    tested = groups["group_p"].notna() if not groups.empty else pd.Series(dtype=bool)
    n_groups = int(tested.sum())
    level = 1.0 - (1.0 - ALPHA) ** (1.0 / max(n_groups, 1))
    if not groups.empty:
        groups["group_level"] = np.where(tested, level, np.nan)
        groups["group_passed"] = ~(tested & (groups["group_p"] < level))
        groups["passed"] = groups["group_passed"] & (groups["rows_failed"] == 0)
    passed = bool(rows["passed"].all() and (groups.empty or groups["passed"].all()))
    return Verdict(rows, groups, passed, n_stat, int(exact.sum()), n_groups)


def _fmt(value, spec: str = ".6g") -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def report_markdown(verdict: Verdict, *, title: str, header: list[str], figures: list[str]) -> str:
    """REPORT.md: the verdict, the criterion, one row per equation and observable, the groups, the figures."""
    rows, groups = verdict.rows, verdict.groups
    lines = [f"# {title}: {'PASS' if verdict.passed else 'FAIL'}", ""] + header + [""]
    example = row_threshold(19.0, verdict.n_statistical)
    lines += [
        "## Criterion", "",
        f"- {verdict.n_exact} exact rows (stderr 0) must equal their reference to {EXACT_RTOL:g} relative.",
        f"- {verdict.n_statistical} statistical rows: z = (MC - reference)/stderr is Student-t with B - 1 degrees of "
        f"freedom (B batches). A row fails when its two-sided p-value is below the Šidák level "
        f"1 - (1 - {ALPHA:g})^(1/{verdict.n_statistical}); with 20 batches that is |z| > {example:.2f}. Šidák's "
        "bound holds for correlated rows (shared histories) too.",
        f"- {verdict.n_groups} groups (source x equation x observable, >= 2 statistical rows) test sum z^2 against its "
        "null distribution from random sign flips of whole batches (which keeps the correlation between rows and "
        "the t-like tails of 20-batch errors), through a scaled chi^2 matched to its mean and variance; "
        f"a group fails below the Šidák level over the groups (family-wise {ALPHA:g}).",
        "- The report passes when no row and no group fails.", "",
        "## One row per equation", "",
        "| Eq. | observable | rows | worst row: MC ± stderr | reference | z | \\|z\\| limit | smallest group p | result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    if not groups.empty:
        for (equation, observable), sub in groups.groupby(["equation", "observable"], sort=True):
            worst = sub.loc[sub["worst_z"].abs().fillna(-1).idxmax()]
            p = sub["group_p"].min()
            lines.append(
                f"| {equation or '—'} | {observable} | {int(sub['rows'].sum())} | "
                f"{_fmt(worst['worst_value'])} ± {_fmt(worst['worst_stderr'], '.3g')} | {_fmt(worst['worst_reference'])} | "
                f"{_fmt(worst['worst_z'], '+.2f')} | {_fmt(worst['worst_threshold'], '.2f')} | {_fmt(p, '.3g')} | "
                f"{'pass' if sub['passed'].all() else '**FAIL**'} |")
        lines += ["", "## Groups", "",
                  "| source | Eq. | observable | rows | sum z² | null mean | p | test | rows failed | result |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for _, g in groups.iterrows():
            lines.append(f"| {g['source']} | {g['equation'] or '—'} | {g['observable']} | {g['rows']} | "
                         f"{_fmt(g['chi2'], '.4g')} | {_fmt(g['chi2_mean'], '.4g')} | {_fmt(g['group_p'], '.3g')} | "
                         f"{g['group_test']} | {g['rows_failed']} | {'pass' if g['passed'] else '**FAIL**'} |")
    failed = rows[~rows["passed"].astype(bool)]
    if not failed.empty:
        lines += ["", "## Failed rows", "", "| source | Eq. | observable | comp | x | y | z | MC | stderr | reference | z-score |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for _, r in failed.head(100).iterrows():
            lines.append(f"| {r['source']} | {r['equation']} | {r['observable']} | {r['component']} | {_fmt(r['x'], 'g')} | "
                         f"{_fmt(r['y'], 'g')} | {_fmt(r['z'], 'g')} | {_fmt(r['value'])} | {_fmt(r['stderr'], '.3g')} | "
                         f"{_fmt(r['reference'])} | {_fmt(r['z_score'], '+.2f')} |")
    if figures:
        lines += ["", "## Figures", ""] + [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"
