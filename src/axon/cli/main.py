"""The ``axon`` command line: one parser, one module per subcommand, one way to fail.

Errors a user can cause (a bad path, a malformed CSV, NaN in the data, an unknown data set,
labels out of range, a model that does not fit the data, a corrupted model file, a bad option)
are ValueError, TypeError or OSError inside axon; :func:`main` prints them as one line
``axon: error: ...`` on stderr and exits with status 2, never a traceback. Ctrl-C exits with 130.
Anything else is a bug in axon and keeps its traceback; ``AXON_DEBUG=1`` shows the traceback
of user errors too.

Heavy modules (matplotlib, the training loop, the data loaders) are imported by the subcommand
that needs them, so ``axon --help`` is quick.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

EPILOG = """\
examples:
  axon train                                  # MLP on the bundled digits, with a report
  axon train --dataset csv:covid.train.csv --target tested_positive
  axon evaluate runs/digits-*/model.axon --dataset digits
  axon predict runs/covid-*/model.axon covid.test.csv --out pred.csv
  axon summary model.axon
  axon gradcheck --layers 16,8
  axon explain model.axon --dataset digits
  axon export model.axon --onnx model.onnx
  axon demo fit --out demo-figures

Run `axon COMMAND --help` for the options of a command.
"""


class UsageError(ValueError):
    """A bad command line (unknown option, missing argument): exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``axon: error: ...``) instead of usage + message,
    and options are never abbreviated (``--epoch 5`` is an error, not ``--epochs 5``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        ns, extra = self.parse_known_args(args, namespace)
        if extra:  # name the subcommand whose help lists the options
            prog = f"axon {ns.command}" if getattr(ns, "command", None) else self.prog
            raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see `{prog} --help`)")
        return ns


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``axon`` command with every subcommand."""
    from axon import __version__
    from axon.cli import demo, evolve, inspect, predict, studio, train

    parser = _Parser(prog="axon", description="axon: deep learning from scratch on NumPy.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"axon {__version__}")
    sub = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", parser_class=_Parser)
    train.add_parser(sub)
    predict.add_evaluate_parser(sub)
    predict.add_predict_parser(sub)
    inspect.add_summary_parser(sub)
    inspect.add_gradcheck_parser(sub)
    inspect.add_explain_parser(sub)
    inspect.add_export_parser(sub)
    demo.add_parser(sub)
    evolve.add_parser(sub)
    studio.add_parser(sub)
    return parser


class _ClosableStdout:
    """Standard output that a closed pipe (``axon train | head -2``) silences instead of stopping.

    Once the reader has gone, further writes go nowhere and the command carries on: training
    finishes and writes its run folder. Everything else is passed to the real stream.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def _silence(self) -> None:
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())  # the exit flush succeeds too
        self._stream = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    return " ".join(text.split())  # one line, whatever the message held


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``axon`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    As the console script it exits with that status: 0 success, 1 a failed check (gradcheck),
    2 an error the user can fix (one line on stderr), 130 interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    stdout = sys.stdout
    sys.stdout = _ClosableStdout(stdout)
    try:
        return _run(argv)
    finally:
        if isinstance(sys.stdout, _ClosableStdout):
            sys.stdout = stdout


def _run(argv: list[str]) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        import numpy as np
        # A diverging run is reported by fit as one error line; NumPy's overflow warnings on
        # the way there would only add noise to stderr.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            status = args.func(args)
    except KeyboardInterrupt:
        print("axon: interrupted", file=sys.stderr)
        status = 130
    except (ValueError, TypeError, OSError, ArithmeticError) as exc:
        if os.environ.get("AXON_DEBUG"):  # developers: see the traceback
            raise
        print(f"axon: error: {_one_line(exc)}", file=sys.stderr)
        status = 2
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
