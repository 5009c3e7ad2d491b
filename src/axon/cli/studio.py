"""``axon studio``: serve the studio's pages on this machine (127.0.0.1 by default)."""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser

EPILOG = """\
examples:
  axon studio --open                 # serve on http://127.0.0.1:8765 and open the browser
  axon studio --port 9000 --runs experiments
  axon train --studio                # in another terminal: watch this run on the Train page

Pages: /playground (a network on 2-D points, live), /train (runs with live curves, pause, stop,
learning rate), /inside (a model file: draw a digit, see every layer, switch units off).
Needs the studio extra: pip install -e ".[studio]".
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon studio``."""
    p = sub.add_parser("studio", help="a local web app: playground, live training, look inside a model",
                       description="Serve the axon studio: playground, live training, look inside a model.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=8765, help="port to serve on (default 8765; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; the studio has no login)")
    p.add_argument("--open", action="store_true", help="open the studio in the web browser")
    p.add_argument("--runs", default="runs", metavar="DIR",
                   help="folder of run folders to show and to start runs in (default runs, as axon train)")
    p.add_argument("--max-upload-mb", type=float, default=200.0, metavar="MB",
                   help="largest CSV or model file a page may upload (default 200)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; returns 0."""
    from axon import studio
    studio.require()  # a StudioExtraMissing is a ValueError: one line
    if not args.max_upload_mb > 0:
        raise ValueError(f"--max-upload-mb must be > 0, got {args.max_upload_mb}")
    from axon.studio.server import StudioServer

    server = StudioServer(args.runs, args.host, args.port, max_upload_mb=args.max_upload_mb)
    print(f"axon studio: serving {server.url}  (runs in {args.runs}/; Ctrl-C to stop)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("axon studio: warning: the studio has no login; anyone who can reach this address can use it",
              file=sys.stderr)
    if args.open:
        threading.Timer(0.5, webbrowser.open, args=(server.url,)).start()
    server.run()
    return 0
