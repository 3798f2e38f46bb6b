"""Every MPI rank's read-only view of a whole distributed vector, for matrix–vector products.

A Heisenberg matrix row reaches columns all over the basis, so a product needs (nearly) all of
x on every rank.  :class:`WholeVector` provides it in the cheapest way the ranks allow:

* one rank: the local array itself (no copy);
* all ranks on one node: **one shared copy per node** (an MPI-3 shared-memory window): each
  rank writes its own slice and reads the others' in place — no message is sent at all;
* ranks on several nodes: an ``Allgatherv`` into a private copy on every rank.

The shared window replaces the halo exchange of a distributed sparse product (PETSc's AIJ
product ships the whole other half of x to every rank for these matrices).
"""

from __future__ import annotations

import numpy as np

MODES = ("auto", "shared", "allgather")


class WholeVector:
    """Gather a vector distributed in contiguous slices (``counts`` rows per rank, in rank
    order) into one array of length ``sum(counts)`` readable on every rank.

    ``mode``: ``auto`` (shared window when every rank is on one node, else ``allgather``),
    ``shared`` or ``allgather`` (tests compare the two).  Collective: create and
    :meth:`gather` on every rank; :meth:`free` releases the window.
    """

    def __init__(self, comm, counts, mode: str = "auto"):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.comm = comm
        self.counts = np.asarray(counts, dtype=np.int64)
        self.displ = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)
        self.dimension = int(self.counts.sum())
        self.lo = int(self.displ[comm.rank])
        self.hi = self.lo + int(self.counts[comm.rank])
        self._window = None
        self.mode = "local" if comm.size == 1 else self._choose(mode)
        if self.mode == "shared":
            self._node, self._window, self.full = _shared_array(comm, self.dimension)
        elif self.mode == "allgather":
            self.full = np.empty(self.dimension)
        else:
            self.full = None

    def _choose(self, mode: str) -> str:
        if mode != "auto":
            return mode
        from mpi4py import MPI

        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED)
        one_node = node.size == self.comm.size
        node.Free()
        return "shared" if one_node else "allgather"

    def gather(self, local: np.ndarray) -> np.ndarray:
        """The whole vector, given this rank's slice ``local`` (``counts[rank]`` values)."""
        if self.mode == "local":
            return local
        if self.mode == "allgather":
            from mpi4py import MPI

            self.comm.Allgatherv(np.ascontiguousarray(local),
                                 [self.full, self.counts, self.displ, MPI.DOUBLE])
            return self.full
        self.comm.Barrier()  # nobody still reads the previous vector
        self.full[self.lo:self.hi] = local
        self._window.Sync()
        self.comm.Barrier()  # every slice written
        self._window.Sync()
        return self.full

    @property
    def bytes_per_rank(self) -> int:
        """Memory this rank holds for the whole vector (shared windows counted once per
        node, here on every rank: an upper bound)."""
        return 0 if self.mode == "local" else 8 * self.dimension

    def free(self) -> None:
        if self._window is not None:
            self.full = None
            self._window.Unlock_all()
            self._window.Free()
            self._node.Free()
            self._window = None


def _shared_array(comm, dimension: int):
    """A float64 array of ``dimension`` entries in one shared window per node."""
    from mpi4py import MPI

    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    if node.size != comm.size:
        node.Free()
        raise ValueError("a shared whole vector needs every rank on one node")
    size = 8 * dimension if node.rank == 0 else 0
    window = MPI.Win.Allocate_shared(size, 8, comm=node)
    buffer, itemsize = window.Shared_query(0)
    full = np.ndarray(buffer=buffer, dtype=np.float64, shape=(dimension,))
    window.Lock_all(MPI.MODE_NOCHECK)
    return node, window, full
