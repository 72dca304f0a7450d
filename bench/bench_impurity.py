"""Impurity estimators near a point contact (issue 4 targets).

    python bench/bench_impurity.py

1. delta R of an isotropic impurity, sigma_tot = 1e-4 pi a^2, on the axis at
   z0 = a: wall time of the next-event estimator to 1 % and the FOM of both
   estimators (SPEC §5: FOM = 1/(rel_err^2 T)).
2. The same for an anisotropic scatterer off the axis, where neither
   estimator is zero-variance.
3. A 40 x 40 (rho, z) map of F_w and delta R: time and worst relative error.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mc  # noqa: E402
from runs.impurity_map import map_case, map_precision  # noqa: E402

A = 10.0


def case(position, scatterer, estimator, histories):
    return mc.parse_case({
        "name": "bench-impurity", "seed": 1, "histories": histories, "batches": 20,
        "geometry": {"kind": "aperture", "radius": A}, "source": {"kind": "aperture"},
        "impurities": [{"position": list(position), "scatterer": scatterer}],
        "tallies": [{"kind": "backscatter_current", "estimator": estimator}, {"kind": "wind_force", "estimator": estimator}],
    })


def measure(position, scatterer, estimator, histories):
    c = case(position, scatterer, estimator, histories)
    mc.run(case(position, scatterer, estimator, 2048))  # compile / load the cache
    start = time.perf_counter()
    frame = mc.run(c, threads=2)
    wall = time.perf_counter() - start
    row = frame[frame.observable == "delta_resistance"].iloc[0]
    rel = row.stderr / abs(row.value)
    return row, rel, wall


def report(title, position, scatterer, next_event_histories, analog_histories):
    print(title)
    for estimator, n in (("next_event", next_event_histories), ("analog", analog_histories)):
        row, rel, wall = measure(position, scatterer, estimator, n)
        z = (row.value - row.reference) / row.stderr if row.stderr > 0 else float("nan")
        fom = float("inf") if rel == 0 else 1.0 / (rel**2 * wall)
        print(f"  {estimator:>10}: {n:>11,} histories, delta R = {row.value:.6g} +- {row.stderr:.2g} "
              f"(ref {row.reference:.6g}, z = {z:+.2f}), rel. error {rel:.2%}, {wall:.2f} s wall, FOM {fom:.3g}")


def main():
    sigma = 1e-4 * math.pi * A**2
    report("isotropic sigma = 1e-4 pi a^2 on the axis at z0 = a", (0.0, 0.0, A),
           {"model": "isotropic", "cross_section": sigma}, 20_000, 20_000_000)
    report("phase shifts [0.6, 0.25, 0.05] off the axis at (6, 0, 8)", (6.0, 0.0, 8.0),
           {"model": "phase_shifts", "phase_shifts": [0.6, 0.25, 0.05]}, 200_000, 20_000_000)
    histories = 120_000
    mc.run(map_case(4, 2048))
    start = time.perf_counter()
    frame = mc.run(map_case(40, histories), threads=2)
    wall = time.perf_counter() - start
    print(f"40 x 40 map + 17 axis points, {histories:,} histories: {wall:.1f} s wall (references included)")
    for label, rel in map_precision(frame).items():
        print(f"  {label}: relative error median {rel.median():.2%}, max {rel.max():.2%}")


if __name__ == "__main__":
    main()
