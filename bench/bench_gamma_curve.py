"""Time of the full Gamma(K) curve (issue 11: target <= 20 minutes on 2 cores).

    python bench/bench_gamma_curve.py [--out DIR] [--histories-scale S]

Runs ``runs.gamma_curve`` in full mode (17 K values for each of two screens,
the reservoir checks, K = inf, the two necks) and reports the wall time, the
time per estimator and the worst relative error of the curve's points against
the 1 % target.  Compilation is included when the numba cache is cold.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from runs import gamma_curve  # noqa: E402

TARGET_SECONDS = 20 * 60
TARGET_REL_ERR = 0.01


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--histories-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="gamma-curve-"))
    start = time.perf_counter()
    gamma_curve.main(["--out", str(out), "--histories-scale", str(args.histories_scale)])
    wall = time.perf_counter() - start
    table = pd.read_csv(out / "gamma_curve.csv", keep_default_na=False, na_values=[""])
    timing = pd.read_csv(out / "gamma_curve_timing.csv")
    rows = gamma_curve.curve(table)
    rel = rows.stderr / rows.value.abs()
    print(f"\nfull curve: {wall:.0f} s wall (target <= {TARGET_SECONDS} s: {'met' if wall <= TARGET_SECONDS else 'MISSED'})")
    print(f"points: {len(rows)}; worst stderr/Gamma {rel.max():.2%} (target {TARGET_REL_ERR:.0%}: "
          f"{'met' if rel.max() <= TARGET_REL_ERR else 'MISSED'}), median {rel.median():.2%}")
    per_case = timing.groupby("case")["seconds"].first()
    print(f"simulation seconds summed over the {len(per_case)} runs: {per_case.sum():.0f}; slowest: "
          f"{per_case.idxmax()} {per_case.max():.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
