"""The studio without its web stack: settings, the playground's network and script, the live feed,
the run manager and the look-inside analysis."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from axon.studio import live, recipe
from axon.studio import settings as S
from axon.studio.hub import EventLog, Latest
from axon.studio.inside import Inspected, digit_image
from axon.studio.playground import GRID, Playground
from axon.studio.trainer import RunManager, check_options, command_for

pytestmark = pytest.mark.timeout(120)


# -- settings ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("values, message", [
    ({"layers": "4,-3"}, "layers: width -3 is not a whole number from 1 to 16"),
    ({"layers": "4,x"}, "layers: width x"),
    ({"layers": "1,1,1,1,1,1,1"}, "at most 6 hidden layers"),
    ({"lr": "abc"}, "lr: expected a number"),
    ({"lr": "0"}, "lr: the learning rate must be > 0"),
    ({"lr": "nan"}, "lr: expected a number"),
    ({"batch": "2.5"}, "batch: expected a whole number"),
    ({"noise": 80}, "noise: expected a number from 0 to 50"),
    ({"dataset": "plane"}, "dataset: 'plane' is not one of circle"),
    ({"features": ""}, "features: choose at least one"),
    ({"features": "x1,x9"}, "features: 'x9' is not one of"),
    ({"acts": "relu,swish"}, "acts: 'swish'"),
    ({"width": 3}, "unknown setting 'width'"),
    ({"dropout": True}, "dropout: expected a number"),
    ({"hide": "data,menu"}, "hide: 'menu'"),
])
def test_bad_settings_say_what_is_wrong(values, message):
    with pytest.raises(ValueError) as e:
        S.parse(values)
    assert message in str(e.value)


def test_settings_from_a_url_and_back():
    s = S.parse({"dataset": "spiral", "classes": "3", "layers": "8,8,4", "acts": "relu", "lr": "0.1",
                 "features": "x2,x1", "hide": "all", "problem": "classification"})
    assert s.layers == (8, 8, 4) and s.acts == ("relu", "relu", "relu")  # one activation repeats
    assert s.features == ("x1", "x2")  # the page's order
    assert s.hide == S.PANELS and s.n_classes == 3 and s.lr == 0.1
    assert S.parse(s.to_query()) == s
    assert S.parse({"problem": "regression"}).dataset == "plane"  # circle is not a regression set
    assert S.parse({"layers": ""}).layers == ()


@settings(max_examples=30, deadline=None)
@given(layers=st.lists(st.integers(1, 16), max_size=6), lr=st.floats(1e-5, 10), seed=st.integers(0, 2**31 - 1),
       feats=st.sets(st.sampled_from(list(S.FEATURES)), min_size=1))
def test_any_valid_settings_round_trip_through_the_url(layers, lr, seed, feats):
    s = S.parse({"layers": ",".join(map(str, layers)), "lr": lr, "seed": seed, "features": ",".join(feats)})
    assert S.parse(s.to_query()) == s


def test_restart_needed_only_for_data_and_shape():
    s = S.Settings()
    assert not s.restart_needed(S.parse({"lr": 0.3, "acts": "relu", "l2": 0.01, "batch": 3}, s))
    assert s.restart_needed(S.parse({"layers": "3"}, s))
    assert s.restart_needed(S.parse({"seed": 9}, s))


# -- the network and the script --------------------------------------------------------------------------
CASES = [
    {"dataset": "spiral", "classes": 3, "layers": "8,8", "acts": "tanh,relu", "features": "x1,x2,x1sq,sin2",
     "noise": 10, "dropout": 0.2, "l2": 0.001, "optimizer": "adam", "lr": 0.01, "batch": 7},
    {"problem": "regression", "dataset": "gaussians", "layers": "5", "acts": "sigmoid", "optimizer": "momentum",
     "l1": 0.001},
    {"dataset": "moons", "layers": "", "optimizer": "rmsprop"},
    {"dataset": "xor", "layers": "3", "acts": "leaky_relu", "optimizer": "adagrad", "ratio": 30},
    {"dataset": "circle", "layers": "2", "acts": "linear", "features": "x1sq,x2sq,x1x2"},
    {"dataset": "gaussians", "classes": 2, "noise": 50},
]


@pytest.mark.parametrize("values", CASES)
def test_exported_script_computes_the_same_weights(values):
    pg = Playground(S.parse(values), autostart=False)
    for _ in range(2):
        pg.handle("step", {"what": "epoch"})
    assert pg.epoch == 2 and pg.step == 2 * -(-pg.settings.n_train // pg.settings.batch)
    source = pg.handle("export_script", {"query": "dataset=" + pg.settings.dataset})
    ns: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(source, "playground.py", "exec"), ns)
    assert "after 2 epochs" in out.getvalue()
    theirs = [layer for layer in ns["model"].layers if hasattr(layer, "weight")]
    assert len(theirs) == len(pg.dense)
    for a, b in zip(pg.dense, theirs):
        np.testing.assert_array_equal(a.weight.data, b.weight.data)
        np.testing.assert_array_equal(a.bias.data, b.bias.data)
    np.testing.assert_array_equal(ns["X_train"], pg.F_train)


def test_exported_model_file_loads_and_predicts_like_the_playground(tmp_path):
    pg = Playground(S.parse({"dataset": "xor", "layers": "4", "features": "x1,x2,x1x2"}), autostart=False)
    pg.handle("step", {"what": "epoch"})
    path = tmp_path / "playground.axon"
    path.write_bytes(pg.handle("export_model", {}))
    model = ax.load(path)
    probs = model.predict(pg.F_test)
    z = pg.model.forward(pg.F_test)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-z)), rtol=1e-5, atol=1e-6)


def test_one_seed_one_network():
    a = Playground(S.parse({"seed": 5, "layers": "6,3"}), autostart=False)
    b = Playground(S.parse({"seed": 5, "layers": "6,3"}), autostart=False)
    c = Playground(S.parse({"seed": 6, "layers": "6,3"}), autostart=False)
    np.testing.assert_array_equal(a.dense[0].weight.data, b.dense[0].weight.data)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.dense[0].weight.data, c.dense[0].weight.data)


def test_playground_learns_the_circle_with_squared_features():
    pg = Playground(S.parse({"dataset": "circle", "features": "x1sq,x2sq", "layers": "3", "lr": 0.3}),
                    autostart=False)
    first = pg._losses()["test_loss"]
    for _ in range(40):
        pg.handle("step", {"what": "epoch"})
    losses = pg._losses()
    assert losses["test_loss"] < first / 3 and losses["test_acc"] > 0.95


def test_live_settings_keep_the_weights_and_shape_settings_start_again():
    pg = Playground(S.parse({"layers": "4,4"}), autostart=False)
    pg.handle("step", {"what": "batch"})
    w = pg.dense[0].weight.data.copy()
    gen = pg.generation
    pg.handle("set", {"settings": pg.check({"lr": 0.3, "acts": "relu,sigmoid", "l1": 0.01, "dropout": 0.3})})
    assert pg.opt.lr == 0.3 and pg.generation == gen and pg.step == 1
    np.testing.assert_array_equal(pg.dense[0].weight.data, w)
    kinds = [type(layer).__name__ for layer in pg.model.layers]
    assert kinds == ["Dense", "ReLU", "Dropout", "Dense", "Sigmoid", "Dropout", "Dense"]
    assert all(d.l1 == 0.01 for d in pg.dense)
    pg.handle("set", {"settings": pg.check({"dropout": 0.5})})
    assert [layer.p for layer in pg.model.layers if type(layer).__name__ == "Dropout"] == [0.5, 0.5]
    pg.handle("set", {"settings": pg.check({"optimizer": "adam"})})
    assert type(pg.opt).__name__ == "Adam" and pg.model.optimizer is pg.opt
    pg.handle("step", {"what": "batch"})
    assert pg.step == 2
    pg.handle("set", {"settings": pg.check({"layers": "3"})})
    assert pg.generation == gen + 1 and pg.step == 0 and pg.dense[0].weight.data.shape == (2, 3)
    data_version = pg.data_version
    pg.handle("reset", {})
    assert pg.generation == gen + 2 and pg.data_version == data_version


def test_step_epoch_finishes_the_epoch_and_reset_gives_the_first_network():
    pg = Playground(S.parse({"batch": 30, "points": 200, "ratio": 50}), autostart=False)
    first = pg.dense[0].weight.data.copy()
    pg.handle("step", {"what": "batch"})
    pg.handle("step", {"what": "epoch"})
    assert (pg.epoch, pg.step, pg.pos) == (1, 4, 100)  # 100 points: batches of 30, 30, 30, 10
    pg.handle("reset", {})
    assert pg.step == 0
    np.testing.assert_array_equal(pg.dense[0].weight.data, first)


def test_divergence_pauses_with_a_message():
    pg = Playground(S.parse({"problem": "regression", "lr": 10, "layers": "8,8", "acts": "relu"}), autostart=False)
    pg.playing = True
    for _ in range(200):
        pg._train_step()
        if pg.error:
            break
    assert not pg.playing and "lower the learning rate" in pg.error
    json.dumps(pg.frame(), allow_nan=False)  # still a valid frame


def test_a_command_and_its_frame_compute_the_losses_once(monkeypatch):
    pg = Playground(S.parse({"layers": "4,4"}), autostart=False)
    calls = []
    real = pg._losses
    monkeypatch.setattr(pg, "_losses", lambda: calls.append(1) or real())
    for command, payload in [("step", {"what": "batch"}), ("pause", {}),
                             ("set", {"settings": pg.check({"acts": "relu,sigmoid"})}), ("reset", {})]:
        calls.clear()
        pg.handle(command, payload)  # records the losses on the curve
        frame = pg.frame()           # then the thread publishes them
        assert len(calls) <= 1, command
        assert {k: frame[k] for k in real()} == real(), command  # and they are those of the network now


def test_a_frame_holds_every_neuron():
    pg = Playground(S.parse({"layers": "8,8", "features": "x1,x2,sin1", "dataset": "spiral", "classes": 3}),
                    autostart=False)
    f = pg.frame()
    assert [len(c) for c in f["columns"]] == [3, 8, 8, 3]
    import base64
    assert len(base64.b64decode(f["columns"][1][0])) == (GRID // 2) ** 2
    assert len(base64.b64decode(f["columns"][-1][0])) == GRID ** 2
    assert np.array(f["weights"][0]).shape == (3, 8) and f["settings"]["classes"] == 3
    points = pg.points()
    assert len(points["train"]) == pg.settings.n_train and len(points["test"]) == 400 - pg.settings.n_train


def test_the_thread_plays_publishes_and_pauses_itself():
    pg = Playground(S.parse({"layers": "8,8", "speed": 0}))
    try:
        async def watch(n):
            frames = []
            async for item in pg.frames.follow():
                frames.append(json.loads(item[2]))
                if len(frames) == 1:
                    pg.submit("play")
                if len(frames) >= n:
                    return frames

        import asyncio
        frames = asyncio.run(asyncio.wait_for(watch(6), 30))
        assert frames[-1]["status"] == "playing" and frames[-1]["step"] > frames[0]["step"]
        pg.submit("pause").result(10)
        step = pg.step
        time.sleep(0.2)
        assert pg.step == step
        bad = pg.submit("nonsense")
        with pytest.raises(ValueError, match="unknown command"):
            bad.result(10)
        assert pg.submit("step", what="batch").result(10) is None and pg.step == step + 1
    finally:
        pg.close()


def test_recipe_features_cover_every_setting():
    assert set(recipe.FEATURE_CODE) == set(S.FEATURES)
    X = np.array([[0.5, -1.0]])
    F = recipe.feature_matrix(X, tuple(S.FEATURES))
    np.testing.assert_allclose(F[0], [0.5, -1, 0.25, 1, -0.5, 1, 0], atol=1e-12)


# -- the hub ------------------------------------------------------------------------------------------------------
def test_latest_skips_to_the_newest_and_log_keeps_everything():
    import asyncio

    async def main():
        latest, log = Latest(), EventLog()
        for k in range(5):
            latest.publish(k)
        got = []
        async for v in latest.follow():
            got.append(v)
            if v == 4:
                threading.Thread(target=latest.publish, args=(99,)).start()
            if v == 99:
                break
        log.extend([1, 2])
        batches = []

        async def read():
            async for events in log.follow():
                batches.append(events)
                if sum(map(len, batches)) >= 4:
                    return

        task = asyncio.create_task(read())
        await asyncio.sleep(0.01)
        threading.Thread(target=log.extend, args=([3, 4],)).start()
        await asyncio.wait_for(task, 5)
        return got, batches, latest.readers

    got, batches, readers = asyncio.run(main())
    assert got == [4, 99] and [e for b in batches for e in b] == [1, 2, 3, 4] and readers == 0


# -- the live feed and axon train --studio ---------------------------------------------------------------------------
def _digits_model():
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 16), ax.ReLU(), ax.Dense(16, 10))
    model.compile(loss="cross_entropy", optimizer=ax.optim.SGD(lr=0.1), metrics=["accuracy"])
    return model


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


def _begin(run_dir):
    events, _ = live.read_events(run_dir / live.LIVE_FILE)
    return next((e for e in events if e["type"] == "begin"), None)


def test_feed_pauses_changes_lr_and_stops_a_fit(tmp_path, monkeypatch):
    monkeypatch.setattr(live, "CONTROL_SECONDS", 0.0)
    (X, y), _ = ax.datasets.load_digits()
    model = _digits_model()
    feed = live.StudioFeed(tmp_path)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("h", model.fit(
        X, y, epochs=1000, batch_size=8, verbose=0, callbacks=[feed])))
    t.start()
    begin = _wait(lambda: _begin(tmp_path))
    session = begin["session"]
    live.write_control(tmp_path, session, 1, paused=True, stop=False, lr=0.01)
    _wait(lambda: feed.paused)
    assert model.optimizer.lr == 0.01
    time.sleep(0.3)
    epochs_paused = [e for e in live.read_events(tmp_path / live.LIVE_FILE)[0] if e["type"] == "epoch"]
    time.sleep(0.3)
    assert [e for e in live.read_events(tmp_path / live.LIVE_FILE)[0] if e["type"] == "epoch"] == epochs_paused
    live.write_control(tmp_path, "another-session", 5, paused=False, stop=True, lr=None)  # ignored
    time.sleep(0.2)
    assert feed.paused and not feed.stopped
    live.write_control(tmp_path, session, 2, paused=False, stop=False, lr=None)
    _wait(lambda: not feed.paused)
    live.write_control(tmp_path, session, 3, paused=False, stop=True, lr=None)
    t.join(30)
    history = result["h"]
    assert history.interrupted and feed.stopped and len(history.epoch) < 1000
    events, _ = live.read_events(tmp_path / live.LIVE_FILE)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "control" in kinds
    assert events[-1]["stopped"] is True
    controls = [e for e in events if e["type"] == "control"]
    assert controls[0]["paused"] is True and controls[0]["lr"] == 0.01
    epochs = [e for e in events if e["type"] == "epoch"]
    assert all(e["seconds"] >= 0 and "loss" in e["logs"] for e in epochs)


def test_read_events_leaves_a_half_written_line(tmp_path):
    path = tmp_path / live.LIVE_FILE
    path.write_bytes(b'{"type": "begin"}\nnot json\n{"type": "ep')
    events, offset = live.read_events(path)
    assert events == [{"type": "begin"}] and offset == len(b'{"type": "begin"}\nnot json\n')
    with open(path, "ab") as f:
        f.write(b'och", "epoch": 0}\n')
    more, _ = live.read_events(path, offset)
    assert more == [{"type": "epoch", "epoch": 0}]


def test_axon_train_studio_stop_writes_model_and_report(tmp_path, monkeypatch):
    from axon.cli.main import main

    monkeypatch.setattr(live, "CONTROL_SECONDS", 0.0)
    out = tmp_path / "run"
    status = {}
    t = threading.Thread(target=lambda: status.setdefault("rc", main(
        ["train", "--studio", "--quiet", "--epochs", "500", "--layers", "16", "--out", str(out)])))
    t.start()
    begin = _wait(lambda: _begin(out) if out.is_dir() else None)
    _wait(lambda: any(e["type"] == "epoch" for e in live.read_events(out / live.LIVE_FILE)[0]))
    live.write_control(out, begin["session"], 1, paused=False, stop=True, lr=None)
    t.join(60)
    assert status["rc"] == 0
    for name in ("model.axon", "checkpoint.axon", "metrics.json", "history.csv", "report.html", "run.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert 1 <= metrics["epochs_run"] < 500


# -- the run manager ---------------------------------------------------------------------------------------------------
def test_check_options_uses_the_command_lines_rules(tmp_path):
    cfg = check_options({"lr": "0.01", "layers": "32", "epochs": "3", "grad_stats": "true", "seed": ""})
    assert cfg == {"lr": 0.01, "layers": "32", "epochs": 3, "grad_stats": True}
    for options, message in [({"lr": "abc"}, "lr: expected a number"), ({"epochs": "-3"}, "epochs"),
                             ({"width": "3"}, "unknown option 'width'"), ({"dataset": "cifar"}, "unknown data set"),
                             ({"dataset": f"csv:{tmp_path}/none.csv", "target": "y"}, "no such CSV file")]:
        with pytest.raises(ValueError, match=message):
            check_options(options)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    with pytest.raises(ValueError, match="line 3"):
        check_options({"dataset": f"csv:{bad}", "target": "b"})
    cmd = command_for({"lr": 0.01, "grad_stats": True}, tmp_path / "r")
    assert cmd[-4:] == ["--lr", "0.01", "--grad-stats", "true"] and "--studio" in cmd


def test_check_options_reads_a_csv_file_with_the_runs_delimiter_and_dropped_columns(tmp_path):
    table = tmp_path / "semi.csv"
    table.write_text("name;a;b\n" + "".join(f"row {i};{i};{i % 2}\n" for i in range(30)))
    options = {"dataset": f"csv:{table}", "target": "b", "delimiter": ";", "drop": "name"}
    cfg = check_options(options)  # a ';' file whose text column is dropped: as axon train reads it
    assert cfg["drop"] == ["name"] and cfg["delimiter"] == ";"
    with pytest.raises(ValueError, match="column .name.: non-numeric"):  # the text column kept: axon train refuses it
        check_options({**options, "drop": ""})
    cmd = command_for(cfg, tmp_path / "r")
    assert cmd[cmd.index("--drop") + 1] == "name" and cmd[cmd.index("--delimiter") + 1] == ";"
    two = command_for({**cfg, "drop": ["name", "a"]}, tmp_path / "r")
    assert two[two.index("--drop") + 1] == "name,a"


def _fake_run(folder: Path, events: list[dict], history: bool = False) -> Path:
    from axon import runs

    folder.mkdir(parents=True)
    runs.write_json(folder / runs.RUN_INFO_FILE, {"config": {"epochs": 3, "dataset": "digits"}})
    if events:
        (folder / live.LIVE_FILE).write_text("".join(json.dumps(e) + "\n" for e in events))
    if history:
        ax.callbacks.CSVLogger.write(folder / runs.HISTORY_FILE, {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]})
    return folder


def test_manager_finds_runs_and_derives_their_state(tmp_path):
    import os

    alive = {"type": "begin", "session": "s1", "pid": os.getpid(), "epochs": 3, "steps": 10, "history": {}}
    _fake_run(tmp_path / "a-live", [alive, {"type": "epoch", "epoch": 0, "logs": {"loss": 1.0, "lr": 0.1},
                                            "seconds": 0.5}])
    _fake_run(tmp_path / "b-dead", [{**alive, "pid": 2**22 + 12345}])
    _fake_run(tmp_path / "c-past", [], history=True)
    _fake_run(tmp_path / "d-done", [alive, {"type": "end", "interrupted": False, "stopped": False}])
    (tmp_path / "d-done" / "report.html").write_text("<html></html>")
    (tmp_path / "not-a-run").mkdir()
    manager = RunManager(tmp_path)
    manager.poll()
    states = {r["name"]: r for r in manager.list()}
    assert set(states) == {"a-live", "b-dead", "c-past", "d-done"}
    assert states["a-live"]["state"] == "running" and states["a-live"]["epochs_done"] == 1
    assert states["a-live"]["lr"] == 0.1
    assert states["b-dead"]["state"] == "failed"
    assert states["c-past"]["state"] == "past" and states["c-past"]["epochs_done"] == 2
    assert states["d-done"]["state"] == "finished" and states["d-done"]["report"]
    run = manager.get(states["a-live"]["id"])
    manager.control(run.id, "pause")
    control = json.loads((tmp_path / "a-live" / live.CONTROL_FILE).read_text())
    assert control["session"] == "s1" and control["paused"] is True and control["lr"] is None
    manager.control(run.id, "lr", "0.5")
    assert json.loads((tmp_path / "a-live" / live.CONTROL_FILE).read_text())["lr"] == 0.5
    with pytest.raises(ValueError, match="lr: expected a number"):
        manager.control(run.id, "lr", "fast")
    with pytest.raises(ValueError, match="the run is finished"):
        manager.control(states["d-done"]["id"], "stop")
    with pytest.raises(ValueError, match="action"):
        manager.control(run.id, "explode")
    # new events arrive on the next poll, and the page's log gets them
    with open(tmp_path / "a-live" / live.LIVE_FILE, "a") as f:
        f.write(json.dumps({"type": "control", "paused": True, "lr": 0.5, "stopping": False}) + "\n")
    manager.poll()
    assert manager.get(run.id).summary()["state"] == "paused"
    assert [e["type"] for e in run.events.snapshot()].count("control") == 1
    with pytest.raises(ValueError, match="not a run folder"):
        manager.attach(str(tmp_path / "not-a-run"))
    assert manager.attach(str(tmp_path / "a-live")).id == run.id


def test_manager_starts_axon_train_and_reports_its_error(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    manager = RunManager(tmp_path / "runs")
    with pytest.raises(ValueError, match="--model cnn needs image data"):  # the data, read as the run reads it
        manager.start({"dataset": f"csv:{table}", "target": "y", "model": "cnn"})
    run = manager.start({"dataset": f"csv:{table}", "target": "y", "activation": "nonsense"})  # fails in axon train
    assert run.summary()["source"] == "page"
    _wait(lambda: (manager.poll(), manager.get(run.id).state == "failed")[1], timeout=60)
    assert "axon: error: --activation" in (manager.get(run.id).message or "")


# -- looking inside ----------------------------------------------------------------------------------------------------
def test_digit_image_centres_the_ink():
    grid = np.zeros((64, 64))
    grid[2:20, 2:8] = 1.0  # a bar in the top-left corner
    img = digit_image(grid, 28, 28)
    assert img.shape == (28, 28) and img.max() > 0.9
    rows, cols = np.indices(img.shape)
    cy, cx = (rows * img).sum() / img.sum(), (cols * img).sum() / img.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1
    assert img[:, :4].sum() == 0  # MNIST's margin
    small = digit_image(grid, 8, 8)
    assert small.shape == (8, 8) and small[0].sum() > 0 and small[-1].sum() > 0  # fills the height
    for bad in ([[0, 2], [0, 0]], np.zeros((3, 4)), [["a"]], np.zeros((200, 200))):
        with pytest.raises(ValueError, match="pixels"):
            digit_image(bad, 8, 8)


def test_analyse_shows_every_layer_and_switching_units_off(tmp_path):
    (X, y), _ = ax.datasets.load_digits()
    model = _digits_model()
    model.fit(X, y, epochs=3, batch_size=32, verbose=0)
    inspected = Inspected(model, {"image_shape": [8, 8], "class_names": [str(k) for k in range(10)]}, "m")
    assert inspected.image == (1, 8, 8)
    desc = inspected.describe()
    assert [d["units"] for d in desc["layers"]] == [None, 16, None]
    pixels = np.kron(X[0].reshape(8, 8), np.ones((8, 8)))  # the first digit drawn on a 64x64 grid
    r = inspected.analyse({"pixels": pixels.tolist(), "mode": "image", "label": 3})
    assert r["label"] == 3 and len(r["probabilities"]) == 10 and abs(sum(r["probabilities"]) - 1) < 1e-4
    assert [layer["name"] for layer in r["layers"]] == ["dense_1", "relu_1", "dense_2"]
    t = ax.trace(model, model.loss, X[:1].astype(np.float32), np.array([3]))
    np.testing.assert_allclose(r["loss"], t.loss, rtol=1e-4)
    grads = [p.grad.copy() for p in model.parameters()]
    off = inspected.analyse({"pixels": pixels.tolist(), "mode": "image", "label": 3, "off": {"relu_1": list(range(16))}})
    # with every hidden unit off, the output is the last layer's bias alone
    bias = model.layers[-1].bias.data.astype(np.float64)
    expected = np.exp(bias - bias.max()) / np.exp(bias - bias.max()).sum()
    np.testing.assert_allclose(off["probabilities"], expected, atol=1e-4)
    import base64
    relu = off["layers"][1]
    assert relu["off"] == list(range(16)) and not any(base64.b64decode(relu["values"]))
    assert not any(base64.b64decode(relu["delta"]))
    assert any(base64.b64decode(off["layers"][0]["values"]))  # dense_1 itself is untouched
    for p, g in zip(model.parameters(), grads):  # the model is left as it was
        np.testing.assert_array_equal(p.grad, g)
    for request, message in [({"pixels": pixels.tolist(), "off": {"dense_1": [0]}}, "cannot be switched off"),
                             ({"pixels": pixels.tolist(), "off": {"relu_1": [99]}}, "units 0..15"),
                             ({"pixels": pixels.tolist(), "off": {"nope": [1]}}, "no layer named"),
                             ({"pixels": pixels.tolist(), "label": 12}, "label"),
                             ({}, "send pixels")]:
        with pytest.raises(ValueError, match=message):
            inspected.analyse(request)


def test_analyse_a_cnn_switches_channels_off():
    from axon.architectures import build_model

    ax.set_seed(0)
    model = build_model("conv4x3,maxpool2,8", (1, 8, 8), 10, kind="cnn")
    model.compile(loss="cross_entropy")
    inspected = Inspected(model, None, "cnn")
    assert inspected.image == (1, 8, 8)
    conv_act = next(d for d in inspected.describe()["layers"] if d["kind"] == "ReLU")
    assert conv_act["units"] == 4 and conv_act["shape"] == [4, 8, 8]
    grid = np.zeros((16, 16))
    grid[2:14, 7:9] = 1.0
    r = inspected.analyse({"pixels": grid.tolist(), "off": {conv_act["name"]: [1, 3]}})
    import base64
    layer = next(lay for lay in r["layers"] if lay["name"] == conv_act["name"])
    maps = np.frombuffer(base64.b64decode(layer["values"]), dtype=np.int8).reshape(4, 8, 8)
    assert not maps[1].any() and not maps[3].any() and layer["off"] == [1, 3]


def test_a_closed_playground_answers_instead_of_hanging():
    pg = Playground(S.Settings())
    pg.close()
    with pytest.raises(ValueError, match="closed"):
        pg.submit("play").result(5)


def test_analyse_a_table_model():
    model = ax.Sequential(ax.Dense(3, 4), ax.Tanh(), ax.Dense(4, 1))
    model.compile(loss="mse")
    inspected = Inspected(model, {"task": "regression", "feature_names": ["a", "b", "c"]}, "table")
    assert inspected.image is None and inspected.describe()["features"] == ["a", "b", "c"]
    r = inspected.analyse({"inputs": [1, 2, 3], "target": 0.5})
    assert r["prediction"] is None and len(r["probabilities"]) == 1
    with pytest.raises(ValueError, match="takes 3 numbers"):
        inspected.analyse({"inputs": [1, 2]})


def test_analyse_a_standardised_model_predicts_as_the_model_does():
    # a CSV run standardises its features: the Inside page must apply that once, as predict does
    rng = np.random.default_rng(0)
    X = rng.normal(loc=50.0, scale=10.0, size=(200, 3))
    y = (X[:, 0] + X[:, 1] > 100).astype(np.int64) + (X[:, 2] > 55)
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(3, 8), ax.ReLU(), ax.Dense(8, 3))
    model.preprocessor = ax.preprocessing.Standardizer().fit(X)
    model.compile(loss="cross_entropy", optimizer=ax.optim.Adam(lr=0.05))
    model.fit(X, y, epochs=5, batch_size=32, verbose=0)
    inspected = Inspected(model, {"task": "classification", "feature_names": ["a", "b", "c"]}, "csv")
    for row in X[:20]:
        r = inspected.analyse({"inputs": row.tolist()})
        expected = model.predict(row[None])[0]
        np.testing.assert_allclose(r["probabilities"], expected, atol=1e-4)
        assert r["prediction"] == int(np.argmax(expected)) == r["label"]


# -- packaging and the command line ---------------------------------------------------------------------------------------
def test_import_axon_does_not_import_the_web_stack():
    code = ("import sys, axon, axon.studio, axon.studio.live, axon.studio.playground; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'websockets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_static_files_are_in_the_package():
    import axon.studio

    static = Path(axon.studio.__file__).parent / "static"
    for name in ["index.html", "playground.html", "train.html", "inside.html", "common.js", "playground.js", "train.js", "inside.js", "studio.css"]:
        text = (static / name).read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text  # no CDN


def test_studio_without_its_extra_names_the_install_command(monkeypatch, capsys):
    import builtins

    from axon.cli.main import main

    real = builtins.__import__

    def no_starlette(name, *args, **kwargs):
        if name.split(".")[0] == "starlette":
            raise ImportError("No module named 'starlette'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_starlette)
    assert main(["studio", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert 'pip install -e ".[studio]"' in err and err.count("\n") == 1
    from axon import studio

    for kind in (ImportError, ValueError):  # an import error, and one a user fixes (printed as one line)
        with pytest.raises(kind, match="starlette"):
            studio.require()


def test_studio_on_a_port_in_use_is_one_line(capsys):
    import socket

    from axon.cli.main import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["studio", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert "choose another with --port" in err and err.count("\n") == 1


def test_the_docs_playground_links_are_valid_settings():
    import re
    from urllib.parse import parse_qsl

    docs = Path(__file__).resolve().parents[1] / "docs"
    links = [m for name in ("course.md", "studio.md")
             for m in re.findall(r"/playground#([^)\s`]+)", (docs / name).read_text(encoding="utf-8"))]
    assert len(links) >= 10
    for link in links:
        S.parse(dict(parse_qsl(link, keep_blank_values=True)))  # raises on a bad key or value


def test_a_studio_that_stops_sends_its_runs_one_ctrl_c(tmp_path):
    manager = RunManager(tmp_path / "runs")
    run = manager.start({"epochs": "100000", "layers": "8"})
    _wait(lambda: (manager.poll(), manager.get(run.id).begun)[1], timeout=90)
    manager.shutdown(timeout=60)
    assert run.process.returncode == 130  # interrupted, as Ctrl-C on the command line
    assert (run.path / "checkpoint.axon").is_file()
    assert json.loads((run.path / "metrics.json").read_text())["status"] == "interrupted"  # as the CLI writes it
    manager.poll()
    assert manager.get(run.id).summary()["state"] == "interrupted"
