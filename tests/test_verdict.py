"""The verdict of emmc reproduce: it passes a correct run and fails when a reference is perturbed."""

import sys
import types

import numpy as np
import pandas as pd
import pytest

import mc
from mc import execution
from mc.cli import main
from observables.verdict import checks_from_run, judge, merge, row_threshold

CASE = {
    "name": "verdict",
    "seed": 5,
    "histories": 40_000,
    "batches": 20,
    "geometry": {"kind": "aperture", "radius": 10.0},
    "source": {"kind": "aperture"},
    "tallies": [{"kind": "current"},
                {"kind": "density", "probes": [[0.0, 0.0, z] for z in (3.0, 6.0, 9.0, 12.0, 15.0, 18.0)]}],
}


@pytest.fixture(scope="module")
def record():
    records = []
    with execution.using(records=records):
        mc.run(mc.parse_case(CASE))
    return records[0]


def _checks(record, shift=None):
    checks = checks_from_run("verdict", record.case.kind, record.frame, record.simulation, record.totals)
    if shift is not None:
        shift(checks.rows)
    return checks


def test_the_row_threshold_accounts_for_many_rows_and_twenty_batch_errors():
    assert row_threshold(19, 1) == pytest.approx(2.861, abs=1e-3)  # t_19 at 1 %, not the normal 2.576
    assert row_threshold(19, 3402) > 6.0 > row_threshold(np.inf, 3402) > 4.5


def test_a_correct_run_passes_row_by_row_and_group_by_group(record):
    verdict = judge(_checks(record))
    assert verdict.passed, verdict.groups
    density = verdict.groups[verdict.groups.observable == "density"].iloc[0]
    assert density.group_test == "batch sign flips" and density.statistical == 6
    assert verdict.n_exact == 2  # the equivalent source's current and resistance are exact


def test_one_reference_off_by_ten_errors_fails_its_row(record):
    def shift(rows):
        first = rows.index[rows.observable == "density"][0]
        rows.loc[first, "reference"] += 10 * rows.loc[first, "stderr"]

    before = judge(_checks(record)).rows
    verdict = judge(_checks(record, shift))
    assert not verdict.passed
    failed = verdict.rows[~verdict.rows.passed.astype(bool)]
    unshifted = before.loc[failed.index[0], "z_score"]
    assert list(failed.observable) == ["density"]
    assert failed.z_score.iloc[0] == pytest.approx(unshifted - 10.0)


def test_a_small_common_bias_fails_its_group_though_every_row_passes(record):
    def shift(rows):
        # every density row 3 errors off its reference: each passes alone (the limit is ~3.96), together they cannot
        density = rows.observable == "density"
        rows.loc[density, "reference"] = rows.loc[density, "value"] - 3.0 * rows.loc[density, "stderr"]

    verdict = judge(_checks(record, shift))
    assert verdict.rows.passed.all() and not verdict.passed
    density = verdict.groups[verdict.groups.observable == "density"].iloc[0]
    assert not density.group_passed and density.group_p < density.group_level


def test_an_exact_row_must_equal_its_reference(record):
    def shift(rows):
        exact = rows.index[rows.stderr == 0][0]
        rows.loc[exact, "reference"] *= 1 + 1e-6

    assert not judge(_checks(record, shift)).passed


def _fake_study(tmp_path):
    """A campaign script of runs/ in miniature: one Monte Carlo run and one derived row."""
    module = types.ModuleType("runs.fake_study")

    def main_(argv):
        out = tmp_path_out(argv)
        out.mkdir(parents=True, exist_ok=True)
        frame = mc.run(mc.parse_case({**CASE, "name": "study-run", "histories": 20_000}))
        value = frame[frame.observable == "density"].iloc[0]
        pd.DataFrame([{"value": value.value, "stderr": value.stderr, "reference": value.reference}]).to_csv(
            out / "derived.csv", index=False)

    def tmp_path_out(argv):
        from pathlib import Path

        return Path(argv[argv.index("--out") + 1])

    def checks(out):
        from observables.verdict import Checks

        row = pd.read_csv(out / "derived.csv").iloc[0]
        return Checks(pd.DataFrame([{"source": "fake_study", "equation": "X", "observable": "derived", "component": "",
                                     "x": np.nan, "y": np.nan, "z": np.nan, "value": row.value, "stderr": row.stderr,
                                     "reference": row.reference, "dof": 19.0}]))

    module.main = main_
    module.checks = checks
    return module


