"""Many workers on one study: two local processes on SQLite, two "machines" (separate commands with
their own run folders) on a real PostgreSQL server, and a worker killed with kill -9 mid-trial
on both. Each time the study ends with exactly the requested number of finished trials, each
number once, nothing left running or waiting, and the killed trial failed and run again."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="ax.search needs Optuna: pip install -e '.[search]'")
from optuna.trial import TrialState  # noqa: E402

#: A small space of two-layer MLPs on the digits; no pruning or early stopping, so a trial's length
#: is set by --epochs alone.
SPACE = ["--depth", "2:2", "--units", "32,64", "--activations", "relu,tanh", "--dropout", "0:0", "--batch-norm",
         "false", "--optimizers", "adam", "--lr", "1e-3:1e-2", "--batch-sizes", "64", "--l2", "0", "--patience", "0",
         "--pruner", "none"]


def _evolve(*args: str) -> list[str]:
    return [sys.executable, "-m", "axon.cli.main", "evolve", *SPACE, *args]


def _check_study(study, n: int) -> list:
    """Exactly n finished trials numbered 0.. without gaps among all trials, none running or waiting."""
    trials = study.get_trials()
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) and sorted(numbers) == list(range(len(trials)))
    states = [t.state for t in trials]
    assert states.count(TrialState.RUNNING) == 0 and states.count(TrialState.WAITING) == 0
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == n
    for t in finished:
        assert Path(t.user_attrs["outcome"]["model_path"]).is_file()
    return trials


def _workers(trials) -> set[str]:
    return {t.user_attrs["worker"] for t in trials if "worker" in t.user_attrs}


# -- PostgreSQL, started for the tests ------------------------------------------------------------------
def _pg_bindir() -> Path | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "initdb").is_file():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on 127.0.0.1 (initdb + pg_ctl in a temporary folder, as the
    ``postgres`` user when the tests run as root); its URL. Skips where PostgreSQL is absent."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install -y postgresql; .ci/run installs it)")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="axon-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            pg = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the PostgreSQL server as")
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser to start PostgreSQL as the 'postgres' user")
        os.chown(base, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data, log = base / "data", base / "server.log"

    def pg(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)

    try:
        pg(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "axon", "--no-sync")
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
           f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        pg(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "axon", "axon")
    except subprocess.CalledProcessError as e:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL server: {e.stderr.decode(errors='replace').strip()[:300]}")
    try:
        yield f"postgresql://axon@127.0.0.1:{port}/axon"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


# -- the tests ---------------------------------------------------------------------------------------------
def test_two_local_workers_on_one_sqlite_study(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(_evolve("--population", "4", "--generations", "3", "--epochs", "12", "--workers", "2",
                                  "--out", str(out), "--quiet", "--no-report"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="run", storage=f"sqlite:///{out}/study.db")
    trials = _check_study(study, 12)
    assert all(t.state != TrialState.FAIL for t in trials)
    assert len(_workers(trials)) == 2  # both processes ran trials
    assert (out / "model.axon").is_file() and not (out / "report.html").exists()


def test_two_machines_on_one_postgresql_study(postgres, tmp_path):
    """Two commands started at once with their own run folders, as on two machines: one creates
    the study, the other joins it, and together they run the budget exactly."""
    common = ("--population", "4", "--generations", "3", "--epochs", "12", "--storage", postgres, "--study", "shared",
              "--quiet", "--no-report")
    procs = [subprocess.Popen(_evolve(*common, "--out", str(tmp_path / run)), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for run in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    storage = optuna.storages.RDBStorage(postgres.replace("postgresql://", "postgresql+psycopg://"))
    trials = _check_study(optuna.load_study(study_name="shared", storage=storage), 12)
    assert len(_workers(trials)) == 2
    here = {int(d.name) for run in ("a", "b") for d in (tmp_path / run / "trials").iterdir()}
    assert here == {t.number for t in trials if "same_as" not in t.user_attrs["outcome"]}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_worker_killed_mid_trial_loses_only_that_trial(kind, tmp_path, request):
    out = tmp_path / "run"
    if kind == "postgresql":
        url = request.getfixturevalue("postgres")
        where = ["--storage", url, "--study", "killed"]
        storage_url, name = url.replace("postgresql://", "postgresql+psycopg://"), "killed"
    else:
        where, storage_url, name = [], f"sqlite:///{out}/study.db", "run"
    proc = subprocess.Popen(_evolve("--population", "2", "--generations", "2", "--epochs", "40", "--workers", "2",
                                    "--heartbeat", "1", "--out", str(out), "--no-report", *where),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        victim = None
        deadline = time.monotonic() + 120
        while victim is None:
            if proc.poll() is not None or time.monotonic() > deadline:  # a hang guard, not a speed check
                pytest.fail(f"no trial was seen running (evolve exited with {proc.poll()}, or 120 s passed)")
            time.sleep(0.02)
            if kind == "sqlite" and not (out / "study.db").is_file():
                continue
            try:
                study = optuna.load_study(study_name=name, storage=storage_url)
            except KeyError:
                continue
            for t in study.get_trials(states=(TrialState.RUNNING,)):
                if "worker" in t.user_attrs:  # it has started its 40 epochs: kill its worker at once
                    victim = t
                    break
        os.kill(int(victim.user_attrs["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "killed by signal 9" in stderr
    trials = _check_study(optuna.load_study(study_name=name, storage=storage_url), 4)
    by_number = {t.number: t for t in trials}
    assert by_number[victim.number].state == TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == victim.number]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == victim.params  # the same genes, trained again by the other worker
    assert [t.number for t in trials if t.state == TrialState.FAIL] == [victim.number]
