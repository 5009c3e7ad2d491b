"""The search's ``report.html``: one self-contained page, in the style of ``axon train``'s report.

Sections: the chosen model (its figures on validation and test, the ``axon train`` command that
trains it again); the Pareto front (validation loss and accuracy against parameters and
inference time, every trial coloured by generation, the front joined by a line) and its table;
the best architecture of each generation; the spread of the population over the generations;
the parameter importances (Optuna's PED-ANOVA: which genes the best trials have in common);
every trial; the settings.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from axon.io.atomic import atomic_write_bytes
from axon.report.html import _CSS, _img, _table
from axon.report.plots import _figure, to_png
from axon.search.result import EvolveResult, TrialRecord
from axon.search.settings import OBJECTIVES

_LABELS = {"val_loss": "validation loss", "val_accuracy": "validation accuracy", "params": "parameters",
           "inference_time": "inference time (ms per 1,000 samples)"}


def _maximized(key: str) -> bool:
    """Whether the search pushes the figure ``key`` up (its direction in :data:`OBJECTIVES`)."""
    return OBJECTIVES[key] == "maximize"


def _front_line(points: list[tuple[float, float]], lower_is_better: bool) -> tuple[list[float], list[float]]:
    """The staircase of the non-dominated points of (x to minimise, y), sorted by x."""
    xs, ys = [], []
    best = np.inf if lower_is_better else -np.inf
    for x, y in sorted(points):
        if (y < best) if lower_is_better else (y > best):
            best = y
            xs.append(x)
            ys.append(y)
    return xs, ys


def front_plot(trials: list[TrialRecord], front: list[TrialRecord], y_keys: list[str], x_keys: list[str]) -> bytes:
    """Panels of y against x (each a figure of the trials), points coloured by generation, the
    trials of the Pareto front circled and the non-dominated staircase drawn."""
    fig, axes = _figure(len(y_keys), len(x_keys), size=(5.2 * len(x_keys), 3.8 * len(y_keys)))
    gens = np.array([t.generation for t in trials])
    on_front = {t.number for t in front}
    for row, yk in enumerate(y_keys):
        for col, xk in enumerate(x_keys):
            ax = axes[row, col]
            pts = [(t.figures[xk], t.figures[yk], t.generation, t.number in on_front) for t in trials
                   if xk in t.figures and yk in t.figures]
            if not pts:
                ax.set_axis_off()
                continue
            x, y, g, f = (np.array(v) for v in zip(*pts))
            sc = ax.scatter(x, y, c=g, cmap="viridis", s=18, alpha=0.8, vmin=gens.min(), vmax=max(gens.max(), 1))
            ax.scatter(x[f.astype(bool)], y[f.astype(bool)], s=70, facecolors="none", edgecolors="red",
                       linewidths=1.2, label="Pareto front of the search")
            lx, ly = _front_line(list(zip(x.tolist(), y.tolist())), lower_is_better=not _maximized(yk))
            ax.step(lx, ly, where="post", color="red", lw=1, alpha=0.7)
            ax.set_xscale("log")
            if yk == "val_loss":
                ax.set_yscale("log")
            ax.set_xlabel(_LABELS[xk])
            ax.set_ylabel(_LABELS[yk])
            ax.grid(alpha=0.3)
            if row == 0 and col == 0:
                ax.legend(fontsize="small")
            if col == len(x_keys) - 1:
                fig.colorbar(sc, ax=ax, label="generation")
    return to_png(fig)


def generations_plot(trials: list[TrialRecord], key: str) -> bytes:
    """Left: the spread of ``key`` in each generation (box plot, every trial a dot); right: the
    best value of each generation and the best so far."""
    fig, axes = _figure(1, 2, size=(10.0, 3.8))
    gens = sorted({t.generation for t in trials})
    values = [[t.figures[key] for t in trials if t.generation == g and key in t.figures] for g in gens]
    a, b = axes[0]
    a.boxplot(values, positions=gens, widths=0.6, showfliers=False)
    for g, v in zip(gens, values):
        a.scatter(np.full(len(v), g) + np.random.default_rng(g).uniform(-0.15, 0.15, len(v)), v, s=8, alpha=0.6)
    better = max if _maximized(key) else min
    best = [better(v) if v else np.nan for v in values]
    so_far = [better(best[: i + 1]) for i in range(len(best))]
    b.plot(gens, best, marker="o", label="best of the generation")
    b.plot(gens, so_far, ls="--", label="best so far")
    for ax in (a, b):
        ax.set_xlabel("generation")
        ax.set_ylabel(_LABELS[key])
        ax.grid(alpha=0.3)
        if key in ("val_loss", "params"):
            ax.set_yscale("log")
    a.set_title(f"{_LABELS[key]}: the population over the generations", fontsize=10)
    b.set_title("best per generation", fontsize=10)
    b.legend(fontsize="small")
    return to_png(fig)


def importance_plot(importances: dict[str, dict[str, float]]) -> bytes:
    """One horizontal bar chart per objective: each gene's importance (they sum to 1)."""
    fig, axes = _figure(1, len(importances), size=(4.8 * len(importances), 0.35 * max(
        len(v) for v in importances.values()) + 1.5))
    for ax, (objective, imp) in zip(axes[0], importances.items()):
        names = list(imp)[::-1]
        ax.barh(names, [imp[n] for n in names], color="tab:blue")
        ax.set_xlabel("importance")
        ax.set_title(_LABELS.get(objective, objective), fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    return to_png(fig)


def param_importances(result: EvolveResult) -> tuple[dict[str, dict[str, float]], str]:
    """Optuna's PED-ANOVA importances for each objective, or ({}, why not).

    PED-ANOVA (Watanabe et al., 2023) compares, gene by gene, where the best trials lie (the top
    ``q`` of the completed ones; q = 10 %, or more so that at least 5 trials are in it) with where
    all of them lie: a gene whose best values are spread like all its values does not matter.
    Fast (no model is fitted), so the report stays quick at hundreds of trials.
    """
    import warnings

    import optuna

    complete = result.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 8:
        return {}, f"only {len(complete)} completed trials: too few to tell the best from the rest"
    quantile = min(0.5, max(0.1, 5 / len(complete)))
    importances: dict[str, dict[str, float]] = {}
    for i, (objective, direction) in enumerate(zip(result.settings.objectives, result.settings.directions)):
        sign = -1.0 if direction == "maximize" else 1.0  # PED-ANOVA takes a target to minimise

        def target(t: Any, i: int = i, sign: float = sign) -> float:
            return sign * t.values[i]

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importances[objective] = optuna.importance.get_param_importances(
                    result.study, target=target,
                    evaluator=optuna.importance.PedAnovaImportanceEvaluator(target_quantile=quantile))
        except (ValueError, RuntimeError) as e:
            return {}, f"could not be computed ({e})"
    return importances, ""


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _trial_table(records: list[TrialRecord], run_dir: Path, with_test: bool = False) -> str:
    cols = ["trial", "gen", "layers", "activation", "dropout", "optimizer", "lr", "batch", "l2",
            "val loss", "val acc", "params", "ms/1k", "epochs", "model"] + (["test loss", "test acc"] if with_test else [])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = []
    for r in records:
        a = r.architecture
        link = ""
        if r.model_path is not None:
            try:
                rel = os.path.relpath(r.model_path, run_dir)
            except ValueError:
                rel = str(r.model_path)
            link = f'<a href="{html.escape(rel)}">{html.escape(rel)}</a>'
        epochs = _fmt(r.figures.get("epochs_run")) + (f" (pruned at {r.pruned_at + 1})" if r.pruned_at is not None else "")
        note = (f" (retry of {r.retry_of})" if r.retry_of is not None else "") + \
               (f" (same as {r.same_as})" if r.same_as is not None else "")
        cells = [f"{r.number}{note}", str(r.generation),
                 a.layers or "(linear)", a.activation, _fmt(a.dropout), a.optimizer, _fmt(a.lr), str(a.batch_size),
                 _fmt(a.l2), _fmt(r.figures.get("val_loss")), _fmt(r.figures.get("val_accuracy")), _fmt(r.params),
                 _fmt(r.figures.get("inference_time")), epochs]
        tail = [link]
        if with_test:
            t = r.test or {}
            tail += [_fmt(t.get("loss")), _fmt(t.get("accuracy"))]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                    + "".join(f"<td>{c}</td>" if i == 0 else f"<td>{html.escape(c)}</td>" for i, c in enumerate(tail))
                    + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def best_per_generation(records: list[TrialRecord], key: str) -> list[TrialRecord]:
    """The best trial of each generation in ``key`` (fewer parameters break ties)."""
    sign = -1.0 if _maximized(key) else 1.0
    out = []
    for g in sorted({r.generation for r in records}):
        members = [r for r in records if r.generation == g and key in r.figures]
        if members:
            out.append(min(members, key=lambda r: (sign * r.figures[key], r.params)))
    return out


def write_report(path: str | os.PathLike, result: EvolveResult, data: Any, info: dict[str, Any]) -> Path:
    """Write the search's self-contained ``report.html`` and return its path."""
    s = result.settings
    parts: list[str] = []
    title = f"axon evolve: {data.name} ({data.task})"
    parts.append(f"<h1>{html.escape(title)}</h1>")
    parts.append("<h2>Command</h2><pre>" + html.escape(info.get("command", "")) + "</pre>")
    counts = [("study", info.get("study")), ("storage", info.get("storage") or "study.db (SQLite, in this folder)"),
              ("search", f"{s.sampler}" + (f" (crossover {s.crossover}, p = {s.crossover_prob:g}; mutation "
                                             f"{'1/genes' if s.mutation_prob is None else s.mutation_prob})"
                                             if s.sampler == "nsga2" else "")),
              ("objectives", ", ".join(f"{o} ({d})" for o, d in zip(s.objectives, s.directions))),
              ("budget", f"{s.n_trials} trials = {s.population} x {s.generations} generations"),
              ("finished trials", len(result.trials)), ("failed trials", len(result.failed)),
              ("stopped by the pruner", sum(r.pruned_at is not None for r in result.trials)),
              ("workers", info.get("workers")), ("wall time (s)", round(result.seconds, 1))]
    parts.append("<h2>Search</h2>" + _table(counts))

    best = result.best
    parts.append("<h2>The chosen model</h2>")
    if best is None:
        parts.append("<p>No trial completed.</p>")
    else:
        rows: list[tuple[str, Any]] = [("trial", best.number), ("generation", best.generation),
                                       ("architecture", str(best.architecture)), ("parameters", f"{best.params:,}")]
        rows += [(f"validation {k[4:]}", v) for k, v in best.figures.items() if k.startswith("val_")]
        rows += [(f"test {k}", v) for k, v in (best.test or {}).items()]
        parts.append('<p class="note">The Pareto front\'s best trial in the first objective. It was chosen on '
                     'the validation set alone; the test figures are its first contact with the test set '
                     '(many trials were compared on the same validation set, so its validation figures are '
                     'slightly optimistic).</p>')
        parts.append(_table(rows))
        parts.append("<p>Train it again:</p><pre>" + html.escape(best.architecture.train_command(
            data.name, epochs=s.epochs, patience=s.patience, seed=s.seed)) + "</pre>")

    if result.trials:
        x_keys = ["params"] + (["inference_time"] if "inference_time" in s.objectives else [])
        y_keys = ["val_loss"] + (["val_accuracy"] if data.task == "classification" else [])
        parts.append("<h2>Pareto front</h2>")
        parts.append('<p class="note">Every trial, coloured by generation; red circles: the Pareto front of the '
                     'search\'s objectives (no trial is better in one objective without being worse in '
                     'another); the red staircase joins the trials that no other beats in the two figures '
                     'of the panel.</p>')
        parts.append(_img(front_plot(result.trials, result.front, y_keys, x_keys), "Pareto front"))
        parts.append(_trial_table(result.front, result.run_dir, with_test=data.X_test is not None))

        key = s.objectives[0] if s.objectives[0] in ("val_loss", "val_accuracy") else "val_loss"
        parts.append("<h2>The best architecture of each generation</h2>")
        parts.append(_trial_table(best_per_generation(result.trials, key), result.run_dir))
        parts.append("<h2>The population over the generations</h2>")
        parts.append(_img(generations_plot(result.trials, key), "population spread per generation"))
        if "params" in s.objectives:
            parts.append(_img(generations_plot(result.trials, "params"), "parameters per generation"))

        parts.append("<h2>Parameter importances</h2>")
        importances, why = param_importances(result)
        if importances:
            parts.append('<p class="note">PED-ANOVA (Watanabe et al. 2023, as Optuna computes it): how '
                         'differently each gene is distributed among the best completed trials than among all '
                         'of them, normalised to sum to 1. A gene that matters has its best values in a narrow '
                         'place. It measures association, not cause: a genetic algorithm breeds from the best, '
                         'so genes that travel together in the best families look important together (the '
                         'dropout of a family of small networks for their size, say).</p>')
            parts.append(_img(importance_plot(importances), "parameter importances"))
        else:
            parts.append(f"<p>Not shown: {html.escape(why)}.</p>")

        parts.append("<h2>Every trial</h2><details><summary>" + f"{len(result.trials)} trials" + "</summary>"
                     + _trial_table(result.trials, result.run_dir) + "</details>")
    parts.append("<h2>Settings</h2><pre>" + html.escape(json.dumps(s.to_dict(), indent=2)) + "</pre>")
    doc = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
           + "\n".join(parts) + "\n</body></html>\n")
    atomic_write_bytes(path, doc.encode("utf-8"))
    return Path(path)


__all__ = ["best_per_generation", "front_plot", "generations_plot", "importance_plot", "param_importances",
           "write_report"]
