"""Provenance recorded with every output: package versions, host and creation time."""

from __future__ import annotations

import datetime as _dt
import platform
from importlib import metadata as _pkg_metadata

#: Packages whose versions a ground state records.
SOLVER_PACKAGES = ("numpy", "scipy", "numba", "mpi4py", "petsc4py", "slepc4py", "pyarrow")


def version(name: str) -> str | None:
    """The installed version of distribution ``name`` (None when not installed)."""
    try:
        return _pkg_metadata.version(name)
    except _pkg_metadata.PackageNotFoundError:
        return None


def versions(names=SOLVER_PACKAGES) -> dict:
    """``{"python": ..., name: version, ..., "nqsgen": ...}`` plus PETSc/SLEPc when present."""
    out = {"python": platform.python_version()}
    for name in (*names, "nqsgen"):
        out[name] = version(name)
    try:
        from petsc4py import PETSc
        from slepc4py import SLEPc
    except ImportError:
        return out
    out["PETSc"] = ".".join(map(str, PETSc.Sys.getVersion()))
    out["SLEPc"] = ".".join(map(str, SLEPc.Sys.getVersion()))
    return out


def host() -> str:
    return platform.node()


def created() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def run_provenance() -> dict:
    """The provenance columns of a training or VMC metrics row."""
    import torch

    return {"torch_version": torch.__version__, "nqsgen_version": version("nqsgen") or "",
            "host": host(), "created": created()}
