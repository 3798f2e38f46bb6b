"""A ground state's ``metadata.json``, checked before anything trusts it.

The metadata is written once by the ground-state stage; a reader checks it against itself and
against the data before use, so that an edited, truncated or foreign file is refused in one
line (:class:`~nqsgen.errors.StorageError`) instead of giving a silently wrong result:

* **types and ranges** of the keys readers rely on (``n_sites``, ``n_up``, ``dimension``,
  ``energy``, ``j1``/``j2``, ``shards`` with ``file``, ``row_start``, ``rows``, ``sha256``;
  for a symmetric state ``n_representatives``, ``group``, ``sector``);
* **consistency**: ``dimension`` = C(N, N/2) (the Sz = 0 sector), the shards' rows add up to
  the stored rows (K, or the representatives), a symmetric state has no more
  representatives than K and one character per group element;
* **the data** (:func:`check_states`): the first and last stored state of every shard is
  where the basis says (full basis) or is its own orbit's representative, ascending across
  shards (symmetric basis);
* **the energy** (:meth:`nqsgen.storage.GroundState.check_eigenstate`, given the cluster):
  the local energy (Hψ)(s)/ψ(s) on states drawn from |ψ|² equals the stored E0.
"""

from __future__ import annotations

import math
import re
from math import comb

from nqsgen.errors import StorageError

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _require(meta: dict, key: str, kinds, where: str):
    if key not in meta:
        raise StorageError(f"{where} lacks the key '{key}'")
    value = meta[key]
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise StorageError(f"{where}: '{key}' is {value!r}, not a {_names(kinds)}")
    return value


def _names(kinds) -> str:
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join({int: "integer", float: "number", str: "string", list: "list",
                        dict: "mapping"}[k] for k in kinds)


def check_metadata(meta, where: str, symmetric: bool) -> None:
    """Refuse metadata whose keys a reader needs are missing, mistyped or inconsistent."""
    if not isinstance(meta, dict):
        raise StorageError(f"{where} is not a JSON mapping")
    n = _require(meta, "n_sites", int, where)
    if not 2 <= n <= 64 or n % 2:
        raise StorageError(f"{where}: n_sites = {n} is not an even number in [2, 64]")
    n_up = meta.get("n_up", n // 2)
    if n_up != n // 2:
        raise StorageError(f"{where}: n_up = {n_up!r}, the ground states are in Sz = 0 "
                           f"(n_up = {n // 2})")
    dimension = _require(meta, "dimension", int, where)
    if dimension != comb(n, n // 2):
        raise StorageError(f"{where}: dimension = {dimension:,} is not C({n}, {n // 2}) = "
                           f"{comb(n, n // 2):,}")
    energy = _require(meta, "energy", (int, float), where)
    for key in ("j1", "j2"):
        if key in meta:
            _require(meta, key, (int, float), where)
    if not math.isfinite(energy):
        raise StorageError(f"{where}: energy = {energy!r} is not finite")
    stored = dimension
    if symmetric:
        stored = _require(meta, "n_representatives", int, where)
        if not 1 <= stored <= dimension:
            raise StorageError(f"{where}: n_representatives = {stored:,} is not in "
                               f"[1, dimension = {dimension:,}]")
        _require(meta, "group", dict, where)
        sector = _require(meta, "sector", dict, where)
        _require(sector, "characters", list, f"{where} (sector)")
    _check_shards(_require(meta, "shards", list, where), stored, where)


def _check_shards(shards: list, stored: int, where: str) -> None:
    total = 0
    for k, shard in enumerate(shards):
        at = f"{where} (shard {k})"
        if not isinstance(shard, dict):
            raise StorageError(f"{at} is not a mapping")
        name = _require(shard, "file", str, at)
        if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".parquet"):
            raise StorageError(f"{at}: file {name!r} is not a shard name (part-*.parquet in the "
                               "ground-state directory)")
        row_start = _require(shard, "row_start", int, at)
        rows = _require(shard, "rows", int, at)
        if row_start != total or rows < 0:
            raise StorageError(f"{at}: rows {row_start}..{row_start + rows} do not continue "
                               f"at row {total}")
        if not _HEX64.match(_require(shard, "sha256", str, at)):
            raise StorageError(f"{at}: sha256 is not a 64-digit hex digest")
        total += rows
    if total != stored:
        raise StorageError(f"{where}: the shards hold {total:,} rows, the metadata says "
                           f"{stored:,}")


def check_states(state) -> None:
    """The first and last stored state of every shard are what the basis says (full basis),
    or representatives of their orbits in ascending order (symmetric basis)."""
    import numpy as np
    import pyarrow.parquet as pq

    previous = None
    for shard in state.metadata["shards"]:
        if shard["rows"] == 0:
            continue
        file = pq.ParquetFile(state.path / shard["file"])
        first = file.read_row_group(0, columns=["state"]).column(0)[0].as_py()
        last = file.read_row_group(file.num_row_groups - 1, columns=["state"]).column(0)[-1]
        ends = np.array([first, last.as_py()], dtype=np.uint64)
        if not state.stored_states_are_valid(ends, shard, previous):
            raise StorageError(f"shard {state.path / shard['file']} does not hold the states "
                               f"the metadata describes (first {ends[0]}, last {ends[1]})")
        previous = int(ends[1])
