"""Atomic publication under faults: a failing writer, a full disk, a crash between the renames
of a directory swap, a rank that fails or dies mid-write — the old output stays intact, or
there is no output, never a mixture; and the output-location checks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nqsgen import publish
from nqsgen.errors import ConfigError
from tests.conftest import REPO, stage_env


def files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.parquet"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), publish.atomic_path(target) as tmp:
        tmp.write_bytes(b"half of the new")
        raise RuntimeError("writer died")
    assert files(tmp_path) == {"table.parquet": b"old"}
    with publish.atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert files(tmp_path) == {"table.parquet": b"new"}
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (needs the right to mount: root, as in CI)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_leaves_the_old_output_intact(small_disk):
    target = small_disk / "metrics.parquet"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match="No space left"), publish.atomic_path(target) as tmp:
        tmp.write_bytes(b"x" * 2_000_000)
    assert files(small_disk) == {"metrics.parquet": b"old"}
    out = small_disk / "run"
    publish.write_text(out / "metrics.parquet", "old run")
    with pytest.raises(OSError), publish.atomic_directory(out) as tmp:
        (tmp / "metrics.parquet").write_bytes(b"y" * 2_000_000)
    assert files(small_disk) == {"metrics.parquet": b"old", "run/metrics.parquet": b"old run"}


def test_crash_between_the_renames_leaves_old_or_nothing(tmp_path, monkeypatch):
    out = tmp_path / "J2=0.5"
    publish.write_text(out / "metadata.json", "old")
    tmp = publish.temporary_directory(out)
    (tmp / "metadata.json").write_text("new")
    real_rename, calls = os.rename, []

    def dying_rename(src, dst):
        calls.append(src)
        if len(calls) == 2:  # the old output is set aside, the new one not yet in place
            raise KeyboardInterrupt("killed")
        real_rename(src, dst)

    monkeypatch.setattr(publish.os, "rename", dying_rename)
    with pytest.raises(KeyboardInterrupt):
        publish.publish_directory(tmp, out)
    monkeypatch.undo()
    assert not out.exists()  # no output (never a mixture); the old one is set aside ...
    stale = publish.stale_siblings(out)
    assert sorted(p.name.split("-")[0] for p in stale) == [".J2=0.5.old", ".J2=0.5.tmp"]
    assert {(p / "metadata.json").read_text() for p in stale} == {"old", "new"}


def _user_dir(d: Path) -> Path:
    (d / "mine").mkdir()
    (d / "mine" / "a").write_text("x")
    return d / "mine"


def _file(d: Path) -> Path:
    (d / "f").write_text("x")
    return d / "f"


CHECKS = {
    "a user's directory": (_user_dir, "without metadata.json"),
    "an existing file": (_file, "is an existing file"),
    "the input": (lambda d: d / "gs", "is or contains the input"),
    "inside the input": (lambda d: d / "gs" / "sub", "is or contains the input"),
    "not creatable": (lambda d: Path("/proc/nqsgen/out"), "cannot write in /proc/nqsgen"),
    "below a file": (lambda d: _file(d) / "out", "cannot write in"),
}


@pytest.mark.parametrize("case", list(CHECKS))
def test_output_location_is_refused(case, tmp_path):
    (tmp_path / "gs").mkdir()
    make, fragment = CHECKS[case]
    out = make(tmp_path)
    before = files(tmp_path)
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        publish.check_output_location(out, "metadata.json", inputs=[tmp_path / "gs"])
    assert files(tmp_path) == before


def test_output_location_accepts_own_outputs_and_empty_directories(tmp_path):
    own = tmp_path / "own"
    publish.write_text(own / "metadata.json", "{}")
    (tmp_path / "empty").mkdir()
    for out in (own, tmp_path / "empty", tmp_path / "new" / "deep"):
        assert publish.check_output_location(out, "metadata.json") == out.resolve()
    assert not list(tmp_path.rglob(".*probe*"))  # the writability probe is removed


WRITER = """
import sys
import numpy as np
from mpi4py import MPI
from nqsgen import storage
from nqsgen.errors import StorageError
from nqsgen.storage import writer
comm = MPI.COMM_WORLD
mode, out = sys.argv[1], sys.argv[2]
real = writer._write_shards
def failing(directory, rank, *args):
    if rank == 1:
        if mode == "die":
            import os, signal
            os.kill(os.getpid(), signal.SIGKILL)
        raise OSError(28, "No space left on device")
    return real(directory, rank, *args)
writer._write_shards = failing
n = 10
states = np.arange(comm.rank * n, (comm.rank + 1) * n, dtype=np.uint64)
try:
    storage.write_ground_state(out, comm, comm.rank * n,
                               {"state": states, "amplitude": np.ones(n)}, {"energy": -1.0})
except StorageError as exc:  # one file per rank: mpiexec may interleave the ranks' stdout
    with open(f"{out}.rank{comm.rank}.txt", "w") as report:
        report.write(str(exc))
    sys.exit(2)
"""


@pytest.mark.mpi
@pytest.mark.parametrize("mode", ["fail", "die"])
def test_a_rank_failing_or_dying_mid_write_leaves_the_old_output(tmp_path, mode):
    out = tmp_path / "J2=0.5"
    publish.write_text(out / "metadata.json", "old")
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(WRITER))
    proc = subprocess.run(["mpiexec", "-n", "2", sys.executable, str(script), mode, str(out)],
                          capture_output=True, text=True, env=stage_env(), timeout=120, cwd=REPO)
    assert proc.returncode != 0
    if mode == "fail":  # both ranks report the same one-line failure and exit
        reports = [Path(f"{out}.rank{rank}.txt") for rank in (0, 1)]
        assert all(r.exists() for r in reports), proc.stdout + proc.stderr
        for report in reports:
            text = report.read_text()
            assert "rank 1: [Errno 28] No space left on device" in text and "\n" not in text
            report.unlink()
    assert (out / "metadata.json").read_text() == "old"
    assert sorted(p.name for p in out.iterdir()) == ["metadata.json"]
    leftovers = publish.stale_siblings(out)
    assert mode == "die" or not leftovers  # a killed job's temporary: removed by the rerun
