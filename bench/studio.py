"""``python -m bench.studio``: what watching costs. Epoch time of ``axon train`` on the digits with and
without a page watching it in the studio, and how often the playground's page is updated.

Epoch time: ``axon train`` (its default 256-128 MLP, 40 epochs) in a process of its own, as the
studio runs it, in three ways, interleaved round by round (the order rotating), medians over the
rounds of ``train_seconds / epochs_run`` from metrics.json:

- ``plain``: ``axon train`` alone;
- ``feed``: ``axon train --studio`` with a studio serving but no page;
- ``watched``: the same with a headless Chromium on the Train page showing the run live.

Besides the wall-clock epoch time, the CPU time of the whole ``axon train`` process (imports and
report included) tells whether the training process itself does more work; on a machine other
jobs share, the wall-clock figures also move with their load.

Playground: frames drawn per second by the page (its own counter) for a 2-8-8-1 network while
it plays, and frames received per second by a bare WebSocket client (no drawing).
Needs the studio extra, Playwright and a Chromium (``/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import environment, load_average, median

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _train(runs: Path, name: str, studio: bool, epochs: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "axon.cli.main", "train", "--quiet", "--epochs", str(epochs), "--out",
           str(runs / name)]
    if studio:
        cmd.insert(4, "--studio")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _seconds_per_epoch(folder: Path) -> float:
    metrics = json.loads((folder / "metrics.json").read_text())
    return metrics["train_seconds"] / metrics["epochs_run"]


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def epoch_times(server, browser, rounds: int, epochs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    runs = server.runs_dir
    times: dict[str, list[float]] = {"plain": [], "feed": [], "watched": []}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    modes = list(times)
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    page.goto(server.url + "train")
    for r in range(rounds):
        order = modes[r % 3:] + modes[:r % 3]
        for mode in order:
            name = f"{mode}-{r}"
            cpu0 = _children_cpu()
            proc = _train(runs, name, mode != "plain", epochs)
            if mode == "watched":
                page.wait_for_selector(f"#runs tbody tr >> text={name}", timeout=120_000)
                page.click(f"#runs tbody tr >> text={name}")
                page.wait_for_function("window.train.events > 0", timeout=60_000)
            if proc.wait() != 0:
                raise RuntimeError(f"axon train failed: {proc.stderr.read()}")
            cpu[mode].append(_children_cpu() - cpu0)
            if mode == "watched":  # the page saw the whole run
                page.wait_for_function(f"window.train.rows.length === {epochs}", timeout=60_000)
            times[mode].append(_seconds_per_epoch(runs / name))
            print(f"  round {r + 1} {mode:8s} {times[mode][-1] * 1000:7.1f} ms/epoch, process CPU "
                  f"{cpu[mode][-1]:.2f} s", flush=True)
    page.close()
    return times, cpu


def playground_rates(server, browser, seconds: float, repeats: int) -> dict[str, list[float]]:
    import websockets

    hash_ = "#layers=8,8&acts=tanh&dataset=spiral&features=x1,x2"
    page_rates, socket_rates = [], []
    for _ in range(repeats):
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        page.goto(server.url + "playground" + hash_)
        page.wait_for_function("window.playground && window.playground.frames > 0", timeout=30_000)
        page.click("#play")
        time.sleep(1.0)
        f0, t0 = page.evaluate("[window.playground.frames, performance.now()]")
        time.sleep(seconds)
        f1, t1 = page.evaluate("[window.playground.frames, performance.now()]")
        page_rates.append((f1 - f0) / (t1 - t0) * 1000)
        page.close()

        async def count() -> float:
            url = server.url.replace("http", "ws", 1) + "ws/playground"
            async with websockets.connect(url, max_size=None) as ws:
                await ws.send(json.dumps({"type": "open", "settings": {"layers": "8,8", "dataset": "spiral"}}))
                await ws.send(json.dumps({"type": "play"}))
                n, start = 0, None
                while True:
                    msg = json.loads(await ws.recv())
                    if msg["type"] != "frame" or msg["status"] != "playing":
                        continue
                    start = start or time.perf_counter()
                    n += 1
                    if time.perf_counter() - start >= seconds:
                        return n / (time.perf_counter() - start)

        # Playwright's sync API owns this thread's event loop: count in a thread of its own.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            socket_rates.append(pool.submit(asyncio.run, count()).result())
    return {"page": page_rates, "socket": socket_rates}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studio", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one frame-rate measurement")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from axon.studio.server import StudioServer

    env = environment()
    print(f"machine: {env.get('cpu')}, {env.get('cores')} cores; load before: {load_average()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        runs.mkdir()
        server = StudioServer(runs).start()
        server.runs_dir = runs
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                times, cpu = epoch_times(server, browser, args.rounds, args.epochs)
                rates = playground_rates(server, browser, args.seconds, args.repeats)
                browser.close()
        finally:
            server.stop()
    plain, plain_cpu = median(times["plain"]), median(cpu["plain"])
    print(f"\nepoch time on the digits (median of {args.rounds} interleaved rounds, {args.epochs} epochs each):")
    for mode, values in times.items():
        m, c = median(values), median(cpu[mode])
        print(f"  {mode:8s} {m * 1000:7.1f} ms/epoch ({m / plain - 1:+.1%} vs plain)  process CPU {c:.2f} s "
              f"({c / plain_cpu - 1:+.1%})   all: {', '.join(f'{v * 1000:.1f}' for v in values)}")
    print(f"playground 2-8-8-1 while playing (median of {args.repeats} runs of {args.seconds:g} s):")
    for where, values in rates.items():
        print(f"  {where:8s} {median(values):5.1f} frames/s   all: {', '.join(f'{v:.1f}' for v in values)}")
    print(f"load after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
