//! Prompt tokens the graph context adds at each depth (issue 31; BENCHMARKS.md, "Graph
//! context"): the pull request of `benches/common/graph_job.rs` on Django 5.2.8's graph,
//! `fast` (callers 1 call away) and `standard`/`deep` (2 calls away; `deep` adds nothing to
//! this block), at the default budget (1,500 tokens) and unbounded. One JSON line per case
//! (`"kind":"graph_tokens"`), tokens estimated as the reviewer does (bytes / 4); the
//! patches' own tokens are given for scale. Needs `AGNUS_BENCH_DJANGO`
//! (scripts/bench-sources.sh).

use agnus_index::CallIndex;
use agnus_index::blast;
use agnus_reviewer::graph_prompt::tokens;

#[path = "../benches/common/graph_job.rs"]
#[allow(dead_code, reason = "the timed job is the benchmark's; this example only renders")]
mod graph_job;
use graph_job::{DEFAULT_BUDGET, Fixture, reach, roots};

fn main() {
    let Some(roots) = roots(false) else {
        eprintln!("graph_tokens: AGNUS_BENCH_DJANGO is not set (scripts/bench-sources.sh)");
        std::process::exit(2);
    };
    let fx = Fixture::new("django-5.2.8", roots);
    let hunks = fx.hunks();
    let heads = fx.parse_heads(&hunks);
    let changes = fx.file_changes(&heads, &hunks);
    let calls = CallIndex::new(&fx.graph);
    let patch_tokens: usize = fx.changes.iter().map(|c| tokens(&c.patch)).sum();
    for (depth, hops) in [("fast", 1), ("standard/deep", 2)] {
        let found = blast::blast(&fx.graph, &calls, &changes, reach(hops));
        for budget in [DEFAULT_BUDGET, usize::MAX] {
            let (rendered, impact) = fx.render(&fx.graph, &found, &calls, budget, hops);
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "{}",
                    serde_json::json!({"kind": "graph_tokens", "repository": fx.label, "depth": depth,
                        "caller_hops": hops, "budget": if budget == usize::MAX { None } else { Some(budget) },
                        "files": fx.changes.len(), "changed_symbols": found.changed.len(),
                        "neighbours_found": found.related.len(), "neighbours_listed": rendered.related,
                        "tokens": rendered.tokens, "patch_tokens": patch_tokens,
                        "impact_lines": impact.lines().count().saturating_sub(1)})
                );
            }
        }
    }
}
