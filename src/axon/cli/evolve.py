"""``axon evolve``: let the network design itself (:mod:`axon.search`, extra ``[search]``).

Loads the data as ``axon train`` does (``--dataset digits|mnist|fashion-mnist|csv:PATH``, the same
validation split for the same ``--seed``), builds the search space from the flags (or a
``--space`` TOML file), and runs :func:`axon.search.evolve.run` into a run folder. With
``--storage URL --study NAME`` it creates or joins a study that workers in other shells or on
other machines share; options not given are then taken from the study. ``--resume RUN_DIR``
continues a search with its own settings (``--generations`` may raise the budget).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

#: The examples and notes under ``axon evolve --help``.
EPILOG = """\
examples:
  axon evolve                                  # digits, 16 x 10 generations of MLPs, report in runs/
  axon evolve --population 8 --generations 4 --epochs 15 --out runs/quick
  axon evolve --depth 1:4 --units 32,64,128,256 --activations relu,tanh --per-layer-activation
  axon evolve --conv-blocks 0:2 --filters 8,16 --depth 1:2          # conv blocks for images
  axon evolve --sampler tpe                    # or random: the same budget, another strategy
  axon evolve --objectives val_accuracy,inference_time
  axon evolve --workers 2                      # two processes on this machine
  axon evolve --storage postgresql://axon:PW@db-host/axon --study digits-1   # on every machine
  axon evolve --storage journal:/shared/digits.log --study digits-1         # shared file system
  axon evolve --resume runs/evolve-20250101-120000 --generations 20

