"""The emmc command line: one entry point for everything a user does.

    emmc run CASE.toml --out DIR [--histories N] [--seed S] [--threads T] [--plot]
    emmc sweep CASE.toml --set KEY=[v1, v2, ...] ... --out DIR
    emmc converge CASE.toml --out DIR
    emmc reproduce --out DIR [--quick]
    emmc plot RUN_DIR
    emmc list geometries|tallies|sources|scatterers|materials|observables|units
    emmc schema KIND

Bad input prints one line "emmc: error: KEY: REASON" and exits with status 2
before any work starts; nothing is written.  Commands that live outside mc
(emmc reproduce, in runs/) register through the "emmc.commands" entry points,
so that mc never imports them.
"""

from __future__ import annotations

import argparse
import math
import sys

from mc.errors import ConfigError

EXIT_BAD_INPUT = 2

EPILOG = """\
output: DIR holds one run: results.csv/.parquet (the same case and seed give the
same bytes), timing.csv (seconds, fom), case.toml, provenance.json, figures.
A DIR holding another run is refused unless --overwrite or --resume.

exit status: 0 success; 1 finished but failed (precision target missed, campaign
point failed, reproduction verdict FAIL); 2 bad input, nothing written;
130 stopped by Ctrl-C, 143 by SIGTERM (finished batches are kept: --resume).
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2)."""

    def error(self, message):
        raise ConfigError("arguments", message)


def _number(text: str) -> int | float:
    """An integer as on the command line or in TOML: ``20000``, ``20_000``, ``2e4`` (checked by the case parser)."""
    cleaned = text.strip().replace("_", "")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        value = float(cleaned)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _whole(key: str, value) -> int | None:
    """A command-line option that is not a case key must itself be a whole number."""
    if value is None:
        return None
    if isinstance(value, float):
        raise ConfigError(key, f"must be an integer, got {value!r}")
    return value


