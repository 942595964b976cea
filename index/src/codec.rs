//! The stored form of a [`Graph`]: a magic and version header, then deflated postcard.
//! Version 2 (written since issue 31) keeps what a review reads apart from what only the
//! indexer's updates read: after the header, the first section's compressed and inflated
//! lengths (u32 each, little endian), the *core* — files, symbols without their docs, edges — deflated, then the
//! *extras* — each symbol's doc, each file's imports and raw references — deflated.
//! [`Graph::decode_core`] inflates the core alone; [`Graph::decode`] both. Version 1 (one
//! deflated body) is still read. Decoding caps the decompressed size and checks every index,
//! so a corrupt or hostile blob is an error, never a panic or an out-of-range id later.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};

use crate::graph::Graph;
use crate::model::{FileIndex, Import, RawRef, Symbol};

/// `AGIX` then the format version.
const MAGIC: &[u8; 4] = b"AGIX";
const VERSION: u8 = 2;
const VERSION_1: u8 = 1;
/// Version 2's header: magic, version, the core's compressed and inflated lengths (u32 LE).
pub const HEADER_V2: usize = 13;

/// One file's part of the extras section (borrowed when encoding).
#[derive(Serialize)]
struct ExtrasOut<'a> {
    docs: Vec<Option<&'a str>>,
    imports: &'a [Import],
    refs: &'a [RawRef],
}

#[derive(Deserialize)]
struct ExtrasIn {
    docs: Vec<Option<String>>,
    imports: Vec<Import>,
    refs: Vec<RawRef>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("not an encoded index (bad magic)")]
    BadMagic,
    #[error("unsupported index format version {0}")]
    Version(u8),
    #[error("the decompressed index exceeds {0} bytes")]
    TooLarge(usize),
    #[error("corrupt compressed data")]
    Compression,
    #[error("corrupt index data")]
    Format,
    #[error("index refers to a missing file or symbol")]
    Dangling,
}

