"""What every stage shares: its command line (one-line errors), the cluster it works on,
logging, and the error boundary that turns any failure into ``error: <one line>`` and exit
status 2 — on every MPI rank, so that no rank is left waiting.

Conventions of a stage (``python -m nqsgen.stages.<name>``, or the console script
``nqsgen-<name>``):

* every argument is checked, the cluster built and the inputs opened **before** any expensive
  work, and the output location is checked (:func:`nqsgen.publish.check_output_location`);
* an error the user can cause is a :class:`~nqsgen.errors.NqsgenError` with a one-line message;
  anything else (a bug, a full disk) is reported in one line too, with the traceback only
  under ``--debug`` (and in the log when the workflow runs the stage);
* in MPI stages a failing step fails on every rank at once (:func:`collective`); a failure
  outside such a step aborts all ranks rather than leave the others waiting.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nqsgen.errors import ConfigError, NqsgenError


class StageParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are :class:`ConfigError` (printed as one line by the
    error boundary) instead of a usage block, with the flags every stage has."""

    def __init__(self, prog: str, description: str | None = None, **kwargs):
        super().__init__(prog=prog, description=description,
                         formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
        self.add_argument("--debug", action="store_true",
                          help="show the traceback of an error (default: one line)")

    def error(self, message):
        raise ConfigError(message)

    def add_cluster(self) -> None:
        self.add_argument("--cluster", required=True, help="cluster name (catalogue or --config)")
        self.add_argument("--config", help="YAML config whose 'clusters:' mapping defines "
                                           "clusters (the workflow passes the cluster's spec)")


def cluster_of(args):
    """The cluster named by ``--cluster`` (user clusters from ``--config``)."""
    from nqsgen.clusters import get_cluster
    from nqsgen.config import load_cluster_specs

    return get_cluster(args.cluster, load_cluster_specs(args.config) if args.config else None)


def check_threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise ConfigError(f"--threads must be ≥ 1, got {threads}")


def setup_logging(rank: int = 0) -> None:
    """INFO on rank 0, warnings elsewhere, to stderr (the workflow redirects it to the log)."""
    prefix = f"[rank {rank}] " if rank or _mpi_size() > 1 else ""
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING, stream=sys.stderr,
                        format=f"%(asctime)s {prefix}%(levelname)s %(message)s",
                        datefmt="%H:%M:%S")


def _mpi_size() -> int:
    mpi = sys.modules.get("mpi4py.MPI")
    return mpi.COMM_WORLD.size if mpi is not None else 1


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` as one line (its type named when it is not one of ours)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, NqsgenError) else f"{type(exc).__name__}: {text}"


@contextmanager
def collective(comm, what: str) -> Iterator[None]:
    """Run a step on every rank; if it fails on any, raise the first failure's one-line
    message on all of them (so that none waits in a later collective call)."""
    error = None
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - shared, then re-raised on every rank
        error = (comm.rank, one_line(exc), isinstance(exc, NqsgenError))
        local = exc
    else:
        local = None
    errors = [e for e in comm.allgather(error) if e]
    if not errors:
        return
    rank, message, ours = errors[0]
    where = f" (rank {rank})" if comm.size > 1 else ""
    if local is not None and not ours:
        logging.getLogger("nqsgen").debug("%s failed", what, exc_info=local)
    raise SharedError(f"{what}: {message}{where}" if not ours else f"{message}{where}")


class SharedError(NqsgenError):
    """A step failed on some rank; every rank raises this with the same message."""


def run(main: Callable[[list[str] | None], object], argv: list[str] | None = None,
        comm=None) -> int:
    """The error boundary of a stage: 0 on success, 2 and one line on stderr otherwise.

    With ``comm`` (MPI), only rank 0 prints; an error that is not already shared by every
    rank (:class:`SharedError`) aborts all ranks, which is the only way to release the ranks
    that wait for this one.
    """
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    rank = comm.rank if comm is not None else 0
    try:
        main(argv)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the boundary: every failure becomes one line
        if debug:
            traceback.print_exc()
        shared = isinstance(exc, SharedError) or comm is None or comm.size == 1
        if rank == 0 or not shared:
            print(f"error: {one_line(exc)}", file=sys.stderr, flush=True)
        if not shared:
            comm.Abort(2)
        return 2
    return 0
