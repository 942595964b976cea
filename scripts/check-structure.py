#!/usr/bin/env python3
"""Structure check (`make test`): keeps the layering of shared/src and of the console's
modules one-way, and files small.

1. No import circles in shared/src. The graph is built from the `crate::…` and `super::…`
   paths in each file (use statements, paths in code, intra-doc links), outside
   `#[cfg(test)]` items, at two granularities: the top-level modules (`store`, `queue`,
   `domain`, …), and the files of `store/` and `services/` (`store::repos`, …; a name the
   parent re-exports with `pub use child::…` counts as the child's). A parent's `mod`
   declarations and `pub use` facade are not edges. Any cycle fails the check.
2. No `.rs` file in the workspace over MAX_LINES lines (split it into coherent modules).
3. No import circles among the web console's ES modules (functions/console/assets/*.js):
   the graph is built from their static imports and re-exports (`import … from "./x.js"`,
   `import "./x.js"`, `export … from "./x.js"`) and dynamic imports (`import("./x.js")`);
   a dynamic import of a computed path fails the check (it could hide a circle).
4. No console module over MAX_JS_LINES lines.

Python 3.11 standard library only. Exit status 1 lists what failed.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

MAX_LINES = 700
# The console's modules: the largest had 642 lines when this cap was set (pages-org.js), so
# the Rust cap holds for them too.
MAX_JS_LINES = 700
# Top-level modules of shared/src whose files are graph nodes of their own.
SPLIT = ("store", "services")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT / "shared" / "src"
CONSOLE = ROOT / "functions" / "console" / "assets"


def blank(src: str) -> tuple[str, list[tuple[int, str]]]:
    """The source with comments and literals blanked to spaces (positions kept), and the
    doc comments as (position, text)."""
    out = list(src)
    docs: list[tuple[int, str]] = []
    i, n = 0, len(src)

    def wipe(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            if src.startswith(("///", "//!"), i) and not src.startswith("////", i):
                docs.append((i, src[i + 3 : j]))
            wipe(i, j)
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if src.startswith(("/**", "/*!"), i):
                docs.append((i, src[i + 3 : j - 2]))
            wipe(i, j)
            i = j
        elif (m := re.compile(r'b?r(#*)"').match(src, i)) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            end = src.find('"' + m.group(1), m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            wipe(i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            wipe(i, j + 1)
            i = j + 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{..}'), else a lifetime or label.
            m = re.compile(r"'(\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'").match(src, i)
            if m:
                wipe(i, m.end())
                i = m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out), docs


def skip_item(code: str, i: int) -> int:
    """The end of the item that starts at or after `i`: its `;` or its closing brace."""
    depth, n = 0, len(code)
    while i < n:
        c = code[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return n


CFG_TEST = re.compile(r"#\[cfg\(\s*test\s*\)\]")


def test_ranges(code: str) -> list[tuple[int, int]]:
    return [(m.start(), skip_item(code, m.end())) for m in CFG_TEST.finditer(code)]


def expand_use(tree: str) -> list[list[str]]:
    """`crate::{a::X, b::{self, Y}}` -> [[crate, a, X], [crate, b], [crate, b, Y]]."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))
    pos = 0

    def parse(prefix: list[str]) -> list[list[str]]:
        nonlocal pos
        paths: list[list[str]] = []
        segs = list(prefix)
        while pos < len(tree):
            if tree[pos] == "{":
                pos += 1
                while True:
                    paths += parse(segs)
                    if pos < len(tree) and tree[pos] == ",":
                        pos += 1
                        continue
                    break
                pos += 1  # the closing brace
                return paths
            m = re.compile(r"\w+|\*").match(tree, pos)
            if not m:
                break
            word = m.group(0)
            pos = m.end()
            if word != "self":
                segs.append(word)
            if tree.startswith("::", pos):
                pos += 2
                continue
            break
        paths.append(segs)
        return paths

    return parse([])


PATH = re.compile(r"\b(?:crate|super)(?:\s*::\s*(?:super|\w+))+")
USE = re.compile(r"\buse\s+([^;]*);")


