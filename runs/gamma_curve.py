"""Gamma(K) of the point contact from Sharvin to Maxwell: R = R_Sharvin + Gamma(K) R_Maxwell, K = l/a.

    python -m runs.gamma_curve --out DIR [--quick] [--histories-scale S]

A hole of radius a = 10/k_F in a thin screen (specular and diffuse), isotropic
elastic background scattering of mean free path l = K a everywhere,
hemispherical reservoirs of radius R_res.  The equivalent source on the hole
is exact at any l (docs/systems/point-contact.md, "Finite mean free path"), so
every history starts where the resistance is made.  Two estimators, chosen by
K before any run (never by their error bars):

* K <= 7: analog, the current counted in the drain; R_res = max(5a, 10 l).
* K > 7: correlated, I(l) = I_Sharvin + b/l with b the exact change G_l C G_0
  of the current against the ballistic contact (mc.engine); R_res = 5 l.
  Its cost per 1 % does not grow with K, where the analog drain count needs
  ~K times more histories.  Both estimates come out of every correlated run;
  where both are precise (7 < K <= 20) their difference is judged against 0.

The reservoirs' truncation: each half-space lacks its diffusive spreading
resistance beyond R_res, rho / (2 pi (R_res + 0.7104 l)) (Milne extrapolation),
added back by mc.point_contact; in Gamma units 2a / (pi (R_res + 0.71 l)), at
most 0.127 (K <= 0.5, R_res = 5a) and 0.011 for K > 7.  The hemisphere is not
an equipotential of the diffusive solution at R_res = 5a: the equipotential
oblate spheroids through its pole and its rim give 0.1257 and 0.1282, so the
correction is uncertain by +-0.0013 (0.13 % of Gamma), below the error bars;
the study checks it by repeating K ~ 0.3 and K = 10 with reservoirs twice as
large.  K -> inf: the first-order estimator (``estimator = "first_order"``)
against the quadrature (4 / 3 pi^4 a^3) int Omega0^2 dV = 0.7205 of the
derivation, for both walls.  The constriction of length L (L/a = 1, 5) gets
Gamma_L(K) = (R - R_ballistic) / R_Maxwell with R_ballistic = R_Sharvin / W
(Clausing's W for diffuse walls, W = 1 for specular ones) and the same
Maxwell normalisation rho / 2a.

Writes ``gamma_curve.csv`` / ``.parquet`` (the mc.run tables of every point,
SPEC §6 columns plus ``knudsen``, ``wall``, ``length_over_radius``,
``reservoir_radius``, ``chosen`` (the estimate the curve uses) and
``seconds``) and ``gamma_curve.png``.

Small K (specular screen): the analog walk needs (R_res/l)^2 collisions and
its current is a coin flip of the +-1 electrons, so 1 % costs ~ K^-4 (50 s at
K = 0.1 on 2 cores, about 10^4 times more at K = 0.01).  Below K = 0.1 the
curve uses the Chapman–Enskog estimator (``estimator = "chapman_enskog"``,
mc.chapman_enskog): the occupation n - l k.grad n of the Maxwell solution
carries I_M exactly and only its O(K) correction is simulated, from the
residual source l k.H.k, so the histories for a given error on Gamma do not
grow as K falls (the cost per history still grows as (R_res/l)^2).  Its
reservoirs emit the Chapman–Enskog incoming part, and their correction is
O(K) of the analog one, so R_res = 2a serves (checked against 4a at K =
0.056).  It is checked against the analog estimator at K = 0.1 and 0.3
(reservoirs 5a for both).  The diffuse screen has no small-K points: there
psi_A is not reflected into itself (a diffuse wall re-emits the angular
mean n, not n - l k.grad n), and the missing wall source l k_par.grad_par n
is not built.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import mc  # noqa: E402
from observables.analytic import constriction as neck  # noqa: E402
from observables.analytic import point_contact as closed_form  # noqa: E402
from observables.tables import write_table_files  # noqa: E402

RADIUS = 10.0
CORRELATED_ABOVE = 7.0
"""K above which the curve uses the correlated estimator (chosen by K, not by error bars)."""
WEXLER_LIMIT = 9.0 * math.pi**2 / 128.0
FULL_KNUDSEN = tuple(float(k) for k in np.round(np.geomspace(0.1, 1000.0, 17), 6))
QUICK_KNUDSEN = (0.3, 3.0, 30.0, 300.0)
WALLS = ("specular", "diffuse")
NECK_LENGTHS = (1.0, 5.0)
NECK_KNUDSEN = (0.3, 1.0, 3.0, 30.0, 300.0)
RESERVOIR_CHECKS = (0.3, 10.0)
"""K values (the nearest of the grid) repeated with reservoirs twice as large: the truncation bias
against the error bar, in each estimator's regime."""
RESERVOIR_FACTOR = 2.0
SMALL_KNUDSEN = (0.01, 0.0178, 0.0316, 0.056)
"""K below the analog curve, by the Chapman–Enskog estimator (specular screen)."""
CHAPMAN_ENSKOG_RESERVOIR = 2.0
"""R_res / a of the small-K points (the Chapman–Enskog reservoir correction is O(K) of the analog one)."""
CHAPMAN_ENSKOG_RESERVOIR_CHECK = (0.056, 4.0)
"""K and R_res / a of the small-K reservoir check."""
CHAPMAN_ENSKOG_AGAINST_ANALOG = (0.1, 0.3)
"""K where the Chapman–Enskog estimator is run beside the analog curve point, with its reservoirs."""
QUICK_SMALL_KNUDSEN = (0.0316,)
# histories for about 0.8 % on Gamma (measured on 2 cores: analog ~ K^-2 at small K; correlated flat)
_COST_KNUDSEN = np.log([0.1, 0.178, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0])
_COST_HISTORIES = np.log([5.5e5, 3.3e5, 2.0e5, 1.0e5, 8.0e4, 4.0e5, 5.0e5, 6.0e5, 7.5e5])


