"""What the repository cites, a reader of the repository can open: no comment points outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("recipes", "device_profiles", "edgebuild", "toolchain", "converters", "verify", "on_device_bench", "tests")
# A relative path with a folder and a file suffix, as comments cite files (`toolchain/cluster.py`); a URL is not one.
CITED_PATH = re.compile(r"(?<![\w./-])((?:[\w-]+/)+[\w.-]+\.(?:md|py|yaml|json|txt))\b")


def _comments(path: Path):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if "#" in line:
            yield number, line[line.index("#"):]


def test_every_file_a_comment_cites_is_in_the_repository():
    missing = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".yaml") or ".venv" in path.parts:
                continue
            for number, comment in _comments(path):
                for cited in CITED_PATH.findall(comment):
                    if not any((base / cited).exists() for base in (ROOT, ROOT / "edgebuild", path.parent)):
                        missing.append(f"{path.relative_to(ROOT)}:{number}: {cited}")
    assert not missing, missing
