"""The sha256 of a file, read in blocks so a large model is never held in memory twice."""

from __future__ import annotations

import hashlib


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as opened:
        for block in iter(lambda: opened.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