def paths_of(code: str, docs: list[tuple[int, str]]) -> list[list[str]]:
    skip = test_ranges(code)

    def live(p: int) -> bool:
        return not any(a <= p < b for a, b in skip)

    found: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    for m in USE.finditer(code):
        if live(m.start()):
            spans.append((m.start(), m.end()))
            found += [p for p in expand_use(m.group(1)) if p and p[0] in ("crate", "super")]
    for m in PATH.finditer(code):
        if live(m.start()) and not any(a <= m.start() < b for a, b in spans):
            found.append(re.sub(r"\s+", "", m.group(0)).split("::"))
    for p, text in docs:
        if live(p):
            found += [m.group(0).split("::") for m in PATH.finditer(text)]
    return found


def module_of(path: Path) -> list[str]:
    rel = path.relative_to(SHARED).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod":
        parts.pop()
    return parts


def absolute(mod: list[str], path: list[str]) -> list[str] | None:
    cur = list(mod)
    segs = list(path)
    if segs[0] == "crate":
        cur, segs = [], segs[1:]
    while segs and segs[0] == "super":
        if not cur:
            return None
        cur, segs = cur[:-1], segs[1:]
    return cur + segs


def reexports(mod_rs: Path) -> dict[str, str]:
    """Names a parent module re-exports from its children: {name: child}."""
    code, _ = blank(mod_rs.read_text())
    names: dict[str, str] = {}
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]*);", code):
        for p in expand_use(m.group(1)):
            if len(p) >= 2 and p[0] not in ("crate", "super", "self"):
                names[p[-1]] = p[0]
        child = m.group(1).split("::")[0].strip()
        for alias in re.findall(r"\bas\s+(\w+)", m.group(1)):
            names[alias] = child
    return names


def graphs() -> tuple[dict[str, set[str]], dict[str, dict[str, set[str]]]]:
    top = {p.stem if p.suffix == ".rs" else p.name for p in SHARED.iterdir() if p.name != "lib.rs"}
    top = {t for t in top if (SHARED / f"{t}.rs").exists() or (SHARED / t / "mod.rs").exists()}
    children = {s: {p.stem for p in (SHARED / s).glob("*.rs") if p.stem != "mod"} for s in SPLIT}
    reexp = {s: reexports(SHARED / s / "mod.rs") for s in SPLIT}

    top_edges: dict[str, set[str]] = {t: set() for t in top}
    sub_edges = {s: {s: set(), **{f"{s}::{c}": set() for c in children[s]}} for s in SPLIT}

    def sub_node(s: str, rest: list[str]) -> str:
        if rest and rest[0] in children[s]:
            return f"{s}::{rest[0]}"
        if rest and rest[0] in reexp[s]:
            return f"{s}::{reexp[s][rest[0]]}"
        return s

    for path in sorted(SHARED.rglob("*.rs")):
        if path.name == "lib.rs" and path.parent == SHARED:
            continue
        mod = module_of(path)
        code, docs = blank(path.read_text())
        here = mod[0]
        here_sub = sub_node(here, mod[1:]) if here in SPLIT else None
        for p in paths_of(code, docs):
            target = absolute(mod, p)
            if not target or target[0] not in top:
                continue
            if target[0] != here:
                top_edges[here].add(target[0])
            elif here_sub:
                node = sub_node(here, target[1:])
                if node != here_sub:
                    sub_edges[here][here_sub].add(node)
    return top_edges, sub_edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)

    found = []
    for comp in comps:
        members = set(comp)
        start = comp[0]
        # The shortest way from `start` back to itself inside the component.
        prev: dict[str, str] = {}
        queue = [start]
        while queue:
            v = queue.pop(0)
            if start in edges[v]:
                way = [v]
                while way[-1] != start:
                    way.append(prev[way[-1]])
                found.append(way[::-1] + [start])
                break
            for w in sorted(edges[v] & members):
                if w not in prev and w != start:
                    prev[w] = v
                    queue.append(w)
    return found


def long_files() -> list[tuple[int, Path]]:
    long = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if not (d.startswith(("target", ".")) or d == "node_modules")]
        for name in filenames:
            if name.endswith(".rs"):
                path = Path(dirpath) / name
                with path.open("rb") as f:
                    lines = sum(1 for _ in f)
                if lines > MAX_LINES:
                    long.append((lines, path.relative_to(ROOT)))
    return sorted(long, reverse=True)


