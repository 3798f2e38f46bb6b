"""A throw-away single-node Slurm for tests: munged, slurmctld and slurmd started from a
temporary directory, talking to each other on free localhost ports, and stopped again.

The daemons run with ``-f <dir>/slurm.conf``, their own munge daemon, socket and key
(``AuthInfo=socket=...``) and state in the temporary directory.  Clients find the
configuration through ``SLURM_CONF`` (:meth:`LocalSlurm.env`) — except inside jobs: Snakemake's
SLURM job-step executor removes every ``SLURM_*`` variable before a job's own ``srun`` (the
MPI launch), which then reads the default ``/etc/slurm/slurm.conf``, as on a real cluster.
So the configuration is also written there (with ``gres.conf``), guarded by a lock file so that
two test sessions on one machine take turns, and removed again by :meth:`LocalSlurm.stop`.
A machine with its own ``/etc/slurm/slurm.conf`` (a real Slurm) is refused
(:class:`SlurmUnavailable`), never overwritten.

Debian packages: ``slurmctld slurmd slurm-client munge`` (:func:`ensure_installed` installs
them with apt-get when they are missing and the process may do so).

The configuration is what Snakemake's SLURM executor needs and what a small real cluster
looks like:

* one node ``localhost`` with the machine's real CPUs and memory (``slurmd -C``), memory as
  a consumable resource (``select/cons_tres`` with ``CR_Core_Memory``), so ``--mem`` requests
  are checked as on a cluster;
* one fake GPU (``Gres=gpu:1``, no device file) so that jobs asking for ``--gpus=1`` are
  scheduled; on a machine without CUDA the job then runs on the CPU (``--device auto``);
* ``MpiDefault=pmix`` (Open MPI 4.1 on Debian is built with PMIx), so ``srun`` starts MPI
  ranks as on a cluster;
* no accounting database, a large ``MinJobAge`` so finished jobs stay visible to ``squeue``
  (the executor's ``slurm-status-command: squeue``).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "srun", "scontrol", "sinfo", "scancel")
PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
SBIN = ("/usr/sbin", "/sbin")


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))


def missing_programs() -> list[str]:
    return [name for name in DAEMONS + CLIENTS if _which(name) is None]


def ensure_installed(timeout: float = 900) -> str | None:
    """Install the Debian packages when programs are missing.  Returns None when everything is
    there, else the reason why Slurm cannot be used (the caller skips with it)."""
    missing = missing_programs()
    if not missing:
        return None
    apt = shutil.which("apt-get")
    if apt is None:
        return f"Slurm programs missing ({', '.join(missing)}) and no apt-get to install them"
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and shutil.which("sudo") is None:
        return f"Slurm programs missing ({', '.join(missing)}); not root and no sudo"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    for cmd in ([*prefix, apt, *lock, "update", "-qq"],
                [*prefix, apt, *lock, "install", "-y", "-qq", "--no-install-recommends",
                 *PACKAGES]):
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"could not install Slurm ({' '.join(cmd)}): {exc}"
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
            return f"could not install Slurm ({' '.join(cmd)}): {tail[0]}"
    missing = missing_programs()
    if missing:
        return f"Slurm programs still missing after apt-get install: {', '.join(missing)}"
    return None


def _free_ports(n: int) -> list[int]:
    sockets, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


def node_hardware() -> tuple[int, int]:
    """(CPUs, RealMemory in MB) of this machine as slurmd sees it (``slurmd -C``)."""
    out = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True,
                         check=True).stdout
    cpus = int(re.search(r"\bCPUs=(\d+)", out)[1])
    memory = int(re.search(r"\bRealMemory=(\d+)", out)[1])
    return cpus, memory


SYSTEM_CONF_DIR = Path("/etc/slurm")
MARKER = "# written by tests/slurm/local_slurm.py"


class SlurmError(RuntimeError):
    pass


class SlurmUnavailable(SlurmError):
    """Slurm cannot be started here (the caller skips with the message)."""


class LocalSlurm:
    """munged + slurmctld + slurmd in ``root`` (a fresh directory); use as a context manager."""

    def __init__(self, root: Path, min_job_age: int = 3600, gpus: int = 1):
        self.root = Path(root).resolve()
        self.min_job_age = min_job_age
        self.gpus = gpus
        self.procs: dict[str, subprocess.Popen] = {}
        self.conf = self.root / "slurm.conf"
        self.cpus, self.memory_mb = node_hardware()

    # ------------------------------------------------------------------ configuration
    def _write_config(self) -> None:
        r = self.root
        for sub in ("state", "spool", "log", "munge", "run"):
            (r / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(r / "munge", 0o700)
        os.chmod(r / "run", 0o755)  # munged wants its socket directory searchable by all
        key = r / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        ctld_port, d_port = _free_ports(2)
        host = socket.gethostname()
        gres = f"Gres=gpu:{self.gpus} " if self.gpus else ""
        self.conf.write_text(f"""\
{MARKER}
ClusterName=nqsgen-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={r}/run/munge.socket
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=pmix
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge={self.min_job_age}
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
GresTypes=gpu
NodeName=localhost NodeHostname={host} NodeAddr=127.0.0.1 CPUs={self.cpus} \
    RealMemory={self.memory_mb} {gres}State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
