"""The documentation carries what the code cites, and its validation page can be regenerated.

(The build itself, ``mkdocs build --strict``, runs in CI after the tests.)
"""

from __future__ import annotations

import importlib.util
import json
import re

from conftest import ROOT

DOCS = ROOT / "docs"


def test_every_spec_section_the_code_cites_has_its_page():
    """Docstrings cite "SPEC §n"; the home page maps each section to the page that carries it."""
    cited = set()
    for folder in ("mc", "geometry", "observables", "runs"):
        for path in (ROOT / folder).rglob("*.py"):
            cited |= set(re.findall(r"SPEC §(\d+)", path.read_text()))
    assert cited, "no SPEC citation found: is the pattern out of date?"
    home = (DOCS / "index.md").read_text()
    mapped = set(re.findall(r"^\| SPEC §(\d+) \|", home, flags=re.M))
    assert cited <= mapped, f"SPEC sections cited by the code but not mapped in docs/index.md: {sorted(cited - mapped)}"


def test_every_page_of_the_navigation_exists():
    nav = re.findall(r":\s*([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), flags=re.M)
    generated = {"configuration.md"}  # written by docs/_hooks/schema_page.py at build time
    assert len(nav) > 20
    missing = [page for page in nav if page not in generated and not (DOCS / page).is_file()]
    assert not missing, f"pages in mkdocs.yml's nav that docs/ lacks: {missing}"


def test_validation_page_is_rebuilt_from_a_reproduction(tmp_path):
    spec = importlib.util.spec_from_file_location("validation_page", DOCS / "_hooks" / "validation_page.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = tmp_path / "results"
    (source / "case-a").mkdir(parents=True)
    (source / "case-a" / "figure.png").write_bytes(b"\x89PNG fake")
    (source / "REPORT.md").write_text("# emmc reproduce: PASS\n\nrows\n\n## Figures\n\n![case-a/figure.png](case-a/figure.png)\n")
    (source / "provenance.json").write_text(json.dumps({"command": "emmc reproduce --quick --out results",
                                                        "git_revision": "abc123", "emmc": "0.1.0"}))
    target = tmp_path / "page"
    (target / "stale").mkdir(parents=True)
    written = module.write_page(source, target)
    page = (target / "index.md").read_text()
    assert page.startswith("# emmc reproduce: PASS\n") and "`abc123`" in page and "![case-a/figure.png]" in page
    assert (target / "case-a" / "figure.png").read_bytes() == b"\x89PNG fake"
    assert not (target / "stale").exists()
    assert len(written) == 2
    committed = (DOCS / "validation" / "index.md").read_text()
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", committed):
        assert (DOCS / "validation" / figure).is_file(), f"the committed report shows a missing figure {figure}"
