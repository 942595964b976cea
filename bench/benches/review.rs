//! The review engine's own CPU per job, excluding provider and LLM latency, for a 50-file
//! pull request (`review_job.rs` says what one job does), plus each stage on its own.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/review_job.rs"]
mod review_job;

fn bench(c: &mut Criterion) {
    let fx = review_job::Fixture::new();
    c.bench_function("review/job_cpu_50_files", |b| {
        b.iter(|| black_box(review_job::job(black_box(&fx))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
