"""The studio's web app: pages, a JSON API and two WebSockets, on Starlette.

Routes
------
``/``, ``/playground``, ``/train``, ``/inside``          the pages (static HTML from ``static/``)
``/static/...``                                          their scripts and styles
``GET /api/info``                                        limits, choices and the train options
``WS /ws/playground``                                    the playground: commands in, frames out
``GET /api/playground/{id}/script``, ``.../model``       export as a Python script / a model file
``GET|POST /api/runs``, ``POST /api/runs/attach``         list, start, attach a run folder
``POST /api/runs/{id}/control``                          pause, resume, stop, learning rate
``GET /api/runs/{id}/report``                            the run's report.html
``WS /ws/runs/{id}``                                     every event of a run, then the new ones
``POST /api/uploads/csv``, ``POST /api/csv/check``        a CSV file for training; check a target
``GET /api/models``, ``POST /api/models/upload``          model files for the look-inside page
``GET /api/models/{id}``, ``POST /api/models/{id}/analyse``

Errors a page can cause (a bad value, a file that does not parse, an upload over the limit)
answer ``{"error": "..."}`` with status 400, 404 or 413, and on a WebSocket a message
``{"type": "error", "message": ...}``; the server keeps serving. Requests that other web sites'
pages make to the studio are refused (403, see :class:`SameOriginOnly`). Work that takes more than a
moment (a trace, loading a model, reading a CSV) runs in a worker thread, so pages stay responsive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from axon.studio import settings as S
from axon.studio.inside import ModelShelf
from axon.studio.playground import Playgrounds
from axon.studio.trainer import RunManager

#: The pages' HTML, JavaScript and CSS, shipped in the package.
STATIC = Path(__file__).parent / "static"
#: URL path -> the page's HTML file in :data:`STATIC`.
PAGES = {"/": "index.html", "/playground": "playground.html", "/train": "train.html", "/inside": "inside.html"}
#: Seconds between two reads of the runs' live feeds.
POLL_SECONDS = 0.25
#: Longest wait for a page to say it drew the last frame before the next one is sent anyway.
ACK_SECONDS = 1.0

#: The studio's logger (a route's unexpected errors go here).
log = logging.getLogger("axon.studio")


class TooLarge(ValueError):
    """An upload over the studio's limit (answered with status 413)."""


class NotFound(LookupError):
    """A playground, run or model the page named that the studio does not have (status 404)."""


