"""Ground-state storage: parquet shards plus ``metadata.json``, written atomically.

Layout of one ground state (``results/ground_states/{cluster}/J2={j2}/``)::

    metadata.json            energies, gap, residual, K, solver, ranks, timings, versions, shards
    part-RRRRR-SSSS.parquet  columns ``state`` (uint64, ascending) and ``amplitude`` (float64)

Shard ``part-RRRRR-SSSS`` holds the S-th slice of the rows of MPI rank R; every rank writes
at least one shard and no shard has more than ``shard_rows`` rows.  Concatenated in the order
listed in ``metadata["shards"]`` the shards give the whole basis in ascending order, so the
amplitude column is the ground-state vector aligned with :class:`~nqsgen.basis.SzBasis`.
Amplitudes are normalised (Σ ψ_i² = 1) and their global sign is fixed (see
:func:`nqsgen.eigensolvers.fix_global_sign`).

Atomicity (:mod:`nqsgen.publish`): everything is written into a sibling temporary directory
and renamed into place only when complete; ``metadata.json`` is the completion marker.  A
reader verifies every shard's row count and sha256 against the metadata and raises
:class:`StorageError` otherwise.
"""

from nqsgen.storage.reader import (
    MAX_EXPANSION,
    GroundState,
    SymmetricGroundState,
    open_ground_state,
)
from nqsgen.storage.shards import DEFAULT_SHARD_ROWS, METADATA, sha256_file
from nqsgen.storage.writer import write_ground_state

__all__ = ["DEFAULT_SHARD_ROWS", "GroundState", "MAX_EXPANSION", "METADATA",
           "SymmetricGroundState", "open_ground_state", "sha256_file", "write_ground_state"]
