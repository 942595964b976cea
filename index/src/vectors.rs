//! Symbol vectors (docs/index.md, "Embeddings"): the embedding of some of a graph's symbols
//! (qualified name, signature and doc), stored next to the graph object for `deep` reviews'
//! "Similar code". Pure logic: which symbols are embedded ([`pick_symbols`]), the text
//! embedded ([`symbol_text`]), the stored form ([`SymbolVectors::encode`], a magic and
//! version header, then the model, the dimensions, the paths and one entry per symbol),
//! and the pick of the most similar entries ([`most_similar`]). Decoding checks every
//! length and index against the bytes it has and never panics.

use std::cmp::Reverse;

use crate::calls::CallIndex;
use crate::graph::{Graph, SymbolId};
use crate::model::{Symbol, SymbolKind};

/// The stored form's first bytes.
pub const MAGIC: &[u8; 4] = b"AGVX";
/// The stored form's version.
pub const VERSION: u8 = 1;
/// Dimensions of a stored vector, at most.
pub const MAX_DIMENSIONS: u32 = 4096;
/// Characters of one symbol's embedded text, at most.
pub const MAX_TEXT_CHARS: usize = 1000;
const MAX_MODEL_BYTES: usize = 256;

/// One embedded symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorEntry {
    pub path: String,
    pub qualified: String,
    /// Its first line at the indexed commit.
    pub line: u32,
    /// [`text_hash`] of the text embedded: a later job reuses the vector of an unchanged
    /// text instead of embedding it again.
    pub text_hash: u64,
    pub vector: Vec<f32>,
}

/// The vectors of one graph, all of one model and dimension count.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolVectors {
    pub model: String,
    pub dimensions: u32,
    pub entries: Vec<VectorEntry>,
}

/// Why stored vectors cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VectorsError {
    #[error("not a vectors object (magic)")]
    Magic,
    #[error("vectors format version {0} is not known")]
    Version(u8),
    #[error("the vectors object ends early")]
    Truncated,
    #[error("the vectors object is invalid: {0}")]
    Invalid(&'static str),
}

/// The text embedded for a symbol: its qualified name, signature and doc, one per line, at
/// most [`MAX_TEXT_CHARS`] characters. The review embeds its changed symbols the same way.
pub fn text(qualified: &str, signature: &str, doc: Option<&str>) -> String {
    let mut out = format!("{qualified}\n{signature}");
    if let Some(doc) = doc.filter(|d| !d.trim().is_empty()) {
        out.push('\n');
        out.push_str(doc.trim());
    }
    match out.char_indices().nth(MAX_TEXT_CHARS) {
        Some((at, _)) => out[..at].to_owned(),
        None => out,
    }
}

/// A stable 64-bit hash of an embedded text (FNV-1a), stored with its vector.
pub fn text_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// [`text`] of a graph's symbol.
pub fn symbol_text(symbol: &Symbol) -> String {
    text(&symbol.qualified, &symbol.signature, symbol.doc.as_deref())
}

/// The symbols embedded, at most `cap`: functions, methods and types (not inline modules),
/// most called first (fan-in), then by path and line.
pub fn pick_symbols(graph: &Graph, calls: &CallIndex, cap: usize) -> Vec<SymbolId> {
    let mut all: Vec<(u32, SymbolId)> = Vec::new();
    for (f, file) in graph.files.iter().enumerate() {
        for (s, symbol) in file.symbols.iter().enumerate() {
            if symbol.kind == SymbolKind::Module {
                continue;
            }
            let id = SymbolId {
                file: f as u32,
                symbol: s as u32,
            };
            all.push((calls.fan_in(id), id));
        }
    }
    // Files are sorted by path; within a file, by line.
    all.sort_by_key(|&(fan_in, id)| (Reverse(fan_in), id.file, graph.symbol(id).start_line, id.symbol));
    all.into_iter().take(cap).map(|(_, id)| id).collect()
}