#: Host names that mean this machine: a studio bound to one of them answers requests for them only.
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class SameOriginOnly:
    """ASGI middleware: refuse requests that another web site's page makes to this studio.

    A page from elsewhere can make the browser send a POST (or open a WebSocket) to
    127.0.0.1; the browser then names that site in the ``Origin`` header, so any request whose
    Origin is not this studio is refused with status 403. And when the studio serves this machine
    only, a ``Host`` that is not a loopback name is refused too (a DNS-rebinding page).
    """

    def __init__(self, app, loopback_only: bool) -> None:
        self.app, self.loopback_only = app, loopback_only

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            origin = headers.get("origin")
            unsafe = scope["type"] == "websocket" or scope.get("method", "GET") not in ("GET", "HEAD", "OPTIONS")
            refused = (self.loopback_only and host and name not in LOOPBACK) or \
                (unsafe and origin not in (None, "null") and origin.split("://", 1)[-1] != host)
            if refused:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                response = _error("refused: this request came from another web site than the studio", 403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Studio:
    """What one studio serves: its playgrounds, runs and model files, and its limits.

    Parameters
    ----------
    runs_dir : the folder of run folders (``axon train`` writes ``runs/NAME`` by default).
    max_upload_mb : the largest CSV or model file a page may upload.
    """

    def __init__(self, runs_dir: str | Path = "runs", max_upload_mb: float = 200.0) -> None:
        self.runs_dir = Path(runs_dir)
        self.upload_dir = self.runs_dir / "_uploads"
        self.max_upload = int(max_upload_mb * 2**20)
        self.playgrounds = Playgrounds()
        self.runs = RunManager(self.runs_dir)
        self.models = ModelShelf(self.runs_dir, self.upload_dir)

    def close(self) -> None:
        """Stop the playgrounds and send the runs started here Ctrl-C."""
        self.playgrounds.close()
        self.runs.shutdown()


# -- helpers -------------------------------------------------------------------------------------
def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _safe_name(name: str, default: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(str(name)).name).strip("-.")[:80]
    return stem or default


async def _receive_upload(request: Request, studio: Studio, suffix: str) -> Path:
    """Stream the request body into a new file under the upload folder, within the size limit."""
    limit = studio.max_upload
    mb = f"{limit / 2**20:g} MB"
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLarge(f"the file is {int(length) / 2**20:,.1f} MB; the studio takes files up to {mb} "
                       f"(start it with axon studio --max-upload-mb N for more)")
    studio.upload_dir.mkdir(parents=True, exist_ok=True)
    name = _safe_name(request.query_params.get("name", ""), "upload")
    stem = name[:-len(suffix)] if name.lower().endswith(suffix) else name
    path = studio.upload_dir / f"{stem}-{secrets.token_hex(3)}{suffix}"
    size = 0
    try:
        with open(path, "wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the file is larger than {mb}, the studio's limit "
                                   f"(start it with axon studio --max-upload-mb N for more)")
                f.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise ValueError("the file is empty")
    return path


def _studio(request: Request | WebSocket) -> Studio:
    return request.app.state.studio


# -- pages and info ------------------------------------------------------------------------------------
async def page(request: Request) -> Response:
    """GET a page (/, /playground, /train, /inside): its HTML file."""
    return FileResponse(STATIC / PAGES[request.url.path], media_type="text/html")


async def info(request: Request) -> Response:
    """GET /api/info: the version, limits, playground choices and axon train options the pages build on."""
    from axon import __version__
    from axon.cli import config as C

    studio = _studio(request)
    return JSONResponse({
        "version": __version__, "runs_dir": str(studio.runs_dir), "max_upload": studio.max_upload,
        "playground": {"datasets": S.DATASETS, "multiclass": list(S.MULTICLASS), "features": S.FEATURES,
                       "activations": list(S.ACTIVATIONS), "optimizers": list(S.OPTIMIZERS),
                       "panels": list(S.PANELS), "max_layers": S.MAX_LAYERS, "max_width": S.MAX_WIDTH,
                       "defaults": S.Settings().to_dict()},
        "train_options": [{"name": k, "metavar": m, "help": h} for k, (_, m, h) in C.OPTIONS.items()],
    })


# -- playground -------------------------------------------------------------------------------------------
async def _send_frames(ws: WebSocket, pg, acked: asyncio.Event | None) -> None:
    """Send the newest frame whenever there is one (with the points and the curve when those change).

    With ``acked`` (the page asked for it), the next frame goes only once the page has drawn the
    last one (or after a second): a slow page then gets fewer, newer frames instead of a queue.
    """
    sent_generation = sent_data = None
    sent = 0
    async for _ in pg.frames.follow():
        if pg.frames.current()[0] <= sent:
            continue  # sent already (the newest was taken after the last wait)
        if acked is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(acked.wait(), ACK_SECONDS)
            acked.clear()
        version, (generation, data_version, text) = pg.frames.current()  # the newest, after the wait
        sent = version
        if data_version != sent_data:
            await ws.send_text(json.dumps({"type": "points", **pg.points()}))
            sent_data = data_version
        if generation != sent_generation:
            await ws.send_text(json.dumps({"type": "history", "generation": generation, "points": pg.history()}))
            sent_generation = generation
        await ws.send_text(text)


async def _send_frames_or_close(ws: WebSocket, pg, acked: asyncio.Event | None) -> None:
    """:func:`_send_frames`; if it fails, say so in the log and close, so that the page reconnects."""
    try:
        await _send_frames(ws, pg, acked)
    except (asyncio.CancelledError, WebSocketDisconnect):
        raise
    except Exception:
        log.exception("studio: sending frames of playground %s failed", pg.id)
        with contextlib.suppress(Exception):
            await ws.close(code=1011)


async def ws_playground(ws: WebSocket) -> None:
    """Messages in: ``open`` (``run``, ``settings``, ``ack``: the page acknowledges each frame),
    ``set`` (``settings``), ``play``, ``pause``, ``step`` (``what``: "batch" or "epoch"), ``reset``,
    ``ack`` (the last frame is drawn). Out: ``hello``, ``points``, ``history``, ``frame``, ``error``."""
    studio = _studio(ws)
    await ws.accept()
    pg = None
    sender: asyncio.Task | None = None
    acked: asyncio.Event | None = None

    async def error(message: str) -> None:
        await ws.send_text(json.dumps({"type": "error", "message": message}))

    try:
        while True:
            raw = await ws.receive_text()
            try:
                msg = json.loads(raw)
                if not isinstance(msg, dict):
                    raise ValueError
            except ValueError:
                await error("messages must be JSON objects such as {\"type\": \"play\"}")
                continue
            kind = msg.get("type")
            if kind == "ack":
                if acked is not None:
                    acked.set()
                continue
            try:
                if kind == "open":
                    found = studio.playgrounds.get(str(msg.get("run") or ""))
                    if found is None:
                        try:
                            settings = S.parse(msg.get("settings") or {})
                        except ValueError as e:
                            await error(f"{e}; the link's other settings were not used")
                            settings = S.Settings()
                        found = studio.playgrounds.create(settings)
                    if sender is not None:
                        sender.cancel()
                    pg = found
                    await ws.send_text(json.dumps({"type": "hello", "run": pg.id}))
                    acked = asyncio.Event() if msg.get("ack") else None
                    if acked is not None:
                        acked.set()
                    sender = asyncio.create_task(_send_frames_or_close(ws, pg, acked))
                elif pg is None:
                    await error("send {\"type\": \"open\"} first")
                elif kind == "set":
                    values = msg.get("settings")
                    if not isinstance(values, dict):
                        raise ValueError("set: expected settings as an object, e.g. {\"lr\": 0.1}")
                    new = pg.check(values)
                    await asyncio.wrap_future(pg.submit("set", settings=new))
                elif kind in ("play", "pause", "reset", "step"):
                    what = msg.get("what", "batch")
                    if kind == "step" and what not in ("batch", "epoch"):
                        raise ValueError(f"step: what must be batch or epoch, got {what!r}")
                    await asyncio.wrap_future(pg.submit(kind, what=what))
                else:
                    raise ValueError(f"unknown message type {kind!r}")
            except ValueError as e:
                await error(str(e))
            except Exception as e:  # a bug: keep the connection, tell the page and the log
                log.exception("studio: playground message %r failed", kind)
                await error(f"the studio hit an error: {type(e).__name__}: {e}")
    except WebSocketDisconnect:
        pass
    finally:
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender


def _playground_or_404(request: Request):
    pg = _studio(request).playgrounds.get(request.path_params["run_id"])
    if pg is None:
        raise NotFound("no such playground (the studio was restarted?); open the playground again")
    return pg


async def export_script(request: Request) -> Response:
    """GET /api/playground/{run_id}/script: the playground's network as a Python script that trains it (a download)."""
    pg = _playground_or_404(request)
    query = request.query_params.get("query", "")[:2000]
    text = await asyncio.wrap_future(pg.submit("export_script", query=query))
    return Response(text, media_type="text/x-python; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="playground.py"'})


async def export_model(request: Request) -> Response:
    """GET /api/playground/{run_id}/model: the playground's network as a model file, playground.axon (a download)."""
    pg = _playground_or_404(request)
    data = await asyncio.wrap_future(pg.submit("export_model"))
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": 'attachment; filename="playground.axon"'})


# -- runs -------------------------------------------------------------------------------------------------------
async def runs_list(request: Request) -> Response:
    """GET /api/runs: the runs found; POST: start an axon train run with the page's options."""
    studio = _studio(request)
    if request.method == "POST":
        body = await _json_body(request)
        options = body.get("options", body)
        if not isinstance(options, dict):
            raise ValueError("options: expected an object of axon train options")
        run = await run_in_threadpool(studio.runs.start, options)
        return JSONResponse(run.summary())
    await run_in_threadpool(studio.runs.poll, True)
    return JSONResponse({"runs": studio.runs.list()})


async def runs_attach(request: Request) -> Response:
    """POST /api/runs/attach: watch a run folder outside the runs folder; answers the run."""
    body = await _json_body(request)
    run = await run_in_threadpool(_studio(request).runs.attach, str(body.get("folder", "")))
    return JSONResponse(run.summary())


def _run_or_404(request: Request):
    run = _studio(request).runs.get(request.path_params["run_id"])
    if run is None:
        raise NotFound("no such run")
    return run


async def run_control(request: Request) -> Response:
    """POST /api/runs/{run_id}/control: pause, resume, stop or a new learning rate; answers the run."""
    body = await _json_body(request)
    run = _run_or_404(request)
    await run_in_threadpool(_studio(request).runs.control, run.id, str(body.get("action", "")), body.get("lr"))
    return JSONResponse(run.summary())


async def run_report(request: Request) -> Response:
    """GET /api/runs/{run_id}/report: the run's report.html (404 until the run has written it)."""
    run = _run_or_404(request)
    report = run.path / "report.html" if run.path else None
    if report is None or not report.is_file():
        raise NotFound("this run has no report yet")
    return FileResponse(report, media_type="text/html")


async def ws_run(ws: WebSocket) -> None:
    """Every event of the run (its feed, and ``state`` changes), then new ones as they come."""
    run = _studio(ws).runs.get(ws.path_params["run_id"])
    await ws.accept()
    if run is None:
        await ws.send_text(json.dumps({"type": "error", "message": "no such run"}))
        await ws.close()
        return

    async def send() -> None:
        await ws.send_text(json.dumps({"type": "events", "events": [{"type": "state", **run.summary()}]}))
        async for events in run.events.follow():
            await ws.send_text(json.dumps({"type": "events", "events": events}))

    sender = asyncio.create_task(send())
    try:
        while True:  # the page sends nothing; this notices when it goes
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
    except WebSocketDisconnect:
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


# -- CSV files ------------------------------------------------------------------------------------------------------
def _csv_columns(path: Path, delimiter: str) -> list[str]:
    # Only the header: the columns to choose the target (and those to drop) from, before the rows are read.
    import csv

    if len(delimiter) != 1:
        raise ValueError(f"delimiter: expected one character, e.g. ';', got {delimiter!r}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f, delimiter=delimiter), None)
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text; save it as CSV (UTF-8)") from None
    except csv.Error as e:
        raise ValueError(f"the file does not parse as CSV ({e})") from None
    if not header or not any(h.strip() for h in header):
        raise ValueError("the file has no header row; the first line must name the columns")
    return [h.strip() for h in header]


async def upload_csv(request: Request) -> Response:
    """POST /api/uploads/csv: store a CSV file from the Train page; its path and its columns (read with
    ``?delimiter=``, default ',')."""
    studio = _studio(request)
    path = await _receive_upload(request, studio, ".csv")
    try:
        columns = await run_in_threadpool(_csv_columns, path, request.query_params.get("delimiter") or ",")
    except ValueError:
        path.unlink(missing_ok=True)
        raise
    return JSONResponse({"path": str(path), "dataset": f"csv:{path}", "columns": columns})


def _check_csv(body: dict[str, Any]) -> dict[str, Any]:
    from axon.studio.trainer import check_csv

    options = {k: body[k] for k in ("target", "delimiter", "drop", "task") if body.get(k) is not None}
    data = check_csv({**options, "dataset": f"csv:{body.get('path', '')}"})
    rows = len(data.X_train) + (0 if data.X_val is None else len(data.X_val))
    return {"rows": rows, "features": list(data.feature_names), "target": data.target_name, "task": data.task}


async def check_csv(request: Request) -> Response:
    """POST /api/csv/check: an uploaded CSV file read with the page's target, delimiter, drop and task as
    ``axon train`` reads it: its rows, features and the task the run will train for."""
    return JSONResponse(await run_in_threadpool(_check_csv, await _json_body(request)))


# -- models ---------------------------------------------------------------------------------------------------------------
async def models_list(request: Request) -> Response:
    """GET /api/models: the model files the Inside page can open."""
    return JSONResponse({"models": await run_in_threadpool(_studio(request).models.list)})


async def model_upload(request: Request) -> Response:
    """POST /api/models/upload: a model file from the Inside page: stored, opened, answered with its id and name."""
    studio = _studio(request)
    path = await _receive_upload(request, studio, ".axon")
    name = _safe_name(request.query_params.get("name", ""), "model.axon")
    try:
        entry = await run_in_threadpool(studio.models.add_upload, path, name)
    except ValueError:
        path.unlink(missing_ok=True)
        raise
    return JSONResponse(entry)


async def _model(request: Request):
    try:
        return await run_in_threadpool(_studio(request).models.open, request.path_params["model_id"])
    except KeyError:
        raise NotFound("no such model (was it moved?); choose one from the list") from None


async def model_describe(request: Request) -> Response:
    """GET /api/models/{model_id}: the model's description: task, classes, input, layers, summary."""
    inspected = await _model(request)
    return JSONResponse(inspected.describe())


async def model_analyse(request: Request) -> Response:
    """POST /api/models/{model_id}/analyse: for one sample, the prediction and every layer's output and δ
    (units switched off as asked)."""
    body = await _json_body(request)
    inspected = await _model(request)
    return JSONResponse(await run_in_threadpool(inspected.analyse, body))


# -- the app ---------------------------------------------------------------------------------------------------------------
async def _value_error(request: Request, exc: Exception) -> Response:
    return _error(str(exc), 413 if isinstance(exc, TooLarge) else 400)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(str(exc), 404)


async def _other_error(request: Request, exc: Exception) -> Response:
    log.exception("studio: error in %s", request.url.path)
    return _error(f"the studio hit an error: {type(exc).__name__}: {exc}", 500)


def create_app(runs_dir: str | Path = "runs", *, max_upload_mb: float = 200.0, loopback_only: bool = True
               ) -> Starlette:
    """The studio's ASGI app, serving ``runs_dir`` (see the module docstring for the routes).

    ``loopback_only``: answer only requests addressed to this machine's loopback names (the studio
    bound to 127.0.0.1); requests from other web sites' pages are refused either way
    (:class:`SameOriginOnly`).
    """
    studio = Studio(runs_dir, max_upload_mb)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async def poll() -> None:
            while True:
                with contextlib.suppress(Exception):
                    await run_in_threadpool(studio.runs.poll)
                await asyncio.sleep(POLL_SECONDS)

        task = asyncio.create_task(poll())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await run_in_threadpool(studio.close)

    routes = [Route(path, page) for path in PAGES] + [
        Route("/api/info", info),
        WebSocketRoute("/ws/playground", ws_playground),
        Route("/api/playground/{run_id}/script", export_script),
        Route("/api/playground/{run_id}/model", export_model),
        Route("/api/runs", runs_list, methods=["GET", "POST"]),
        Route("/api/runs/attach", runs_attach, methods=["POST"]),
        Route("/api/runs/{run_id}/control", run_control, methods=["POST"]),
        Route("/api/runs/{run_id}/report", run_report),
        WebSocketRoute("/ws/runs/{run_id}", ws_run),
        Route("/api/uploads/csv", upload_csv, methods=["POST"]),
        Route("/api/csv/check", check_csv, methods=["POST"]),
        Route("/api/models", models_list),
        Route("/api/models/upload", model_upload, methods=["POST"]),
        Route("/api/models/{model_id}", model_describe),
        Route("/api/models/{model_id}/analyse", model_analyse, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[
        Middleware(SameOriginOnly, loopback_only=loopback_only)], exception_handlers={
        ValueError: _value_error, TypeError: _value_error, NotFound: _not_found, Exception: _other_error})
    app.state.studio = studio
    return app
