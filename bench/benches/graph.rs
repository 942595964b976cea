//! The graph context's cost per review (issue 31; BENCHMARKS.md, "Graph context"), on real
//! code: Django 5.2.8's graph and a 5-file pull request (`common/graph_job.rs`).
//!
//! - `graph/job_cpu_django_5_files`: the reviewer's whole graph work for the pull request once
//!   the bytes are in memory (patch lines, the touched code of the head files parsed,
//!   `CallIndex::new`, `blast`, `impact`, excerpts, `render_prompt` at the default budget,
//!   `render_impact`), `standard` depth; then its parts: `parse_heads_django` (for scale: the
//!   whole head files, `parse_whole_heads_django`, and tree-sitter alone on them,
//!   `parse_only_heads_django`), `call_index_django`, `blast_render_django`.
//! - `graph/load_query_1m`: the ~1M-line repository's encoded graph (the S3 object's bytes)
//!   → `Graph::decode_core` (what a review reads: format v2's core section) +
//!   `CallIndex::new` + `blast` + `impact` for the same changes (heads parsed beforehand);
//!   then `decode_core_1m`, its inflate alone (`inflate_core_1m`), the whole graph's
//!   `decode_1m` (what the indexer reads) and `call_index_1m`.
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
    let hunks = fx.hunks();
    // The touched code's parse finds the changed symbols the whole files' parse finds.
    let windowed = fx.parse_heads(&hunks);
    let whole = fx.parse_whole_heads();
    assert_eq!(
        blast::changed_symbols(&fx.graph, &fx.file_changes(&windowed, &hunks)),
        blast::changed_symbols(&fx.graph, &fx.file_changes(&whole, &hunks)),
    );
    group.bench_function("parse_heads_django", |b| b.iter(|| black_box(fx.parse_heads(&hunks))));
    group.bench_function("parse_whole_heads_django", |b| {
        b.iter(|| black_box(fx.parse_whole_heads()))
    });
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
    let heads = fx.parse_heads(&hunks);
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
    let mut fx = Fixture::new("stdlib+tests+django", roots);
    eprintln!(
        "graph: {}: {} lines, {} files, encoded graph {} B",
        fx.label,
        fx.lines,
        fx.graph.files.len(),
        fx.encoded.len()
    );
    let hunks = fx.hunks();
    let heads = fx.parse_heads(&hunks);
    // What the setup no longer needs goes before the timing: the base files' million lines
    // and the whole graph (refs included) would otherwise fill the heap that a reviewer's
    // is not (measured: they slow the decode about threefold).
    fx.base_lines = Default::default();
    fx.graph = Graph::decode_core(&fx.encoded, 1 << 30).expect("decodes");
    let mut group = c.benchmark_group("graph");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("load_query_1m", |b| {
        b.iter(|| {
            let graph = Graph::decode_core(black_box(&fx.encoded), 1 << 30).expect("decodes");
            let calls = CallIndex::new(&graph);
            let changes = fx.file_changes(&heads, &hunks);
            let found = blast::blast(&graph, &calls, &changes, reach(2));
            black_box(blast::impact(&graph, &calls, &found, 3, 3))
        })
    });
    // The core section (format v2: magic, version, its two u32 lengths, then it).
    let core_len = u32::from_le_bytes(fx.encoded[5..9].try_into().expect("v2 header")) as usize;
    let h = agnus_index::HEADER_V2;
    let core = &fx.encoded[h..h + core_len];
    eprintln!("graph: core section {core_len} B");
    group.bench_function("inflate_core_1m", |b| {
        b.iter(|| {
            let mut body = Vec::new();
            flate2::read::DeflateDecoder::new(black_box(core))
                .read_to_end(&mut body)
                .expect("inflates");
            black_box(body)
        })
    });
    group.bench_function("decode_core_1m", |b| {
        b.iter(|| black_box(Graph::decode_core(black_box(&fx.encoded), 1 << 30).expect("decodes")))
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