def histories_for(knudsen: float, scale: float) -> int:
    """Histories for ~0.8 % on Gamma at this K, times ``scale``, in whole batches of 20."""
    n = math.exp(np.interp(math.log(knudsen), _COST_KNUDSEN, _COST_HISTORIES)) * scale
    return int(max(20, 20 * round(n / 20)))


def reservoir_radius(knudsen: float, wall: str = "specular") -> float:
    """R_res: beyond l for the diffusive tail correction (10 l for the analog estimator, whose K <= 7
    points are cheap; 5 l for the correlated one, a quarter of the collisions, where the correction
    2a / (pi (R_res + 0.71 l)) is at most 1.1 % of Gamma), and at least 5 a for a specular screen.
    A diffuse screen has a Knudsen layer wherever the field runs along it, a resistance ~ l a^2/R^2
    beyond R that the tail correction misses (measured at K = 0.32: Gamma(5a) - Gamma(10a, 20a) =
    -0.013 +- 0.008, -0.019 +- 0.006 over three runs): at least 10 a there, 7 a below K = 0.3 where
    10 a would cost four times more and the bias, proportional to K, is ~0.003."""
    multiple = 5.0 if knudsen > CORRELATED_ABOVE else 10.0
    floor = 5.0 if wall == "specular" else (10.0 if knudsen >= 0.3 else 7.0)
    return max(floor * RADIUS, multiple * knudsen * RADIUS)


def chapman_enskog_histories(reservoir_over_radius: float, scale: float) -> int:
    """Histories for ~0.5 % on Gamma (R_res = 2a) or ~0.7 % (R_res >= 4a), times ``scale`` (measured:
    the error per history is ~0.9 (2a) and ~2.3 (5a) in Gamma units, whatever K <= 0.3)."""
    n = (40_000 if reservoir_over_radius <= 2.0 else 60_000) * scale
    return int(max(20, 20 * round(n / 20)))


