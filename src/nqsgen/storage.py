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

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nqsgen import publish
from nqsgen.basis import SzBasis
from nqsgen.errors import StorageError

METADATA = "metadata.json"
DEFAULT_SHARD_ROWS = 1 << 22  # 4,194,304 rows ≈ 64 MB per shard


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


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
    symmetric one); rank 0's ``metadata`` is completed with the shard list and written last.
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
        publish.write_json(tmp / METADATA, record)
        publish.publish_directory(tmp, out_dir)

    _shared(comm, finish, out_dir, tmp)


def _shared(comm, step, out_dir: Path, tmp: Path | None):
    """Run ``step`` on every rank; if it fails anywhere, remove ``tmp`` and raise the first
    failure on every rank (so that no rank waits for a failed one)."""
    error, result = None, None
    try:
        result = step()
    except (OSError, ValueError, pa.ArrowException) as exc:
        error = f"rank {comm.rank}: {' '.join(str(exc).split())}"
    errors = [e for e in comm.allgather(error) if e]
    if errors:
        if comm.rank == 0:
            publish.discard(tmp)
        raise StorageError(f"writing the ground state {out_dir} failed ({errors[0]})")
    return result


class GroundState:
    """A stored ground state (read side).  Open with :meth:`open`.

    Attributes
    ----------
    path: directory holding ``metadata.json`` and the shards.
    metadata: the parsed ``metadata.json``.
    basis: the :class:`SzBasis` the amplitudes are aligned with.
    """

    def __init__(self, path: Path, metadata: dict):
        self.path = path
        self.metadata = metadata
        self.basis = SzBasis(metadata["n_sites"], metadata.get("n_up"))
        self._vector: np.ndarray | None = None
        self._norm_squared: float | None = None

    # -- opening and verification -------------------------------------------------------
    @classmethod
    def open(cls, path, verify: bool = True, cluster=None) -> GroundState:
        """Open the ground state in directory ``path``.

        ``verify`` checks every shard's row count and sha256 against the metadata; ``cluster``
        (a :class:`~nqsgen.clusters.Cluster`) checks that the state belongs to that cluster.
        """
        path = Path(path)
        meta_file = path / METADATA
        if not meta_file.is_file():
            raise StorageError(f"no ground state at {path}: {METADATA} is missing "
                               "(never written, or the solve did not finish)")
        try:
            metadata = json.loads(meta_file.read_text())
        except (OSError, ValueError) as exc:
            raise StorageError(f"{meta_file} is unreadable: {exc}") from None
        for key in ("n_sites", "dimension", "shards", "energy"):
            if key not in metadata:
                raise StorageError(f"{meta_file} lacks the key '{key}'")
        if metadata.get("symmetries", "none") != "none" and cls is GroundState:
            cls = SymmetricGroundState
        state = cls(path, metadata)
        if verify:
            state.verify()
        if cluster is not None:
            state.check_cluster(cluster)
        return state

    def verify(self) -> None:
        """Check shard files, row counts and checksums against the metadata."""
        total = 0
        for shard in self.metadata["shards"]:
            file = self.path / shard["file"]
            if not file.is_file():
                raise StorageError(f"shard {file} listed in {METADATA} is missing")
            try:
                rows = pq.ParquetFile(file).metadata.num_rows
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types here
                raise StorageError(f"shard {file} is not a readable parquet file ({exc})") from None
            if rows != shard["rows"]:
                raise StorageError(f"shard {file} has {rows} rows, metadata says {shard['rows']}")
            if sha256_file(file) != shard["sha256"]:
                raise StorageError(f"shard {file} is corrupted (sha256 differs from {METADATA})")
            if shard["row_start"] != total:
                raise StorageError(f"shard {file} starts at row {shard['row_start']}, "
                                   f"expected {total}")
            total += rows
        expected = self.stored_rows
        if total != expected:
            raise StorageError(f"shards of {self.path} hold {total} rows, "
                               f"metadata says {expected}")

    @property
    def stored_rows(self) -> int:
        """Rows the shards hold: the dimension K (full basis)."""
        return int(self.metadata["dimension"])

    def check_cluster(self, cluster) -> None:
        """Raise :class:`StorageError` unless this state was computed on ``cluster``."""
        name, fp = self.metadata.get("cluster"), self.metadata.get("cluster_fingerprint")
        if name != cluster.name or fp != cluster.fingerprint():
            raise StorageError(f"ground state at {self.path} belongs to cluster '{name}', "
                               f"not to '{cluster.name}'")

    # -- access ----------------------------------------------------------------------------
    @property
    def energy(self) -> float:
        """Ground-state energy in σ units (H = Σ J σ·σ)."""
        return float(self.metadata["energy"])

    @property
    def dimension(self) -> int:
        return int(self.metadata["dimension"])

    @property
    def n_sites(self) -> int:
        return int(self.metadata["n_sites"])

    def iter_chunks(self, columns=("state", "amplitude"), batch_rows: int = 1 << 20
                    ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """Yield ``(row_start, {column: array})`` in basis order, ≤ ``batch_rows`` rows each."""
        row = 0
        for shard in self.metadata["shards"]:
            pf = pq.ParquetFile(self.path / shard["file"])
            for batch in pf.iter_batches(batch_size=batch_rows, columns=list(columns)):
                arrays = {c: batch.column(c).to_numpy(zero_copy_only=False) for c in columns}
                yield row, arrays
                row += batch.num_rows

    def vector(self) -> np.ndarray:
        """All amplitudes (float64, length K) aligned with the basis; cached."""
        if self._vector is None:
            vec = np.empty(self.dimension)
            for start, chunk in self.iter_chunks(columns=("amplitude",)):
                vec[start:start + len(chunk["amplitude"])] = chunk["amplitude"]
            self._vector = vec
        return self._vector

    def states(self) -> np.ndarray:
        """All basis states (uint64, ascending) as stored."""
        out = np.empty(self.dimension, dtype=np.uint64)
        for start, chunk in self.iter_chunks(columns=("state",)):
            out[start:start + len(chunk["state"])] = chunk["state"]
        return out

    def amplitude(self, states: np.ndarray) -> np.ndarray:
        """ψ(s) for arbitrary basis states ``s`` (uint64) by O(1) index lookup."""
        return self.vector()[self.basis.index(states)]

    @property
    def norm_squared(self) -> float:
        """Σ_i ψ_i² over the whole basis (1 up to rounding for a stored ground state)."""
        if self._norm_squared is None:
            vec = self.vector()
            self._norm_squared = float(np.dot(vec, vec))
        return self._norm_squared

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Indices of ``n`` states drawn from P(i) = ψ_i² with replacement."""
        cdf = np.cumsum(self.vector() ** 2)
        u = rng.random(n) * cdf[-1]
        return np.minimum(np.searchsorted(cdf, u, side="right"), self.dimension - 1)

    def sample_states(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` basis states (uint64) drawn from P(s) = ψ(s)² with replacement.

        The same draws as :meth:`sample` for the same generator, as states instead of indices
        (the learning code identifies examples by their states, so that it never needs the
        full-basis vector of a symmetric ground state).
        """
        return self.basis.states_at(self.sample(n, rng))


def open_ground_state(path, cluster, j2: float) -> GroundState:
    """The verified ground state in ``path``, checked to belong to ``cluster`` at ``j2``
    (what the training and VMC stages learn from)."""
    import math

    from nqsgen.errors import ConfigError

    state = GroundState.open(path, verify=True, cluster=cluster)
    stored = float(state.metadata.get("j2", math.nan))
    if not math.isclose(stored, j2, rel_tol=1e-12, abs_tol=1e-12):
        raise ConfigError(f"ground state at {path} has J2={stored:g}, not {j2:g}")
    return state


MAX_EXPANSION = 400_000_000  # full-basis vectors up to this length (3.2 GB) are materialised


class SymmetricGroundState(GroundState):
    """A ground state stored in a symmetric basis (``symmetries`` ≠ ``none``).

    Shards hold ``state`` (representative r, ascending), ``coefficient`` (c_r) and
    ``orbit_size``; the metadata holds the group and the sector's characters.  The full-basis
    interface of :class:`GroundState` is kept: :meth:`vector` expands (up to
    :data:`MAX_EXPANSION` states), :meth:`amplitude` looks up any state, :meth:`sample` draws
    exactly from |ψ|² and :meth:`iter_chunks` streams the full basis in order.
    """

    def __init__(self, path: Path, metadata: dict):
        super().__init__(path, metadata)
        from nqsgen.symmetry.group import SymmetryGroup

        for key in ("group", "sector", "n_representatives"):
            if key not in metadata:
                raise StorageError(f"{path / METADATA} lacks the key '{key}' of a symmetric "
                                   "ground state")
        self.group = SymmetryGroup.from_dict(metadata["group"])
        self.characters = np.asarray(metadata["sector"]["characters"], dtype=np.int64)
        self._symmetric: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._lookup: tuple[np.ndarray, int] | None = None
        self._cdf: np.ndarray | None = None

    @property
    def stored_rows(self) -> int:
        return int(self.metadata["n_representatives"])

    def symmetric(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(representatives uint64, coefficients float64, orbit sizes int64)``; cached."""
        if self._symmetric is None:
            n = self.stored_rows
            reps, coeffs = np.empty(n, np.uint64), np.empty(n)
            orbits = np.empty(n, np.int64)
            for start, chunk in GroundState.iter_chunks(
                    self, columns=("state", "coefficient", "orbit_size")):
                stop = start + len(chunk["state"])
                reps[start:stop] = chunk["state"]
                coeffs[start:stop] = chunk["coefficient"]
                orbits[start:stop] = chunk["orbit_size"]
            self._symmetric = (reps, coeffs, orbits)
        return self._symmetric

    def vector(self) -> np.ndarray:
        """All full-basis amplitudes (length K), expanded from the orbits; cached."""
        from nqsgen.symmetry import expansion

        if self._vector is None:
            if self.dimension > MAX_EXPANSION:
                raise StorageError(
                    f"ground state at {self.path}: the full basis (K={self.dimension:,}) is too "
                    f"large to expand (limit {MAX_EXPANSION:,}); use amplitude(), sample() or "
                    "iter_chunks()")
            reps, coeffs, orbits = self.symmetric()
            self._vector = expansion.expand(self.group, self.characters, reps, coeffs, orbits,
                                            self.basis)
        return self._vector

    def amplitude(self, states: np.ndarray) -> np.ndarray:
        """ψ(s) for arbitrary Sz basis states (uint64): the representative of each state (its
        smallest image over G), then a bisection in the stored representatives."""
        from nqsgen.symmetry import expansion

        if self._vector is not None:
            return super().amplitude(states)
        reps, coeffs, orbits = self.symmetric()
        return expansion.amplitudes(self.group, self.characters, reps, coeffs, orbits, states,
                                    lookup=self._lookup_table())

    def _lookup_table(self) -> tuple[np.ndarray, int]:
        """The bucket table of the representatives (built once; 32 MB at most)."""
        from nqsgen.symmetry.basis import bucket_table

        if self._lookup is None:
            self._lookup = bucket_table(self.symmetric()[0], self.n_sites)
        return self._lookup

    @property
    def norm_squared(self) -> float:
        """Σ_s ψ(s)² = Σ_r c_r² (the orbits' states carry c_r²/|O_r| each)."""
        if self._norm_squared is None:
            coeffs = self.symmetric()[1]
            self._norm_squared = float(np.dot(coeffs, coeffs))
        return self._norm_squared

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Full-basis indices of ``n`` states drawn exactly from ψ² (orbit, then element)."""
        return self.basis.index(self.sample_states(n, rng))

    def sample_states(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` full-basis states (uint64) drawn exactly from ψ²: a representative r with
        probability c_r², then a uniformly random group element g, giving g·r.  Memory is
        O(n) plus the cumulative distribution of the representatives (cached)."""
        from nqsgen.symmetry import expansion

        if self._cdf is None:
            self._cdf = np.cumsum(self.symmetric()[1] ** 2)
        return expansion.sample(self.group, self.symmetric()[0], None, n, rng, cdf=self._cdf)

    def iter_chunks(self, columns=("state", "amplitude"), batch_rows: int = 1 << 20
                    ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """Yield ``(row_start, {column: array})`` over the **full** basis, in order."""
        unknown = set(columns) - {"state", "amplitude"}
        if unknown:
            raise StorageError(f"unknown column(s) {sorted(unknown)}: a symmetric ground state "
                               "streams 'state' and 'amplitude' of the full basis")
        for lo in range(0, self.dimension, batch_rows):
            hi = min(lo + batch_rows, self.dimension)
            states = self.basis.states(lo, hi)
            chunk = {"state": states, "amplitude": self.amplitude(states)}
            yield lo, {c: chunk[c] for c in columns}

    def states(self) -> np.ndarray:
        """All full-basis states (uint64, ascending)."""
        return self.basis.states()
