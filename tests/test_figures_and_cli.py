"""The discoverable command line (version, list, schema, plot) and the figures every case draws."""

import matplotlib
import pytest

import mc
from mc.cli import main
from mc.schema import LISTINGS, schema_kinds

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

EXAMPLE_FIGURES = {
    "point_contact_ballistic.toml": {"axis_profiles", "validation"},
    "point_contact_diffusive.toml": {"validation"},
    "point_contact_impurity.toml": {"validation"},
    "slab_reservoirs.toml": {"slab_reflection", "validation"},
    "chain_landauer.toml": {"chain_profile", "validation"},
    "bulk_boltzmann.toml": {"validation"},
}


@pytest.mark.parametrize("example", sorted(EXAMPLE_FIGURES))
def test_every_shared_example_draws_its_figures_with_run_plot(example, examples_dir, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(examples_dir / example), "--out", str(out), "--histories", "20000", "--plot",
                 "--quiet"]) == 0
    assert {p.stem for p in out.glob("*.png")} == EXAMPLE_FIGURES[example]


def test_figures_are_matplotlib_figures_and_redrawn_from_a_run_directory(examples_dir, tmp_path):
    case = mc.load_case(examples_dir / "chain_landauer.toml", histories=20_000)
    frame = mc.run(case)
    figures = mc.figures(case, frame)
    assert set(figures) == {"chain_profile", "validation"} and all(isinstance(f, Figure) for f in figures.values())
    out = tmp_path / "run"
    assert main(["run", str(examples_dir / "chain_landauer.toml"), "--out", str(out), "--histories", "20000",
                 "--quiet"]) == 0
    assert not list(out.glob("*.png"))
    assert main(["plot", str(out), "--quiet"]) == 0
    assert {p.stem for p in out.glob("*.png")} == {"chain_profile", "validation"}
    assert main(["plot", str(tmp_path / "nothing")]) == 2


def test_version_list_and_schema(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.startswith("emmc ")
    for what in LISTINGS:
        assert main(["list", what]) == 0
        assert capsys.readouterr().out.strip()
    assert main(["list", "stars"]) == 2
    assert "list: unknown listing 'stars'" in capsys.readouterr().err
    for kind in ("aperture", "constriction", "slab", "chain", "bulk", "density", "wind_force", "reservoir",
                 "hard_sphere", "screened_coulomb", "cluster"):
        assert kind in schema_kinds()
        assert main(["schema", kind]) == 0
        text = capsys.readouterr().out
        assert "default" in text and len(text.splitlines()) > 3
    assert main(["schema", "aperture"]) == 0
    out = capsys.readouterr().out
    assert "radius (float; default required; unit 1/k_F)" in out and "specularity" in out
    assert main(["schema", "unicorn"]) == 2


def test_help_texts_are_plain_and_complete(capsys):
    def help_of(*command):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        return capsys.readouterr().out

    text = help_of()
    assert "``" not in text
    for command in ("run", "sweep", "converge", "reproduce", "scatterer", "plot", "list", "schema"):
        assert command in text
        help_text = help_of(command)
        assert "``" not in help_text
        # every option has its own line of help (argparse prints a bare option when it has none)
        lines = help_text.splitlines()
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith("--") and len(stripped.split("  ")) == 1:
                assert i + 1 < len(lines) and lines[i + 1].startswith(" " * 10), f"{command}: {stripped} has no help"