def estimator_for(knudsen: float, wall: str = "diffuse", length_over_radius: float = 0.0) -> str:
    """Chosen by K before any run; a specular neck keeps the analog one (a ballistic electron that grazes
    its wall would bounce without end)."""
    if length_over_radius > 0.0 and wall == "specular":
        return "analog"
    return "correlated" if knudsen > CORRELATED_ABOVE else "analog"


def point_case(knudsen: float, wall: str, histories: int, seed: int, *, estimator: str | None = None,
               reservoir: float | None = None, length_over_radius: float = 0.0) -> mc.case.Case:
    estimator = estimator or estimator_for(knudsen, wall, length_over_radius)
    geometry = {"kind": "aperture", "radius": RADIUS, "wall": wall}
    if length_over_radius > 0.0:
        geometry = {"kind": "constriction", "radius": RADIUS, "length": length_over_radius * RADIUS,
                    "specularity": 1.0 if wall == "specular" else 0.0}
    name = f"gamma-{wall}-K{knudsen:g}" + (f"-L{length_over_radius:g}a" if length_over_radius else "")
    name += "-chapman-enskog" if estimator == "chapman_enskog" else ""
    return mc.parse_case({
        "name": name + ("" if reservoir is None else f"-R{reservoir:g}"),
        "seed": seed,
        "histories": histories,
        "batches": 20,
        "geometry": geometry,
        "background": {"mean_free_path": knudsen * RADIUS, "estimator": estimator},
        "source": {"kind": "aperture", "reservoir_radius": reservoir or reservoir_radius(knudsen, wall)},
        "tallies": [{"kind": "current"}],
    })


def small_k(run, scale: float, quick: bool, seed: int) -> None:
    """The Chapman–Enskog points below K = 0.1 (R_res = 2a), its reservoir check (4a), and the same
    estimator beside the analog points K = 0.1, 0.3 with their reservoirs (5a)."""
    points = [(k, CHAPMAN_ENSKOG_RESERVOIR, "curve") for k in (QUICK_SMALL_KNUDSEN if quick else SMALL_KNUDSEN)]
    if not quick:
        points.append((CHAPMAN_ENSKOG_RESERVOIR_CHECK[0], CHAPMAN_ENSKOG_RESERVOIR_CHECK[1], "reservoir"))
    against = CHAPMAN_ENSKOG_AGAINST_ANALOG[1:] if quick else CHAPMAN_ENSKOG_AGAINST_ANALOG
    grid = QUICK_KNUDSEN if quick else FULL_KNUDSEN
    # the analog curve's own K (the nearest grid value), so that the two runs pair up in checks()
    against = [min(grid, key=lambda value: abs(math.log(value / k))) for k in against]
    points += [(k, reservoir_radius(k) / RADIUS, "against_analog") for k in against]
    for i, (k, reservoir_over_radius, check) in enumerate(points):
        r = reservoir_over_radius * RADIUS
        run(point_case(k, "specular", chapman_enskog_histories(reservoir_over_radius, scale), seed + 1000 + i,
                       estimator="chapman_enskog", reservoir=r),
            wall="specular", length_over_radius=0.0, reservoir_radius=r,
            chosen_estimator="chapman_enskog" if check != "against_analog" else "", check=check)


