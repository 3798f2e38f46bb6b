"""Reading a stored ground state (:class:`GroundState`, :class:`SymmetricGroundState`):
verified against its metadata (:mod:`nqsgen.storage.metadata`), the data and, given the
cluster, the Hamiltonian."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from nqsgen.basis import SzBasis
from nqsgen.errors import NqsgenError, StorageError
from nqsgen.storage.metadata import GroundStateMetadata, check_states, read_metadata
from nqsgen.storage.shards import METADATA, sha256_file


class GroundState:
    """A stored ground state (read side).  Open with :meth:`open`.

    Attributes
    ----------
    path: directory holding ``metadata.json`` and the shards.
    record: the validated :class:`~nqsgen.storage.metadata.GroundStateMetadata`.
    metadata: the same as a mapping (every key of ``metadata.json``, provenance included).
    basis: the :class:`SzBasis` the amplitudes are aligned with.
    """

    def __init__(self, path: Path, record: GroundStateMetadata):
        self.path = path
        self.record = record
        self.metadata = record.to_json()
        self.basis = SzBasis(record.n_sites, record.n_up)
        self._vector: np.ndarray | None = None
        self._norm_squared: float | None = None

    # -- opening and verification -------------------------------------------------------
    @classmethod
    def open(cls, path, verify: bool = True, cluster=None) -> GroundState:
        """Open the ground state in directory ``path``.

        The metadata is always checked (:func:`nqsgen.storage.metadata.read_metadata`);
        ``verify`` also checks every shard's row count, sha256 and first/last stored state;
        ``cluster`` (a :class:`~nqsgen.clusters.Cluster`) checks that the state belongs to
        that cluster and that it is an eigenstate of its Hamiltonian with the stored energy.
        """
        path = Path(path)
        record = read_metadata(path)
        if record.symmetric and cls is GroundState:
            cls = SymmetricGroundState
        state = cls(path, record)
        if verify:
            state.verify()
        if cluster is not None:
            state.check_cluster(cluster)
            state.check_eigenstate(cluster)
        return state

    def verify(self) -> None:
        """Check shard files, row counts, checksums and stored states against the metadata."""
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
        check_states(self)

    def stored_states_are_valid(self, ends: np.ndarray, shard: dict, previous) -> bool:
        """Are ``ends`` (first and last state of ``shard``) the basis states of its rows?"""
        rows = np.array([shard["row_start"], shard["row_start"] + shard["rows"] - 1])
        return bool(np.array_equal(self.basis.states_at(rows), ends))

    def check_eigenstate(self, cluster, samples: int = 256, tol: float = 1e-7) -> None:
        """Refuse a stored state that is not an eigenstate of ``cluster``'s Hamiltonian with the
        stored energy E0: the local energies (Hψ)(s)/ψ(s) of ``samples`` states drawn from |ψ|²
        (a fixed seed) must have a median within ``tol``·|E0| of E0.  Cheap (a few thousand
        amplitude look-ups) and independent of the solver."""
        from nqsgen.hamiltonian import Heisenberg

        hamiltonian = Heisenberg.from_cluster(cluster, j2=float(self.record.j2),
                                              j1=float(self.record.j1))
        states = self.sample_states(samples, np.random.default_rng(0))
        psi = self.amplitude(states)
        counts, flipped, values = hamiltonian.off_diagonal(states)
        h_psi = hamiltonian.diagonal(states) * psi
        rows = np.repeat(np.arange(len(states)), counts)
        np.add.at(h_psi, rows, values * self.amplitude(flipped))
        local = h_psi / psi
        e0 = self.energy
        if not np.median(np.abs(local - e0)) <= tol * abs(e0):
            raise StorageError(f"ground state at {self.path}: the stored amplitudes are not an "
                               f"eigenstate with the stored energy {e0:.10g} (σ units) of "
                               f"{cluster.name} at J2={self.record.j2}: local energies "
                               f"give {np.median(local):.10g}")

    @property
    def stored_rows(self) -> int:
        """Rows the shards hold: K (full basis) or the representatives (symmetric)."""
        return self.record.stored_rows

    def check_cluster(self, cluster) -> None:
        """Raise :class:`StorageError` unless this state was computed on ``cluster``."""
        name, fp = self.record.cluster, self.record.cluster_fingerprint
        where = f"ground state at {self.path}"
        if name != cluster.name:
            raise StorageError(f"{where} belongs to cluster '{name}', not to '{cluster.name}'")
        if fp is None:
            raise StorageError(f"{where}: {METADATA} has no cluster_fingerprint (cannot tell "
                               f"whether it is {cluster.name}'s geometry)")
        if fp != cluster.fingerprint():
            raise StorageError(f"{where} was computed on another geometry named "
                               f"'{cluster.name}' (fingerprint {fp}, this cluster has "
                               f"{cluster.fingerprint()})")
        if self.n_sites != cluster.n_sites:
            raise StorageError(f"{where} has n_sites = {self.n_sites}, {cluster.name} has "
                               f"{cluster.n_sites}")

    # -- access ----------------------------------------------------------------------------
    @property
    def energy(self) -> float:
        """Ground-state energy in σ units (H = Σ J σ·σ)."""
        return float(self.record.energy)

    @property
    def dimension(self) -> int:
        return self.record.dimension

    @property
    def n_sites(self) -> int:
        return self.record.n_sites

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

    def __init__(self, path: Path, record: GroundStateMetadata):
        super().__init__(path, record)
        from nqsgen.symmetry.group import SymmetryGroup

        where = path / METADATA
        try:
            self.group = SymmetryGroup.from_dict(record.group)
            self.characters = np.asarray(record.sector["characters"], dtype=np.int64)
        except (KeyError, TypeError, ValueError, NqsgenError) as exc:
            raise StorageError(f"{where}: the symmetry group or sector is malformed "
                               f"({type(exc).__name__}: {exc})") from None
        if self.group.n_sites != self.n_sites:
            raise StorageError(f"{where}: the group acts on {self.group.n_sites} sites, "
                               f"n_sites = {self.n_sites}")
        if self.characters.shape != (len(self.group),) or \
                not np.isin(self.characters, (-1, 1)).all():
            raise StorageError(f"{where}: the sector needs one character ±1 per group element "
                               f"({len(self.group)})")
        self._symmetric: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._lookup: tuple[np.ndarray, int] | None = None
        self._cdf: np.ndarray | None = None

    def stored_states_are_valid(self, ends: np.ndarray, shard: dict, previous) -> bool:
        """Are ``ends`` representatives of their orbits (each the smallest image), ascending
        after the previous shard's last state, with ``n_sites / 2`` up spins?"""
        from nqsgen.basis import _popcounts
        from nqsgen.symmetry.basis import representatives_of

        reps, _ = representatives_of(self.group, self.characters, ends, n_blocks=1)
        ordered = ends[0] <= ends[1] and (previous is None or int(ends[0]) > previous)
        half = bool((_popcounts(ends) == self.n_sites // 2).all())
        return bool(np.array_equal(reps, ends) and ordered and half)

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
