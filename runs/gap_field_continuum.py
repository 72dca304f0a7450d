"""The Lorentz cavity in a Boltzmann continuum: the density gradient inside impurity-free spheres.

    python -m runs.gap_field_continuum --out DIR [--histories N] [--radius C] [--probe R] [--width W] [--offset X]

The control experiment of the impurity array's gap probes (docs/systems/impurity-array.md):
the same box (length 4 l between reservoirs, specular side walls at |x|, |y| = W/2, the left
reservoir raised by delta-mu = 1), but a uniform isotropic background of mean free path l
instead of explicit impurities, with five spherical voids of radius C (no scattering) on the
line x = X, y = 0 at z = 0, +-L/8, +-L/4.  A ball of radius R < C at each void's centre measures
the gradient by its first moment (15 / (4 pi R^5)) int mu (r - c) dV; the table gives it over
the interior slope of the plane-averaged density.  Prediction (observables.analytic.impurity_array):
the Lorentz 2/3 less the mirror images' missing dipoles, to first order in C / l.

Writes ``gap_field_continuum.csv`` / ``.parquet``: one row per void and their mean, with the
prediction in ``reference``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geometry.model import Geometry, Medium, Reservoir, Specular
from geometry.surfaces import Plane, Sphere, ZPlane
from mc.engine import engine_histories
from mc.model import TransportModel, chunk_histories
from mc.sources import STATES, PlaneEmitter
from observables.analytic import impurity_array as analytic
from observables.tables import write_table_files
from observables.tallies import MOMENT_X, TRACK_LENGTH, Ball, CartesianMesh

MEAN_FREE_PATH = 50.0
BINS = 40
INTERIOR = 0.6
DENSITY_OF_STATES = 1.0 / math.pi**2


def void_model(radius: float, probe: float, width: float, offset: float):
    """The box with its voids and tallies; returns (TransportModel, void centres' z)."""
    length = 4.0 * MEAN_FREE_PATH
    half_l, half_w = 0.5 * length, 0.5 * width
    left, right = ZPlane(-half_l, name="left"), ZPlane(half_l, name="right")
    walls = [Plane((1.0, 0.0, 0.0), -half_w), Plane((1.0, 0.0, 0.0), half_w),
             Plane((0.0, 1.0, 0.0), -half_w), Plane((0.0, 1.0, 0.0), half_w)]
    heights = [-0.25 * length, -0.125 * length, 0.0, 0.125 * length, 0.25 * length]
    spheres = [Sphere(radius, (offset, 0.0, z)) for z in heights]
    metal = +left & -right & +walls[0] & -walls[1] & +walls[2] & -walls[3]
    for sphere in spheres:
        metal = metal & +sphere
    geometry = Geometry()
    geometry.add_cell(metal, Medium(mean_free_path=MEAN_FREE_PATH), name="metal")
    for sphere in spheres:
        geometry.add_cell(-sphere, name="void")
    geometry.add_boundary(left, Reservoir("left"))
    geometry.add_boundary(right, Reservoir("right"))
    for wall in walls:
        geometry.add_boundary(wall, Specular())
    emitter = PlaneEmitter(-half_l, +1, 1.0, STATES, "left", surface=left, half_widths=(half_w, half_w))
    mesh = CartesianMesh((-half_w, -half_w, -half_l), (half_w, half_w, half_l), (1, 1, BINS))
    balls = [Ball((offset, 0.0, z), probe, moments=True) for z in heights]
    model = TransportModel(geometry, [emitter], drain="right", reservoir_excess={"left": 1.0}, balls=balls,
                           cartesian_meshes=[mesh], analog=True)
    return model, heights


def measure(histories: int, radius: float, probe: float, width: float, offset: float, batches: int = 20,
            seed: int = 7) -> pd.DataFrame:
    model, heights = void_model(radius, probe, width, offset)
    compiled, layout = model.compile()
    chunk = chunk_histories(layout.size)
    per_batch = histories // batches
    start = time.perf_counter()
    means = np.array([engine_histories(seed, b * per_batch, per_batch, chunk, compiled).sum(axis=0) / per_batch
                      for b in range(batches)])
    seconds = time.perf_counter() - start
    length = 4.0 * MEAN_FREE_PATH
    occupation = (layout.read(means, "cartesian_mesh_0")[:, 0, 0, :, TRACK_LENGTH]
                  / (width * width * length / BINS * DENSITY_OF_STATES))
    centres = -0.5 * length + (np.arange(BINS) + 0.5) * length / BINS
    inner = np.abs(centres) < 0.5 * INTERIOR * length
    slope = np.array([np.polyfit(centres[inner], row[inner], 1)[0] for row in occupation])
    gradient = (layout.read(means, "balls")[:, :, MOMENT_X + 2] / DENSITY_OF_STATES
                * 15.0 / (4.0 * math.pi * probe**5))  # (batches, voids)
    prediction = float(analytic.mirrored_cavity_factor([[offset, 0.0]], width, radius)[0])

    def ratio_row(values, label, z):
        # ratio of batch means, its error by the delta method over the batches
        g, s = values.mean(), slope.mean()
        linear = values / s - g * slope / s**2
        return {"void": label, "z": z, "value": g / s, "stderr": np.std(linear, ddof=1) / math.sqrt(batches),
                "reference": prediction}

    rows = [ratio_row(gradient[:, k], str(k), z) for k, z in enumerate(heights)]
    rows.append(ratio_row(gradient.mean(axis=1), "mean", np.nan))
    frame = pd.DataFrame(rows)
    return frame.assign(observable="density_gradient", component="ratio", units="1", void_radius=radius,
                        probe_radius=probe, width=width, x=offset, mean_free_path=MEAN_FREE_PATH,
                        interior_slope=slope.mean(), histories=per_batch * batches, batches=batches,
                        seconds=seconds)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--histories", type=int, default=40_000_000)
    parser.add_argument("--radius", type=float, default=4.13, help="void radius C (1/k_F)")
    parser.add_argument("--probe", type=float, default=4.0, help="probe ball radius R < C")
    parser.add_argument("--width", type=float, default=20.0)
    parser.add_argument("--offset", type=float, default=0.0, help="the voids' x")
    args = parser.parse_args(argv)
    if not 0.0 < args.probe < args.radius:
        parser.error(f"--probe must lie in (0, --radius = {args.radius:g}), got {args.probe:g}")
    if abs(args.offset) + args.radius >= 0.5 * args.width:
        parser.error(f"the voids (radius {args.radius:g} at x = {args.offset:g}) must fit inside the half-width "
                     f"{0.5 * args.width:g}")
    frame = measure(args.histories, args.radius, args.probe, args.width, args.offset)
    args.out.mkdir(parents=True, exist_ok=True)
    written = write_table_files(frame, args.out, stem="gap_field_continuum")
    mean = frame[frame.void == "mean"].iloc[0]
    print(f"C = {args.radius:g}, R = {args.probe:g}, W = {args.width:g}, x = {args.offset:g}, C/l = "
          f"{args.radius / MEAN_FREE_PATH:.3f}: gradient / interior slope = {mean.value:.4f} +- {mean.stderr:.4f} "
          f"(2/3 less the images: {mean.reference:.4f}), {mean.seconds:.0f} s")
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