def neck_gamma_rows(frame: pd.DataFrame, knudsen: float, length_over_radius: float, wall: str) -> pd.DataFrame:
    """Gamma_L = (R + truncation - R_Sharvin / W) / R_Maxwell from a constriction's resistance rows."""
    l = knudsen * RADIUS
    rows = frame[frame.observable == "resistance"].copy()
    reservoir = float(rows["reservoir_radius"].iloc[0]) if "reservoir_radius" in rows else reservoir_radius(knudsen, wall)
    truncation = closed_form.drude_resistivity(l) / (math.pi * (reservoir + 0.7104 * l))
    p = 1.0 if wall == "specular" else 0.0
    ballistic = closed_form.sharvin_resistance(RADIUS) / neck.transmission(length_over_radius, p)
    maxwell = closed_form.maxwell_resistance(RADIUS, l)
    rows["value"] = (rows["value"] + truncation - ballistic) / maxwell
    rows["stderr"] = rows["stderr"] / maxwell
    rows["observable"] = "gamma_wexler"
    rows["reference"] = np.nan
    rows["knudsen"] = knudsen
    rows["reservoir_correction"] = truncation
    return rows


def study(scale: float, quick: bool) -> pd.DataFrame:
    """Every point of the curve, the reservoir checks, the necks and the K -> inf limit."""
    knudsen_values = QUICK_KNUDSEN if quick else FULL_KNUDSEN
    walls = ("specular",) if quick else WALLS
    frames = []
    seed = 400

    def run(case, **columns):
        nonlocal seed
        start = time.perf_counter()
        frame = mc.run(case)
        seconds = time.perf_counter() - start
        frames.append(frame.assign(seconds=seconds, **columns))
        seed += 1
        print(f"  {case.name}: {case.settings.histories:,} histories, {seconds:.0f} s", flush=True)
        return frames[-1]

    for wall in walls:
        for k in knudsen_values:
            run(point_case(k, wall, histories_for(k, scale), seed), wall=wall, length_over_radius=0.0,
                reservoir_radius=reservoir_radius(k, wall), chosen_estimator=estimator_for(k), check="curve")
        for wanted in (RESERVOIR_CHECKS[:1] if quick else RESERVOIR_CHECKS):
            k = min(knudsen_values, key=lambda value: abs(math.log(value / wanted)))
            r = RESERVOIR_FACTOR * reservoir_radius(k, wall)
            run(point_case(k, wall, histories_for(k, scale), seed, reservoir=r), wall=wall, length_over_radius=0.0,
                reservoir_radius=r, chosen_estimator=estimator_for(k), check="reservoir")
        # K -> inf: the first-order estimator (flights ballistic; the reservoirs need only be >> a)
        run(point_case(1e6, wall, histories_for(1000.0, scale), seed, estimator="first_order", reservoir=50 * RADIUS),
            wall=wall, length_over_radius=0.0, reservoir_radius=50 * RADIUS, chosen_estimator="first_order",
            check="limit")
        if wall == "specular":
            small_k(run, scale, quick, seed)
    if not quick:
        for length in NECK_LENGTHS:
            for wall in WALLS:
                for k in NECK_KNUDSEN:
                    if estimator_for(k, wall, length) == "analog" and k > 30.0:
                        continue  # the analog error bar grows as K: a specular neck stops at K = 30
                    frame = run(point_case(k, wall, histories_for(k, scale), seed, length_over_radius=length),
                                wall=wall, length_over_radius=length, reservoir_radius=reservoir_radius(k, wall),
                                chosen_estimator=estimator_for(k, wall, length), check="neck")
                    frames[-1] = pd.concat([frame, neck_gamma_rows(frame, k, length, wall)], ignore_index=True)
    table = pd.concat(frames, ignore_index=True)
    gamma = table.observable == "gamma_wexler"
    estimator = table["estimator"].fillna("").replace("", "analog")
    table["estimator"] = table["estimator"].fillna("")
    table["chosen"] = gamma & (estimator == table["chosen_estimator"])
    return table.drop(columns="chosen_estimator")


def curve(table: pd.DataFrame) -> pd.DataFrame:
    """The chosen Gamma estimate of every point: knudsen, wall, length_over_radius, check, value, stderr."""
    rows = table[table.chosen.astype(bool)]
    columns = ["knudsen", "wall", "length_over_radius", "reservoir_radius", "check", "value", "stderr", "estimator",
               "histories", "seconds"]
    return rows[[c for c in columns if c in rows]].reset_index(drop=True)


