"""The studio in a real Chromium, driven by Playwright: the playground, a CLI run watched live, a drawn digit.

Skips (with the reason) where Playwright or a Chromium is missing; never downloads a browser
(``playwright install`` is not used: Debian's /usr/bin/chromium is). Screenshots of every page go
to ``test-artifacts/studio/`` (or ``$AXON_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import axon as ax
from browser import CHROMIUM_FLAGS, chromium_path

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("AXON_TEST_ARTIFACTS", REPO / "test-artifacts")) / "studio"


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("starlette", reason="the studio extra is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        except Exception as e:  # a Chromium that cannot start here (sandbox, libraries)
            pytest.skip(f"Chromium at {path} does not start: {str(e).splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    from axon.studio.server import StudioServer

    runs = tmp_path_factory.mktemp("studio") / "runs"
    runs.mkdir()
    server = StudioServer(runs).start()
    server.runs_dir = runs
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert not errors, errors  # no JavaScript error on any page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def frame(page) -> dict:
    return page.evaluate("window.playground.frame")


def wait_frame(page, condition: str, timeout: float = 60_000) -> dict:
    page.wait_for_function(f"(() => {{ const f = window.playground.frame; return f && ({condition}); }})()",
                           timeout=timeout)
    return frame(page)


# -- the playground ----------------------------------------------------------------------------------------------
def test_playground_play_steer_step_reset_and_share(studio, page, browser):
    page.goto(studio.url + "playground#dataset=circle&features=x1,x2&layers=6,4&acts=tanh&lr=0.1&speed=40&noise=5")
    first = wait_frame(page, "f.step === 0")
    assert first["settings"]["layers"] == [6, 4]
    page.click("#play")
    start_loss = first["test_loss"]
    playing = wait_frame(page, f"f.status === 'playing' && f.test_loss < {start_loss} * 0.8")
    assert playing["epoch"] > 0
    # the learning rate changes while it runs; the network keeps its weights (same generation)
    page.select_option("#lr", "0.3")
    changed = wait_frame(page, "f.settings.lr === 0.3")
    assert changed["generation"] == first["generation"] and changed["status"] == "playing"
    steps_then = changed["step"]
    wait_frame(page, f"f.step > {steps_then}")
    # a bad value typed into a field: a message, and the server keeps going
    page.fill("#batch", "-3")
    page.dispatch_event("#batch", "change")
    page.wait_for_function("((document.getElementById('toast') || {dataset: {}}).dataset.text || '').includes('batch')")
    # the page reloads: the same playground, still playing
    run = page.evaluate("window.playground.run")
    page.reload()
    again = wait_frame(page, "f.status === 'playing'")
    assert again["run"] == run and again["step"] >= steps_then
    page.click("#play")  # pause
    paused = wait_frame(page, "f.status === 'paused'")
    page.click("#step-batch")
    one = wait_frame(page, f"f.step === {paused['step']} + 1")
    assert one["status"] == "paused"
    page.click("#step-epoch")
    wait_frame(page, f"f.epoch === {one['epoch']} + 1")
    shot(page, "playground")
    page.click("#reset")
    reset = wait_frame(page, "f.step === 0")
    assert reset["generation"] == first["generation"] + 1
    np.testing.assert_array_equal(reset["weights"][0], first["weights"][0])  # the seed's network again
    # the shared link (no run id) gives the same network in a new tab
    page.click("#share")
    page.wait_for_function("document.getElementById('share').dataset.url")
    url = page.get_attribute("#share", "data-url")
    assert "run=" not in url and "layers=6,4" in url and "lr=0.3" in url
    other = page.context.new_page()
    other.goto(url)
    shared = wait_frame(other, "f.step === 0")
    assert shared["run"] != run
    for a, b in zip(shared["weights"], reset["weights"]):
        np.testing.assert_array_equal(a, b)
    assert shared["settings"] == {**reset["settings"]}
    # lesson mode: the controls go, the network stays
    other.click("#lesson")
    other.wait_for_function("document.querySelector('[data-panel=data]').classList.contains('hidden-panel')")
    assert other.is_visible("#play") and other.is_visible("#out-heat")
    shot(other, "playground-lesson")
    assert "hide=" in other.evaluate("location.hash")
    other.close()


def test_every_control_works_while_it_trains(studio, page):
    page.goto(studio.url + "playground#layers=4,4&speed=30")
    wait_frame(page, "f.step === 0")
    page.click("#play")
    wait_frame(page, "f.status === 'playing' && f.step > 0")

    def check(action, condition, live=True):
        before = frame(page)
        action()
        f = wait_frame(page, f"f.status === 'playing' && ({condition})")
        if live:  # the same network, still learning
            assert f["generation"] == before["generation"] and f["step"] >= before["step"]
        else:  # a new network from the seed, playing on
            assert f["generation"] > before["generation"]

    def change(selector, value):
        return lambda: page.select_option(selector, value)

    def typed(selector, value):
        def act():
            page.fill(selector, value)
            page.dispatch_event(selector, "change")
        return act

    check(change("#lr", "0.1"), "f.settings.lr === 0.1")
    check(change("#optimizer", "adam"), "f.settings.optimizer === 'adam'")
    check(typed("#batch", "25"), "f.settings.batch === 25")
    check(change("#speed", "20"), "f.settings.speed === 20")
    check(change("#l1", "0.001"), "f.settings.l1 === 0.001")
    check(change("#l2", "0.003"), "f.settings.l2 === 0.003")
    check(change("#dropout", "0.1"), "f.settings.dropout === 0.1")
    check(lambda: page.locator(".pg-col select.act").first.select_option("relu"), "f.settings.acts[0] === 'relu'")
    check(lambda: page.check("#show-test"), "f.settings.show_test === 1")
    wait_frame(page, f"f.step > {frame(page)['step']}")  # it learns on with all of these
    check(lambda: page.locator(".w-plus").nth(1).click(), "f.settings.layers[1] === 5", live=False)
    check(lambda: page.click("#add-layer"), "f.settings.layers.length === 3", live=False)
    check(lambda: page.click(".neuron.feature[data-feature=x1sq]"), "f.settings.features.includes('x1sq')",
          live=False)
    check(change("#dataset", "spiral"), "f.settings.dataset === 'spiral'", live=False)
    check(change("#classes", "3"), "f.settings.classes === 3 && f.columns[f.columns.length - 1].length === 3",
          live=False)

    def slide(selector, value):
        def act():
            page.fill(selector, value)
            page.dispatch_event(selector, "input")
        return act

    check(slide("#noise", "20"), "f.settings.noise === 20", live=False)
    check(slide("#ratio", "70"), "f.settings.ratio === 70", live=False)
    check(typed("#points", "200"), "f.settings.points === 200", live=False)
    check(typed("#seed", "7"), "f.settings.seed === 7", live=False)
    check(change("#problem", "regression"), "f.settings.problem === 'regression'", live=False)
    assert page.evaluate("window.playground.points.train.length") == 140
    page.click("#play")  # pause: a playground left playing would keep a core busy for the next tests
    wait_frame(page, "f.status === 'paused'")


def test_playground_spiral_with_three_classes(studio, page):
    page.goto(studio.url + "playground#dataset=spiral&classes=3&layers=8,8&acts=relu&features=x1,x2,sin1,sin2"
              "&optimizer=adam&lr=0.01&speed=0")
    wait_frame(page, "f.step === 0")
    page.click("#play")
    f = wait_frame(page, "f.train_acc > 0.6", timeout=60_000)
    assert len(f["columns"][-1]) == 3
    page.click("#play")
    wait_frame(page, "f.status === 'paused'")
    shot(page, "playground-spiral")


# -- a run started on the command line, watched and steered from the page ----------------------------------------------
def _events(folder: Path) -> list[dict]:
    from axon.studio.live import LIVE_FILE, read_events

    return read_events(folder / LIVE_FILE)[0]


def test_train_page_attaches_to_a_cli_run_and_steers_it(studio, page):
    out = studio.runs_dir / "cli-e2e"
    proc = subprocess.Popen([sys.executable, "-m", "axon.cli.main", "train", "--studio", "--quiet",
                             "--epochs", "3000", "--layers", "32", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page.goto(studio.url + "train")
        page.wait_for_selector("#runs tbody tr >> text=cli-e2e", timeout=60_000)
        page.click("#runs tbody tr >> text=cli-e2e")
        page.wait_for_function("window.train.rows.length >= 3", timeout=60_000)  # its epochs arrive
        assert page.text_content("#run-state") == "running"
        page.click("#pause")
        page.wait_for_function("document.getElementById('run-state').textContent === 'paused'", timeout=30_000)
        n = page.evaluate("window.train.rows.length")
        time.sleep(0.6)
        assert page.evaluate("window.train.rows.length") <= n + 1  # at most the epoch under way
        page.fill("#new-lr", "0.0005")
        page.click("#set-lr")
        page.wait_for_function("document.getElementById('cur-lr').textContent === '0.0005'", timeout=30_000)
        page.click("#pause")  # resume
        page.wait_for_function("document.getElementById('run-state').textContent === 'running'", timeout=30_000)
        page.wait_for_function(f"window.train.rows.length > {n + 1}", timeout=30_000)
        shot(page, "train")
        page.click("#stop")
        page.wait_for_function("document.getElementById('run-state').textContent === 'stopped'", timeout=60_000)
        page.wait_for_selector("#report", state="visible", timeout=30_000)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    events = _events(out)
    assert any(e["type"] == "control" and e.get("lr") == 0.0005 for e in events)
    lrs = [e["logs"]["lr"] for e in events if e["type"] == "epoch"]
    assert lrs[0] != 0.0005 and lrs[-1] == 0.0005
    assert (out / "report.html").is_file() and (out / "model.axon").is_file()
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == len(lrs)


def test_train_page_starts_a_run(studio, page):
    page.goto(studio.url + "train")
    page.fill("#opt-epochs", "2")
    page.fill("#opt-layers", "16")
    page.click("#start")
    page.wait_for_function("window.train.summary && ['finished', 'failed'].includes(window.train.summary.state)",
                           timeout=90_000)
    summary = page.evaluate("window.train.summary")
    assert summary["state"] == "finished", summary["message"]
    page.wait_for_function("window.train.rows.length === 2")
    name = page.text_content("#run-name")
    assert (studio.runs_dir / name / "report.html").is_file()
    run = json.loads((studio.runs_dir / name / "run.json").read_text())
    assert run["config"]["epochs"] == 2 and run["config"]["layers"] == "16"


# -- a drawn digit ---------------------------------------------------------------------------------------------------------
def test_inside_draw_a_digit_switch_units_off(studio, page):
    from axon import runs

    folder = studio.runs_dir / "digits-inside"
    folder.mkdir()
    (X, y), _ = ax.datasets.load_digits()
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 32, init="he"), ax.ReLU(), ax.Dense(32, 10))
    model.compile(loss="cross_entropy", optimizer=ax.optim.Adam(lr=3e-3), metrics=["accuracy"])
    model.fit(X, y, epochs=15, batch_size=32, verbose=0, seed=0)
    ax.save(model, folder / runs.MODEL_FILE)
    runs.write_json(folder / runs.RUN_INFO_FILE, {"dataset": "digits", "task": "classification",
                                                   "image_shape": [8, 8], "class_names": [str(k) for k in range(10)]})
    page.goto(studio.url + "inside")
    page.wait_for_function("window.inside.desc !== null", timeout=30_000)
    page.select_option("#model", label="digits-inside (digits)")
    page.wait_for_function("window.inside.desc && window.inside.desc.name === 'digits-inside'")
    box = page.locator("#draw").bounding_box()
    x, y0 = box["x"] + box["width"] / 2, box["y"] + 40
    page.mouse.move(x, y0)
    page.mouse.down()
    for k in range(1, 21):  # a vertical stroke: a "1"
        page.mouse.move(x, y0 + k * 10)
    page.mouse.up()
    page.wait_for_function("window.inside.result !== null", timeout=30_000)
    result = page.evaluate("window.inside.result")
    assert result["prediction"] is not None and abs(sum(result["probabilities"]) - 1) < 1e-3
    assert [layer["name"] for layer in result["layers"]] == ["dense_1", "relu_1", "dense_2"]
    shot(page, "inside")
    before = result["probabilities"]
    count = page.evaluate("window.inside.results")
    page.click(".layer .unit[data-unit='0']")
    page.wait_for_function(f"window.inside.results > {count} && window.inside.result.layers[1].off.length === 1")
    after = page.evaluate("window.inside.result")
    assert after["layers"][1]["off"] == [0]
    # an image dropped on the square (white ink on black, as MNIST) is drawn into it and analysed
    idle = "!window.inside.pending && !window.inside.dirty"  # no request in flight or queued
    page.wait_for_function(idle, timeout=30_000)
    count = page.evaluate("window.inside.results")
    page.evaluate("""async () => {
        const c = document.createElement("canvas"); c.width = 40; c.height = 40;
        const g = c.getContext("2d"); g.fillStyle = "#000"; g.fillRect(0, 0, 40, 40);
        g.fillStyle = "#fff"; g.fillRect(8, 6, 24, 4); g.fillRect(26, 6, 4, 30);   // a "7"
        const blob = await new Promise((ok) => c.toBlob(ok, "image/png"));
        const data = new DataTransfer();
        data.items.add(new File([blob], "seven.png", { type: "image/png" }));
        document.getElementById("draw").dispatchEvent(new DragEvent("drop", { dataTransfer: data }));
    }""")
    page.wait_for_function(f"window.inside.results > {count} && {idle}", timeout=30_000)
    seen = page.evaluate("window.inside.result.input_image")
    # the 7's bar is the top row, its stroke comes down on the right; ink (white there) is 1
    assert np.mean(seen[0]) > 0.5 and seen[-1][0] == 0 and max(seen[-1]) > 0.3
    # choosing another label changes the δ shown, not the prediction
    prediction = page.evaluate("window.inside.result.prediction")
    page.click(".bars .bar[data-k='4']")
    page.wait_for_function("window.inside.result.label === 4")
    assert page.evaluate("window.inside.result.prediction") == prediction
    assert before  # the probabilities were drawn
