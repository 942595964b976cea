//! Benchmarks live in `benches/`; see BENCHMARKS.md. The library holds what the indexing
//! benchmark binaries (`src/bin/`) share.

pub mod corpus;

/// The memory examples' /proc/self/status reader, shared with the index binaries.
#[path = "../benches/common/rss.rs"]
pub mod rss;