""")
        (self.root / "gres.conf").write_text(
            f"{MARKER}\nNodeName=localhost Name=gpu File=/dev/null Count={self.gpus}\n"
            if self.gpus else f"{MARKER}\n")

    def _install_system_conf(self, timeout: float = 600) -> None:
        """Copy slurm.conf and gres.conf to /etc/slurm (see the module docstring)."""
        SYSTEM_CONF_DIR.mkdir(parents=True, exist_ok=True)
        self._lock = open(SYSTEM_CONF_DIR / ".nqsgen-test.lock", "w")  # noqa: SIM115
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SlurmUnavailable("another test session holds the local Slurm "
                                           f"for more than {timeout:.0f} s") from None
                time.sleep(1)
        for name in ("slurm.conf", "gres.conf"):
            target = SYSTEM_CONF_DIR / name
            if target.exists() and MARKER not in target.read_text(errors="replace"):
                raise SlurmUnavailable(f"{target} exists and was not written by this test: a "
                                       "Slurm is configured on this machine; not touching it")
        for name in ("slurm.conf", "gres.conf"):
            tmp = SYSTEM_CONF_DIR / f".{name}.nqsgen-tmp"
            tmp.write_text((self.root / name).read_text())
            os.replace(tmp, SYSTEM_CONF_DIR / name)
        self._installed = True

    def _remove_system_conf(self) -> None:
        if getattr(self, "_installed", False):
            for name in ("slurm.conf", "gres.conf"):
                target = SYSTEM_CONF_DIR / name
                if target.exists() and MARKER in target.read_text(errors="replace"):
                    target.unlink()
            self._installed = False
        lock = getattr(self, "_lock", None)
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
            self._lock = None

    def env(self, base: dict | None = None) -> dict:
        """Environment for Slurm clients (and Snakemake) talking to this cluster."""
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.conf)
        path = env.get("PATH", "")
        for sbin in SBIN:
            if sbin not in path.split(os.pathsep):
                path = f"{path}{os.pathsep}{sbin}"
        env["PATH"] = path
        return env

    # ------------------------------------------------------------------ lifecycle
    def _start(self, name: str, cmd: list[str]) -> None:
        log = open(self.root / "log" / f"{name}.out", "w")  # noqa: SIM115 - closed in stop()
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                            env=self.env(), start_new_session=True)
        self.procs[name].log_file = log

    def start(self, timeout: float = 60) -> LocalSlurm:
        self._write_config()
        self._install_system_conf()
        r = self.root
        self._start("munged", [_which("munged"), "--foreground", "--force",
                               f"--socket={r}/run/munge.socket",
                               f"--key-file={r}/munge/munge.key",
                               f"--pid-file={r}/munge/munged.pid",
                               f"--log-file={r}/log/munged.log",
                               f"--seed-file={r}/munge/munged.seed"])
        self._wait(lambda: (r / "run" / "munge.socket").exists(), 20, "munged")
        self._start("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
        self._wait(self._controller_up, timeout, "slurmctld")
        self._start("slurmd", [_which("slurmd"), "-D", "-f", str(self.conf), "-N", "localhost"])
        self._wait(self._node_idle, timeout, "slurmd (node idle)")
        return self

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise SlurmError(f"{name} exited with status {proc.returncode}:\n"
                                 + self.logs())

    def _wait(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            if predicate():
                return
            if time.monotonic() > deadline:
                raise SlurmError(f"timed out waiting for {what}:\n" + self.logs())
            time.sleep(0.3)

    def run(self, *cmd: str, check: bool = True, timeout: float = 60) -> str:
        proc = subprocess.run(cmd, env=self.env(), capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise SlurmError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def _controller_up(self) -> bool:
        try:
            return self.run("scontrol", "ping", check=False, timeout=10).find("UP") >= 0
        except subprocess.TimeoutExpired:
            return False

    def _node_idle(self) -> bool:
        try:
            state = self.run("sinfo", "-h", "-N", "-o", "%T", check=False, timeout=10).strip()
        except subprocess.TimeoutExpired:
            return False
        return state == "idle"

    def logs(self, tail: int = 40) -> str:
        parts = []
        for path in sorted((self.root / "log").glob("*")):
            lines = path.read_text(errors="replace").splitlines()[-tail:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop(self) -> None:
        """Cancel every job, stop slurmd, slurmctld and munged (in that order)."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            try:
                self.run("scancel", "--full", "--user", str(os.getuid()), check=False,
                         timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.get(name)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            proc.log_file.close()
        self.procs.clear()
        self._remove_system_conf()

    def __enter__(self) -> LocalSlurm:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
