#!/usr/bin/env python3
"""Caller accuracy of the codebase index against jedi (BENCHMARKS.md, "Codebase index").

    accuracy.py --callers-bin BIN --package DIR --name NAME [--sample 60] [--seed 30]
                [--timeout 60] [--details FILE] [--label L]

DIR holds the package NAME (DIR/NAME/__init__.py). BIN is `index_callers` (bench/src/bin),
which indexes DIR/NAME as NAME/… (Python files only) in both resolution modes.

Ground truth, per function: jedi's `Script.get_references()` on the function's definition
name (the whole project DIR searched: jedi's limits of 30 parsed / 2000 opened files per
search are lifted), keeping the references that are calls (`f(…)`, `x.f(…)`) inside another
function; the caller is the innermost enclosing `def`. The function itself (recursion) is
not its own caller, as in `Graph::callers`.

Sample: every function and method of the index except dunder names (`__init__`, `__eq__`…:
the runtime calls them, not a name at a call site), sorted by (path, line), shuffled with
random.Random(seed), then taken in that order while jedi finds ≥ 1 caller, until `sample`
functions; a jedi search over `timeout` seconds, or one that raises, skips the function
(both counted).

Index answer: `Graph::callers(id, 1)` restricted to functions and methods (callers that are
class bodies are counted apart: jedi's truth has none). Precision and recall are pooled over
the sample (sum of matches / sum of answers, / sum of truths). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jedi
import parso.cache
import jedi.inference.references as jedi_refs

jedi_refs._PARSED_FILE_LIMIT = 10**9
jedi_refs._OPENED_FILE_LIMIT = 10**9


class Timeout(Exception):
    pass


def _alarm(_signum, _frame):
    raise Timeout


def index_callers(binary: str, package: Path, name: str, *extra: str) -> object:
    root = f"{package / name}={name}"
    out = subprocess.run([binary, root, "--ext", "py", *extra], check=True, capture_output=True)
    return json.loads(out.stdout)


def is_call(leaf) -> bool:
    """`f(…)` or `x.f(…)`: the name (or its `.f` trailer) is followed by a `(` trailer."""
    node = leaf.parent if leaf.parent is not None and leaf.parent.type == "trailer" else leaf
    after = node.get_next_sibling()
    return after is not None and after.type == "trailer" and after.children[0] == "("


def jedi_callers(project, package: Path, func: dict, source_lines: list[str]) -> set | None:
    text = source_lines[func["line"] - 1]
    m = re.search(r"\bdef\s+(" + re.escape(func["name"]) + r")\b", text)
    if m is None:
        return None
    script = jedi.Script(path=str(package / func["path"]), project=project)
    refs = script.get_references(func["line"], m.start(1), include_builtins=False)
    callers = set()
    for ref in refs:
        if ref.module_path is None or ref.is_definition():
            continue
        try:
            rel = Path(ref.module_path).resolve().relative_to(package.resolve()).as_posix()
        except ValueError:
            continue
        leaf = ref._name.tree_name
        if leaf is None or not is_call(leaf):
            continue
        enclosing = leaf.search_ancestor("funcdef")
        if enclosing is None:
            continue
        key = (rel, enclosing.name.start_pos[0])
        if key != (func["path"], func["line"]):
            callers.add(key)
    return callers


def score(answers: list[set], truths: list[set]) -> dict:
    tp = sum(len(a & t) for a, t in zip(answers, truths))
    found = sum(len(a) for a in answers)
    truth = sum(len(t) for t in truths)
    return {
        "answers": found,
        "matches": tp,
        "precision": tp / found if found else None,
        "recall": tp / truth if truth else None,
        "functions_without_answer": sum(1 for a in answers if not a),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--callers-bin", required=True)
    ap.add_argument("--package", required=True, type=Path)
    ap.add_argument("--name", required=True)
    ap.add_argument("--sample", type=int, default=60)
    ap.add_argument("--seed", type=int, default=30)
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--details")
    ap.add_argument("--label", default="accuracy")
    args = ap.parse_args()

    functions = index_callers(args.callers_bin, args.package, args.name, "--list")
    candidates = sorted(
        (f for f in functions if not (f["name"].startswith("__") and f["name"].endswith("__"))),
        key=lambda f: (f["path"], f["line"]),
    )
    random.Random(args.seed).shuffle(candidates)
    project = jedi.Project(path=str(args.package), added_sys_path=[str(args.package)])
    signal.signal(signal.SIGALRM, _alarm)
    sources: dict[str, list[str]] = {}
    sample, truths = [], []
    tried = timeouts = errors = 0
    started = time.monotonic()
    for func in candidates:
        if len(sample) >= args.sample:
            break
        tried += 1
        lines = sources.setdefault(
            func["path"], (args.package / func["path"]).read_text(errors="replace").splitlines()
        )
        signal.alarm(args.timeout)
        try:
            truth = jedi_callers(project, args.package, func, lines)
        except Timeout:
            timeouts += 1
            truth = None
            parso.cache.parser_cache.clear()  # an interrupted search can leave it half-filled
        except Exception as e:  # noqa: BLE001 - a jedi failure skips the function, counted
            errors += 1
            truth = None
            parso.cache.parser_cache.clear()
            print(f"accuracy: jedi failed on {func['qualified']}: {type(e).__name__}", file=sys.stderr)
        finally:
            signal.alarm(0)
        if truth:
            sample.append(func)
            truths.append(truth)
            print(f"accuracy: {len(sample)}/{args.sample} {func['qualified']}: {len(truth)} jedi callers",
                  file=sys.stderr)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as query:
        json.dump([[f["path"], f["line"]] for f in sample], query)
        query.flush()
        answers = index_callers(args.callers_bin, args.package, args.name, "--query", query.name)

    def keep(callers):
        return {(c["path"], c["line"]) for c in callers or [] if c["kind"] in ("Function", "Method")}

    result = {"kind": "index_accuracy", "label": args.label, "sample": len(sample), "tried": tried,
              "jedi_timeouts": timeouts, "jedi_errors": errors, "seed": args.seed, "jedi_callers": sum(map(len, truths)),
              "jedi_seconds": round(time.monotonic() - started, 1)}
    for mode in ("scoped", "bare"):
        answer_sets = [keep(a[mode]) for a in answers]
        result[mode] = score(answer_sets, truths)
        result[mode]["class_body_callers"] = sum(
            1 for a in answers for c in a[mode] or [] if c["kind"] not in ("Function", "Method"))
    if args.details:
        detail = [
            {"function": f["qualified"], "path": f["path"], "line": f["line"],
             "jedi": sorted(map(list, t)), "scoped": sorted(map(list, keep(a["scoped"]))),
             "bare": sorted(map(list, keep(a["bare"])))}
            for f, t, a in zip(sample, truths, answers)
        ]
        Path(args.details).write_text(json.dumps(detail, indent=1))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
