//! The graph context's cost per review (issue 31; BENCHMARKS.md, "Graph context"), on real
//! code: Django 5.2.8's graph and a 5-file pull request (`common/graph_job.rs`).
//!
//! - `graph/job_cpu_django_5_files`: the reviewer's whole graph work for the pull request once
//!   the bytes are in memory (head parse, patch lines, `CallIndex::new`, `blast`, `impact`,
//!   excerpts, `render_prompt` at the default budget, `render_impact`), `standard` depth;
//!   then its parts: `parse_heads_django` (tree-sitter alone: `parse_only_heads_django`),
//!   `call_index_django`, `blast_render_django`.
//! - `graph/load_query_1m`: the ~1M-line repository's encoded graph (the S3 object's bytes)
//!   → `Graph::decode` + `CallIndex::new` + `blast` + `impact` for the same changes (heads
//!   parsed beforehand); then `decode_1m`, its inflate alone (`inflate_1m`) and
//!   `call_index_1m`.
//!
//! Sources: `AGNUS_BENCH_DJANGO` and `AGNUS_BENCH_STDLIB` (scripts/bench-sources.sh sets
//! both); without them the benchmarks are skipped with a message.

use std::hint::black_box;
use std::io::Read;
use std::time::Duration;

use agnus_index::blast;
use agnus_index::{CallIndex, Graph};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/graph_job.rs"]
mod graph_job;
use graph_job::{DEFAULT_BUDGET, Fixture, job, reach, roots};

fn django(c: &mut Criterion) {
    let Some(roots) = roots(false) else {
        eprintln!("graph: AGNUS_BENCH_DJANGO is not set (scripts/bench-sources.sh); skipped");
        return;
    };
    let fx = Fixture::new("django-5.2.8", roots);
    // One group: criterion files its results under graph/<name> (bench/summarize.py).
    let mut group = c.benchmark_group("graph");
    group.bench_function("job_cpu_django_5_files", |b| {
        b.iter(|| black_box(job(black_box(&fx), DEFAULT_BUDGET, 2)))
    });
    group.bench_function("parse_heads_django", |b| b.iter(|| black_box(fx.parse_heads())));
    // The floor of the head parse: tree-sitter alone (no extraction) on the same bytes.
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("python grammar");
    group.bench_function("parse_only_heads_django", |b| {
        b.iter(|| {
            for change in &fx.changes {
                black_box(parser.parse(&change.head, None));
            }
        })
    });
    group.bench_function("call_index_django", |b| {
        b.iter(|| black_box(CallIndex::new(black_box(&fx.graph))))
    });
    let heads = fx.parse_heads();
    let calls = CallIndex::new(&fx.graph);
    group.bench_function("blast_render_django", |b| {
        b.iter(|| {
            let hunks = fx.hunks();
            let changes = fx.file_changes(&heads, &hunks);
            let found = blast::blast(&fx.graph, &calls, &changes, reach(2));
            black_box(fx.render(&fx.graph, &found, &calls, DEFAULT_BUDGET, 2))
        })
    });
    group.finish();
}

fn million(c: &mut Criterion) {
    let Some(roots) = roots(true) else {
        eprintln!("graph: AGNUS_BENCH_DJANGO / AGNUS_BENCH_STDLIB not set (scripts/bench-sources.sh); skipped");
        return;
    };
    let fx = Fixture::new("stdlib+tests+django", roots);
    eprintln!(
        "graph: {}: {} lines, {} files, encoded graph {} B",
        fx.label,
        fx.lines,
        fx.graph.files.len(),
        fx.encoded.len()
    );
    let heads = fx.parse_heads();
    let hunks = fx.hunks();
    let mut group = c.benchmark_group("graph");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("load_query_1m", |b| {
        b.iter(|| {
            let graph = Graph::decode(black_box(&fx.encoded), 1 << 30).expect("decodes");
            let calls = CallIndex::new(&graph);
            let changes = fx.file_changes(&heads, &hunks);
            let found = blast::blast(&graph, &calls, &changes, reach(2));
            black_box(blast::impact(&graph, &calls, &found, 3, 3))
        })
    });
    group.bench_function("inflate_1m", |b| {
        b.iter(|| {
            let mut body = Vec::new();
            flate2::read::DeflateDecoder::new(&fx.encoded[5..])
                .read_to_end(&mut body)
                .expect("inflates");
            black_box(body)
        })
    });
    group.bench_function("decode_1m", |b| {
        b.iter(|| black_box(Graph::decode(black_box(&fx.encoded), 1 << 30).expect("decodes")))
    });
    group.bench_function("call_index_1m", |b| {
        b.iter(|| black_box(CallIndex::new(black_box(&fx.graph))))
    });
    group.finish();
}

criterion_group!(benches, django, million);
criterion_main!(benches);
