"""Workers: processes that take trials from one study until its budget is spent.

A worker loops: take the study lock, fail the trials of dead workers (heartbeat), count the
trials, and either start one (Optuna's ``study.optimize(n_trials=1)``; the trial releases the
lock once it exists) or stop. It starts a trial while completed + pruned + running trials are
fewer than the budget, or when a trial is waiting (a dead worker's trial queued again). When
the only trials left are running in other workers, it waits for them on a storage with
heartbeats (one of them may die, and its retry needs a worker) and stops otherwise.

``--workers N`` starts N such processes on this machine (:func:`start_workers`): each is
``python -m axon.search.workers`` reading its :class:`WorkerJob` from a pipe, so nothing of the
parent's ``__main__`` runs again in it. Workers on other machines are the same loop started by
``axon evolve --storage URL --study NAME`` there.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axon._config import blas_threads
from axon.search.settings import Settings

#: How often a worker that waits for other workers' last trials looks at the study (seconds).
POLL_SECONDS = 0.5


@dataclass
class WorkerJob:
    """What a worker needs: where the study is, how to search, the data, where to write."""

    url: str
    study: str
    settings: Settings
    data: Any  # axon.cli.data.Dataset
    run_dir: Path
    index: int = 0
    workers: int = 1
    verbose: int = 1
    threads: int = 1


def _counts(study: Any) -> dict[str, int]:
    from optuna.trial import TrialState

    out = {"done": 0, "running": 0, "waiting": 0}
    for t in study.get_trials(deepcopy=False):
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
            out["done"] += 1
        elif t.state == TrialState.RUNNING:
            out["running"] += 1
        elif t.state == TrialState.WAITING:
            out["waiting"] += 1
    return out


def run_worker(job: WorkerJob) -> int:
    """Run trials of ``job.study`` until the budget is spent; returns how many this worker ran."""
    from axon.search._optuna import require_optuna
    from axon.search.settings import make_sampler
    from axon.search.storage import StudyLock, has_heartbeat, open_storage
    from axon.search.trial import TrialRunner

    optuna = require_optuna()
    storage = open_storage(job.url, job.settings.heartbeat)
    study = optuna.load_study(study_name=job.study, storage=storage,
                              sampler=make_sampler(job.settings, job.index))
    lock = StudyLock(job.url, job.study, job.run_dir)
    prefix = f"w{job.index + 1} " if job.workers > 1 else ""
    runner = TrialRunner(job.settings, job.data, job.run_dir, lock, verbose=job.verbose, prefix=prefix)
    beating = has_heartbeat(storage)
    ran = 0
    try:
        with blas_threads(job.threads):
            while True:
                lock.acquire()
                try:
                    if beating:
                        optuna.storages.fail_stale_trials(study)
                    c = _counts(study)
                    if c["done"] >= job.settings.n_trials:
                        return ran
                    start = c["waiting"] > 0 or c["done"] + c["running"] < job.settings.n_trials
                    if start:
                        # catch=(): a trial that fails with an error stops the worker with that error.
                        study.optimize(runner, n_trials=1, catch=())
                        ran += 1
                        continue
                finally:
                    lock.release()
                if not beating:
                    return ran
                time.sleep(POLL_SECONDS)
    finally:
        lock.close()


def start_workers(job: WorkerJob, n: int) -> list[subprocess.Popen]:
    """Start ``n`` worker processes on this machine for ``job`` (indices 0..n-1)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = []
    for i in range(n):
        proc = subprocess.Popen([sys.executable, "-m", "axon.search.workers"], stdin=subprocess.PIPE, env=env)
        assert proc.stdin is not None
        pickle.dump(WorkerJob(**{**job.__dict__, "index": i, "workers": n}), proc.stdin,
                    protocol=pickle.HIGHEST_PROTOCOL)
        proc.stdin.close()
        procs.append(proc)
    return procs


def wait_workers(procs: list[subprocess.Popen], *, verbose: int = 1) -> list[int]:
    """Wait for every worker; report the ones that died. Returns their exit statuses.

    A worker killed by a signal (``kill -9``) loses only its running trial: the heartbeat fails it
    and another worker runs it again. A worker that stopped with an error (status 2, its message
    already on stderr) stops the search: ValueError.
    """
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:  # the workers got the same Ctrl-C; let them finish their batch
        for p in procs:
            p.wait()
        raise
    for i, code in enumerate(codes):
        if code < 0 and verbose:
            print(f"axon evolve: worker {i + 1} (pid {procs[i].pid}) was killed by signal {-code}; its running "
                  f"trial is failed by the heartbeat and run again by another worker", file=sys.stderr)
    if any(code > 0 for code in codes):
        raise ValueError("a worker stopped with an error (its message is above); fix it and continue with "
                         "axon evolve --resume RUN_DIR")
    return codes


def main() -> int:
    """Entry point of a worker process: read a pickled :class:`WorkerJob` from stdin and run it.

    The pickle comes from the parent process through a pipe (never from a file). Errors a user
    can cause end with one line on stderr and status 2, Ctrl-C with 130.
    """
    job: WorkerJob = pickle.load(sys.stdin.buffer)
    sys.stdin.close()
    try:
        run_worker(job)
    except KeyboardInterrupt:
        return 130
    except (ValueError, TypeError, OSError, ArithmeticError) as exc:
        if os.environ.get("AXON_DEBUG"):
            raise
        print(f"axon: error: worker {job.index + 1}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
