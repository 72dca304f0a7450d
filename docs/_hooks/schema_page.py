"""MkDocs hook: the configuration reference page, generated from the code at every build.

``configuration.md`` is written from :func:`mc.schema.schema_markdown` (the
registry of every case key, checked against the parsers by
``tests/test_schema.py``), so the reference cannot drift from the code.  The
page exists only in the build, never in ``docs/``.  Importing the parsers
compiles nothing and runs no simulation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
PAGE = "configuration.md"


def on_files(files, config):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the checkout's own mc, also when emmc is installed from elsewhere
    from mc.schema import schema_markdown

    files.append(File.generated(config, PAGE, content=schema_markdown()))
    return files
