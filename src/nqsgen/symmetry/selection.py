"""Which symmetries and sectors a ground-state solve uses (``--symmetries``, ``--sectors``).

* ``auto`` symmetries: ``full`` from :data:`AUTO_SYMMETRIES_FROM` sites on (the full Sz = 0
  sector of 30 spins, 1.6·10⁸ states, does not fit a workstation's memory), ``none`` below.
* sectors: ``all`` (every one-dimensional real sector, scanned for the lowest level),
  ``trivial`` (every character +1), or comma-separated labels/indices as printed by
  ``python -m nqsgen.stages.list_sectors``.
"""

from __future__ import annotations

from nqsgen.errors import ConfigError

AUTO_SYMMETRIES_FROM = 30


def resolve_symmetries(requested: str, n_sites: int) -> str:
    """``auto`` → ``full`` from 30 sites on, else ``none``; other values unchanged."""
    if requested == "auto":
        return "full" if n_sites >= AUTO_SYMMETRIES_FROM else "none"
    return requested


def select_sectors(group, spec: str) -> list:
    """The sectors of ``group`` named by ``spec`` (``all``, ``trivial``, or labels/indices)."""
    if spec == "all":
        return list(group.sectors)
    chosen = []
    for item in (x.strip() for x in spec.split(",") if x.strip()):
        chosen.append(group.sector(int(item) if item.isdigit() else item))
    if not chosen:
        raise ConfigError("--sectors is empty")
    return chosen
