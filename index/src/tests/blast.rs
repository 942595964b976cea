//! Changed symbols from hunks (added, modified, removed, renamed, moved code), neighbours
//! ranked, the impact of a change, and the call index against the graph's own queries.

use super::{build, id, parse};
use crate::blast::{Change, FileChange, Reach, Relation, blast, changed_symbols, impact, is_test_path};
use crate::{CallIndex, ResolveMode};

const UTILS: &str = "\
def get_netrc_auth(url):
    return lookup(url)


def lookup(url):
    return url


def unused():
    return 0
";

const SESSIONS: &str = "\
from pkg.utils import get_netrc_auth


class Session:
    def rebuild_auth(self, request):
        return get_netrc_auth(request)

    def prepare_request(self, request):
        auth = get_netrc_auth(request)
        return self.rebuild_auth(auth)


def send(session, request):
    return session.prepare_request(request)
";

const TEST: &str = "\
from pkg.utils import get_netrc_auth


def test_auth():
    assert get_netrc_auth('x')
";

fn repo() -> crate::Graph {
    build(
        &[
            ("pkg/utils.py", UTILS),
            ("pkg/sessions.py", SESSIONS),
            ("tests/test_utils.py", TEST),
        ],
        ResolveMode::Scoped,
    )
}

fn change<'a>(path: &'a str, added: &[u32], removed: &[u32], head: Option<&'a crate::FileIndex>) -> FileChange<'a> {
    FileChange {
        path,
        old_path: None,
        added: added.to_vec(),
        removed: removed.to_vec(),
        old_span: Vec::new(),
        head,
    }
}

#[test]
fn call_index_answers_as_the_graph_does() {
    let g = repo();
    let calls = CallIndex::new(&g);
    for (f, file) in g.files.iter().enumerate() {
        for s in 0..file.symbols.len() {
            let sid = crate::SymbolId {
                file: f as u32,
                symbol: s as u32,
            };
            assert_eq!(
                calls.callers(sid, 2),
                g.callers(sid, 2),
                "{}",
                file.symbols[s].qualified
            );
            assert_eq!(calls.callees(sid), g.callees(sid));
            assert_eq!(calls.fan_in(sid) as usize, g.callers(sid, 1).len());
        }
    }
    // An id from another graph is no symbol here.
    assert!(calls.callers(crate::SymbolId { file: 99, symbol: 0 }, 2).is_empty());
}

#[test]
fn a_modified_line_names_its_innermost_symbol() {
    let g = repo();
    let head = parse(
        "pkg/utils.py",
        &UTILS.replace("return lookup(url)", "return lookup(url.strip())"),
    );
    let changed = changed_symbols(&g, &[change("pkg/utils.py", &[2], &[2], Some(&head))]);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].qualified, "pkg.utils.get_netrc_auth");
    assert_eq!(changed[0].change, Change::Modified);
    assert_eq!(changed[0].base, Some(id(&g, "pkg.utils.get_netrc_auth")));
}

#[test]
fn added_removed_and_renamed_symbols() {
    let g = repo();
    // `unused` removed, `fresh` added (head lines 9–10).
    let head_src = UTILS.replace("def unused():\n    return 0\n", "def fresh():\n    return lookup(1)\n");
    let head = parse("pkg/utils.py", &head_src);
    let changed = changed_symbols(&g, &[change("pkg/utils.py", &[9, 10], &[9, 10], Some(&head))]);
    let kinds: Vec<(&str, Change)> = changed.iter().map(|c| (c.qualified.as_str(), c.change)).collect();
    assert_eq!(
        kinds,
        [
            ("pkg.utils.fresh", Change::Added),
            ("pkg.utils.unused", Change::Removed)
        ]
    );
    // A renamed file keeps its symbols' identity through the old path.
    let moved = parse(
        "pkg/auth.py",
        &UTILS.replace("return lookup(url)", "return lookup(url) or None"),
    );
    let mut c = change("pkg/auth.py", &[2], &[2], Some(&moved));
    c.old_path = Some("pkg/utils.py");
    let changed = changed_symbols(&g, &[c]);
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].change, Change::Modified);
    assert_eq!(changed[0].base, Some(id(&g, "pkg.utils.get_netrc_auth")));
}