impl Graph {
    /// `AGIX`, version 2, the core section's length, the core and the extras, each deflated.
    pub fn encode(&self) -> Vec<u8> {
        let core = Graph {
            files: self
                .files
                .iter()
                .map(|f| FileIndex {
                    path: f.path.clone(),
                    lang: f.lang,
                    module: f.module.clone(),
                    lines: f.lines,
                    bytes: f.bytes,
                    symbols: f.symbols.iter().map(|s| Symbol { doc: None, ..s.clone() }).collect(),
                    imports: Vec::new(),
                    refs: Vec::new(),
                })
                .collect(),
            edges: self.edges.clone(),
            file_edges: self.file_edges.clone(),
            mode: self.mode,
        };
        let extras: Vec<ExtrasOut<'_>> = self
            .files
            .iter()
            .map(|f| ExtrasOut {
                docs: f.symbols.iter().map(|s| s.doc.as_deref()).collect(),
                imports: &f.imports,
                refs: &f.refs,
            })
            .collect();
        let core = postcard::to_allocvec(&core).unwrap_or_default();
        let core_raw = core.len();
        let core = deflate(&core);
        let extras = deflate(&postcard::to_allocvec(&extras).unwrap_or_default());
        let mut out = Vec::with_capacity(HEADER_V2 + core.len() + extras.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&u32::try_from(core.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&u32::try_from(core_raw).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&core);
        out.extend_from_slice(&extras);
        out
    }

    /// Decodes [`Graph::encode`]'s output (either version), refusing more than `max_decoded`
    /// decompressed bytes.
    pub fn decode(bytes: &[u8], max_decoded: usize) -> Result<Graph, DecodeError> {
        match sections(bytes)? {
            Sections::V1(body) => {
                let body = inflate(body, body.len().saturating_mul(4), max_decoded)?;
                let graph: Graph = postcard::from_bytes(&body).map_err(|_| DecodeError::Format)?;
                graph.check()?;
                Ok(graph)
            }
            Sections::V2 { core, core_raw, extras } => {
                let body = inflate(core, core_raw, max_decoded)?;
                let mut graph: Graph = postcard::from_bytes(&body).map_err(|_| DecodeError::Format)?;
                let rest = max_decoded.saturating_sub(body.len());
                let extras = inflate(extras, extras.len().saturating_mul(4), rest)?;
                drop(body);
                let extras: Vec<ExtrasIn> = postcard::from_bytes(&extras).map_err(|_| DecodeError::Format)?;
                if extras.len() != graph.files.len() {
                    return Err(DecodeError::Format);
                }
                for (file, more) in graph.files.iter_mut().zip(extras) {
                    if more.docs.len() != file.symbols.len() {
                        return Err(DecodeError::Format);
                    }
                    for (symbol, doc) in file.symbols.iter_mut().zip(more.docs) {
                        symbol.doc = doc;
                    }
                    file.imports = more.imports;
                    file.refs = more.refs;
                }
                graph.check()?;
                Ok(graph)
            }
        }
    }

    /// What a review reads: files, symbols and edges, without docs, imports and raw
    /// references (their section is not even inflated). A version 1 blob is decoded whole.
    pub fn decode_core(bytes: &[u8], max_decoded: usize) -> Result<Graph, DecodeError> {
        match sections(bytes)? {
            Sections::V1(_) => Graph::decode(bytes, max_decoded),
            Sections::V2 { core, core_raw, .. } => {
                let body = inflate(core, core_raw, max_decoded)?;
                let graph: Graph = postcard::from_bytes(&body).map_err(|_| DecodeError::Format)?;
                graph.check()?;
                Ok(graph)
            }
        }
    }

    /// Every file, symbol and parent index in range; files sorted by path.
    fn check(&self) -> Result<(), DecodeError> {
        let symbols = |file: u32| self.files.get(file as usize).map(|f| f.symbols.len());
        let valid = |id: crate::SymbolId| symbols(id.file).is_some_and(|n| (id.symbol as usize) < n);
        let sorted = self.files.windows(2).all(|w| w[0].path < w[1].path);
        let parents = self.files.iter().all(|f| {
            f.symbols
                .iter()
                .all(|s| s.parent.is_none_or(|p| (p as usize) < f.symbols.len()))
                && f.refs
                    .iter()
                    .all(|r| r.from.is_none_or(|p| (p as usize) < f.symbols.len()))
        });
        let edges = self.edges.iter().all(|e| valid(e.from) && valid(e.to));
        let file_edges = self
            .file_edges
            .iter()
            .all(|e| symbols(e.from).is_some() && symbols(e.to).is_some());
        if sorted && parents && edges && file_edges {
            Ok(())
        } else {
            Err(DecodeError::Dangling)
        }
    }
}

enum Sections<'a> {
    V1(&'a [u8]),
    /// `core_raw`: the core's inflated length as written (a capacity hint, never trusted
    /// past the cap).
    V2 {
        core: &'a [u8],
        core_raw: usize,
        extras: &'a [u8],
    },
}

fn sections(bytes: &[u8]) -> Result<Sections<'_>, DecodeError> {
    let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(DecodeError::BadMagic)?;
    let (&version, rest) = rest.split_first().ok_or(DecodeError::BadMagic)?;
    match version {
        VERSION_1 => Ok(Sections::V1(rest)),
        VERSION => {
            let (len, rest) = rest.split_first_chunk::<4>().ok_or(DecodeError::Compression)?;
            let (raw, rest) = rest.split_first_chunk::<4>().ok_or(DecodeError::Compression)?;
            let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| DecodeError::Compression)?;
            let core_raw = usize::try_from(u32::from_le_bytes(*raw)).map_err(|_| DecodeError::Compression)?;
            if len > rest.len() {
                return Err(DecodeError::Compression);
            }
            let (core, extras) = rest.split_at(len);
            Ok(Sections::V2 { core, core_raw, extras })
        }
        other => Err(DecodeError::Version(other)),
    }
}

