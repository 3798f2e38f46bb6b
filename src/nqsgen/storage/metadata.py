"""A ground state's ``metadata.json`` as one typed record, checked before anything trusts it.

:class:`GroundStateMetadata` is the record: the writer (:func:`nqsgen.storage.write_ground_state`)
validates what it is about to publish with it, and every reader opens ``metadata.json``
through :func:`read_metadata`, so that an edited, truncated or foreign file is refused in one
line (:class:`~nqsgen.errors.StorageError`) instead of giving a silently wrong result:

* **types and ranges** of the keys readers rely on (``n_sites``, ``n_up``, ``dimension``,
  ``energy`` in σ units, ``j1``/``j2``, ``shards`` with ``file``, ``row_start``, ``rows``,
  ``sha256``; for a symmetric state ``n_representatives``, ``group``, ``sector``);
* **consistency**: ``dimension`` = C(N, N/2) (the Sz = 0 sector), the shards' rows add up to
  the stored rows (K, or the representatives), a symmetric state has no more
  representatives than K;
* **the data** (:func:`check_states`): the first and last stored state of every shard is
  where the basis says (full basis) or is its own orbit's representative, ascending across
  shards (symmetric basis);
* **the energy** (:meth:`nqsgen.storage.GroundState.check_eigenstate`, given the cluster):
  the local energy (Hψ)(s)/ψ(s) on states drawn from |ψ|² equals the stored E0.

Keys beyond the record's fields (timings, versions, solver settings, the completeness scan's
``*_all_sectors`` keys, ...) are kept as they are (``extra="allow"``): they are provenance,
which no reader computes with.
"""

from __future__ import annotations

import json
import math
from math import comb
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from nqsgen.errors import StorageError
from nqsgen.storage.shards import METADATA

_Number = StrictInt | float  # strict: a bool or a string is not a number
_HEX64 = r"^[0-9a-f]{64}$"


class Shard(BaseModel):
    """One parquet shard: ``rows`` rows from row ``row_start`` of the stored basis."""

    model_config = ConfigDict(extra="allow", strict=True)

    file: StrictStr
    row_start: StrictInt
    rows: StrictInt
    sha256: Annotated[StrictStr, Field(pattern=_HEX64)]

    @field_validator("file")
    @classmethod
    def _a_shard_name(cls, name: str) -> str:
        if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".parquet"):
            raise ValueError(f"file {name!r} is not a shard name (part-*.parquet in the "
                             "ground-state directory)")
        return name


