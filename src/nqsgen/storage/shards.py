"""Shards of a stored ground state: names, checksums and what the metadata says of them."""

from __future__ import annotations

import hashlib
from pathlib import Path

METADATA = "metadata.json"
DEFAULT_SHARD_ROWS = 1 << 22  # 4,194,304 rows ≈ 64 MB per shard


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
