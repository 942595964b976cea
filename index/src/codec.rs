//! The stored form of a [`Graph`]: a magic and version header, then deflate over postcard.
//! Decoding caps the decompressed size and checks every index, so a corrupt or hostile blob
//! is an error, never a panic or an out-of-range id later.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use crate::graph::Graph;

/// `AGIX` then the format version.
const MAGIC: &[u8; 4] = b"AGIX";
const VERSION: u8 = 1;

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
    /// `AGIX`, version 1, then the postcard encoding of the graph, deflated.
    pub fn encode(&self) -> Vec<u8> {
        let body = postcard::to_allocvec(self).unwrap_or_default();
        let mut out = Vec::with_capacity(body.len() / 4 + 8);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        let mut encoder = DeflateEncoder::new(out, Compression::default());
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(&body);
        encoder.finish().unwrap_or_default()
    }

    /// Decodes [`Graph::encode`]'s output, refusing more than `max_decoded` decompressed bytes.
    pub fn decode(bytes: &[u8], max_decoded: usize) -> Result<Graph, DecodeError> {
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(DecodeError::BadMagic)?;
        let (&version, compressed) = rest.split_first().ok_or(DecodeError::BadMagic)?;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let mut body = Vec::new();
        let limit = u64::try_from(max_decoded).unwrap_or(u64::MAX).saturating_add(1);
        DeflateDecoder::new(compressed).take(limit).read_to_end(&mut body).map_err(|_| DecodeError::Compression)?;
        if body.len() > max_decoded {
            return Err(DecodeError::TooLarge(max_decoded));
        }
        let graph: Graph = postcard::from_bytes(&body).map_err(|_| DecodeError::Format)?;
        graph.check()?;
        Ok(graph)
    }

    /// Every file, symbol and parent index in range; files sorted by path.
    fn check(&self) -> Result<(), DecodeError> {
        let symbols = |file: u32| self.files.get(file as usize).map(|f| f.symbols.len());
        let valid = |id: crate::SymbolId| symbols(id.file).is_some_and(|n| (id.symbol as usize) < n);
        let sorted = self.files.windows(2).all(|w| w[0].path < w[1].path);
        let parents = self.files.iter().all(|f| {
            f.symbols.iter().all(|s| s.parent.is_none_or(|p| (p as usize) < f.symbols.len()))
                && f.refs.iter().all(|r| r.from.is_none_or(|p| (p as usize) < f.symbols.len()))
        });
        let edges = self.edges.iter().all(|e| valid(e.from) && valid(e.to));
        let file_edges = self.file_edges.iter().all(|e| symbols(e.from).is_some() && symbols(e.to).is_some());
        if sorted && parents && edges && file_edges { Ok(()) } else { Err(DecodeError::Dangling) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, ResolveMode, parse_file};

    fn sample() -> Graph {
        let a = parse_file("pkg/a.py", b"from pkg.b import g\n\ndef f():\n    \"\"\"Doc.\"\"\"\n    g()\n", &Limits::default());
        let b = parse_file("pkg/b.py", b"def g():\n    return 1\n", &Limits::default());
        Graph::build(vec![a.expect("python"), b.expect("python")], ResolveMode::Scoped)
    }

    #[test]
    fn encode_decode_roundtrip() {
        let graph = sample();
        assert!(!graph.edges.is_empty());
        let bytes = graph.encode();
        assert_eq!(&bytes[..5], b"AGIX\x01");
        assert_eq!(Graph::decode(&bytes, 1 << 20), Ok(graph));
    }

    #[test]
    fn decode_rejects_garbage_truncation_version_and_over_cap() {
        let bytes = sample().encode();
        assert_eq!(Graph::decode(b"", 1 << 20), Err(DecodeError::BadMagic));
        assert_eq!(Graph::decode(b"nope, not an index", 1 << 20), Err(DecodeError::BadMagic));
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
