"""Writing a ground state: every MPI rank writes its own rows as parquet shards, rank 0 the
metadata, and the directory is published atomically (layout in :mod:`nqsgen.storage`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nqsgen import publish
from nqsgen.errors import StorageError
from nqsgen.storage.metadata import GroundStateMetadata
from nqsgen.storage.shards import DEFAULT_SHARD_ROWS, METADATA, sha256_file


def _write_shards(directory: Path, rank: int, row_lo: int, columns: dict[str, np.ndarray],
                  shard_rows: int) -> list[dict]:
    shards = []
    n = len(next(iter(columns.values())))
    starts = range(0, max(n, 1), shard_rows)
    for k, start in enumerate(starts):
        stop = min(start + shard_rows, n)
        name = f"part-{rank:05d}-{k:04d}.parquet"
        table = pa.table({c: pa.array(v[start:stop], type=pa.from_numpy_dtype(v.dtype))
                          for c, v in columns.items()})
        pq.write_table(table, directory / name, use_dictionary=False, compression="snappy")
        shards.append({"file": name, "row_start": int(row_lo + start), "rows": int(stop - start),
                       "sha256": sha256_file(directory / name)})
    return shards


def write_ground_state(out_dir, comm, row_lo: int, columns: dict[str, np.ndarray],
                       metadata: dict, shard_rows: int = DEFAULT_SHARD_ROWS) -> None:
    """Collectively write this rank's rows and (on rank 0) the metadata, then publish atomically.

    Every rank passes its own contiguous rows (``row_lo`` and equally long ``columns``:
    ``state``/``amplitude`` in the full basis, ``state``/``coefficient``/``orbit_size`` in a
    symmetric one); rank 0's ``metadata`` is completed with the shard list, validated as a
    :class:`~nqsgen.storage.metadata.GroundStateMetadata` (so that nothing is published that a
    reader would refuse) and written last.
    ``out_dir`` appears only when complete (:mod:`nqsgen.publish`); an existing ``out_dir`` is
    replaced.  A failure on any rank (a full disk, a rank that cannot write) is raised on every
    rank as one :class:`StorageError`, and the temporary directory is removed.
    """
    out_dir = Path(out_dir)
    tmp = _shared(comm, lambda: publish.temporary_directory(out_dir) if comm.rank == 0 else None,
                  out_dir, None)
    tmp = Path(comm.bcast(str(tmp) if tmp else None, root=0))
    mine = _shared(comm, lambda: _write_shards(tmp, comm.rank, row_lo, columns, shard_rows),
                   out_dir, tmp)
    all_shards = comm.gather(mine, root=0)

    def finish():
        if comm.rank != 0:
            return
        shards = sorted((s for part in all_shards for s in part), key=lambda s: s["row_start"])
        record = dict(metadata)
        record["storage"] = {"format": "parquet",
                             "columns": {c: str(v.dtype) for c, v in columns.items()},
                             "shard_rows": int(shard_rows)}
        record["shards"] = shards
        checked = GroundStateMetadata.parse(record, f"the metadata for {out_dir}")
        publish.write_json(tmp / METADATA, checked.to_json())
        publish.publish_directory(tmp, out_dir)

    _shared(comm, finish, out_dir, tmp)


def _shared(comm, step, out_dir: Path, tmp: Path | None):
    """Run ``step`` on every rank; if it fails anywhere, remove ``tmp`` and raise the first
    failure on every rank (so that no rank waits for a failed one)."""
    error, result = None, None
    try:
        result = step()
    except (OSError, ValueError, pa.ArrowException, StorageError) as exc:
        error = f"rank {comm.rank}: {' '.join(str(exc).split())}"
    errors = [e for e in comm.allgather(error) if e]
    if errors:
        if comm.rank == 0:
            publish.discard(tmp)
        raise StorageError(f"writing the ground state {out_dir} failed ({errors[0]})")
    return result