@pytest.fixture
def tiny_campaign(tmp_path, monkeypatch):
    import runs.reproduce as reproduce
    from mc.config import dump_toml

    case = tmp_path / "tiny.toml"
    case.write_text(dump_toml({**CASE, "name": "tiny", "histories": 20_000}))
    monkeypatch.setattr(reproduce, "case_files", lambda: [case])
    monkeypatch.setattr(reproduce, "STUDIES", ("fake_study",))
    monkeypatch.setitem(sys.modules, "runs.fake_study", _fake_study(tmp_path))
    return reproduce


def test_reproduce_writes_report_with_every_study_row_and_exits_0_when_it_passes(tmp_path, tiny_campaign, capsys):
    out = tmp_path / "reproduce"
    assert main(["reproduce", "--out", str(out), "--quiet"]) == 0
    report = (out / "REPORT.md").read_text()
    assert report.startswith("# emmc reproduce: PASS") and "## Criterion" in report and "Šidák" in report
    rows = pd.read_csv(out / "validation_rows.csv", keep_default_na=False, na_values=[""])
    assert {"tiny", "fake_study: study-run", "fake_study"} == set(rows.source)
    assert "| X | derived |" in report
    table = pd.read_parquet(out / "results.parquet")
    assert set(table.study) == {"", "fake_study"} and set(table.case) == {"tiny", "study-run"}
    assert (out / "validation.csv").exists() and (out / "tiny" / "results.csv").exists()


def test_reproduce_exits_1_and_says_fail_when_a_reference_is_perturbed(tmp_path, tiny_campaign, monkeypatch):
    real = tiny_campaign.checks_from_run

    def perturbed(source, kind, frame, simulation=None, totals=None):
        frame = frame.copy()
        density = frame.index[frame.observable == "density"][0]
        frame.loc[density, "reference"] += 20 * frame.loc[density, "stderr"]
        return real(source, kind, frame, simulation, totals)

    monkeypatch.setattr(tiny_campaign, "checks_from_run", perturbed)
    out = tmp_path / "reproduce"
    assert main(["reproduce", "--out", str(out), "--quiet"]) == 1
    report = (out / "REPORT.md").read_text()
    assert report.startswith("# emmc reproduce: FAIL") and "## Failed rows" in report


def test_merge_keeps_each_groups_batch_values_aligned_with_its_rows(record):
    one = _checks(record)
    two = checks_from_run("other", record.case.kind, record.frame, record.simulation, record.totals)
    merged = merge([one, two])
    for key, (values, sizes, index) in merged.batch_values.items():
        rows = merged.rows.loc[index]
        assert (rows.source == key[0]).all() and (rows.observable == key[2]).all()
        assert np.allclose(values.mean(axis=0), rows.value, rtol=1e-9)


def test_a_failing_study_is_reported_its_runs_left_out_and_the_rest_written(tmp_path, tiny_campaign, capsys):
    study = sys.modules["runs.fake_study"]

    def broken(argv):
        mc.run(mc.parse_case({**CASE, "name": "study-run", "histories": 20_000}))
        raise RuntimeError("the study's own table is wrong")

    study.main = broken
    out = tmp_path / "reproduce"
    assert main(["reproduce", "--out", str(out), "--quiet"]) == 1
    assert "emmc: study fake_study failed: RuntimeError: the study's own table is wrong" in capsys.readouterr().err
    report = (out / "REPORT.md").read_text()
    assert report.startswith("# emmc reproduce: FAIL") and "Parts that failed to run" in report
    assert set(pd.read_parquet(out / "results.parquet").case) == {"tiny"} and not (out / "fake_study").exists()