def checks(out: Path):
    """For the verdict of ``emmc reproduce``: Gamma(inf) of the first-order estimator against the
    quadrature of the derivation (both walls), the analog against the correlated estimate where
    both are precise (reference 0 for their difference; the two come from the same histories and
    are positively correlated, so the summed error bar makes the test conservative), and the
    reservoir checks (the same K with reservoirs twice as large, reference 0 for the difference;
    for the Chapman–Enskog points 2a against 4a), and the Chapman–Enskog estimator against the
    analog curve point at K = 0.1 and 0.3 (independent runs, same reservoirs).

    The runs' own first-order rows carry the quadrature as their reference already; these rows
    are derived, independent of each other, and judged as one group."""
    from observables.verdict import Checks

    table = pd.read_csv(Path(out) / "gamma_curve.csv", keep_default_na=False, na_values=[""])
    gamma = table[(table.observable == "gamma_wexler") & (table.length_over_radius == 0.0)]
    records = []
    for (case, wall, k), group in gamma.groupby(["case", "wall", "knudsen"]):
        by = {(e if isinstance(e, str) and e else "analog"): r for e, r in zip(group.estimator, group.itertuples())}
        if "analog" in by and "correlated" in by and k <= 20.0:
            a, c = by["analog"], by["correlated"]
            records.append(("analog - correlated", f"{wall}, K = {k:g}", a.value - c.value, math.hypot(a.stderr, c.stderr)))
    curve_rows = curve(table)
    for (wall, k), group in curve_rows[curve_rows.length_over_radius == 0.0].groupby(["wall", "knudsen"]):
        if set(group.check) >= {"curve", "reservoir"}:
            base, bigger = group[group.check == "curve"].iloc[0], group[group.check == "reservoir"].iloc[0]
            what = f"R_res = {base.reservoir_radius / RADIUS:g}a - {bigger.reservoir_radius / RADIUS:g}a"
            records.append((what, f"{wall}, K = {k:g}" + (", chapman_enskog" if base.estimator == "chapman_enskog"
                                                           else ""),
                            base.value - bigger.value, math.hypot(base.stderr, bigger.stderr)))
    # the Chapman-Enskog estimator beside the analog curve point (same K, same reservoirs)
    beside = gamma[gamma.check == "against_analog"]
    for row in beside.itertuples():
        analog = curve_rows[(curve_rows.check == "curve") & (curve_rows.wall == row.wall)
                            & (curve_rows.knudsen == row.knudsen) & (curve_rows.length_over_radius == 0.0)]
        if len(analog):
            a = analog.iloc[0]
            records.append(("analog - chapman_enskog", f"{row.wall}, K = {row.knudsen:g}", a.value - row.value,
                            math.hypot(a.stderr, row.stderr)))
    frame = pd.DataFrame(records, columns=["what", "component", "value", "stderr"])
    key = ("gamma_curve", "Gamma(K): estimators and reservoirs agree", "gamma_wexler differences")
    rows = pd.DataFrame({
        "source": key[0], "equation": key[1], "observable": key[2],
        "component": frame.what + ": " + frame.component, "x": np.nan, "y": np.nan, "z": np.nan,
        "value": frame.value, "stderr": frame.stderr, "reference": 0.0, "dof": 19.0,
    })
    return Checks(rows, independent={key})