#[test]
fn code_moved_to_another_file_keeps_its_callers() {
    let g = build(
        &[
            ("src/a.ts", "export function shared(x: number) {\n  return x + 1;\n}\n"),
            (
                "src/b.ts",
                "import { shared } from './a';\nexport function user() {\n  return shared(2);\n}\n",
            ),
        ],
        ResolveMode::Scoped,
    );
    let calls = CallIndex::new(&g);
    // `shared` moves to c.ts under the same qualified name? No: TS names carry the module,
    // so a moved function is a new symbol there and a removed one in a.ts, whose callers
    // are the blast radius.
    let head_c = parse("src/c.ts", "export function shared(x: number) {\n  return x + 2;\n}\n");
    let head_a = parse("src/a.ts", "\n");
    let changes = [
        change("src/c.ts", &[1, 2, 3], &[], Some(&head_c)),
        change("src/a.ts", &[], &[1, 2, 3], Some(&head_a)),
    ];
    let b = blast(&g, &calls, &changes, Reach::default());
    let removed = b
        .changed
        .iter()
        .position(|c| c.change == Change::Removed)
        .expect("a removed symbol");
    assert_eq!(b.changed[removed].qualified, g.symbol(id(&g, "src/a:shared")).qualified);
    let callers: Vec<&str> = b
        .related
        .iter()
        .filter(|r| r.of == removed && matches!(r.relation, Relation::Caller { .. }))
        .map(|r| g.symbol(r.id).qualified.as_str())
        .collect();
    assert_eq!(callers, ["src/b:user"]);
}

#[test]
fn without_a_head_parse_the_hunks_old_side_is_used() {
    let g = repo();
    let mut c = change("pkg/utils.py", &[], &[], None);
    c.old_span = vec![5, 6];
    let changed = changed_symbols(&g, &[c]);
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].qualified, "pkg.utils.lookup");
    assert_eq!(changed[0].change, Change::Modified);
}

#[test]
fn neighbours_are_ranked_tests_last_nearest_first() {
    let g = repo();
    let calls = CallIndex::new(&g);
    let head = parse(
        "pkg/utils.py",
        &UTILS.replace("return lookup(url)", "return lookup(url.strip())"),
    );
    let b = blast(
        &g,
        &calls,
        &[change("pkg/utils.py", &[2], &[2], Some(&head))],
        Reach::default(),
    );
    let order: Vec<(String, String)> = b
        .related
        .iter()
        .map(|r| {
            let d = match r.relation {
                Relation::Caller { distance } => format!("caller {distance}"),
                Relation::Callee => "callee".into(),
            };
            (g.symbol(r.id).qualified.clone(), d)
        })
        .collect();
    let names: Vec<&str> = order.iter().map(|(n, _)| n.as_str()).collect();
    // Direct callers first (callers before callees at the same distance), then the callee,
    // then the second hop; the test last.
    assert_eq!(
        names,
        [
            "pkg.sessions.Session.rebuild_auth",
            "pkg.sessions.Session.prepare_request",
            "pkg.utils.lookup",
            "pkg.sessions.send",
            "tests.test_utils.test_auth",
        ],
        "{order:?}"
    );
    // With one hop, the second-hop caller is not there.
    let near = blast(
        &g,
        &calls,
        &[change("pkg/utils.py", &[2], &[2], Some(&head))],
        Reach {
            caller_hops: 1,
            ..Reach::default()
        },
    );
    assert!(near.related.iter().all(|r| g.symbol(r.id).name != "send"));
}

#[test]
fn a_new_symbols_calls_resolve_by_unique_name() {
    let g = repo();
    let calls = CallIndex::new(&g);
    let head_src = format!("{UTILS}\n\ndef fresh(url):\n    return lookup(url)\n");
    let head = parse("pkg/utils.py", &head_src);
    let line = head
        .symbols
        .iter()
        .find(|s| s.name == "fresh")
        .expect("fresh")
        .start_line;
    let b = blast(
        &g,
        &calls,
        &[change("pkg/utils.py", &[line, line + 1], &[], Some(&head))],
        Reach::default(),
    );
    assert_eq!(b.changed.len(), 1);
    assert_eq!(b.changed[0].change, Change::Added);
    assert_eq!(b.related.len(), 1);
    assert_eq!(g.symbol(b.related[0].id).qualified, "pkg.utils.lookup");
    assert!(b.related[0].by_name);
}

#[test]
fn impact_counts_direct_callers_by_file() {
    let g = repo();
    let calls = CallIndex::new(&g);
    let head = parse(
        "pkg/utils.py",
        &UTILS.replace("return lookup(url)", "return lookup(url.strip())"),
    );
    let b = blast(
        &g,
        &calls,
        &[change("pkg/utils.py", &[2], &[2], Some(&head))],
        Reach::default(),
    );
    let found = impact(&g, &calls, &b, 3, 3);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].callers, 3);
    assert_eq!(found[0].files, 2);
    assert_eq!(
        found[0].top,
        [
            (
                "pkg/sessions.py".to_owned(),
                vec!["Session.prepare_request".to_owned(), "Session.rebuild_auth".to_owned()]
            ),
            ("tests/test_utils.py".to_owned(), vec!["test_auth".to_owned()]),
        ]
    );
}

#[test]
fn test_paths() {
    for p in [
        "tests/test_x.py",
        "pkg/x_test.go",
        "src/a.test.ts",
        "src/__tests__/a.js",
        "FooTest.java",
        "spec/a_spec.rb",
    ] {
        assert!(is_test_path(p), "{p}");
    }
    for p in ["pkg/utils.py", "src/contest.ts", "latest/x.go", "src/attestation.rs"] {
        assert!(!is_test_path(p), "{p}");
    }
}
