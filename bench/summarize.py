"""Turns criterion's results and the peer/cold-start JSON lines into the tables `make bench`
prints and writes to <target>/bench/summary.md.

Usage: summarize.py EXTRA_JSONL CRITERION_DIR [COMPARISON_CRITERION_DIR]
       summarize.py --index INDEX_JSONL   (the codebase index's tables only, scripts/bench-index.sh)
CRITERION_DIR holds the run of the shipped settings (`[profile.release]`, which the bench
profile inherits unchanged); the optional second one a run of the same benches built with
the `bench-o3` profile (opt-level 3, thin LTO), for the ratio shipped / opt-level 3."""

from __future__ import annotations

import json
import pathlib
import sys

SIZES = {1024: "1 KiB", 25600: "25 KiB", 262144: "256 KiB", 4194304: "4 MiB"}
PROVIDERS = ("github", "gitlab", "azure", "bitbucket")
FLOORS = ("hmac_sha256", "event_parse", "json_escape", "sha256", "sum", "sqs_send_serialize_sign")


def estimate(root: pathlib.Path | None, *parts: str) -> float | None:
    """Mean in µs of one criterion benchmark, or None when it was not run."""
    if root is None:
        return None
    f = root.joinpath(*parts) / "new" / "estimates.json"
    if not f.exists():
        return None
    return json.loads(f.read_text())["mean"]["point_estimate"] / 1000.0  # ns -> µs


def fmt(us: float | None) -> str:
    if us is None:
        return "–"
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "–"


