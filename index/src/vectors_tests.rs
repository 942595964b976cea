use proptest::prelude::*;

use super::*;
use crate::ResolveMode;
use crate::tests::build;

fn entry(path: &str, qualified: &str, line: u32, vector: &[f32]) -> VectorEntry {
    VectorEntry {
        path: path.into(),
        qualified: qualified.into(),
        line,
        text_hash: text_hash(qualified),
        vector: vector.to_vec(),
    }
}

fn sample() -> SymbolVectors {
    SymbolVectors {
        model: "standin-embed".into(),
        dimensions: 3,
        entries: vec![
            entry("pkg/util.py", "pkg.util.helper", 1, &[1.0, 0.0, -0.5]),
            entry("pkg/app.py", "pkg.app.App.run", 5, &[0.0, 2.0, 0.25]),
            entry("pkg/util.py", "pkg.util.unused", 6, &[0.5, 0.5, 0.5]),
        ],
    }
}

#[test]
fn the_stored_form_round_trips_with_its_header() {
    let v = sample();
    let bytes = v.encode();
    assert_eq!(&bytes[..4], MAGIC);
    assert_eq!(bytes[4], VERSION);
    assert_eq!(SymbolVectors::decode(&bytes), Ok(v));
    let empty = SymbolVectors {
        model: String::new(),
        dimensions: 1,
        entries: vec![],
    };
    assert_eq!(SymbolVectors::decode(&empty.encode()), Ok(empty));
}

#[test]
fn a_vector_of_another_length_is_left_out() {
    let mut v = sample();
    v.entries.push(entry("x.py", "x.f", 1, &[1.0]));
    assert_eq!(SymbolVectors::decode(&v.encode()).unwrap().entries.len(), 3);
}

#[test]
fn decoding_refuses_what_is_not_the_stored_form() {
    let bytes = sample().encode();
    assert_eq!(SymbolVectors::decode(b""), Err(VectorsError::Magic));
    assert_eq!(SymbolVectors::decode(b"AGIX\x01"), Err(VectorsError::Magic));
    let mut version = bytes.clone();
    version[4] = 9;
    assert_eq!(SymbolVectors::decode(&version), Err(VectorsError::Version(9)));
    for cut in 5..bytes.len() {
        assert!(SymbolVectors::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(SymbolVectors::decode(&trailing).is_err());
    // A huge entry count is refused before anything is allocated for it.
    let mut header = Vec::from(&MAGIC[..]);
    header.push(VERSION);
    header.extend_from_slice(&[0, 0]);
    header.extend_from_slice(&4096u32.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(SymbolVectors::decode(&header), Err(VectorsError::Truncated));
    // Dimensions out of range; a NaN; a path index out of range.
    let mut dims = header.clone();
    dims[7..11].copy_from_slice(&0u32.to_le_bytes());
    assert!(SymbolVectors::decode(&dims).is_err());
    let one = SymbolVectors {
        model: "m".into(),
        dimensions: 1,
        entries: vec![entry("a", "a.f", 1, &[1.0])],
    };
    let mut nan = one.encode();
    let at = nan.len() - 4;
    nan[at..].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(SymbolVectors::decode(&nan).is_err());
    let mut index = one.encode();
    // magic 4 + version 1 + model 2+1 + dims 4 + paths 4 + "a" 2+1 + count 4 → the path index.
    index[23..27].copy_from_slice(&7u32.to_le_bytes());
    assert_eq!(
        SymbolVectors::decode(&index),
        Err(VectorsError::Invalid("a path index"))
    );
}

#[test]
fn the_text_is_name_signature_and_doc_bounded() {
    assert_eq!(
        text("a.f", "def f(x):", Some(" Doubles x. ")),
        "a.f\ndef f(x):\nDoubles x."
    );
    assert_eq!(text("a.f", "def f(x):", Some("  ")), "a.f\ndef f(x):");
    assert_eq!(text_hash("a.f"), text_hash("a.f"));
    assert_ne!(text_hash("a.f"), text_hash("a.g"));
    assert_eq!(text_hash(""), 0xcbf2_9ce4_8422_2325, "FNV-1a's offset basis");
    let long = "é".repeat(5000);
    assert_eq!(text(&long, "", None).chars().count(), MAX_TEXT_CHARS);
}

#[test]
fn symbols_are_picked_by_fan_in_then_path_and_line() {
    let graph = build(
        &[
            ("b.py", "def hot():\n    return 1\n\ndef cold():\n    return 2\n"),
            (
                "a.py",
                "from b import hot\n\ndef one():\n    return hot()\n\ndef two():\n    return hot() + one()\n",
            ),
        ],
        ResolveMode::Scoped,
    );
    let calls = CallIndex::new(&graph);
    let names = |cap| -> Vec<String> {
        pick_symbols(&graph, &calls, cap)
            .into_iter()
            .map(|id| graph.symbol(id).qualified.clone())
            .collect()
    };
    assert_eq!(names(10), ["b.hot", "a.one", "a.two", "b.cold"]);
    assert_eq!(names(2), ["b.hot", "a.one"]);
    assert!(names(0).is_empty());
}

#[test]
fn the_most_similar_entries_skip_the_refused_and_the_incomparable() {
    let v = sample();
    let q = vec![vec![1.0, 0.0, 0.0]];
    assert_eq!(most_similar(&v.entries, &q, |_| false, 2), [0, 2]);
    assert_eq!(
        most_similar(&v.entries, &q, |e| e.qualified.ends_with("helper"), 5),
        [2, 1]
    );
    assert!(
        most_similar(&v.entries, &[vec![1.0]], |_| false, 5).is_empty(),
        "other dimensions"
    );
    assert!(
        most_similar(&v.entries, &[vec![0.0; 3]], |_| false, 5).is_empty(),
        "no direction"
    );
    // The best query counts.
    let two = vec![vec![0.0, 0.0, 1.0], vec![0.0, 1.0, 0.0]];
    assert_eq!(most_similar(&v.entries, &two, |_| false, 1), [1]);
}

proptest! {
    #[test]
    fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SymbolVectors::decode(&bytes);
        let mut framed = Vec::from(&MAGIC[..]);
        framed.push(VERSION);
        framed.extend_from_slice(&bytes);
        let _ = SymbolVectors::decode(&framed);
    }

    #[test]
    fn mutated_objects_never_panic(at in 0usize..200, byte in any::<u8>()) {
        let mut bytes = sample().encode();
        let i = at % bytes.len();
        bytes[i] = byte;
        if let Ok(v) = SymbolVectors::decode(&bytes) {
            prop_assert_eq!(v.dimensions, 3);
        }
    }
}
