"""The ``emmc`` command line: one entry point for everything a user does.

    emmc run CASE.toml --out DIR [--histories N] [--seed S] [--threads T] [--plot]
    emmc sweep CASE.toml --set KEY=[v1, v2, ...] ... --out DIR
    emmc reproduce --out DIR [--quick]

Bad input prints one line ``emmc: error: KEY: REASON`` and exits with status 2
before any work starts; nothing is written.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from mc.errors import ConfigError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2)."""

    def error(self, message):
        raise ConfigError("arguments", message)


def _positive_int(text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="emmc", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="simulate one TOML case and write results.csv / results.parquet")
    run.add_argument("config", help="case file (TOML)")
    run.add_argument("--out", required=True, help="output directory")
    run.add_argument("--histories", type=_positive_int, help="override the case's number of histories")
    run.add_argument("--seed", type=_positive_int, help="override the case's seed")
    run.add_argument("--batches", type=_positive_int, help="override the case's number of batches")
    run.add_argument("--threads", type=_positive_int, help="numba threads (results do not depend on it)")
    run.add_argument("--plot", action="store_true", help="also draw the case's figures as PNG into --out")
    run.add_argument("--material", help="add SI columns (value_si, units_si, x_angstrom, ...) for a free-electron "
                                        "preset: Li, Na, K, Mg, Al, Pb, Cu, Ag, Au")
    run.add_argument("--delta-mu-ev", type=float, default=1e-3,
                     help="the drive in eV for --material: delta-mu, or e E0 tau for bulk-fed cases (default 1e-3)")
    run.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    run.set_defaults(handler=_cmd_run)

    sweep = sub.add_parser("sweep", help="run a case for every combination of swept key values")
    sweep.add_argument("config", help="case file (TOML)")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUES", dest="assignments",
                       help="a dotted key and a TOML value or array of values, e.g. geometry.radius=[5.0, 10.0]")
    sweep.add_argument("--out", required=True, help="output directory")
    sweep.add_argument("--threads", type=_positive_int)
    sweep.add_argument("--quiet", action="store_true")
    sweep.set_defaults(handler=_cmd_sweep)

    reproduce = sub.add_parser("reproduce", help="run the paper-reproduction campaign in runs/")
    reproduce.add_argument("--out", required=True, help="output directory")
    reproduce.add_argument("--quick", action="store_true", help="small histories (about a minute)")
    reproduce.add_argument("--threads", type=_positive_int)
    reproduce.add_argument("--quiet", action="store_true")
    reproduce.set_defaults(handler=_cmd_reproduce)

    scatterer = sub.add_parser("scatterer", help="phase shifts and cross sections of one scatterer model")
    scatterer.add_argument("model", help="model name (isotropic, phase_shifts, hard_sphere, square_well, ...)")
    scatterer.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a key of the scatterer table, TOML value (dotted keys for nested tables)",
    )
    scatterer.add_argument("--json", action="store_true", help="print one JSON object")
    scatterer.add_argument("--plot", metavar="FILE.png", help="draw |f(gamma)|^2 into FILE.png")
    scatterer.set_defaults(handler=_cmd_scatterer)
    return parser


def _report_written(paths, quiet: bool) -> None:
    if not quiet:
        for path in paths:
            print(f"wrote {path}")


def _summary(frame) -> str:
    from observables.report import summary_text

    return summary_text(frame)


def _cmd_run(args) -> int:
    import mc

    case = mc.load_case(args.config, histories=args.histories, seed=args.seed, batches=args.batches)
    if args.material is not None:
        from observables.materials import material

        material(args.material)  # validate before any work
        if not (math.isfinite(args.delta_mu_ev) and args.delta_mu_ev > 0.0):
            raise ConfigError("--delta-mu-ev", f"must be a finite number > 0, got {args.delta_mu_ev}")
    frame = mc.run(case, threads=args.threads, progress=not args.quiet)
    if args.material is not None:
        from observables.materials import to_si

        frame = to_si(frame, args.material, args.delta_mu_ev)
    written = mc.write_results(frame, args.out)
    if args.plot:
        written += mc.plot(case, frame, args.out)
    if not args.quiet:
        print(_summary(frame))
    _report_written(written, args.quiet)
    return 0


def _cmd_sweep(args) -> int:
    import mc
    from mc.campaign import parse_assignment, sweep

    parameters = dict(parse_assignment(text) for text in args.assignments)
    frame = sweep(args.config, parameters, threads=args.threads, progress=not args.quiet)
    _report_written(mc.write_results(frame, args.out), args.quiet)
    return 0


def _cmd_reproduce(args) -> int:
    from runs.reproduce import reproduce

    written = reproduce(Path(args.out), quick=args.quick, threads=args.threads, progress=not args.quiet)
    _report_written(written, args.quiet)
    return 0


def _cmd_scatterer(args) -> int:
    from mc.scattering.report import run_scatterer_command

    return run_scatterer_command(args.model, args.set, as_json=args.json, plot=args.plot)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.handler(args)
    except ConfigError as exc:
        print(f"emmc: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `emmc run ... | head`
        return 0
    except KeyboardInterrupt:
        print("emmc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
