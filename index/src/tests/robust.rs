use proptest::prelude::*;

use crate::{Graph, Lang, Limits, ResolveMode, parse_file};

const EXTENSIONS: &[&str] = &["ts", "tsx", "js", "py", "go", "java", "cs", "rs"];

fn fixtures() -> Vec<(&'static str, &'static str)> {
    let mut all = super::python::FILES.to_vec();
    all.push((
        "a.ts",
        "export class A extends B implements C { m() { this.x(); new D(); } }\nimport {x as y} from './q';",
    ));
    all.push((
        "a.go",
        "package a\nimport \"x/y\"\ntype S struct{ T }\nfunc (s *S) M() { s.N(); y.F() }\n",
    ));
    all.push((
        "A.java",
        "package p; import q.R; class A extends B implements C { void m() { this.n(); new D(); } }",
    ));
    all.push((
        "A.cs",
        "using Q; namespace N { class A : B, IC { void M() { base.N(); new D(); } } }",
    ));
    all.push((
        "src/a.rs",
        "use crate::{a::{b, c as d}, e::*};\nimpl T for S { fn m(&self) { self.n(); Self::o(); } }",
    ));
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn parse_file_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048), ext in 0usize..8) {
        let path = format!("src/x.{}", EXTENSIONS[ext]);
        let file = parse_file(&path, &bytes, &Limits::default());
        prop_assert!(file.is_some());
        let graph = Graph::build(vec![file.expect("checked")], ResolveMode::Scoped);
        prop_assert!(Graph::decode(&graph.encode(), 1 << 24).is_ok());
    }

    #[test]
    fn parse_and_resolve_never_panic_on_mutated_fixtures(
        pick in 0usize..9,
        edits in proptest::collection::vec((any::<u16>(), any::<u8>(), 0u8..3), 1..24),
    ) {
        let fixtures = fixtures();
        let (path, source) = fixtures[pick % fixtures.len()];
        let mut bytes = source.as_bytes().to_vec();
        for (at, byte, op) in edits {
            let at = usize::from(at) % (bytes.len() + 1);
            match op {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => { bytes.remove(at); }
                _ if at < bytes.len() => bytes[at] = byte,
                _ => {}
            }
        }
        let mut files: Vec<_> = fixtures.iter().filter(|(p, _)| *p != path)
            .filter_map(|(p, s)| parse_file(p, s.as_bytes(), &Limits::default())).collect();
        files.extend(parse_file(path, &bytes, &Limits::default()));
        for mode in [ResolveMode::Scoped, ResolveMode::BareNameOnly] {
            let graph = Graph::build(files.clone(), mode);
            for edge in &graph.edges {
                let _ = (graph.symbol(edge.from), graph.symbol(edge.to));
            }
        }
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(mut bytes in proptest::collection::vec(any::<u8>(), 0..512), magic in 0u8..3) {
        // No magic, version 1 (one deflated body), version 2 (a section length, two bodies).
        if magic > 0 {
            bytes.splice(0..0, [b'A', b'G', b'I', b'X', magic]);
        }
        let _ = Graph::decode(&bytes, 1 << 20);
        let _ = Graph::decode_core(&bytes, 1 << 20);
    }
}

#[test]
fn deep_nesting_neither_panics_nor_overflows_the_stack() {
    let limits = Limits::default();
    let parens = format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    let blocks = format!("fn f() {{ {} }}\n", "{".repeat(50_000) + &"}".repeat(50_000));
    let js_blocks = format!("function f() {{ {} }}\n", "{".repeat(50_000) + &"}".repeat(50_000));
    let nested_defs: String = (0..2_000)
        .map(|i| format!("{}def f{i}():\n", " ".repeat(i)))
        .collect::<String>()
        + &" ".repeat(2_000)
        + "pass\n";
    for (path, source) in [
        ("deep.py", parens.as_str()),
        ("deep.rs", blocks.as_str()),
        ("deep.js", js_blocks.as_str()),
        (
            "deep.java",
            &format!("class A {{ void f() {} }}", "{".repeat(50_000) + &"}".repeat(50_000)),
        ),
        (
            "deep.cs",
            &format!("class A {{ void F() {} }}", "{".repeat(50_000) + &"}".repeat(50_000)),
        ),
        (
            "deep.go",
            &format!("package a\nfunc f() {}\n", "{".repeat(50_000) + &"}".repeat(50_000)),
        ),
        ("defs.py", nested_defs.as_str()),
    ] {
        let file = parse_file(path, source.as_bytes(), &limits).expect("supported");
        let graph = Graph::build(vec![file], ResolveMode::Scoped);
        let _ = graph.encode();
    }
}

#[test]
fn limits_bound_size_signature_doc_and_time() {
    let long_doc = format!(
        "def f(a{}):\n    \"\"\"{}\"\"\"\n",
        ", b".repeat(500),
        "word ".repeat(500)
    );
    let limits = Limits {
        max_signature_chars: 20,
        max_doc_chars: 30,
        ..Limits::default()
    };
    let file = parse_file("a.py", long_doc.as_bytes(), &limits).expect("python");
    assert_eq!(file.symbols[0].signature.chars().count(), 20);
    assert_eq!(file.symbols[0].doc.as_ref().map(|d| d.chars().count()), Some(30));
    let small = Limits {
        max_file_bytes: 10,
        ..Limits::default()
    };
    let file = parse_file("a.py", b"def f():\n    pass\n", &small).expect("python");
    assert!(file.symbols.is_empty());
    assert_eq!((file.lines, file.bytes), (2, 18));
    // No time at all: the parse is cancelled, the file has no symbols, nothing panics.
    let rushed = Limits {
        max_parse_micros: 0,
        ..Limits::default()
    };
    let big = "def f():\n    return 1\n".repeat(20_000);
    let file = parse_file("a.py", big.as_bytes(), &rushed).expect("python");
    assert!(file.symbols.len() < 20_000);
    // The reused parser starts afresh after a cancelled parse.
    let file = parse_file("b.py", b"def g():\n    pass\n", &Limits::default()).expect("python");
    assert_eq!(file.symbols.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["g"]);
    assert_eq!(parse_file("a.txt", b"x", &Limits::default()), None);
    assert_eq!(Lang::from_path("a.txt"), None);
    // Invalid UTF-8 is read lossily.
    let file = parse_file(
        "a.py",
        b"def f\xff():\n    pass\ndef g():\n    pass\n",
        &Limits::default(),
    )
    .expect("python");
    assert!(file.symbols.iter().any(|s| s.name == "g"));
}
