//! Peak memory of reading a huge pull request (issue 29): a local stand-in serves a 150 MB
//! Bitbucket `git diff` (2,652 files of 57 KB), the reviewer's Bitbucket client reads it
//! under the default download caps (`AGNUS_REVIEW_MAX_ANSWER_BYTES` 8 MiB,
//! `AGNUS_REVIEW_MAX_JOB_BYTES` 32 MiB), and the process's peak resident set (`VmHWM`) is
//! printed as one JSON line. `--whole` reads the same answer the way the reviewer did before
//! the caps (the whole body, then parsed) for comparison.
//!
//! `cargo run -q --profile bench -p agnus-bench --example review_download_peak [-- --whole]`

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use agnus_reviewer::diff::parse_git_diff;
use agnus_reviewer::http::Downloads;
use agnus_reviewer::provider::{CodeHost, PullRequest, Target};
use secrecy::SecretString;

#[path = "../benches/common/rss.rs"]
mod rss;
use rss::status_kib;

const FILES: usize = 2_652;
const LINES: usize = 1_000;

fn file(n: usize) -> String {
    let mut out = format!(
        "diff --git a/src/f{n}.rs b/src/f{n}.rs\nnew file mode 100644\n--- /dev/null\n+++ b/src/f{n}.rs\n@@ -0,0 +1,{LINES} @@\n"
    );
    for line in 0..LINES {
        out.push_str(&format!(
            "+let value_{line:04} = compute({n}, {line}); // padding padding\n"
        ));
    }
    out
}

/// Serves every request with the whole diff (streamed as it is generated), then closes.
fn serve() -> (String, usize) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let port = listener.local_addr().expect("address").port();
    let total: usize = (0..FILES).map(|n| file(n).len()).sum();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("stream"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut out = stream;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {total}\r\nconnection: close\r\n\r\n"
            );
            let _ = out.write_all(head.as_bytes());
            for n in 0..FILES {
                if out.write_all(file(n).as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    (format!("http://127.0.0.1:{port}/2.0"), total)
}

fn main() {
    let whole = std::env::args().any(|a| a == "--whole");
    let (base, total) = serve();
    let before = status_kib("VmHWM:");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (files, cut) = runtime.block_on(async {
        let http = reqwest::Client::new();
        if whole {
            let url = format!("{base}/repositories/ws/repo/pullrequests/1/diff");
            let body = http.get(url).send().await.expect("answer").bytes().await.expect("body");
            let files = parse_git_diff(&String::from_utf8_lossy(&body));
            return (files.len(), 0);
        }
        let host = agnus_reviewer::bitbucket::Bitbucket::new(http, &base);
        let downloads = Downloads::new(8 << 20, 32 << 20);
        downloads.set_ignore(|p| p.ends_with(".lock"));
        let token = SecretString::from("bench");
        let target = Target {
            full_name: "ws/repo",
            pr: 1,
            token: &token,
            downloads: &downloads,
        };
        let pr = PullRequest::default();
        let files = host.files(&target, &pr).await.expect("files");
        (files.len(), downloads.take_left_out().too_large.len())
    });
    let peak = status_kib("VmHWM:");
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{}",
            serde_json::json!({"kind": "review_download_memory",
                "mode": if whole { "whole answer (before the caps)" } else { "streamed under the caps" },
                "diff_bytes": total, "files_listed": files, "files_too_large": cut,
                "peak_rss_kib": peak, "baseline_rss_kib": before})
        );
    }
}