def draw(table: pd.DataFrame, out: Path) -> Path:
    rows = curve(table)
    limit = closed_form.gamma_wexler_limit()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    markers = {0.0: "o", 1.0: "s", 5.0: "^"}
    colours = {"specular": "C0", "diffuse": "C3"}
    infinity_x = 3000.0
    for (length, wall), sel in rows[rows.check.isin(["curve", "neck"])].groupby(["length_over_radius", "wall"]):
        sel = sel.sort_values("knudsen")
        label = f"{wall} screen" if length == 0.0 else f"neck L = {length:g}a, {wall}"
        kwargs = dict(fmt=markers.get(length, "o") + ("-" if length == 0.0 else ":"), color=colours[wall],
                      capsize=2, ms=4, lw=0.8, mfc="none" if length else colours[wall])
        top.errorbar(sel.knudsen, sel.value, 2 * sel.stderr, label=label + " (±2σ)", **kwargs)
        if length == 0.0:
            bottom.plot(sel.knudsen, 100 * sel.stderr / sel.value, markers[0.0], color=colours[wall], ms=4)
    for wall, sel in rows[rows.check == "reservoir"].groupby("wall"):
        top.errorbar(sel.knudsen * 1.08, sel.value, 2 * sel.stderr, fmt="x", color=colours[wall], capsize=2,
                     label=f"{wall}, larger reservoirs (x2; Chapman–Enskog 4a for 2a)")
    small = rows[(rows.check == "curve") & (rows.estimator == "chapman_enskog")]
    if len(small):
        top.errorbar(small.knudsen, small.value, 2 * small.stderr, fmt="v", color="C2", capsize=2, ms=5,
                     label="specular, Chapman–Enskog estimator (R_res = 2a)")
    beside = table[(table.observable == "gamma_wexler") & (table.check == "against_analog")]
    if len(beside):
        top.errorbar(beside.knudsen * 0.92, beside.value, 2 * beside.stderr, fmt="v", color="C2", mfc="none",
                     capsize=2, ms=5, label="Chapman–Enskog beside the analog (R_res = 5a)")
    for wall, sel in rows[rows.check == "limit"].groupby("wall"):
        top.errorbar([infinity_x], sel.value, 2 * sel.stderr, fmt="D", color=colours[wall], capsize=2,
                     label=f"{wall}, first order (K = inf)")
    top.axhline(1.0, color="grey", lw=0.8, ls="--", label="interpolation Gamma = 1 (R_Sharvin + R_Maxwell)")
    top.axhline(limit, color="k", lw=0.8, label=f"first-order integral, Gamma(inf) = {limit:.4f}")
    top.axhline(WEXLER_LIMIT, color="k", lw=0.8, ls=":", label=f"Wexler 9 pi^2/128 = {WEXLER_LIMIT:.4f}")
    top.axvline(CORRELATED_ABOVE, color="grey", lw=0.5, ls=":")
    top.text(CORRELATED_ABOVE * 1.1, 0.98, "correlated estimator ->", fontsize=7, color="grey", va="top")
    top.set_xscale("log")
    top.set_ylabel("Gamma(K) = (R - R_ballistic) / R_Maxwell")
    top.set_title(f"R = R_Sharvin + Gamma(K) R_Maxwell, hole a = {RADIUS:g}/k_F (necks: R_Sharvin/W)")
    top.legend(fontsize=7, loc="upper right")
    bottom.axhline(1.0, color="grey", lw=0.5, ls="--")
    bottom.set_ylabel("stderr / Gamma (%)")
    bottom.set_xlabel("K = l / a   (diamonds at the right: K = inf)")
    bottom.set_ylim(0.0, max(1.5, float(np.nanmax(100 * rows.stderr / rows.value)) * 1.1))
    path = out / "gamma_curve.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--histories-scale", type=float, default=None,
                        help="multiply every point's histories (default 1, quick 0.15)")
    args = parser.parse_args(argv)
    scale = args.histories_scale or (0.15 if args.quick else 1.0)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    table = study(scale, args.quick)
    written = write_table_files(table, args.out, stem="gamma_curve")
    written.append(draw(table, args.out))
    rows = curve(table)
    print(rows.to_string(index=False))
    print(f"gamma_curve: {len(rows)} points in {time.perf_counter() - start:.0f} s")
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
