//! Benchmarks live in `benches/`; see BENCHMARKS.md. The library holds what the indexing
//! benchmark binaries (`src/bin/`) share.

pub mod corpus;
