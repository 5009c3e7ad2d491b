"""``python -m bench [--quick | --full]``: run the benchmarks, print a table, write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
import time
from pathlib import Path

from bench import report
from bench.common import environment, load_average

MODES = {  # rounds (epochs per contestant), tiny-net steps and rounds, import repeats
    "quick": {"rounds": 5, "tiny_steps": 1500, "tiny_rounds": 3, "import_repeats": 5, "optimizer_steps": 300,
              "sequence_rounds": 5, "inference_rounds": 3},
    "full": {"rounds": 7, "tiny_steps": 1500, "tiny_rounds": 9, "import_repeats": 15, "optimizer_steps": 1000,
             "sequence_rounds": 9, "inference_rounds": 5},
}
SECTIONS = ("mlp", "optimizer", "cnn", "inference", "sequences", "tiny", "startup", "profile")


def _notes(results: dict) -> list[str]:
    """The targets this run missed, by how much, and how much of each epoch is outside the products."""
    notes = [f"- Missed: {target}; measured {measured}." for target, measured, ok in report.targets(results)
             if ok is False]
    for r in results.get("mlp", []):
        s = r["seconds"]
        fast, ceil = s.get(report.LOOP), s.get(report.CEIL)
        if fast and ceil:
            notes.append(f"- {r['threads']} thread(s), {r['optimizer']}: {fast - ceil:.3f} s of the "
                         f"{fast:.3f} s epoch is outside the matrix products (gather, activations, "
                         f"loss, optimizer update, Python), {100 * (1 - ceil / fast):.0f}%.")
            bounds = [f"{report._range(r, report.CEIL, other)} of {other}'s epoch"
                      for other in (report.TORCH, report.SK) if s.get(other)]
            if bounds:
                notes.append(f"  The products alone (the ceiling, the least a NumPy MLP needs) take "
                             f"{' and '.join(bounds)}.")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="5 epochs per contestant (the default)")
    mode.add_argument("--full", action="store_true", help="7 epochs per contestant, more repeats")
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts to compare (default 1,2)")
    parser.add_argument("--optimizers", default="sgd-momentum,adam", help="default sgd-momentum,adam")
    parser.add_argument("--samples", type=int, default=60_000, help="MLP training rows (default 60000)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"default {','.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"),
                        help="where to write the markdown report (default bench/RESULTS.md)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="measure nothing: rewrite --out from the figures a run saved in JSON")
    args = parser.parse_args(argv)
    if args.render is not None:
        results = json.loads(args.render.read_text(encoding="utf-8"))
        results["notes"] = _notes(results)
        args.out.write_text(report.markdown(results), encoding="utf-8")
        print(f"wrote {args.out} from {args.render}")
        return 0
    mode_name = "full" if args.full else "quick"
    cfg = MODES[mode_name]
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {','.join(SECTIONS)}")
    thread_counts = tuple(int(t) for t in args.threads.split(","))
    optimizers = tuple(o.strip() for o in args.optimizers.split(","))

    def log(msg: str) -> None:
        print(msg, flush=True)

    start = time.perf_counter()
    results: dict = {"environment": environment()}
    command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)

    def save(done: bool) -> None:
        """Write RESULTS.md; also after each section, so a run cut short keeps what it measured."""
        results["notes"] = _notes(results)
        results["config"] = {"command": command.strip(), "mode": mode_name, "rounds": cfg["rounds"],
                             "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                             "seconds": time.perf_counter() - start, "complete": done}
        if not args.no_write:
            args.out.write_text(report.markdown(results), encoding="utf-8")
            args.out.with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")

    log(f"axon bench ({mode_name}): {results['environment']['cpu']}, {results['environment']['cores']} cores")
    if "startup" in sections:
        log("import time and peak memory (fresh interpreters)")
        from bench import startup
        results["imports"] = startup.import_times(cfg["import_repeats"], log)
        results["memory"] = startup.peak_memory(args.samples, log)
        save(False)
    if "tiny" in sections:
        log("tiny nets")
        from bench import tiny
        results["tiny"] = tiny.run(cfg["tiny_steps"], cfg["tiny_rounds"], log)
        save(False)
    if "mlp" in sections:
        log(f"MLP epochs ({args.samples:,} samples, {cfg['rounds']} rounds)")
        from bench import mlp
        results["mlp"] = mlp.run(args.samples, cfg["rounds"], thread_counts, optimizers, log)
        save(False)
    if "optimizer" in sections:
        log("optimizer step alone")
        from bench import optimizer
        results["optimizer"] = optimizer.run(cfg["optimizer_steps"], cfg["tiny_rounds"], thread_counts, log)
        save(False)
    if "cnn" in sections:
        log("LeNet-like CNN epochs")
        from bench import cnn
        results["cnn"] = cnn.run(quick=False, log=log)
        save(False)
    if "inference" in sections:
        log("inference: predict throughput")
        from bench import inference
        results["inference"] = inference.run(cfg["inference_rounds"], thread_counts, log)
        save(False)
    if "sequences" in sections:
        log("sequence layers: one batch forward + backward")
        from bench import sequences
        results["sequences"] = sequences.run(cfg["sequence_rounds"], thread_counts, log)
        missed = sorted({r["case"] for r in results["sequences"]
                         if r["seconds"].get("PyTorch") and report._paired(r, "axon", "PyTorch") > 1.0})
        results["sequences_profile"] = {case: sequences.profile(case, 1) for case in missed}
        save(False)
    if "profile" in sections:
        from bench import mlp
        results["profile_threads"] = max(thread_counts)
        results["profile"] = mlp.profile_epoch(args.samples, max(thread_counts))
    results["environment"]["load average at end"] = load_average()
    save(True)
    print()
    print(report.console(results))
    if not args.no_write:
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
