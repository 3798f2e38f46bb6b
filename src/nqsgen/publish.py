"""Atomic publication of output files and directories — the one place that writes outputs.

Every output of the pipeline appears only when it is complete, so that a job killed at any
moment (``kill -9``, a full disk, a rank that dies) leaves either the previous output intact or
no output, never a mixture:

* **Files**: :func:`atomic_path` yields a hidden temporary sibling ``.NAME.tmp-<random>`` in the
  same directory (same file system, so the rename is atomic) for a writer that takes a path
  (pyarrow, matplotlib, torch, ``json``); when the writer returns, the file is fsynced, given
  the permissions an ordinary ``open()`` would give (0666 & ~umask), renamed onto ``NAME`` and
  the directory fsynced.  On an error the temporary is removed and ``NAME`` is untouched.
* **Directories** (a ground state's shards, a run's tables): :func:`temporary_directory` makes
  ``.NAME.tmp-<random>`` beside the output; :func:`publish_directory` renames an existing output
  aside (``.NAME.old-<random>``), the finished temporary into place, and removes the old one.
  Workflows delete stale ``.tmp-``/``.old-`` siblings before rerunning a job
  (:func:`stale_siblings`).
* **Replacing only what the project wrote**: :func:`check_output_location` refuses, before any
  work, an output location that is not creatable or writable, that is an existing file, an
  existing directory without the stage's marker file (a user's directory, or another stage's
  output), or that is or lies inside one of the stage's inputs.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from nqsgen.errors import ConfigError

TMP_TAG = ".tmp-"
OLD_TAG = ".old-"


def hidden_sibling(path: str | os.PathLike, tag: str = TMP_TAG) -> Path:
    """``.NAME<tag><random>`` in the directory of ``path`` (random suffix)."""
    path = Path(path)
    return path.with_name(f".{path.name}{tag}{uuid.uuid4().hex[:8]}")


def stale_siblings(path: str | os.PathLike) -> list[Path]:
    """Temporary and set-aside siblings of ``path`` left by killed writers."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    prefixes = (f".{path.name}{TMP_TAG}", f".{path.name}{OLD_TAG}")
    return [p for p in path.parent.iterdir() if p.name.startswith(prefixes)]


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. a file system without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_permissions(path: Path) -> None:
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write ``path`` through; publish it when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = hidden_sibling(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        _default_permissions(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_directory(path.parent)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj, indent: int = 2) -> None:
    """Write ``obj`` as JSON (plus a final newline) to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=indent) + "\n")


def temporary_directory(out_dir: str | os.PathLike) -> Path:
    """Create and return the hidden temporary sibling a directory output is built in."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = hidden_sibling(out_dir)
    tmp.mkdir()
    return tmp


def publish_directory(tmp: str | os.PathLike, out_dir: str | os.PathLike) -> None:
    """Rename the finished ``tmp`` to ``out_dir``, replacing an existing output."""
    tmp, out_dir = Path(tmp), Path(out_dir)
    for entry in tmp.iterdir():
        if entry.is_file():
            with open(entry, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_directory(tmp)
    old = None
    if out_dir.exists():
        old = hidden_sibling(out_dir, OLD_TAG)
        os.rename(out_dir, old)
    os.rename(tmp, out_dir)
    _fsync_directory(out_dir.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def discard(tmp: str | os.PathLike | None) -> None:
    """Remove a temporary file or directory (no error if it is gone)."""
    if tmp is None:
        return
    tmp = Path(tmp)
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    elif tmp.exists():
        tmp.unlink()


@contextmanager
def atomic_directory(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory; publish it as ``out_dir`` when the block succeeds."""
    tmp = temporary_directory(out_dir)
    try:
        yield tmp
        publish_directory(tmp, out_dir)
    finally:
        discard(tmp if tmp.exists() else None)


def _inside(path: Path, other: Path) -> bool:
    return path == other or other in path.parents


def check_output_location(out: str | os.PathLike, marker: str | None,
                          inputs: Iterable[str | os.PathLike] = (), *,
                          directory: bool = True) -> Path:
    """Refuse (:class:`ConfigError`, one line) an output location this stage may not write.

    ``out`` must not be the current directory, an input or inside one (nor contain one); an
    existing ``out`` must be an empty directory or one holding ``marker`` (the file this stage
    writes last, e.g. ``metadata.json``) when ``directory``, or a regular file otherwise; its
    parent must be creatable and writable.  Returns the resolved path.
    """
    path = Path(out).expanduser().resolve()
    if path == Path.cwd().resolve() or path.parent == path:
        raise ConfigError(f"--out {out}: refusing to replace the current or root directory")
    for item in inputs:
        given = Path(item).expanduser().resolve()
        if _inside(path, given) or _inside(given, path):
            raise ConfigError(f"--out {out} is or contains the input {item}")
    if path.exists() or path.is_symlink():
        if directory and not path.is_dir():
            raise ConfigError(f"--out {out} is an existing file, not an output directory")
        if not directory and not path.is_file():
            raise ConfigError(f"--out {out} exists and is not a regular file")
        empty = path.is_dir() and not any(path.iterdir())  # e.g. made by Snakemake
        if directory and marker and not empty and not (path / marker).is_file():
            raise ConfigError(f"--out {out} is an existing directory without {marker}: not an "
                              "output of this stage, refusing to replace it")
    _check_parent_writable(path, out)
    return path


def _check_parent_writable(path: Path, given) -> None:
    """Create the parent directory and a probe file in it (then remove the probe): the only
    reliable test of writability (permissions, read-only mounts, /proc, quotas)."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{TMP_TAG}probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"--out {given}: cannot write in {path.parent} ({reason})") from None