def index_section(extra: list[dict]) -> list[str]:
    """The codebase index's tables (scripts/bench-index.sh): ours vs the Node peer per corpus,
    then the caller accuracy against jedi."""
    ours = [e for e in extra if e.get("kind") == "index"]
    if not ours:
        return []
    peers = [e for e in extra if e.get("kind") == "index_peer"]
    out = ["## Codebase index: parse + extract + resolve + encode, one core (CPU time)", "",
           "| corpus | files | lines | ours lines/s | ours files/s | peak RSS | graph (encoded) | update 20 files (median wall / CPU) "
           "| Node peer lines/s (walk, pass) | peer peak RSS (pass 1) | ours / peer | parse-only lines/s: ours / peer |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in ours:
        mine = [p for p in peers if p["label"] == e["label"]]
        best = max((p for p in mine if p["walk"] != "none"), key=lambda p: p["lines_per_cpu_s"], default=None)
        parse = max((p["lines_per_cpu_s"] for p in mine if p["walk"] == "none"), default=None)
        peer = f"{best['lines_per_cpu_s'] / 1000:.1f}k ({best['walk']}, {best['pass']})" if best else "–"
        # Each walk is its own process; its first pass's peak is one indexing's (the second
        # pass adds the first's garbage).
        first = [p["peak_rss_kib"] for p in mine if p["walk"] != "none" and p["pass"] == 1]
        peer_rss = f"{min(first) / 1024:.0f} MiB" if first else "–"
        ratio_ = f"{e['lines_per_cpu_s'] / best['lines_per_cpu_s']:.2f}×" if best else "–"
        out.append(f"| {e['label']} | {e['files']} | {e['lines']:,} | {e['lines_per_cpu_s'] / 1000:.1f}k "
                   f"| {e['files_per_cpu_s']:.0f} | {e['peak_rss_kib'] / 1024:.1f} MiB | {e['encoded_bytes'] / 1e6:.2f} MB "
                   f"| {e['update_median_wall_s'] * 1000:.0f} / {e['update_median_cpu_s'] * 1000:.0f} ms | {peer} | {peer_rss} "
                   f"| {ratio_} | {e.get('parse_only_lines_per_cpu_s', 0) / 1000:.1f}k / {f'{parse / 1000:.1f}k' if parse else '–'} |")
    for a in (e for e in extra if e.get("kind") == "index_accuracy"):
        out += ["", f"## Codebase index: callers vs jedi ({a['label']}, {a['sample']} functions, "
                f"{a['jedi_callers']} jedi callers, seed {a['seed']})", "",
                "| mode | precision | recall | answers | matches | functions without an answer |", "|---|---|---|---|---|---|"]
        for mode in ("scoped", "bare"):
            m = a[mode]
            pct = lambda x: f"{x * 100:.1f} %" if x is not None else "–"  # noqa: E731
            out.append(f"| {mode} | {pct(m['precision'])} | {pct(m['recall'])} | {m['answers']} | {m['matches']} "
                       f"| {m['functions_without_answer']} |")
    return out


def graph_section(crit: pathlib.Path, extra: list[dict]) -> list[str]:
    """The graph context's cost per review (benches/graph.rs) and its prompt tokens
    (examples/graph_tokens.rs)."""
    rows = [("reviewer CPU per job with graph context, Django, 5 files (excluding I/O)", "job_cpu_django_5_files", "5 ms"),
            ("… of which: parsing the touched code of the 5 head files (`parse_changed`)", "parse_heads_django", ""),
            ("… for scale: the 5 head files parsed whole (`parse_file`)", "parse_whole_heads_django", ""),
            ("… for scale: tree-sitter's parse alone, whole files", "parse_only_heads_django", ""),
            ("… of which: `CallIndex::new`", "call_index_django", ""),
            ("… of which: patch lines + `blast` + `impact` + excerpts + render", "blast_render_django", ""),
            ("1M-line graph: `Graph::decode_core` + `CallIndex::new` + `blast` + `impact`", "load_query_1m", "100 ms"),
            ("… of which: `Graph::decode_core`", "decode_core_1m", ""),
            ("… of which: the core's inflate alone", "inflate_core_1m", ""),
            ("… of which: `CallIndex::new`", "call_index_1m", ""),
            ("… for scale: the whole graph's `Graph::decode` (the indexer's read)", "decode_1m", "")]
    measured = [(label, estimate(crit, "graph", name), budget) for label, name, budget in rows]
    tokens = [e for e in extra if e.get("kind") == "graph_tokens"]
    if all(m is None for _, m, _ in measured) and not tokens:
        return []
    out = ["## Graph context (issue 31): CPU per review (mean) and prompt tokens", "",
           "| measure | value | budget |", "|---|---|---|"]
    out += [f"| {label} | {fmt(m)} | {budget} |" for label, m, budget in measured if m is not None]
    if tokens:
        out += ["", "| depth (caller hops) | budget | changed symbols | neighbours listed / found | context tokens | the patches' tokens |",
                "|---|---|---|---|---|---|"]
        for t in tokens:
            budget = "unbounded" if t["budget"] is None else str(t["budget"])
            out.append(f"| {t['depth']} ({t['caller_hops']}) | {budget} | {t['changed_symbols']} | "
                       f"{t['neighbours_listed']} / {t['neighbours_found']} | {t['tokens']} | {t['patch_tokens']} |")
    return out


def main() -> int:
    if sys.argv[1] == "--index":
        path = pathlib.Path(sys.argv[2])
        extra = [json.loads(l) for l in path.read_text().splitlines() if l.startswith("{")]
        text = "\n".join(index_section(extra)) + "\n"
        print(text)
        (path.parent / "index-summary.md").write_text(text)
        return 0
    extra_path, crit = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    o3 = pathlib.Path(sys.argv[3]) if len(sys.argv) > 3 else None
    extra = [json.loads(l) for l in extra_path.read_text().splitlines() if l.startswith("{")] if extra_path.exists() else []
    peer = {e["bytes"]: e for e in extra if e.get("kind") == "intake"}
    sizes = {s: l for s, l in SIZES.items() if estimate(crit, "intake_github", str(s)) is not None}
    out = ["## Intake hot path, shipped settings, in process, warm caches (mean CPU per delivery, one core)", ""]
    out.append("| size | github | gitlab | azure | bitbucket | Node peer (github) | peer / ours |")
    out.append("|---|---|---|---|---|---|---|")
    for size, label in sizes.items():
        row = [estimate(crit, f"intake_{p}", str(size)) for p in PROVIDERS]
        p = peer.get(size, {}).get("cpu_us_per_delivery")
        out.append(f"| {label} | " + " | ".join(fmt(x) for x in row) + f" | {fmt(p)} | {ratio(p, row[0])} |")
    out += ["", "## The floor (same bytes): HMAC + event parse + one JSON-escape pass + one SHA-256 pass", "",
            "| size | HMAC-SHA256 | event parse | JSON escape | SHA-256 | floor (`floor/sum`) | SQS send (SDK: serialize+sign) | github intake | intake / floor |",
            "|---|---|---|---|---|---|---|---|---|"]
    for size, label in sizes.items():
        parts = [estimate(crit, "floor", b, str(size)) for b in FLOORS]
        intake = estimate(crit, "intake_github", str(size))
        out.append(f"| {label} | " + " | ".join(fmt(x) for x in parts) + f" | {fmt(intake)} | {ratio(intake, parts[4])} |")
    if o3 is not None and o3.exists():
        out += ["", "## Shipped settings vs opt-level 3 (bench-o3 profile), same run", "",
                "| size | benchmark | opt-level 3 | shipped | shipped / opt 3 |", "|---|---|---|---|---|"]
        for size, label in sizes.items():
            for name, parts in [("github intake", ("intake_github",)), ("gitlab intake", ("intake_gitlab",)),
                                ("HMAC-SHA256", ("floor", "hmac_sha256")), ("event parse", ("floor", "event_parse")),
                                ("SQS send", ("floor", "sqs_send_serialize_sign")), ("floor", ("floor", "sum"))]:
                a, b = estimate(o3, *parts, str(size)), estimate(crit, *parts, str(size))
                if a is not None or b is not None:
                    out.append(f"| {label} | {name} | {fmt(a)} | {fmt(b)} | {ratio(b, a)} |")
    out += ["", "## Warm org lookup with 1 and 10,000 orgs cached (mean)", "", "| orgs | time |", "|---|---|"]
    for orgs in ("1", "10000"):
        out.append(f"| {orgs} | {fmt(estimate(crit, 'org_lookup_cached', orgs))} |")
    out += ["", "## Auth primitives (mean)", "", "| operation | time |", "|---|---|"]
    for b in ("argon2id_hash_m19456_t2_p1", "argon2id_verify_m19456_t2_p1", "jwt_issue", "jwt_verify", "api_key_verify_format_and_hash"):
        out.append(f"| {b} | {fmt(estimate(crit, 'auth', b))} |")
    out += ["", "## Review engine: one job's own work, 50-file PR (mean CPU; peak RSS of the process)", "",
            "| measure | value | budget |", "|---|---|---|",
            f"| CPU per job (excluding provider and LLM latency) | {fmt(estimate(crit, 'review_job_cpu_50_files'))} | 5 ms |"]
    for e in (e for e in extra if e.get("kind") == "review_memory"):
        out.append(f"| peak RSS after {e['jobs']} jobs in one process | {e['peak_rss_kib'] / 1024:.1f} MiB | 64 MiB |")
    for e in (e for e in extra if e.get("kind") == "review_download_memory"):
        out.append(f"| peak RSS reading a {e['diff_bytes'] / 1e6:.0f} MB diff ({e['mode']}) | {e['peak_rss_kib'] / 1024:.1f} MiB | 256 MiB (the function) |")
    cold = [e for e in extra if e.get("kind") == "cold_start" and "function" in e]
    if cold:
        out += ["", "## Cold start (process start → first invocation handled) and memory", "",
                "| process | median | min | max | init | CPU | 1st invocation | 2nd invocation | peak RSS | binary | failed runs |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        for e in cold:
            if "median_ms" not in e:
                out.append(f"| {e['function']} | – | – | – | – | – | – | – | – | – | {e.get('failures', '?')} (all) |")
                continue
            size = f"{e['binary_bytes'] / 1e6:.2f} MB" if e.get("binary_bytes") else "–"
            first, second = e.get("invocation_1_median_ms"), e.get("invocation_2_median_ms")
            init, cpu = e.get("init_median_ms"), e.get("cpu_median_ms")
            out.append(f"| {e['function']} | {e['median_ms']} ms | {e['min_ms']} ms | {e['max_ms']} ms | "
                       f"{f'{init} ms' if init is not None else '–'} | {f'{cpu} ms' if cpu is not None else '–'} | "
                       f"{f'{first} ms' if first is not None else '–'} | {f'{second} ms' if second is not None else '–'} | "
                       f"{e['peak_rss_kib'] / 1024:.1f} MiB | {size} | {e.get('failures', 0)} |")
    render = [e for e in extra if e.get("kind") == "console_render"]
    assets = [e for e in extra if e.get("kind") == "console_assets"]
    if render or assets:
        out += ["", "## Console", "", "| budget | measured |", "|---|---|"]
        if assets:
            a = assets[-1]
            out.append(f"| JS + CSS per page ≤ 40 KB gzipped | {a['gzip_bytes'] / 1000:.1f} KB ({a['files']} files, {a['raw_bytes'] / 1000:.1f} KB raw) |")
        if render:
            r = render[-1]
            out.append(f"| server render ≤ 2 ms CPU per page | {r['cpu_ms_per_page']} ms ({r['requests']} requests) |")
    graph = graph_section(crit, extra)
    if graph:
        out += ["", *graph]
    index = index_section(extra)
    if index:
        out += ["", *index]
    text = "\n".join(out) + "\n"
    print(text)
    (extra_path.parent / "summary.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