class GroundStateMetadata(BaseModel):
    """The typed record of ``metadata.json`` (energies in σ units, H = Σ J σ·σ)."""

    model_config = ConfigDict(extra="allow", strict=True)

    n_sites: StrictInt
    n_up: StrictInt | None = None
    dimension: StrictInt
    energy: _Number
    j1: _Number = 1.0
    j2: _Number = 0.0
    symmetries: StrictStr = "none"
    n_representatives: StrictInt | None = None
    group: dict | None = None
    sector: dict | None = None
    shards: list[Shard]
    cluster: StrictStr | None = None
    cluster_fingerprint: StrictStr | None = None
    degenerate: StrictBool | None = None
    degeneracy: StrictInt | None = None
    ground_state_sector_complete: StrictBool | None = None

    @property
    def symmetric(self) -> bool:
        """Stored in a symmetric basis (representatives and orbit sizes)?"""
        return self.symmetries != "none"

    @property
    def stored_rows(self) -> int:
        """Rows the shards hold: K, or the number of representatives."""
        return self.n_representatives if self.symmetric else self.dimension

    @model_validator(mode="after")
    def _consistent(self) -> GroundStateMetadata:
        n = self.n_sites
        if not 2 <= n <= 64 or n % 2:
            raise ValueError(f"n_sites = {n} is not an even number in [2, 64]")
        if self.n_up is not None and self.n_up != n // 2:
            raise ValueError(f"n_up = {self.n_up!r}, the ground states are in Sz = 0 "
                             f"(n_up = {n // 2})")
        if self.dimension != comb(n, n // 2):
            raise ValueError(f"dimension = {self.dimension:,} is not C({n}, {n // 2}) = "
                             f"{comb(n, n // 2):,}")
        if not math.isfinite(self.energy):
            raise ValueError(f"energy = {self.energy!r} is not finite")
        if self.symmetric:
            for key in ("n_representatives", "group", "sector"):
                if getattr(self, key) is None:
                    raise ValueError(f"lacks the key '{key}' (a symmetric state)")
            if not isinstance(self.sector.get("characters"), list):
                raise ValueError("the sector lacks its 'characters' (a list, one per group "
                                 "element)")
            if not 1 <= self.n_representatives <= self.dimension:
                raise ValueError(f"n_representatives = {self.n_representatives:,} is not in "
                                 f"[1, dimension = {self.dimension:,}]")
        _check_shards(self.shards, self.stored_rows)
        return self

    @classmethod
    def parse(cls, meta, where: str) -> GroundStateMetadata:
        """Validate a parsed ``metadata.json``; refuse it in one line naming the key."""
        if not isinstance(meta, dict):
            raise StorageError(f"{where} is not a JSON mapping")
        try:
            return cls.model_validate(meta)
        except ValidationError as exc:
            raise StorageError(_one_line(exc.errors()[0], where)) from None

    def to_json(self) -> dict:
        """The mapping written to ``metadata.json`` (extra keys included, unset ones left out)."""
        return self.model_dump(mode="json", exclude_unset=True)


def _check_shards(shards: list[Shard], stored: int) -> None:
    total = 0
    for k, shard in enumerate(shards):
        if shard.row_start != total or shard.rows < 0:
            raise ValueError(f"shard {k}: rows {shard.row_start}..{shard.row_start + shard.rows}"
                             f" do not continue at row {total}")
        total += shard.rows
    if total != stored:
        raise ValueError(f"the shards hold {total:,} rows, the metadata says {stored:,}")


_KINDS = {"int": "integer", "float": "number", "string": "string", "list": "list",
          "dict": "mapping", "model": "mapping", "bool": "boolean"}


#: Union members pydantic adds to an error's location (``('energy', 'float')``): not keys.
_UNION_TAGS = {"int", "float", "str", "bool", "dict", "list", "none", "Shard"}


def _one_line(error: dict, where: str) -> str:
    """One pydantic error as the line a user reads: where, which key, what is wrong."""
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "shards" and isinstance(loc[1], int):
        where, loc = f"{where} (shard {loc[1]})", loc[2:]
    loc = [part for part in loc if isinstance(part, str) and part not in _UNION_TAGS]
    key = loc[-1] if loc else None
    kind = error["type"]
    if kind == "missing":
        return f"{where} lacks the key '{key}'"
    if kind == "value_error":
        return f"{where}: {error['ctx']['error']}"
    if kind == "string_pattern_mismatch" and key == "sha256":
        return f"{where}: sha256 is not a 64-digit hex digest"
    wanted = next((name for tag, name in _KINDS.items() if kind.startswith(tag)), None)
    if wanted and key is not None:
        return f"{where}: '{key}' is {error['input']!r}, not a {wanted}"
    return f"{where}: {key or 'the record'}: {error['msg']}"


def read_metadata(directory) -> GroundStateMetadata:
    """Read and validate ``directory/metadata.json`` (:class:`StorageError` if it is missing,
    unreadable or refused)."""
    meta_file = Path(directory) / METADATA
    if not meta_file.is_file():
        raise StorageError(f"no ground state at {directory}: {METADATA} is missing "
                           "(never written, or the solve did not finish)")
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError) as exc:
        raise StorageError(f"{meta_file} is unreadable: {' '.join(str(exc).split())}") from None
    return GroundStateMetadata.parse(meta, str(meta_file))


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
