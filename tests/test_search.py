"""ax.search and `axon evolve` on one machine, one process: the search beats the default MLP, its
results are consistent with its files, bad spaces and bad URLs get one clear error, resume
continues the trial count. (Several workers, kill -9 and PostgreSQL: test_search_workers.py.)"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import numpy as np
import pytest

optuna = pytest.importorskip("optuna", reason="ax.search needs Optuna: pip install -e '.[search]'")

import axon as ax  # noqa: E402
from axon.cli.main import main  # noqa: E402
from axon.search import Architecture, SearchSpace, Settings, evolve  # noqa: E402
from axon.search.trial import data_loss  # noqa: E402

#: A small space around the default MLP: 1-2 hidden layers, Adam, the usual regularisers.
SMALL = SearchSpace(depth=(1, 2), units=(32, 64, 128), activations=("relu", "tanh"), dropout=(0.0, 0.3),
                    batch_norm=(False, True), optimizers=("adam",), lr=(1e-3, 1e-2), batch_size=(32, 64),
                    l2=(0.0, 1e-4))


def _finished(study):
    return study.get_trials(states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))


@pytest.fixture(scope="module")
def default_mlp(tmp_path_factory):
    """`axon train` with its defaults on the digits: figures and parameter count."""
    out = tmp_path_factory.mktemp("default") / "run"
    assert main(["train", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    model = ax.load(out / "model.axon")
    return {"val_loss": metrics["val"]["loss"], "test_accuracy": metrics["test"]["accuracy"],
            "params": int(sum(p.data.size for p in model.parameters()))}


@pytest.fixture(scope="module")
def digits_search(tmp_path_factory):
    """NSGA-II on the digits: 8 x 3 generations in SMALL, 20 epochs per trial, seed 0."""
    (X, y), (Xt, yt) = ax.datasets.load_digits()
    out = tmp_path_factory.mktemp("search") / "run"
    result = evolve(X, y, space=SMALL, test_data=(Xt, yt), population=8, generations=3, epochs=20, seed=0,
                    out=out, verbose=0)
    return result, (X, y), (Xt, yt)


def test_the_search_beats_the_default_mlp_in_validation_loss_or_size(digits_search, default_mlp):
    result, _, _ = digits_search
    assert len(_finished(result.study)) == 24
    assert result.front and result.best is result.front[0]
    wins = [r for r in result.front
            if r.val_loss < default_mlp["val_loss"]
            or (r.val_loss <= default_mlp["val_loss"] + 0.01 and r.params < default_mlp["params"])]
    assert wins, (f"no trial beats the default MLP (val loss {default_mlp['val_loss']:.4f}, "
                  f"{default_mlp['params']} params): front {[(r.val_loss, r.params) for r in result.front]}")
    assert result.best.test["accuracy"] > 0.9


def test_each_front_model_file_gives_the_recorded_figures(digits_search):
    result, _, (Xt, yt) = digits_search
    for r in result.front:
        model = r.load_model()
        assert r.params == sum(p.data.size for p in model.parameters())
        np.testing.assert_allclose(data_loss(model, Xt, yt)["loss"], r.test["loss"], rtol=1e-6)
        assert set(r.history) >= {"loss", "val_loss", "accuracy", "val_accuracy"}
        assert len(r.history["val_loss"]) == r.figures["epochs_run"]
    # the front is Pareto-optimal: no finished trial is at least as good in both and better in one
    for r in result.front:
        for o in result.trials:
            assert not (o.values["val_loss"] <= r.values["val_loss"] and o.values["params"] <= r.values["params"]
                        and (o.values["val_loss"] < r.values["val_loss"] or o.values["params"] < r.values["params"])
                        and o.pruned_at is None)


def test_the_chosen_architecture_is_what_axon_train_trains(digits_search, tmp_path):
    result, _, _ = digits_search
    best = result.best
    command = best.architecture.train_command("digits", epochs=20, patience=5, seed=0)
    out = tmp_path / "again"
    assert main(shlex.split(command)[1:] + ["--out", str(out), "--quiet"]) == 0
    again, mine = ax.load(out / "model.axon"), best.load_model()
    for a, b in zip(again.parameters(), mine.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_run_folder_and_report(digits_search):
    result, _, _ = digits_search
    run = result.run_dir
    for name in ("study.db", "run.json", "metrics.json", "model.axon", "report.html"):
        assert (run / name).is_file(), name
    trial_dirs = sorted((run / "trials").iterdir())
    assert len(trial_dirs) >= len([r for r in result.trials if r.same_as is None])
    for d in trial_dirs:
        assert {p.name for p in d.iterdir()} >= {"model.axon", "history.csv", "run.json"}
    page = result.report.read_text(encoding="utf-8")
    for section in ("The chosen model", "Pareto front", "The best architecture of each generation",
                    "The population over the generations", "Parameter importances", "Every trial", "test acc"):
        assert section in page, section
    assert page.count("data:image/png;base64,") >= 4
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["trials"] == 24 and metrics["best"]["trial"] == result.best.number
    assert metrics["test"]["accuracy"] == pytest.approx(result.best.test["accuracy"])
    # the chosen model of the run folder is what `axon evaluate RUN/model.axon` reads, with its data
    assert main(["evaluate", str(run / "model.axon"), "--dataset", "digits"]) == 0


def test_random_and_tpe_modes_and_a_single_objective(tmp_path):
    (X, y), _ = ax.datasets.load_digits()
    tiny = SearchSpace(depth=(1, 1), units=(8, 16), activations=("relu",), dropout=(0.0, 0.0), batch_norm=(False,),
                       optimizers=("adam",), lr=(1e-3, 1e-2), batch_size=(64,), l2=(0.0,))
    for sampler, objectives in (("random", ("val_loss",)), ("tpe", ("val_accuracy", "params"))):
        result = evolve(X[:400], y[:400], space=tiny, sampler=sampler, objectives=objectives, population=3,
                        generations=2, epochs=3, out=tmp_path / sampler, verbose=0, report=False)
        assert len(_finished(result.study)) == 6
        assert [d.name for d in result.study.directions] == [o.upper() for o in
                                                             (Settings(objectives=objectives).directions)]
        assert result.best is not None


def test_regression_on_arrays(tmp_path):
    x, y = ax.datasets.make_curve("piecewise", 200, noise=0.05, seed=0)
    tiny = SearchSpace(depth=(1, 2), units=(4, 8), activations=("tanh", "relu"), dropout=(0.0, 0.0),
                       batch_norm=(False,), optimizers=("adam",), lr=(3e-3, 3e-2), batch_size=(32,), l2=(0.0,))
    result = evolve(x, y[:, 0], space=tiny, population=2, generations=2, epochs=5, out=tmp_path / "r", verbose=0)
    assert result.study.user_attrs["axon_settings"]["task"] == "regression"
    assert all("val_mae" in r.figures for r in result.trials)
    with pytest.raises(ValueError, match="val_accuracy needs a classification"):
        evolve(x, y[:, 0], objectives=("val_accuracy",), out=tmp_path / "r2", verbose=0)


def test_axon_evolve_on_a_csv_table_with_batch_norm(tmp_path):
    """CSV data as `axon train` reads them (standardised features, a regression target); Dense
    layers with BatchNorm on 5 features, which are no image."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * rng.normal(size=200)
    rows = ["id,a,b,c,d,e,target"] + [f"{i}," + ",".join(f"{v:.5f}" for v in (*X[i], y[i])) for i in range(200)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    assert main(["evolve", "--dataset", f"csv:{tmp_path / 't.csv'}", "--target", "target", "--population", "2",
                 "--generations", "1", "--epochs", "3", "--batch-norm", "true", "--out", str(out), "--quiet",
                 "--no-report"]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["task"] == "regression" and info["settings"]["standardize"] is True
    model = ax.load(out / "model.axon")
    assert model.preprocessor is not None
    assert any(type(layer).__name__ == "BatchNorm1d" for layer in model.layers)


# -- the search space ----------------------------------------------------------------------------------
def test_random_trials_build_networks_that_fit_the_data():
    space = SearchSpace(depth=(0, 3), per_layer_activation=True, conv_blocks=(0, 2), filters=(4, 8))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    x = np.zeros((3, 64), np.float32)
    for _ in range(25):
        arch = space.suggest(study.ask())
        model = arch.build((64,), 10)
        assert model.forward(x).shape == (3, 10)
        tokens = arch.layers.split(",") if arch.layers else []
        assert arch.layers.count("maxpool2") <= 2
        assert len(arch.activations) == sum(t.isdigit() or t.startswith("conv") for t in tokens)
        acts = [type(layer).__name__.lower() for layer in model.layers if type(layer).__name__ in
                ("ReLU", "Tanh", "LeakyReLU", "Sigmoid")]
        assert acts == [a.replace("_", "") for a in arch.activations]  # one per block and layer, in order


def test_space_round_trips_and_reads_text():
    space = SearchSpace.from_dict({"depth": "1:4", "units": "16,32", "lr": "1e-4:1e-2", "batch-norm": "false",
                                   "l2": [0, 1e-4]})
    assert space.depth == (1, 4) and space.units == (16, 32) and space.lr == (1e-4, 1e-2)
    assert space.batch_norm == (False,) and space.l2 == (0.0, 1e-4)
    assert SearchSpace.from_dict(space.to_dict()) == space
    arch = Architecture("64,bn,32", ("relu", "relu"), 0.1, "adam", 3e-3, 64, 0.0, 1e-4)
    assert Architecture.from_dict(arch.to_dict()) == arch
    assert "--layers 64,bn,32" in arch.train_command() and arch.activation == "relu"


@pytest.mark.parametrize("fields, message", [
    ({"depth": (3, 1)}, "space.depth"),
    ({"depth": "one"}, "space.depth"),
    ({"activations": ("swish",)}, "space.activations"),
    ({"optimizers": ("adamax",)}, "space.optimizers"),
    ({"lr": (0, 1e-2)}, "space.lr"),
    ({"dropout": (0.0, 1.0)}, "space.dropout"),
    ({"units": (0, 8)}, "space.units"),
    ({"units": ()}, "space.units"),
    ({"batch_size": (16.5,)}, "space.batch_size"),
    ({"l2": (-1e-4,)}, "space.l2"),
    ({"widths": (8,)}, "unknown field 'widths'"),
])
def test_bad_spaces_get_one_clear_error(fields, message):
    with pytest.raises(ValueError, match=message):
        SearchSpace.from_dict(fields)


def test_a_space_that_does_not_fit_the_data_is_refused_before_any_trial(tmp_path):
    (X, y), _ = ax.datasets.load_digits()
    with pytest.raises(ValueError, match="does not fit samples of shape"):
        evolve(X, y, space=SearchSpace(conv_blocks=(0, 4)), out=tmp_path / "a", verbose=0)  # 8 -> 4 -> 2 -> 1 -> ?
    with pytest.raises(ValueError, match="does not fit samples of shape"):
        evolve(X[:, :10], y, space=SearchSpace(conv_blocks=(1, 1)), out=tmp_path / "b", verbose=0)
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"objectives": ("val_loss", "speed")}, "objectives must be"),
    ({"sampler": "cmaes"}, "sampler must be"),
    ({"crossover": "onepoint"}, "crossover must be"),
    ({"population": 1}, "population must be"),
    ({"mutation_prob": 2.0}, "mutation_prob"),
    ({"pruner": "hyperband"}, "pruner must be"),
    ({"workers": 0}, "workers must be"),
])
def test_bad_settings_get_one_clear_error(kwargs, message, tmp_path):
    (X, y), _ = ax.datasets.load_digits()
    with pytest.raises(ValueError, match=message):
        evolve(X, y, out=tmp_path / "run", verbose=0, **kwargs)


