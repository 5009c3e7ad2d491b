"""Serving the studio: on a socket this machine owns, in the foreground (``axon studio``) or in a thread.

``StudioServer`` runs uvicorn in a background thread, for a notebook or a test::

    from axon.studio.server import StudioServer
    server = StudioServer(runs_dir="runs").start()   # port 0: any free port
    print(server.url)                                # http://127.0.0.1:PORT/
    ...
    server.stop()
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from axon.studio import require


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; ValueError saying what to do when it cannot be had."""
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be 0..65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise ValueError(f"--host {host}: not an address of this machine ({e.strerror})") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise ValueError(f"cannot serve on {host}:{port} ({e.strerror}); is a studio already running there? "
                         f"choose another with --port") from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://HOST:PORT/`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


class StudioServer:
    """The studio served by uvicorn on ``host:port``; :meth:`start` in a thread or :meth:`run` here.

    Parameters
    ----------
    runs_dir : the folder of run folders.
    host, port : where to listen (port 0: any free port; see :attr:`url` after binding).
    max_upload_mb : the largest file a page may upload.
    """

    def __init__(self, runs_dir: str | Path = "runs", host: str = "127.0.0.1", port: int = 0,
                 max_upload_mb: float = 200.0) -> None:
        require()
        import uvicorn

        from axon.studio.app import LOOPBACK, create_app

        self.sock = bind(host, port)
        self.url = url_of(self.sock)
        self.app = create_app(runs_dir, max_upload_mb=max_upload_mb, loopback_only=host in LOOPBACK)
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Serve in this thread until Ctrl-C (uvicorn's signal handling)."""
        self.server.run(sockets=[self.sock])

    def start(self, timeout: float = 10.0) -> StudioServer:
        """Serve in a background thread; returns when the server accepts connections."""
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                        name="axon-studio", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the studio did not start")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving (playgrounds end, runs started here get Ctrl-C) and wait for the thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self.sock.close()