fn put_str(out: &mut Vec<u8>, s: &str, max: usize) {
    let mut end = s.len().min(max).min(usize::from(u16::MAX));
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&(end as u16).to_le_bytes());
    out.extend_from_slice(&s.as_bytes()[..end]);
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], VectorsError> {
        if self.bytes.len() < n {
            return Err(VectorsError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, VectorsError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, VectorsError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<String, VectorsError> {
        let n = usize::from(self.u16()?);
        std::str::from_utf8(self.take(n)?)
            .map(str::to_owned)
            .map_err(|_| VectorsError::Invalid("a string is not UTF-8"))
    }

    /// A count of items of at least `min_size` bytes each, checked against what is left.
    fn count(&mut self, min_size: usize) -> Result<usize, VectorsError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.bytes.len() {
            return Err(VectorsError::Truncated);
        }
        Ok(n)
    }
}

impl SymbolVectors {
    /// The stored form: `AGVX`, the version, the model, the dimensions, the distinct paths,
    /// then each entry (path index, qualified name, line, text hash, little-endian `f32`s). Paths and
    /// names longer than 65,535 bytes are cut; a vector of another length than
    /// `dimensions` is left out.
    pub fn encode(&self) -> Vec<u8> {
        let dims = self.dimensions as usize;
        let entries: Vec<&VectorEntry> = self.entries.iter().filter(|e| e.vector.len() == dims).collect();
        let mut paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        let mut out = Vec::with_capacity(64 + entries.len() * (dims * 4 + 64));
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        put_str(&mut out, &self.model, MAX_MODEL_BYTES);
        out.extend_from_slice(&self.dimensions.to_le_bytes());
        out.extend_from_slice(&(paths.len() as u32).to_le_bytes());
        for p in &paths {
            put_str(&mut out, p, usize::from(u16::MAX));
        }
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for e in entries {
            let at = paths.binary_search(&e.path.as_str()).unwrap_or(0) as u32;
            out.extend_from_slice(&at.to_le_bytes());
            put_str(&mut out, &e.qualified, usize::from(u16::MAX));
            out.extend_from_slice(&e.line.to_le_bytes());
            out.extend_from_slice(&e.text_hash.to_le_bytes());
            for v in &e.vector {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Reads [`SymbolVectors::encode`]'s form: an error (never a panic) for anything else —
    /// another magic or version, a count or length past the end, a path index out of range,
    /// dimensions out of `1..=MAX_DIMENSIONS`, a non-finite value, trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, VectorsError> {
        let mut r = Reader { bytes };
        if r.take(4).map_err(|_| VectorsError::Magic)? != MAGIC {
            return Err(VectorsError::Magic);
        }
        let version = r.take(1)?[0];
        if version != VERSION {
            return Err(VectorsError::Version(version));
        }
        let model = r.string()?;
        let dimensions = r.u32()?;
        if dimensions == 0 || dimensions > MAX_DIMENSIONS {
            return Err(VectorsError::Invalid("dimensions"));
        }
        let path_count = r.count(2)?;
        let mut paths = Vec::with_capacity(path_count);
        for _ in 0..path_count {
            paths.push(r.string()?);
        }
        let dims = dimensions as usize;
        let entry_count = r.count(18 + dims * 4)?;
        let mut entries = Vec::with_capacity(entry_count);
        for _ in 0..entry_count {
            let path = paths
                .get(r.u32()? as usize)
                .ok_or(VectorsError::Invalid("a path index"))?
                .clone();
            let qualified = r.string()?;
            let line = r.u32()?;
            let hash = r.take(8)?;
            let text_hash =
                u64::from_le_bytes([hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7]]);
            let vector: Vec<f32> = r
                .take(dims * 4)?
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            if !vector.iter().all(|v| v.is_finite()) {
                return Err(VectorsError::Invalid("a value is not finite"));
            }
            entries.push(VectorEntry {
                path,
                qualified,
                line,
                text_hash,
                vector,
            });
        }
        if !r.bytes.is_empty() {
            return Err(VectorsError::Invalid("trailing bytes"));
        }
        Ok(SymbolVectors {
            model,
            dimensions,
            entries,
        })
    }
}

/// Cosine similarity; `None` when the lengths differ or either vector has no direction.
pub fn cosine(a: &[f32], b: &[f32]) -> Option<f32> {
    if a.len() != b.len() {
        return None;
    }
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    (na > 0.0 && nb > 0.0).then(|| (dot / (na * nb)).clamp(-1.0, 1.0) as f32)
}

/// The indices of at most `k` entries most similar to any of `queries` (each entry scored
/// by its best cosine), skipping those `skip` refuses and those that compare with no query;
/// equal scores keep the stored order (most called first).
pub fn most_similar(
    entries: &[VectorEntry],
    queries: &[Vec<f32>],
    skip: impl Fn(&VectorEntry) -> bool,
    k: usize,
) -> Vec<usize> {
    let mut scored: Vec<(usize, f32)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| !skip(e))
        .filter_map(|(i, e)| {
            queries
                .iter()
                .filter_map(|q| cosine(q, &e.vector))
                .reduce(f32::max)
                .map(|best| (i, best))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.into_iter().take(k).map(|(i, _)| i).collect()
}

#[cfg(test)]
#[path = "vectors_tests.rs"]
mod tests;
