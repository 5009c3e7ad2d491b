"""The studio's HTTP handlers and WebSockets, through Starlette's test client (no browser)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed (pip install -e \".[studio]\")")
try:
    from starlette.testclient import TestClient
except (ImportError, RuntimeError) as e:  # it needs httpx2 (the dev extra has it)
    pytest.skip(f"Starlette's test client is not usable: {e}", allow_module_level=True)

import axon as ax  # noqa: E402
from axon.studio import live  # noqa: E402
from axon.studio.app import create_app  # noqa: E402

pytestmark = pytest.mark.timeout(120)
#: Where the test client reaches the app: a loopback name, as a browser on this machine would.
HOST = "127.0.0.1:8765"
WS = f"ws://{HOST}"


@pytest.fixture
def client(tmp_path):
    app = create_app(tmp_path / "runs", max_upload_mb=1)
    with TestClient(app, base_url=f"http://{HOST}") as c:
        c.studio = app.state.studio
        yield c


def receive(ws, kind, limit=400):
    """The next message of type ``kind`` (earlier ones are skipped)."""
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == kind:
            return msg
        if msg["type"] == "error" and kind != "error":
            raise AssertionError(msg["message"])
    raise AssertionError(f"no {kind} message")


def frame_where(ws, predicate, limit=400):
    for _ in range(limit):
        msg = receive(ws, "frame")
        if predicate(msg):
            return msg
    raise AssertionError("no such frame")


# -- pages and info ------------------------------------------------------------------------------------------
def test_pages_and_static_files(client):
    for path, needle in [("/", "axon studio"), ("/playground", "playground.js"), ("/train", "train.js"),
                         ("/inside", "inside.js"), ("/static/common.js", "Studio.socket"),
                         ("/static/studio.css", "--pos")]:
        r = client.get(path)
        assert r.status_code == 200 and needle in r.text, path
    assert client.get("/static/nothing.js").status_code == 404
    info = client.get("/api/info").json()
    assert info["playground"]["defaults"]["layers"] == [4, 2]
    assert {o["name"] for o in info["train_options"]} >= {"lr", "batch_size", "layers", "dataset"}


# -- the playground -----------------------------------------------------------------------------------------------
def test_playground_open_play_set_step_reset(client):
    with client.websocket_connect(WS + "/ws/playground") as ws:
        ws.send_json({"type": "open", "settings": {"layers": "8,8", "dataset": "xor", "speed": "0"}})
        run = receive(ws, "hello")["run"]
        points = receive(ws, "points")
        assert len(points["train"]) == 200
        first = receive(ws, "frame")
        assert first["settings"]["layers"] == [8, 8] and first["status"] == "paused" and first["step"] == 0
        ws.send_json({"type": "play"})
        playing = frame_where(ws, lambda f: f["status"] == "playing" and f["step"] > 20)
        ws.send_json({"type": "set", "settings": {"lr": "0.1"}})  # while it runs
        f = frame_where(ws, lambda f: f["settings"]["lr"] == 0.1)
        assert f["step"] >= playing["step"] and f["generation"] == first["generation"]
        ws.send_json({"type": "set", "settings": {"layers": "8,-3"}})
        assert "width -3" in receive(ws, "error")["message"]
        ws.send_json({"type": "set", "settings": {"lr": "abc"}})
        assert "lr: expected a number" in receive(ws, "error")["message"]
        ws.send_json({"type": "pause"})
        paused = frame_where(ws, lambda f: f["status"] == "paused")
        ws.send_json({"type": "step", "what": "batch"})
        stepped = frame_where(ws, lambda f: f["step"] == paused["step"] + 1)
        assert stepped["settings"]["lr"] == 0.1
        ws.send_json({"type": "step", "what": "sideways"})
        assert "batch or epoch" in receive(ws, "error")["message"]
        ws.send_json({"type": "reset"})
        history = receive(ws, "history")
        assert len(history["points"]) == 1
        reset = receive(ws, "frame")
        assert reset["step"] == 0 and reset["generation"] == first["generation"] + 1
        ws.send_text("not json")
        assert "JSON" in receive(ws, "error")["message"]
        ws.send_json({"type": "fly"})
        assert "unknown message type" in receive(ws, "error")["message"]
    # a closed tab stops nothing: the playground is still there
    assert client.studio.playgrounds.get(run) is not None


def test_two_tabs_see_one_playground_and_a_reload_keeps_it(client):
    with client.websocket_connect(WS + "/ws/playground") as a:
        a.send_json({"type": "open", "settings": {"layers": "3"}})
        run = receive(a, "hello")["run"]
        receive(a, "frame")
        with client.websocket_connect(WS + "/ws/playground") as b:
            b.send_json({"type": "open", "run": run, "settings": {"layers": "7"}})  # the run wins
            assert receive(b, "hello")["run"] == run
            assert receive(b, "frame")["settings"]["layers"] == [3]
            b.send_json({"type": "set", "settings": {"lr": 0.3}})
            assert frame_where(a, lambda f: f["settings"]["lr"] == 0.3)["run"] == run
        a.send_json({"type": "step", "what": "epoch"})
        stepped = frame_where(a, lambda f: f["epoch"] == 1)
    with client.websocket_connect(WS + "/ws/playground") as c:  # the page reloads
        c.send_json({"type": "open", "run": run})
        receive(c, "hello")
        history = receive(c, "history")
        assert history["points"][-1][0] == stepped["step"]
        assert receive(c, "frame")["epoch"] == 1


def test_a_bad_link_opens_the_defaults_with_a_message(client):
    with client.websocket_connect(WS + "/ws/playground") as ws:
        ws.send_json({"type": "open", "settings": {"lr": "abc", "layers": "5"}})
        assert "lr: expected a number" in receive(ws, "error")["message"]
        assert receive(ws, "frame")["settings"]["layers"] == [4, 2]
        ws.send_json({"type": "play"})  # the server is still serving
        frame_where(ws, lambda f: f["status"] == "playing")


def test_export_script_and_model(client, tmp_path):
    with client.websocket_connect(WS + "/ws/playground") as ws:
        ws.send_json({"type": "open", "settings": {"layers": "4", "dataset": "moons"}})
        run = receive(ws, "hello")["run"]
        ws.send_json({"type": "step", "what": "epoch"})
        frame_where(ws, lambda f: f["epoch"] == 1)
    r = client.get(f"/api/playground/{run}/script", params={"query": "dataset=moons&layers=4"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "EPOCHS = 1" in r.text and "#dataset=moons&layers=4" in r.text and "make_moons" in r.text
    compile(r.text, "playground.py", "exec")
    r = client.get(f"/api/playground/{run}/model")
    (tmp_path / "p.axon").write_bytes(r.content)
    assert ax.load(tmp_path / "p.axon").layers[0].weight.data.shape == (2, 4)
    r = client.get("/api/playground/nope/script")
    assert r.status_code == 404 and "no such playground" in r.json()["error"]


# -- runs ------------------------------------------------------------------------------------------------------------
def _feed_folder(runs: Path, name: str, events: list[dict]) -> Path:
    from axon import runs as R

    folder = runs / name
    folder.mkdir(parents=True)
    R.write_json(folder / R.RUN_INFO_FILE, {"config": {"epochs": 5}})
    (folder / live.LIVE_FILE).write_text("".join(json.dumps(e) + "\n" for e in events))
    return folder


def test_runs_list_watch_and_control(client, tmp_path):
    runs = tmp_path / "runs"
    begin = {"type": "begin", "session": "s", "pid": os.getpid(), "epochs": 5, "steps": 4, "history": {}}
    folder = _feed_folder(runs, "cli-run", [begin])
    listed = client.get("/api/runs").json()["runs"]
    assert [r["name"] for r in listed] == ["cli-run"] and listed[0]["state"] == "running"
    rid = listed[0]["id"]
    with client.websocket_connect(f"{WS}/ws/runs/{rid}") as ws:
        first = ws.receive_json()["events"]
        assert first[0]["type"] == "state"
        seen = [e["type"] for e in ws.receive_json()["events"]]
        assert "begin" in seen
        with open(folder / live.LIVE_FILE, "a") as f:  # the run writes an epoch
            f.write(json.dumps({"type": "epoch", "epoch": 0, "logs": {"loss": 0.5}, "seconds": 0.1}) + "\n")
        deadline = time.monotonic() + 10
        got = []
        while "epoch" not in got and time.monotonic() < deadline:
            got += [e["type"] for e in ws.receive_json()["events"]]
        assert "epoch" in got
    r = client.post(f"/api/runs/{rid}/control", json={"action": "lr", "lr": "0.01"})
    assert r.status_code == 200
    assert json.loads((folder / live.CONTROL_FILE).read_text())["lr"] == 0.01
    r = client.post(f"/api/runs/{rid}/control", json={"action": "lr", "lr": "abc"})
    assert r.status_code == 400 and "lr: expected a number" in r.json()["error"]
    assert client.post("/api/runs/nope/control", json={"action": "stop"}).status_code == 404
    assert client.post(f"/api/runs/{rid}/control", content=b"{nope").status_code == 400
    assert client.get(f"/api/runs/{rid}/report").status_code == 404
    (folder / "report.html").write_text("<html>report</html>")
    assert client.get(f"/api/runs/{rid}/report").text == "<html>report</html>"


def test_attach_a_folder_elsewhere(client, tmp_path):
    elsewhere = _feed_folder(tmp_path / "other", "exp", [{"type": "begin", "session": "x", "pid": 1,
                                                           "history": {"loss": [1, 0.5]}},
                                                          {"type": "end", "interrupted": True, "stopped": False}])
    r = client.post("/api/runs/attach", json={"folder": str(elsewhere)})
    assert r.status_code == 200 and r.json()["state"] == "interrupted" and r.json()["epochs_done"] == 2
    r = client.post("/api/runs/attach", json={"folder": str(tmp_path / "missing")})
    assert r.status_code == 400 and "no such folder" in r.json()["error"]


def test_start_a_run_with_bad_options_says_why(client):
    for options, message in [({"lr": "abc"}, "lr: expected a number"), ({"batch_size": "-3"}, "batch_size"),
                             ({"dataset": "imagenet"}, "unknown data set")]:
        r = client.post("/api/runs", json={"options": options})
        assert r.status_code == 400 and message in r.json()["error"]
    assert client.post("/api/runs", json=[1, 2]).status_code == 400
    assert client.get("/api/runs").status_code == 200  # still serving


# -- uploads ------------------------------------------------------------------------------------------------------------
def test_csv_upload_check_and_limits(client):
    table = "a,b,label\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(30))
    r = client.post("/api/uploads/csv", params={"name": "my table.csv"}, content=table.encode())
    assert r.status_code == 200 and r.json()["columns"] == ["a", "b", "label"]
    path = r.json()["path"]
    assert Path(path).parent.name == "_uploads" and Path(path).name.startswith("my-table")
    r = client.post("/api/csv/check", json={"path": path, "target": "label"})
    assert r.json() == {"rows": 30, "features": ["a", "b"], "target": "label", "task": "classification"}
    r = client.post("/api/csv/check", json={"path": path, "target": "c"})
    assert r.status_code == 400 and "c" in r.json()["error"]
    bad = client.post("/api/uploads/csv", content=b"a,b\n1,2\n3,x\n")
    path = bad.json()["path"]
    r = client.post("/api/csv/check", json={"path": path, "target": "b"})
    assert r.status_code == 400 and "line" in r.json()["error"]
    r = client.post("/api/uploads/csv", content=b"\xff\xfe\x00garbage")
    assert r.status_code == 400 and "UTF-8" in r.json()["error"]
    assert client.post("/api/uploads/csv", content=b"").json()["error"] == "the file is empty"
    # 10 GB announced: refused before a byte is read
    r = client.post("/api/uploads/csv", content=b"x", headers={"content-length": str(10 * 2**30)})
    assert r.status_code == 413 and "10,240.0 MB" in r.json()["error"] and "1 MB" in r.json()["error"]

    def chunks():  # no length given: counted as it streams
        for _ in range(3):
            yield b"a" * 2**19

    r = client.post("/api/uploads/csv", content=chunks())
    assert r.status_code == 413 and "larger than 1 MB" in r.json()["error"]
    assert not any(p.stat().st_size > 2**20 for p in client.studio.upload_dir.iterdir())
    assert client.get("/api/info").status_code == 200


def test_csv_check_says_the_task_axon_train_trains_for(client):
    from axon.cli.data import load_dataset

    # 300 distinct whole numbers: too many to be classes, axon train does regression
    table = "a,b,score\n" + "".join(f"{i},{i % 7},{i}\n" for i in range(300))
    path = client.post("/api/uploads/csv", content=table.encode()).json()["path"]
    r = client.post("/api/csv/check", json={"path": path, "target": "score"})
    assert r.status_code == 200 and r.json()["task"] == "regression" == load_dataset(f"csv:{path}", target="score").task
    assert r.json()["rows"] == 300
    # a ';' file with a text column: read with the page's delimiter and drop, as the run reads it
    table = "name;a;label\n" + "".join(f"row {i};{i};{i % 2}\n" for i in range(30))
    r = client.post("/api/uploads/csv", params={"delimiter": ";"}, content=table.encode())
    assert r.status_code == 200 and r.json()["columns"] == ["name", "a", "label"]
    body = {"path": r.json()["path"], "target": "label", "delimiter": ";", "drop": "name"}
    r = client.post("/api/csv/check", json=body)
    assert r.status_code == 200 and r.json() == {"rows": 30, "features": ["a"], "target": "label",
                                                 "task": "classification"}
    r = client.post("/api/csv/check", json={**body, "drop": ""})
    assert r.status_code == 400 and "non-numeric" in r.json()["error"]


# -- looking inside -----------------------------------------------------------------------------------------------------
def test_models_list_describe_analyse_and_upload(client, tmp_path):
    from axon import runs as R

    folder = tmp_path / "runs" / "digits-x"
    folder.mkdir(parents=True)
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 8), ax.ReLU(), ax.Dense(8, 10))
    model.compile(loss="cross_entropy")
    ax.save(model, folder / R.MODEL_FILE)
    R.write_json(folder / R.RUN_INFO_FILE, {"dataset": "digits", "image_shape": [8, 8], "task": "classification",
                                            "class_names": [str(k) for k in range(10)]})
    models = client.get("/api/models").json()["models"]
    assert [m["name"] for m in models] == ["digits-x"]
    mid = models[0]["id"]
    desc = client.get(f"/api/models/{mid}").json()
    assert desc["image"] == [1, 8, 8] and desc["classes"][3] == "3"
    grid = np.zeros((32, 32))
    grid[4:28, 14:18] = 1.0  # a "1"
    r = client.post(f"/api/models/{mid}/analyse", json={"pixels": grid.tolist(), "off": {"relu_1": [0, 1]}})
    body = r.json()
    assert r.status_code == 200 and len(body["probabilities"]) == 10 and body["layers"][1]["off"] == [0, 1]
    assert len(body["input_image"]) == 8
    r = client.post(f"/api/models/{mid}/analyse", json={"pixels": [[2, 0], [0, 0]]})
    assert r.status_code == 400 and "[0, 1]" in r.json()["error"]
    assert client.get("/api/models/unknown").status_code == 404
    r = client.post("/api/models/upload", params={"name": "evil.axon"}, content=b"\x00" * 100)
    assert r.status_code == 400 and "evil" not in os.listdir(client.studio.upload_dir)
    good = (folder / R.MODEL_FILE).read_bytes()
    r = client.post("/api/models/upload", params={"name": "mine.axon"}, content=good)
    assert r.status_code == 200 and r.json()["name"] == "mine.axon"
    assert "mine.axon" in [m["name"] for m in client.get("/api/models").json()["models"]]
    r = client.post(f"/api/models/{r.json()['id']}/analyse", json={"pixels": grid.tolist()})
    assert r.status_code == 200


def test_requests_from_other_web_sites_are_refused(client):
    evil = {"origin": "http://evil.example"}
    r = client.post("/api/runs", json={"options": {"epochs": "1"}}, headers=evil)
    assert r.status_code == 403 and "another web site" in r.json()["error"]
    assert client.post("/api/runs/attach", json={"folder": "/"},
                       headers={"origin": "http://127.0.0.1:8765"}).status_code == 400  # the studio's own page
    assert client.get("/api/info", headers={"host": "evil.example:8765"}).status_code == 403  # DNS rebinding
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), client.websocket_connect(WS + "/ws/playground", headers=evil) as ws:
        ws.receive_json()
    assert client.studio.runs.list() == []  # nothing was started