Ranges are LOW:HIGH (--depth 1:3, --lr 3e-4:3e-2, --dropout 0:0.5); choices are comma lists
(--units 16,32,64). A --space file holds the same keys in TOML (depth = "1:3", units = [16, 32]).
Objectives: val_loss (minimise), val_accuracy (maximise), params, inference_time (minimise).
The run folder gets study.db (the study, unless --storage), trials/NNNN/ (model.axon,
history.csv, run.json of each trial), model.axon (the chosen model), metrics.json, report.html.
"""

#: Flags of the search space -> SearchSpace field.
SPACE_FLAGS = {"depth": "depth", "units": "units", "activations": "activations",
               "per_layer_activation": "per_layer_activation", "dropout": "dropout", "batch_norm": "batch_norm",
               "conv_blocks": "conv_blocks", "filters": "filters", "optimizers": "optimizers", "lr": "lr",
               "batch_sizes": "batch_size", "l1": "l1", "l2": "l2"}
#: Flags of the search -> Settings field.
SEARCH_FLAGS = ("population", "objectives", "sampler", "crossover", "crossover_prob", "mutation_prob", "epochs",
                "patience", "pruner")
_DATA_FLAGS = ("dataset", "target", "data_dir", "validation_split", "seed")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon evolve``."""
    p = sub.add_parser("evolve", help="search network architectures with a genetic algorithm (Optuna)",
                       description="Evolve network architectures (NSGA-II, TPE or random search with Optuna); "
                                   "write the Pareto front's models and report.html. Needs pip install -e "
                                   "\".[search]\".",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = p.add_argument_group("data (as axon train)")
    d.add_argument("--dataset", metavar="NAME", help="digits (default), mnist, fashion-mnist or csv:PATH")
    d.add_argument("--target", metavar="COL", help="for csv: the column to predict")
    d.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST/Fashion-MNIST IDX files")
    d.add_argument("--validation-split", type=float, metavar="F", help="held-out fraction (default 0.1; csv 0.2)")
    d.add_argument("--seed", type=int, metavar="N", help="the split, every trial's training, the sampler (default 0)")
    s = p.add_argument_group("search")
    s.add_argument("--population", type=int, metavar="N", help="trials per generation (default 16)")
    s.add_argument("--generations", type=int, metavar="N", help="generations (default 10): the budget is "
                                                                "population x generations trials")
    s.add_argument("--objectives", metavar="LIST", help="default val_loss,params")
    s.add_argument("--sampler", metavar="NAME", help="nsga2 (the genetic algorithm, default), tpe or random")
    s.add_argument("--crossover", metavar="NAME", help="nsga2 crossover: uniform (default), blxalpha, sbx, vsbx, "
                                                       "undx, spx")
    s.add_argument("--crossover-prob", type=float, metavar="P", help="probability that a child mixes two "
                                                                     "parents (default 0.9)")
    s.add_argument("--mutation-prob", type=float, metavar="P", help="probability that a gene mutates "
                                                                    "(default 1/number of genes)")
    s.add_argument("--epochs", type=int, metavar="N", help="most epochs per trial (default 20)")
    s.add_argument("--patience", type=int, metavar="N", help="early stopping per trial (default 5; 0: off)")
    s.add_argument("--pruner", metavar="NAME", help="median (default) or none")
    g = p.add_argument_group("search space (defaults: the SearchSpace defaults)")
    g.add_argument("--space", metavar="FILE.toml", help="the space's fields in a TOML file (flags override it)")
    g.add_argument("--depth", metavar="LOW:HIGH", help="hidden Dense layers (default 1:3)")
    g.add_argument("--units", metavar="LIST", help="widths (default 16,32,64,128,256)")
    g.add_argument("--activations", metavar="LIST", help="default relu,tanh,leaky_relu")
    g.add_argument("--per-layer-activation", action="store_const", const=True, default=None,
                   help="draw an activation per hidden layer")
    g.add_argument("--dropout", metavar="LOW:HIGH", help="default 0:0.5")
    g.add_argument("--batch-norm", metavar="LIST", help="true,false (default: both), true or false")
    g.add_argument("--conv-blocks", metavar="LOW:HIGH", help="conv3x3 (+bn) + maxpool2 blocks (default 0)")
    g.add_argument("--filters", metavar="LIST", help="filters per conv block (default 8,16,32)")
    g.add_argument("--optimizers", metavar="LIST", help="default adam,sgd")
    g.add_argument("--lr", metavar="LOW:HIGH", help="learning rate, log scale (default 3e-4:3e-2)")
    g.add_argument("--batch-sizes", metavar="LIST", help="default 32,64,128")
    g.add_argument("--l1", metavar="LIST", help="L1 penalties (default 0)")
    g.add_argument("--l2", metavar="LIST", help="L2 penalties (default 0,1e-5,1e-4,1e-3)")
    w = p.add_argument_group("where and how many")
    w.add_argument("--storage", metavar="URL", help="sqlite:///FILE, postgresql://USER:PW@HOST/DB, another "
                                                    "SQLAlchemy URL or journal:FILE (default: study.db in the run "
                                                    "folder)")
    w.add_argument("--study", metavar="NAME", help="the study's name (needed with --storage; workers with the same "
                                                   "storage and name share it)")
    w.add_argument("--workers", type=int, default=1, metavar="N", help="local worker processes (default 1)")
    w.add_argument("--heartbeat", type=int, metavar="S", help="seconds between a trial's heartbeats (default 5)")
    w.add_argument("--threads", type=int, default=1, metavar="N", help="BLAS threads per worker (default 1)")
    w.add_argument("--out", metavar="DIR", help="run folder (default runs/evolve-<time>)")
    w.add_argument("--resume", metavar="RUN_DIR", help="continue the search of RUN_DIR")
    w.add_argument("--quiet", "-q", action="store_true", help="only the summary")
    w.add_argument("--no-report", action="store_true", help="skip report.html (a worker that only adds trials)")
    p.set_defaults(func=run)


def _given(args: argparse.Namespace, names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}


def _space(args: argparse.Namespace) -> Any:
    from axon.search.space import SearchSpace

    fields: dict[str, Any] = {}
    if args.space:
        import tomllib

        path = Path(args.space)
        if not path.is_file():
            raise ValueError(f"--space: no such file {args.space!r}")
        try:
            with open(path, "rb") as f:
                fields.update(tomllib.load(f))
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"--space {args.space}: not valid TOML ({e})") from None
    fields.update({SPACE_FLAGS[k]: v for k, v in _given(args, list(SPACE_FLAGS)).items()})
    return SearchSpace.from_dict(fields)


def _settings(args: argparse.Namespace, task: str, standardize: bool, stored: Any) -> Any:
    """Settings from the flags; a joined study's stored settings fill in what was not given."""
    from axon.search.settings import Settings

    given = _given(args, SEARCH_FLAGS)
    if "objectives" in given:
        given["objectives"] = tuple(o.strip() for o in given["objectives"].split(",") if o.strip())
    space_given = args.space or _given(args, list(SPACE_FLAGS))
    base = stored.to_dict() if stored is not None else {}
    if not space_given and stored is not None:
        given["space"] = stored.space
    else:
        given["space"] = _space(args)
    fields = {**base, "task": task, "standardize": standardize, **given}
    fields["seed"] = args.seed if args.seed is not None else base.get("seed", 0)
    if args.generations is not None:
        fields["generations"] = args.generations
    elif stored is not None:
        fields["generations"] = stored.generations  # a joining worker: the study's budget
    if args.heartbeat is not None:
        fields["heartbeat"] = args.heartbeat
    return Settings.from_dict(fields)


