"""A private one-node Slurm cluster (munge + slurmctld + slurmd) for tests and benchmarks.

Everything lives in one directory: the munge key and socket, ``slurm.conf``/``gres.conf``,
state, spool, logs and pid files; the daemons listen on free ports. Clients find it through
``SLURM_CONF`` (see :attr:`SlurmCluster.env`). Needs root (slurmd launches jobs as their
user) and Debian's ``slurm-wlm`` and ``munge`` (``tests/install_system_deps.sh``).

Choices, each needed by a cluster this small:
- no accounting database: ``AccountingStorageType=accounting_storage/none``, so ``sacct``
  has nothing to say; the slurm executor plugin queries ``squeue`` instead
  (``--slurm-status-command squeue``), which it accepts once ``MinJobAge`` (how long
  finished jobs stay visible to ``squeue``) is at least 3 x its first status-check delay.
- no cgroups: ``ProctrackType=proctrack/linuxproc``, ``TaskPlugin=task/none``.
- one fake GPU: ``Gres=gpu:1`` with ``File=/dev/null`` in gres.conf (Slurm drains a node
  whose gpu gres has no device file), so jobs asking ``--gpus=1`` are scheduled on the
  ``gpu`` partition (Slurm sets ``CUDA_VISIBLE_DEVICES=0``; there is no real device).
- ``SlurmdParameters=config_overrides``: the node offers the configured memory, so profile
  memory requests fit on small machines.
- ``batch_sched_delay=0``: batch jobs are scheduled at once (default: up to 3 s later).
- ``/run/slurm/conf`` -> this directory while the cluster runs: the plugin's job step
  (snakemake-executor-plugin-slurm-jobstep 0.6.1) drops every ``SLURM_*`` variable,
  ``SLURM_CONF`` included, before its ``srun``, so ``srun`` inside a job reads the config
  where Slurm clients look without one: ``/etc/slurm/slurm.conf`` (which must therefore not
  exist), then ``/run/slurm/conf/slurm.conf`` (where a configless slurmd caches its config).

Command line (used by bench/cluster.py): ``python tests/slurm_cluster.py start|stop DIR``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo")
PARTITIONS = ("cpu", "gpu")  # the names profiles/slurm/partitions.yaml uses
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
RUN_CONF = Path("/run/slurm/conf")


def cannot_start() -> str | None:
    """Why a private Slurm cannot start here (``None`` when it can)."""
    if os.geteuid() != 0:
        return "a private Slurm needs root (slurmd starts jobs as their user)"
    missing = [p for p in PROGRAMS if not shutil.which(p)]
    if missing:
        return f"missing {', '.join(missing)}: install slurm-wlm and munge (bash tests/install_system_deps.sh)"
    if SYSTEM_CONF.exists():
        return f"{SYSTEM_CONF} exists: srun inside test jobs would use that cluster, not the private one"
    if RUN_CONF.is_symlink() and _daemons_alive(Path(os.readlink(RUN_CONF))):
        return f"{RUN_CONF} is in use (another private Slurm runs here, from {os.readlink(RUN_CONF)})"
    if RUN_CONF.exists() and not RUN_CONF.is_symlink():
        return f"{RUN_CONF} exists (a configless slurmd runs here)"
    return None


def _daemons_alive(root: Path) -> bool:
    """Whether a private cluster in ``root`` still has a live daemon (a killed test run leaves
    its /run/slurm/conf link and directory behind, with dead pid files)."""
    for name in ("slurmctld.pid", "slurmd.pid"):
        try:
            os.kill(int((root / "run" / name).read_text().split()[0]), 0)
            return True
        except (OSError, ValueError, IndexError):
            continue
    return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    """One node (this machine, all its CPUs, ``memory_mb``, ``gpus`` fake GPUs), partitions
    ``cpu`` (default) and ``gpu``; ``start()`` returns once the node is idle."""

    def __init__(self, root: str | Path, *, memory_mb: int = 64000, gpus: int = 1, min_job_age: int = 600):
        self.root = Path(root).resolve()
        self.node = socket.gethostname()
        self.cpus = os.cpu_count() or 1
        self.memory_mb, self.gpus, self.min_job_age = memory_mb, gpus, min_job_age
        self.conf = self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """Environment for Slurm clients (and snakemake) talking to this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def _path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def write_config(self) -> None:
        for sub in ("munge", "state", "spool", "log", "run"):
            self._path(sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        key = self._path("munge", "munge.key")
        if not key.exists():
            key.write_bytes(os.urandom(1024))
            key.chmod(0o400)
        gres = f" Gres=gpu:{self.gpus}" if self.gpus else ""
        lines = [
            "ClusterName=qcrobust-test",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self._path('munge', 'munge.sock')}",
            f"StateSaveLocation={self._path('state')}",
            f"SlurmdSpoolDir={self._path('spool')}",
            f"SlurmctldPidFile={self._path('run', 'slurmctld.pid')}",
            f"SlurmdPidFile={self._path('run', 'slurmd.pid')}",
            f"SlurmctldLogFile={self._path('log', 'slurmctld.log')}",
            f"SlurmdLogFile={self._path('log', 'slurmd.log')}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "DefMemPerCPU=1000",
            "SchedulerType=sched/builtin",
            "SchedulerParameters=batch_sched_delay=0",
            "SlurmdParameters=config_overrides",
            "MpiDefault=none",
            "SwitchType=switch/none",
            "ReturnToService=2",
            f"MinJobAge={self.min_job_age}",
            "GresTypes=gpu",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory_mb}{gres} State=UNKNOWN",
            f"PartitionName=cpu Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
            f"PartitionName=gpu Nodes={self.node} MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        gres_conf = f"NodeName={self.node} Name=gpu File=/dev/null\n" if self.gpus == 1 else ""
        if self.gpus > 1:
            raise ValueError("one fake GPU at most (each needs its own device file)")
        self._path("gres.conf").write_text(gres_conf)

    def _run(self, *cmd: str) -> None:
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}\n{self.logs()}")

    def logs(self, lines: int = 15) -> str:
        """The daemons' last log lines (for error messages)."""
        out = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            path = self._path("log", name)
            if path.exists():
                out.append(f"--- {path}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(out)

    def start(self, timeout: float = 60) -> SlurmCluster:
        """Start munged, slurmctld and slurmd; wait until the node accepts jobs."""
        reason = cannot_start()
        if reason:
            raise RuntimeError(reason)
        self.write_config()
        munge = self._path("munge")
        self._run(
            "munged", "--force",
            f"--socket={munge / 'munge.sock'}",
            f"--key-file={munge / 'munge.key'}",
            f"--pid-file={self._path('run', 'munged.pid')}",
            f"--log-file={self._path('log', 'munged.log')}",
            f"--seed-file={munge / 'munged.seed'}",
        )  # fmt: skip
        self._run("slurmctld")
        RUN_CONF.parent.mkdir(parents=True, exist_ok=True)
        RUN_CONF.unlink(missing_ok=True)  # a stale link (cannot_start() refused live ones)
        RUN_CONF.symlink_to(self.root)
        self._run("slurmd")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = subprocess.run(["sinfo", "--noheader", "--format=%t"], env=self.env, capture_output=True, text=True)
            states = set(proc.stdout.split())
            if proc.returncode == 0 and states == {"idle"}:
                return self
            if states & {"drain", "drng", "inval", "down"}:
                break
            time.sleep(0.2)
        state = subprocess.run(["sinfo", "-N", "-l"], env=self.env, capture_output=True, text=True)
        self.stop()
        raise RuntimeError(f"the Slurm node did not become idle in {timeout} s:\n{state.stdout}{state.stderr}\n{self.logs()}")

    def _pid(self, name: str) -> int | None:
        path = self._path("run", name)
        try:
            return int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, timeout: float = 20) -> None:
        """Stop the three daemons (ours only, by their pid files)."""
        pids = [pid for pid in map(self._pid, ("slurmd.pid", "slurmctld.pid", "munged.pid")) if pid]
        for pid in pids:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        for pid in pids:
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, 9)
                    break
                time.sleep(0.05)
        if RUN_CONF.is_symlink() and Path(os.readlink(RUN_CONF)) == self.root:
            RUN_CONF.unlink()

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python tests/slurm_cluster.py start|stop DIR", file=sys.stderr)
        return 2
    cluster = SlurmCluster(argv[1])
    if argv[0] == "start":
        started = time.perf_counter()
        cluster.start()
        print(f"export SLURM_CONF={cluster.conf}  # started in {time.perf_counter() - started:.2f} s")
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
