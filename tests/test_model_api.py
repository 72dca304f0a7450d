"""The Python model API (mc.build): objects -> the same case, rules and messages as TOML; README snippets run."""

import re
import tomllib
from pathlib import Path

import pytest

import mc
from mc.build import Barrier, Geometry, Impurity, Model, Scatterer, Source, Tally

ROOT = Path(__file__).resolve().parents[1]


def case_files(examples_dir):
    return sorted(examples_dir.glob("*.toml")) + sorted((ROOT / "runs").glob("*.toml"))


def test_every_shipped_case_round_trips_through_objects_and_toml(examples_dir, tmp_path):
    files = case_files(examples_dir)
    assert len(files) >= 15
    for path in files:
        data = tomllib.loads(path.read_text())
        model = Model.from_toml(path)
        assert model.to_dict() == data, path.name
        written = model.to_toml(tmp_path / path.name)
        assert Model.from_toml(written) == model
        # validated alike: the parser sees the same dict as from the file
        assert model.validate().data == mc.load_case(path).data, path.name


def test_a_case_built_from_objects_is_the_shipped_example(examples_dir):
    model = Model("slab-between-reservoirs", seed=11, histories=1_000_000, batches=20,
                  geometry=Geometry("slab", thickness=2.0, barrier=Barrier("rectangular", height=0.3)),
                  source=Source("reservoirs", distribution="ballistic"),
                  tallies=[Tally("potential_drop"), Tally("current"), Tally("wind_force")])
    assert model.to_dict() == tomllib.loads((examples_dir / "slab_reservoirs.toml").read_text())
    assert isinstance(Model.from_dict(model.to_dict()).geometry.keys["barrier"], Barrier)


def test_objects_are_refused_with_the_toml_message(tmp_path):
    model = Model("bad", geometry=Geometry("aperture", radius=10.0), source=Source("aperture"),
                  impurities=[Impurity([0.0, 0.0, 5.0], Scatterer("isotropic", cross_section=-1.0))],
                  tallies=[Tally("wind_force")])
    with pytest.raises(mc.ConfigError) as from_objects:
        model.validate()
    with pytest.raises(mc.ConfigError) as from_toml:
        mc.load_case(model.to_toml(tmp_path / "bad.toml"))
    assert str(from_objects.value) == str(from_toml.value)
    assert "cross_section" in str(from_objects.value)
    misspelt = Model("typo", geometry=Geometry("aperture", radius=10.0, raduis=2.0), tallies=[Tally("current")])
    with pytest.raises(mc.ConfigError, match="geometry.raduis"):
        misspelt.validate()


def test_a_model_runs_like_its_toml(tmp_path):
    model = Model("run", seed=5, histories=4_000, geometry=Geometry("aperture", radius=5.0),
                  source=Source("aperture"), tallies=[Tally("density", probes=[[0.0, 0.0, 3.0]])])
    from_objects = model.run(threads=1)
    from_file = mc.run(mc.load_case(model.to_toml(tmp_path / "run.toml")), threads=1)
    assert from_objects[["value", "stderr"]].equals(from_file[["value", "stderr"]])


def test_every_readme_snippet_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(ROOT)
    for block in blocks:
        # files a snippet writes go to a temporary folder, paths it reads resolve from the repository root
        code = re.sub(r'"([\w.-]+\.toml)"(?=\))', lambda m: repr(str(tmp_path / m.group(1))), block) \
            if "to_toml" in block else block
        exec(compile(code, "README.md", "exec"), {})


def test_estimates_with_few_events_are_flagged_in_the_table_and_on_stderr(tmp_path, capsys):
    # a probe 4 a beyond the hole with 2 000 histories sees a few tens of tracks; one at the hole sees many
    model = Model("few", seed=3, histories=2_000, geometry=Geometry("aperture", radius=2.0), source=Source("aperture"),
                  tallies=[Tally("density", probes=[[0.0, 0.0, 1.0], [0.0, 0.0, 8.0]], probe_radius=1.0)])
    from mc.cli import main

    assert main(["run", str(model.to_toml(tmp_path / "few.toml")), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    err = capsys.readouterr().err
    table = mc.run(model.validate())
    density = table[table.observable == "density"].set_index("z")
    near, far = density.loc[1.0], density.loc[8.0]
    assert (near.value / near.stderr) ** 2 > 100 and near.flag == ""
    assert (far.value / far.stderr) ** 2 < 100 and far.flag == "few_events"
    assert "warning:" in err and "estimates with fewer than ~100 effective events (flag = few_events: density)" in err
    written = __import__("pandas").read_csv(tmp_path / "out" / "results.csv", keep_default_na=False)
    assert set(written.flag) == {"", "few_events"}