def _load(spec: str, target: str | None, data_dir: str | None, validation_split: float | None, seed: int) -> Any:
    from axon.cli.config import defaults_for
    from axon.cli.data import load_dataset

    fraction = validation_split if validation_split is not None else defaults_for(spec, None)["validation_split"]
    data = load_dataset(spec, target=target, kind="mlp", validation_split=fraction, seed=seed, data_dir=data_dir)
    if data.X_val is None:
        raise ValueError("--validation-split 0 leaves nothing to score the trials on; use e.g. 0.1")
    data.extra.update({"validation_split": fraction, "seed": seed})
    standardize = bool(defaults_for(spec, data.task)["standardize"])
    return data, standardize


def _resume(args: argparse.Namespace) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    from axon import runs
    from axon.search.settings import Settings

    run_dir = Path(args.resume)
    info_path = run_dir / runs.RUN_INFO_FILE
    if not info_path.is_file() or runs.read_json(info_path).get("kind") != "evolve":
        raise ValueError(f"--resume {args.resume}: no run.json of axon evolve there; give a run folder written "
                         f"by axon evolve")
    extra = [f"--{k.replace('_', '-')}" for k in (*_DATA_FLAGS, *SEARCH_FLAGS, *SPACE_FLAGS, "space", "study", "out")
             if getattr(args, k, None) not in (None, False)]
    if extra:
        raise ValueError(f"--resume continues with the run's own settings; leave out {' '.join(extra)} "
                         f"(--generations, --workers, --heartbeat and --storage may be given)")
    info = runs.read_json(info_path)
    stored = dict(info["settings"])
    if args.generations is not None:
        stored["generations"] = args.generations
    if args.heartbeat is not None:
        stored["heartbeat"] = args.heartbeat
    settings = Settings.from_dict(stored)
    if info.get("storage") and "***" in info["storage"] and not args.storage:
        raise ValueError(f"--resume {args.resume}: its storage {info['storage']} needs its password; give it "
                         f"again with --storage URL")
    opts = info.get("data_options") or {"dataset": info["dataset"]}
    data, _ = _load(opts["dataset"], opts.get("target"), opts.get("data_dir"), opts.get("validation_split"),
                    int(opts.get("seed") or 0))
    where = {"run_dir": run_dir, "storage": args.storage or info.get("storage"), "study": info["study"]}
    return data, settings, where, opts


def run(args: argparse.Namespace) -> int:
    """Run ``axon evolve``; returns the exit status (0, or 130 when interrupted)."""
    from axon.search._optuna import require_optuna

    require_optuna()  # before the data loads: without Optuna, a ValueError naming the extra
    from axon import runs
    from axon.search.evolve import run as run_search
    from axon.search.evolve import stored_settings
    from axon.search.storage import resolve_url

    command = "axon " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["evolve"] else "axon evolve"
    if args.resume:
        data, settings, where, data_options = _resume(args)
    else:
        if args.storage and not args.study:
            raise ValueError("--storage needs --study NAME: the study that workers with this storage share")
        joined = stored_settings(resolve_url(args.storage, Path(".")), args.study) if args.storage else None
        stored, opts = joined if joined is not None else (None, {})
        # A worker that joins a study loads its data as the study's creator did, unless told otherwise.
        spec = args.dataset or (opts.get("dataset") if opts.get("dataset") != "arrays" else None) or "digits"
        target = args.target if args.target is not None else (opts.get("target") if spec == opts.get("dataset")
                                                              else None)
        split = args.validation_split if args.validation_split is not None else opts.get("validation_split")
        seed = args.seed if args.seed is not None else int(opts.get("seed") or 0)
        data, standardize = _load(spec, target, args.data_dir, split, seed)
        settings = _settings(args, data.task, standardize, stored)
        settings.space.check_fits(data.input_shape, data.n_outputs)
        where = {"run_dir": runs.new_run_dir(args.out or Path("runs") / runs.default_run_name("evolve")),
                 "storage": args.storage, "study": args.study}
        data_options = {"dataset": spec, "target": target, "data_dir": args.data_dir,
                        "validation_split": data.extra["validation_split"], "seed": seed}
    try:
        run_search(data, settings, storage=where["storage"], study=where["study"], run_dir=where["run_dir"],
                   workers=args.workers, verbose=0 if args.quiet else 1, command=command, threads=args.threads,
                   report=not args.no_report, info={"data_options": data_options})
    except KeyboardInterrupt:
        print(f"axon: interrupted; the finished trials are kept in the study: continue with axon evolve --resume "
              f"{where['run_dir']}", file=sys.stderr)
        return 130
    return 0
