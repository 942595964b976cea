"""Turns criterion's results (target/criterion) and the peer/cold-start JSON lines into
the tables `make bench` prints and writes to target/bench-summary.md."""

from __future__ import annotations

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRITERION = ROOT / "target" / "criterion"
SIZES = {1024: "1 KiB", 25600: "25 KiB", 262144: "256 KiB", 4194304: "4 MiB"}


def estimate(*parts: str) -> float | None:
    f = CRITERION.joinpath(*parts) / "new" / "estimates.json"
    if not f.exists():
        return None
    return json.loads(f.read_text())["mean"]["point_estimate"] / 1000.0  # ns -> µs


def fmt(us: float | None) -> str:
    if us is None:
        return "–"
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"


def main() -> int:
    extra = [json.loads(l) for l in pathlib.Path(sys.argv[1]).read_text().splitlines() if l.startswith("{")] if len(sys.argv) > 1 else []
    peer = {e["bytes"]: e for e in extra if e.get("kind") == "intake"}
    out = ["## Intake hot path, in process, warm caches (mean CPU per delivery, one core)", ""]
    out.append("| size | github | gitlab | azure | bitbucket | HMAC-SHA256 | event parse | SQS send (serialize+sign) | Node peer (github) | peer / ours |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for size, label in SIZES.items():
        row = [estimate(f"intake_{p}", str(size)) for p in ("github", "gitlab", "azure", "bitbucket")]
        floors = [estimate("floor", b, str(size)) for b in ("hmac_sha256", "event_parse", "sqs_send_serialize_sign")]
        p = peer.get(size, {}).get("cpu_us_per_delivery")
        ratio = f"{p / row[0]:.1f}×" if p and row[0] else "–"
        out.append(f"| {label} | " + " | ".join(fmt(x) for x in row + floors) + f" | {fmt(p)} | {ratio} |")
    out += ["", "## Warm org lookup with 1 and 10,000 orgs cached (mean)", "", "| orgs | time |", "|---|---|"]
    for orgs in ("1", "10000"):
        out.append(f"| {orgs} | {fmt(estimate('org_lookup_cached', orgs))} |")
    out += ["", "## Auth primitives (mean)", "", "| operation | time |", "|---|---|"]
    for b in ("argon2id_hash_m19456_t2_p1", "argon2id_verify_m19456_t2_p1", "jwt_issue", "jwt_verify", "api_key_verify_format_and_hash"):
        out.append(f"| {b} | {fmt(estimate('auth', b))} |")
    out += ["", "## Review engine: one job's own work, 50-file PR (mean CPU; peak RSS of the process)", "",
            "| measure | value | budget |", "|---|---|---|",
            f"| CPU per job (excluding provider and LLM latency) | {fmt(estimate('review', 'job_cpu_50_files'))} | 5 ms |"]
    for e in (e for e in extra if e.get("kind") == "review_memory"):
        out.append(f"| peak RSS after {e['jobs']} jobs in one process | {e['peak_rss_kib'] / 1024:.1f} MiB | 64 MiB |")
    cold = [e for e in extra if e.get("kind") == "cold_start" and "function" in e]
    if cold:
        out += ["", "## Cold start (process start → first invocation handled) and memory", "",
                "| process | median | min | max | peak RSS | binary |", "|---|---|---|---|---|---|"]
        for e in cold:
            size = f"{e['binary_bytes'] / 1e6:.1f} MB" if e.get("binary_bytes") else "–"
            out.append(f"| {e['function']} | {e['median_ms']} ms | {e['min_ms']} ms | {e['max_ms']} ms | "
                       f"{e['peak_rss_kib'] / 1024:.1f} MiB | {size} |")
    text = "\n".join(out) + "\n"
    print(text)
    (ROOT / "target" / "bench-summary.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