# ---- the console's ES modules ----

JS_STATIC = re.compile(
    r"""^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*(["'])(?P<a>[^"'\n]+)\1"""
    r"""|^[ \t]*import\s*(["'])(?P<b>[^"'\n]+)\3""",
    re.M,
)
JS_DYNAMIC = re.compile(r"""\bimport\s*\(\s*(?:(["'])(?P<spec>[^"'\n]+)\1\s*\))?""")


def js_code(src: str) -> str:
    """The source without its comments: whole `//` lines and `/* … */` blocks that start a
    line (the console's comment style), so a commented-out import is no edge."""
    src = re.sub(r"^[ \t]*/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), src, flags=re.M | re.S)
    return re.sub(r"^[ \t]*//[^\n]*", "", src, flags=re.M)


def js_target(spec: str, directory: Path) -> str | None:
    """The module file a specifier names inside `directory` (`./x.js` or `/assets/x.js`)."""
    for prefix in ("./", "/assets/"):
        if spec.startswith(prefix) and "/" not in spec[len(prefix):]:
            return spec[len(prefix):]
    return None


def js_graph(directory: Path) -> tuple[dict[str, set[str]], list[str]]:
    """{module: modules it imports} over the `*.js` files of `directory`, and the problems
    that keep an import from being followed."""
    edges: dict[str, set[str]] = {}
    problems: list[str] = []
    for path in sorted(directory.glob("*.js")):
        code = js_code(path.read_text())
        found = edges.setdefault(path.name, set())
        specs = [m.group("a") or m.group("b") for m in JS_STATIC.finditer(code)]
        for m in JS_DYNAMIC.finditer(code):
            if m.group("spec") is None:
                line = code.count("\n", 0, m.start()) + 1
                problems.append(f"{path.name}:{line}: import() of a computed path (name the module: import(\"./x.js\"))")
            else:
                specs.append(m.group("spec"))
        for spec in specs:
            target = js_target(spec, directory)
            if target is not None:
                found.add(target)
    return edges, problems


def js_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """`cycles` plus modules that import themselves."""
    own = [[v, v] for v in sorted(edges) if v in edges[v]]
    rest = {v: {w for w in ws if w != v} for v, ws in edges.items()}
    for ws in list(rest.values()):
        for w in ws:
            rest.setdefault(w, set())
    return own + cycles(rest)


def long_js(directory: Path) -> list[tuple[int, str]]:
    long = []
    for path in sorted(directory.glob("*.js")):
        with path.open("rb") as f:
            lines = sum(1 for _ in f)
        if lines > MAX_JS_LINES:
            long.append((lines, path.name))
    return sorted(long, reverse=True)


def console_problems(directory: Path) -> list[str]:
    """What fails the check among the console's modules in `directory`."""
    edges, problems = js_graph(directory)
    for cycle in js_cycles(edges):
        problems.append("import cycle among the console's modules: " + " -> ".join(cycle))
    for lines, name in long_js(directory):
        problems.append(f"{name}: {lines} lines (at most {MAX_JS_LINES}; split it into modules)")
    return problems


def main() -> int:
    problems = []
    top, subs = graphs()
    for graph in (top, *subs.values()):
        for cycle in cycles(graph):
            problems.append("import cycle in shared/src: " + " -> ".join(cycle))
    for lines, path in long_files():
        problems.append(f"{path}: {lines} lines (at most {MAX_LINES}; split it into modules)")
    problems += [f"functions/console/assets/{p}" for p in console_problems(CONSOLE)]
    if "--graph" in sys.argv[1:]:
        for graph in (top, *subs.values(), js_graph(CONSOLE)[0]):
            for v in sorted(graph):
                print(f"{v} -> {', '.join(sorted(graph[v])) or '-'}")
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(
            "structure: no import cycles in shared/src nor among the console's modules, "
            f"no .rs file over {MAX_LINES} lines, no console module over {MAX_JS_LINES}"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
