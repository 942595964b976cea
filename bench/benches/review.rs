//! The review engine's own CPU per job, excluding provider and LLM latency, for a 50-file
//! pull request (`review_job.rs` says what one job does), plus each stage on its own; and
//! an org's ignored-path glob against an adversarially deep path (issue 29: three `**`
//! against 1,500 segments took 17.9 s with the recursive matcher).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/review_job.rs"]
mod review_job;

fn bench(c: &mut Criterion) {
    let fx = review_job::Fixture::new();
    c.bench_function("review/job_cpu_50_files", |b| {
        b.iter(|| black_box(review_job::job(black_box(&fx))))
    });
    let glob = agnus_shared::rules::PathGlob::parse("**/**/**/x").unwrap();
    let deep = vec!["a"; 1_500].join("/");
    c.bench_function("review/glob_1500_segments", |b| {
        b.iter(|| black_box(glob.matches(black_box(&deep))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
