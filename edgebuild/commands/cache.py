"""`edgebuild cache ls|du|prune|clear`: look after the stage cache."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import defaultdict
from pathlib import Path

import click

SECONDS_PER_DAY = 86400.0


def _cache_option(command):
    return click.option("--cache-dir", type=click.Path(path_type=Path), default=None, envvar="EDGEBUILD_CACHE",
                        help="Stage cache (default: the user cache folder).")(command)


def _open(cache_dir: Path | None):
    from edgebuild.base.cache import StageCache, default_cache_root

    return StageCache(cache_dir or default_cache_root())


@click.group("cache")
def group() -> None:
    """The content-addressed stage cache (EDGEBUILD_CACHE)."""


@group.command("ls")
@_cache_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_entries(cache_dir: Path | None, as_json: bool) -> None:
    """One entry per line: key, stage, size, last use."""
    entries = _open(cache_dir).entries()
    if as_json:
        click.echo(json.dumps([{"key": e.key, "stage": e.stage, "size_bytes": e.size_bytes,
                                "last_used": e.last_used} for e in entries], indent=2))
        return
    for entry in sorted(entries, key=lambda e: e.last_used):
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.last_used))
        click.echo(f"{entry.key[:16]}  {entry.stage:<8} {entry.size_bytes:>12} B  last used {used}")


@group.command("du")
@_cache_option
def disk_usage(cache_dir: Path | None) -> None:
    """Bytes per stage and in total."""
    cache = _open(cache_dir)
    per_stage: dict[str, list[int]] = defaultdict(list)
    for entry in cache.entries():
        per_stage[entry.stage].append(entry.size_bytes)
    for stage, sizes in sorted(per_stage.items()):
        click.echo(f"{stage:<8} {len(sizes):>5} entries {sum(sizes):>14} B")
    total = sum(sum(sizes) for sizes in per_stage.values())
    click.echo(f"{'total':<8} {sum(len(s) for s in per_stage.values()):>5} entries {total:>14} B  ({cache.root})")


@group.command("prune")
@_cache_option
@click.option("--older-than", "older_than_days", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Remove entries not used for this many days.")
def prune(cache_dir: Path | None, older_than_days: float) -> None:
    """Remove entries unused for --older-than days, and scratch folders of killed builds."""
    cache = _open(cache_dir)
    cutoff = time.time() - older_than_days * SECONDS_PER_DAY
    old = [e for e in cache.entries() if e.last_used < cutoff]
    # A scratch folder an hour old belongs to a build that died; a live stage renames its own in place.
    stale = [p for p in cache.scratch_folders() if p.stat().st_mtime < time.time() - 3600]
    for path in [e.path for e in old] + stale:
        shutil.rmtree(path, ignore_errors=True)
    click.echo(f"removed {len(old)} entries ({sum(e.size_bytes for e in old)} B) and {len(stale)} scratch folders")


@group.command("clear")
@_cache_option
def clear(cache_dir: Path | None) -> None:
    """Remove the whole cache; the next build retrains everything."""
    cache = _open(cache_dir)
    entries = cache.entries()
    # Only what the cache itself made: a mistyped EDGEBUILD_CACHE must not cost a user their files.
    for child in cache.root.iterdir() if cache.root.is_dir() else ():
        if child.is_dir() and (re.fullmatch(r"[0-9a-f]{2}", child.name) or child.name == "index"):
            shutil.rmtree(child)
    click.echo(f"removed {len(entries)} entries ({sum(e.size_bytes for e in entries)} B) from {cache.root}")
