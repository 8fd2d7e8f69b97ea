"""Open a page in real headless chromium (Debian's): its DOM, what it logged to the console, a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync")
# With --enable-logging=stderr, every console message and uncaught error is one `INFO:CONSOLE` line.
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?(?::\d+)?\] (.*)$")


@dataclass(frozen=True)
class Page:
    dom: str
    console: list[str]


def chromium_present() -> bool:
    return Path(CHROMIUM).exists()


def _run(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="edgebuild-chromium-") as profile:
        return subprocess.run([CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=120)


def load(page: Path) -> Page:
    """The DOM after load, and every console line the page produced."""
    finished = _run("--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri())
    console = [match.group(1) for line in finished.stderr.splitlines() if (match := _CONSOLE.search(line))]
    return Page(finished.stdout, console)


def screenshot(page: Path, png: Path, size: str = "1200,3000") -> None:
    _run(f"--screenshot={png}", f"--window-size={size}", page.resolve().as_uri())
