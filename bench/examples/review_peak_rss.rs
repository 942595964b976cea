//! Peak memory of the review engine's own work: a 50-file pull request reviewed 200 times
//! in this process (`benches/review_job.rs`), then the process's peak resident set
//! (`VmHWM` in /proc/self/status) as one JSON line for `make bench`'s summary.

#[path = "../benches/common/review_job.rs"]
mod review_job;

#[path = "../benches/common/rss.rs"]
mod rss;
use rss::status_kib;

fn main() {
    let before = status_kib("VmHWM:");
    let fx = review_job::Fixture::new();
    let mut produced = 0;
    for _ in 0..200 {
        produced += std::hint::black_box(review_job::job(&fx));
    }
    let peak = status_kib("VmHWM:");
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{}",
            serde_json::json!({"kind": "review_memory", "function": "reviewer job (50 files, in process)",
                "peak_rss_kib": peak, "baseline_rss_kib": before, "jobs": 200, "bytes": produced})
        );
    }
}
