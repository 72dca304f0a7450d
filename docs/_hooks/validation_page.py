"""Write the validation page from the output of ``emmc reproduce``.

    emmc reproduce --quick --out results
    python docs/_hooks/validation_page.py results

copies ``results/REPORT.md`` to ``docs/validation/index.md`` (with a note
saying which run made it) and the figures it shows next to it, replacing the
previous report and its figures.  The page is committed: the documentation
build must not run simulations (CI builds the docs in seconds, a quick
reproduction takes minutes and its timings belong to the machine that ran
it), so the page shows the last report someone regenerated and committed,
and says from which revision.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

PAGE_DIR = Path(__file__).resolve().parents[1] / "validation"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


def write_page(source: Path, target: Path = PAGE_DIR) -> list[Path]:
    report = (source / "REPORT.md").read_text()
    provenance = json.loads((source / "provenance.json").read_text())
    figures = IMAGE.findall(report)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    written = []
    for name in figures:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, destination)
        written.append(destination)
    title, _, rest = report.partition("\n")
    note = (
        "!!! note \"Where this page comes from\"\n"
        f"    The `REPORT.md` of `{provenance.get('command', 'emmc reproduce')}` at git revision "
        f"`{provenance.get('git_revision', 'unknown')}` (emmc {provenance.get('emmc', '?')}), started "
        f"{provenance.get('started', '?')} and finished {provenance.get('finished', '?')} ({provenance.get('backend', '?')}; "
        f"numpy {provenance.get('numpy', '?')}, numba {provenance.get('numba', '?')}), copied here with its "
        "figures by `python docs/_hooks/validation_page.py DIR`. The documentation build does not run "
        "simulations: rerun `emmc reproduce --quick --out DIR` and this script to refresh the page. "
        "The criterion is explained in [Statistics and the verdict](../guide/statistics.md#the-verdict-of-emmc-reproduce), "
        "the equations in the [Systems](../systems/point-contact.md) pages.\n"
    )
    (target / "index.md").write_text(f"{title}\n\n{note}{rest}")
    return [target / "index.md"] + written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__.strip().splitlines()[0] + "\nusage: python docs/_hooks/validation_page.py REPRODUCE_OUT_DIR",
              file=sys.stderr)
        return 2
    for path in write_page(Path(args[0])):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