def test_workers_must_be_an_integer(tmp_path):
    (X, y), _ = ax.datasets.load_digits()
    with pytest.raises(TypeError, match="workers must be a positive integer, got 2.5"):
        evolve(X, y, out=tmp_path / "run", verbose=0, workers=2.5)


# -- storages ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url, message", [
    ("study.db", "is not a URL"),
    ("nosuchdb://host/db", "unknown kind of database"),
    ("postgresql://axon@127.0.0.1:1/axon", "cannot open the database"),
    ("sqlite:////no/such/folder/study.db", "does not exist"),
    ("journal:/no/such/folder/study.log", "does not exist"),
])
def test_bad_storage_urls_are_one_line_errors(url, message, tmp_path, capsys):
    status = main(["evolve", "--storage", url, "--study", "s", "--out", str(tmp_path / "run"), "--generations", "1",
                   "--population", "2"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("axon: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert message in err


def test_storage_without_study_name_is_refused(tmp_path, capsys):
    assert main(["evolve", "--storage", f"sqlite:///{tmp_path}/s.db", "--out", str(tmp_path / "run")]) == 2
    assert "--study NAME" in capsys.readouterr().err


def test_joining_a_study_with_other_settings_is_refused(tmp_path):
    (X, y), _ = ax.datasets.load_digits()
    tiny = SearchSpace(depth=(1, 1), units=(8,), activations=("relu",), dropout=(0.0, 0.0), batch_norm=(False,),
                       optimizers=("adam",), lr=(1e-3, 1e-2), batch_size=(64,), l2=(0.0,))
    url = f"sqlite:///{tmp_path}/shared.db"
    evolve(X[:300], y[:300], space=tiny, population=2, generations=1, epochs=2, storage=url, study="s",
           out=tmp_path / "one", verbose=0, report=False)
    with pytest.raises(ValueError, match="searches with other settings.*epochs"):
        evolve(X[:300], y[:300], space=tiny, population=2, generations=1, epochs=3, storage=url, study="s",
               out=tmp_path / "two", verbose=0, report=False)


def test_a_worker_that_joins_takes_the_study_settings_and_data_must_match(tmp_path, capsys):
    (X, y), _ = ax.datasets.load_digits()
    tiny = SearchSpace(depth=(1, 1), units=(8, 16), activations=("relu",), dropout=(0.0, 0.0), batch_norm=(False,),
                       optimizers=("adam",), lr=(1e-3, 1e-2), batch_size=(64,), l2=(0.0,))
    url = f"sqlite:///{tmp_path}/shared.db"
    evolve(X, y, space=tiny, population=2, generations=1, epochs=2, storage=url, study="s", out=tmp_path / "api",
           verbose=0, report=False)  # the digits and split of `axon train --seed 0`
    # only --storage and --study (and a larger budget): the space, epochs... come from the study
    assert main(["evolve", "--storage", url, "--study", "s", "--generations", "2", "--out", str(tmp_path / "cli"),
                 "--quiet", "--no-report"]) == 0
    study = optuna.load_study(study_name="s", storage=url)
    assert len(_finished(study)) == 4
    assert all(t.user_attrs["architecture"]["layers"] in ("8", "16") for t in study.trials)
    capsys.readouterr()
    assert main(["evolve", "--storage", url, "--study", "s", "--seed", "1", "--out", str(tmp_path / "other"),
                 "--quiet", "--no-report"]) == 2
    assert "scores its trials on other data" in capsys.readouterr().err


def test_journal_storage_and_continuing_a_study_from_the_api(tmp_path):
    (X, y), _ = ax.datasets.load_digits()
    tiny = SearchSpace(depth=(1, 1), units=(8, 16), activations=("relu",), dropout=(0.0, 0.0), batch_norm=(False,),
                       optimizers=("adam",), lr=(1e-3, 1e-2), batch_size=(64,), l2=(0.0,))
    kw = dict(space=tiny, population=2, epochs=2, storage=f"journal:{tmp_path}/study.log", study="j", verbose=0,
              report=False)
    first = evolve(X[:300], y[:300], generations=1, out=tmp_path / "one", **kw)
    assert len(_finished(first.study)) == 2
    second = evolve(X[:300], y[:300], generations=3, out=tmp_path / "two", **kw)
    numbers = sorted(t.number for t in _finished(second.study))
    assert numbers == list(range(6))
    trained_here = {int(d.name) for d in (tmp_path / "two" / "trials").iterdir()}
    for r in second.trials:  # each new trial trained here, or drew an earlier trial's network again
        assert (r.number in trained_here) == (r.number >= 2 and r.same_as is None), r


def test_resume_continues_the_trial_count(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["evolve", "--population", "2", "--epochs", "3", "--depth", "1:1", "--units", "8,16", "--quiet", "--no-report"]
    assert main([*base, "--generations", "1", "--out", str(out)]) == 0
    study = optuna.load_study(study_name="run", storage=f"sqlite:///{out}/study.db")
    before = {t.number: t.params for t in _finished(study)}
    assert sorted(before) == [0, 1]
    assert main(["evolve", "--resume", str(out), "--generations", "3", "--quiet", "--no-report"]) == 0
    after = {t.number: t.params for t in _finished(optuna.load_study(study_name="run", storage=f"sqlite:///{out}/study.db"))}
    assert sorted(after) == list(range(6))
    assert {n: after[n] for n in before} == before  # the first trials are kept as they were
    info = json.loads((out / "run.json").read_text())
    assert info["settings"]["generations"] == 3 and len(info["earlier_commands"]) == 1
    capsys.readouterr()
    assert main(["evolve", "--resume", str(out), "--epochs", "4"]) == 2
    assert "leave out --epochs" in capsys.readouterr().err


# -- the extra -----------------------------------------------------------------------------------------
def test_import_axon_does_not_import_optuna():
    code = "import sys, axon, axon.search; assert 'optuna' not in sys.modules and 'sqlalchemy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_optuna_the_error_names_the_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    (X, y), _ = ax.datasets.load_digits()
    with pytest.raises(ImportError, match=r'pip install -e "\.\[search\]"'):
        evolve(X, y, out=tmp_path / "run", verbose=0)
    assert main(["evolve", "--out", str(tmp_path / "cli")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and '[search]' in err