def _add_run_options(parser, *, resume_help: str) -> None:
    parser.add_argument("--out", required=True, help="output directory (one run per directory)")
    parser.add_argument("--overwrite", action="store_true", help="replace the run DIR holds (its files only)")
    parser.add_argument("--resume", action="store_true", help=resume_help)
    parser.add_argument("--threads", type=_number, help="numba threads (results do not depend on it)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the batches on this dask.distributed scheduler (tcp://host:8786)")
    parser.add_argument("--dask-local", type=_number, metavar="N",
                        help="run the batches on a local dask cluster of N worker processes")
    parser.add_argument("--force", action="store_true", help="run even when the cost estimate says it is absurd")
    parser.add_argument("--quiet", action="store_true", help="no progress, no summary")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="emmc", description="emmc: Monte Carlo transport of Fermi-surface electrons and "
                                              "electromigration forces in mesoscopic metals.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"emmc {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate one TOML case and write results.csv / results.parquet",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("config", help="case file (TOML)")
    _add_run_options(run, resume_help="continue the run DIR holds (finished batches are not run again)")
    run.add_argument("--histories", type=_number, help="override the case's number of histories")
    run.add_argument("--seed", type=_number, help="override the case's seed")
    run.add_argument("--batches", type=_number, help="override the case's number of batches")
    run.add_argument("--plot", action="store_true", help="also draw the case's figures as PNG into --out")
    run.add_argument("--material", help="add SI columns (value_si, units_si, x_angstrom, ...) for a free-electron "
                                        "preset: Li, Na, K, Mg, Al, Pb, Cu, Ag, Au")
    run.add_argument("--delta-mu-ev", type=float, default=1e-3,
                     help="the drive in eV for --material: delta-mu, or e E0 tau for bulk-fed cases (default 1e-3)")
    run.add_argument("--target-rel-err", type=float, metavar="R",
                     help="add batches until every named estimate has a relative error <= R (exit 1 if not reached)")
    run.add_argument("--observable", action="append", default=[], metavar="NAME[:COMPONENT]",
                     help="an observable the target applies to (repeatable; default: every estimate)")
    run.add_argument("--max-histories", type=_number, metavar="N", help="the most histories a target may spend")
    run.set_defaults(handler=_cmd_run)

    sweep = sub.add_parser("sweep", help="run a case for every combination of swept key values",
                           epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("config", help="case file (TOML)")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUES", dest="assignments",
                       help="a dotted key and a TOML value or array of values, e.g. geometry.radius=[5.0, 10.0]")
    _add_run_options(sweep, resume_help="continue the sweep DIR holds (finished points and batches are kept)")
    sweep.set_defaults(handler=_cmd_sweep)

    converge = sub.add_parser("converge", help="standard errors against the number of histories, with fitted slopes",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    converge.add_argument("config", help="case file (TOML)")
    converge.add_argument("--histories", type=_number, help="the largest number of histories (default: the case's)")
    converge.add_argument("--steps", type=_number, default=4, help="number of history counts (default 4)")
    converge.add_argument("--factor", type=_number, default=4, help="ratio of successive history counts (default 4)")
    _add_run_options(converge, resume_help="continue the study DIR holds")
    converge.set_defaults(handler=_cmd_converge)

    for command in _plugin_commands():
        command.load()(sub, _add_run_options, _options, EPILOG)

    scatterer = sub.add_parser("scatterer", help="phase shifts and cross sections of one scatterer model")
    scatterer.add_argument("model", help="model name (isotropic, phase_shifts, hard_sphere, square_well, ...)")
    scatterer.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a key of the scatterer table, TOML value (dotted keys for nested tables)",
    )
    scatterer.add_argument("--json", action="store_true", help="print one JSON object")
    scatterer.add_argument("--plot", metavar="FILE.png", help="draw |f(gamma)|^2 into FILE.png")
    scatterer.set_defaults(handler=_cmd_scatterer)

    plot = sub.add_parser("plot", help="draw again every figure of a finished run directory from its saved table")
    plot.add_argument("run_dir", help="a directory written by emmc run (or a campaign: every case inside it)")
    plot.add_argument("--quiet", action="store_true", help="do not list the files written")
    plot.set_defaults(handler=_cmd_plot)

    listing = sub.add_parser("list", help="the names a case may use: geometries, tallies, sources, scatterers, "
                                          "materials, observables, units")
    listing.add_argument("what", help="geometries | tallies | sources | scatterers | materials | observables | units")
    listing.set_defaults(handler=_cmd_list)

    schema = sub.add_parser("schema", help="the keys of one geometry, tally, source or scatterer model, with their "
                                           "types, defaults, units and allowed ranges")
    schema.add_argument("kind", help="e.g. aperture, constriction, slab, chain, bulk, density, wind_force, "
                                     "reservoir, hard_sphere, screened_coulomb (emmc list ... shows them)")
    schema.set_defaults(handler=_cmd_schema)
    return parser


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("emmc")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown (not installed)"


def _plugin_commands():
    """Subcommands other packages register (entry point group "emmc.commands"): each is a function
    (subparsers, add_run_options, options, epilog) that adds its parser."""
    from importlib import metadata

    return sorted(metadata.entry_points(group="emmc.commands"), key=lambda e: e.name)


def _report_written(paths, quiet: bool) -> None:
    if not quiet:
        for path in paths:
            print(f"wrote {path}")


def _options(args):
    from mc.runner import RunOptions

    return RunOptions(out=args.out, overwrite=args.overwrite, resume=args.resume,
                      threads=_whole("--threads", args.threads), scheduler=args.scheduler,
                      dask_local=_whole("--dask-local", args.dask_local), force=args.force, progress=not args.quiet,
                      argv=args.argv)


def _cmd_run(args) -> int:
    from mc.case import load_case
    from mc.runner import run_case
    from mc.targets import parse_target

    options = _options(args)
    case = load_case(args.config, histories=args.histories, seed=args.seed, batches=args.batches)
    if args.material is not None:
        from observables.materials import material

        material(args.material)  # validate before any work
        if not (math.isfinite(args.delta_mu_ev) and args.delta_mu_ev > 0.0):
            raise ConfigError("--delta-mu-ev", f"must be a finite number > 0, got {args.delta_mu_ev}")
    target = parse_target(args.target_rel_err, args.observable, _whole("--max-histories", args.max_histories),
                          case.settings.histories)
    status, written, frame = run_case(case, options, target=target, material=args.material,
                                      delta_mu_ev=args.delta_mu_ev, plot=args.plot)
    if not args.quiet:
        from observables.report import summary_text

        print(summary_text(frame))
    from observables.tables import flag_summary

    for line in flag_summary(frame):
        print(line, file=sys.stderr)
    _report_written(written, args.quiet)
    if status != 0:
        print(f"emmc: the precision target was not reached within {target.max_histories:,} histories "
              f"(see the target column)", file=sys.stderr)
    return status


def _cmd_sweep(args) -> int:
    from mc.campaign import parse_sweep, sweep_command

    options = _options(args)
    parameters = parse_sweep(args.assignments)
    return sweep_command(args.config, parameters, options)


def _cmd_converge(args) -> int:
    from mc.campaign import converge_command

    options = _options(args)
    return converge_command(args.config, options, histories=args.histories, steps=_whole("--steps", args.steps),
                            factor=_whole("--factor", args.factor))


def _cmd_scatterer(args) -> int:
    from mc.scatterer_command import run_scatterer_command

    return run_scatterer_command(args.model, args.set, as_json=args.json, plot=args.plot)


def _cmd_plot(args) -> int:
    from mc.runner import plot_run_directory

    _report_written([p for p in plot_run_directory(args.run_dir) if p.suffix == ".png"], args.quiet)
    return 0


def _cmd_list(args) -> int:
    from mc.schema import listing

    print(listing(args.what))
    return 0


def _cmd_schema(args) -> int:
    from mc.schema import schema_text

    print(schema_text(args.kind))
    return 0


def main(argv: list[str] | None = None) -> int:
    from mc.signals import Interrupted, command_signals

    try:
        with command_signals():
            parser = build_parser()
            args = parser.parse_args(argv)
            args.argv = list(sys.argv[1:] if argv is None else argv)
            return args.handler(args)
    except ConfigError as exc:
        print(f"emmc: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as exc:
        print(f"emmc: {exc}; the finished batches are kept: run the same command with --resume to continue",
              file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # e.g. `emmc run ... | head`
        return 0
    except KeyboardInterrupt:
        print("emmc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