fn deflate(body: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

/// Deflate's ratio on a graph is about 4:1; a hint above this many times the compressed size
/// is not believed (the buffer then grows as it fills).
const MAX_HINT_RATIO: usize = 16;

/// Inflates `compressed`, refusing more than `max` bytes; `expected` sizes the buffer (up to
/// [`MAX_HINT_RATIO`] times the compressed size: a header cannot make it reserve the cap).
fn inflate(compressed: &[u8], expected: usize, max: usize) -> Result<Vec<u8>, DecodeError> {
    let hint = expected.min(max).min(compressed.len().saturating_mul(MAX_HINT_RATIO));
    let mut body = Vec::with_capacity(hint.saturating_add(1));
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    DeflateDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut body)
        .map_err(|_| DecodeError::Compression)?;
    if body.len() > max {
        return Err(DecodeError::TooLarge(max));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, ResolveMode, parse_file};

    fn sample() -> Graph {
        let a = parse_file(
            "pkg/a.py",
            b"from pkg.b import g\n\ndef f():\n    \"\"\"Doc.\"\"\"\n    g()\n",
            &Limits::default(),
        );
        let b = parse_file("pkg/b.py", b"def g():\n    return 1\n", &Limits::default());
        Graph::build(vec![a.expect("python"), b.expect("python")], ResolveMode::Scoped)
    }

    #[test]
    fn encode_decode_roundtrip() {
        let graph = sample();
        assert!(!graph.edges.is_empty());
        let bytes = graph.encode();
        assert_eq!(&bytes[..5], b"AGIX\x02");
        assert_eq!(Graph::decode(&bytes, 1 << 20), Ok(graph));
    }

    #[test]
    fn the_core_leaves_docs_imports_and_references_out() {
        let graph = sample();
        assert!(graph.files.iter().any(|f| !f.refs.is_empty() && !f.imports.is_empty()));
        assert!(graph.files.iter().any(|f| f.symbols.iter().any(|s| s.doc.is_some())));
        let core = Graph::decode_core(&graph.encode(), 1 << 20).expect("core decodes");
        let mut stripped = graph.clone();
        for f in &mut stripped.files {
            f.imports.clear();
            f.refs.clear();
            for s in &mut f.symbols {
                s.doc = None;
            }
        }
        assert_eq!(core, stripped);
        // The queries a review asks answer the same on the core.
        let callee = graph.find("pkg/b.py", 1)[0];
        assert_eq!(core.callers(callee, 2), graph.callers(callee, 2));
    }

    #[test]
    fn version_1_blobs_still_decode() {
        let graph = sample();
        let mut encoder = DeflateEncoder::new(b"AGIX\x01".to_vec(), Compression::default());
        encoder
            .write_all(&postcard::to_allocvec(&graph).expect("encodes"))
            .expect("vec write");
        let v1 = encoder.finish().expect("vec");
        assert_eq!(Graph::decode(&v1, 1 << 20), Ok(graph.clone()));
        assert_eq!(Graph::decode_core(&v1, 1 << 20), Ok(graph));
    }

    #[test]
    fn a_v2_blob_whose_sections_disagree_is_refused() {
        let graph = sample();
        let bytes = graph.encode();
        let core_len = u32::from_le_bytes(bytes[5..9].try_into().expect("4 bytes")) as usize;
        let h = HEADER_V2;
        // Extras of a one-file graph after a two-file core.
        let one = Graph::build(vec![graph.files[0].clone()], ResolveMode::Scoped).encode();
        let one_len = u32::from_le_bytes(one[5..9].try_into().expect("4 bytes")) as usize;
        let mut mixed = bytes[..h + core_len].to_vec();
        mixed.extend_from_slice(&one[h + one_len..]);
        assert_eq!(Graph::decode(&mixed, 1 << 20), Err(DecodeError::Format));
        // A core length past the end.
        let mut long = bytes.clone();
        long[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Graph::decode_core(&long, 1 << 20), Err(DecodeError::Compression));
        // An inflated length that lies is only a capacity hint: the cap still holds.
        let mut lying = bytes.clone();
        lying[9..13].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Graph::decode(&lying, 1 << 20), Ok(graph.clone()));
        assert_eq!(Graph::decode(&lying, 10), Err(DecodeError::TooLarge(10)));
    }

    #[test]
    fn decode_rejects_garbage_truncation_version_and_over_cap() {
        let bytes = sample().encode();
        assert_eq!(Graph::decode(b"", 1 << 20), Err(DecodeError::BadMagic));
        assert_eq!(
            Graph::decode(b"nope, not an index", 1 << 20),
            Err(DecodeError::BadMagic)
        );
        let mut other = bytes.clone();
        other[4] = 9;
        assert_eq!(Graph::decode(&other, 1 << 20), Err(DecodeError::Version(9)));
        for cut in [5, 6, bytes.len() / 2, bytes.len() - 1] {
            assert!(Graph::decode(&bytes[..cut], 1 << 20).is_err(), "cut at {cut}");
        }
        assert_eq!(Graph::decode(&bytes, 10), Err(DecodeError::TooLarge(10)));
        let mut flipped = bytes.clone();
        for i in (5..flipped.len()).step_by(3) {
            flipped[i] ^= 0x5a;
        }
        assert!(Graph::decode(&flipped, 1 << 20).is_err());
    }

    #[test]
    fn decode_rejects_dangling_indices() {
        let mut graph = sample();
        graph.edges[0].to.symbol = 99;
        assert_eq!(Graph::decode(&graph.encode(), 1 << 20), Err(DecodeError::Dangling));
    }

    #[test]
    fn a_deflate_bomb_stops_at_the_cap() {
        let mut encoder = DeflateEncoder::new(b"AGIX\x01".to_vec(), Compression::best());
        encoder.write_all(&vec![0u8; 8 << 20]).expect("vec write");
        let bomb = encoder.finish().expect("vec");
        assert!(bomb.len() < 64 << 10);
        assert_eq!(Graph::decode(&bomb, 1 << 20), Err(DecodeError::TooLarge(1 << 20)));
    }
}
