use std::collections::BTreeSet;

use super::{build, id, parse};
use crate::{EdgeKind, Graph, ResolveMode};

/// Edges as (from path, from qualified, to path, to qualified, kind): stable across reindexing.
fn named(g: &Graph) -> BTreeSet<(String, String, String, String, EdgeKind)> {
    g.edges
        .iter()
        .map(|e| {
            (g.path(e.from).to_owned(), g.symbol(e.from).qualified.clone(), g.path(e.to).to_owned(), g.symbol(e.to).qualified.clone(), e.kind)
        })
        .collect()
}

#[test]
fn update_changes_only_the_changed_files_symbols_and_edges() {
    let mut g = build(super::python::FILES, ResolveMode::Scoped);
    let before = named(&g);
    let utils_symbols: Vec<String> =
        g.files.iter().filter(|f| f.path != "pkg/utils.py").flat_map(|f| f.symbols.iter().map(|s| s.qualified.clone())).collect();
    // `helper` is renamed: the edge to it goes, nothing else moves.
    g.update(vec![parse("pkg/utils.py", "def get_auth(token):\n    return token\n\n\ndef helper2():\n    return 1\n")], &[]);
    let after = named(&g);
    let gone: Vec<_> = before.difference(&after).collect();
    let new: Vec<_> = after.difference(&before).collect();
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert_eq!(gone[0].3, "pkg.utils.helper");
    assert!(new.is_empty(), "{new:?}");
    let others: Vec<String> =
        g.files.iter().filter(|f| f.path != "pkg/utils.py").flat_map(|f| f.symbols.iter().map(|s| s.qualified.clone())).collect();
    assert_eq!(others, utils_symbols);
    // The same as building from scratch.
    let mut files: Vec<_> = super::python::FILES.to_vec();
    files[0].1 = "def get_auth(token):\n    return token\n\n\ndef helper2():\n    return 1\n";
    assert_eq!(named(&build(&files, ResolveMode::Scoped)), after);
}

#[test]
fn removing_a_file_drops_its_edges_and_file_edges() {
    let mut g = build(super::python::FILES, ResolveMode::Scoped);
    assert!(named(&g).iter().any(|e| e.2 == "pkg/utils.py"));
    g.update(Vec::new(), &["pkg/utils.py".to_owned()]);
    assert!(g.file_index("pkg/utils.py").is_none());
    assert!(!named(&g).iter().any(|e| e.0 == "pkg/utils.py" || e.2 == "pkg/utils.py"));
    let files = g.files.len() as u32;
    assert!(g.file_edges.iter().all(|e| e.from < files && e.to < files));
    assert_eq!(g.stats().files, 3);
    // Adding a new file links it.
    g.update(vec![parse("pkg/new.py", "from pkg.other import dup\n\ndef f():\n    dup()\n")], &[]);
    assert!(named(&g).iter().any(|e| e.1 == "pkg.new.f" && e.3 == "pkg.other.dup"));
}

#[test]
fn find_callers_callees_and_stats() {
    let g = build(super::python::FILES, ResolveMode::Scoped);
    let run = id(&g, "pkg.service.Service.run");
    let class = id(&g, "pkg.service.Service");
    assert_eq!(g.find("pkg/service.py", 15), vec![run, class]);
    assert_eq!(g.find("pkg/service.py", 24), vec![id(&g, "pkg.service.Service.run.inner"), run, class]);
    assert!(g.find("pkg/service.py", 1).is_empty());
    assert!(g.find("nope.py", 1).is_empty());
    let helper = id(&g, "pkg.service.local_helper");
    let inner = id(&g, "pkg.service.Service.run.inner");
    assert_eq!(g.callers(helper, 1), vec![(inner, 1)]);
    assert_eq!(g.callers(helper, 5), vec![(inner, 1), (run, 2)]);
    assert!(g.callees(run).contains(&id(&g, "pkg.utils.get_auth")));
    assert_eq!(g.path(run), "pkg/service.py");
    let stats = g.stats();
    assert_eq!(stats.files, 4);
    assert_eq!(stats.symbols, g.files.iter().map(|f| f.symbols.len() as u32).sum::<u32>());
    assert_eq!(stats.edges as usize, g.edges.len() + g.file_edges.len());
    assert_eq!(stats.languages.get("python"), Some(&4));
    let json = serde_json::to_value(&stats).expect("json");
    assert!(json.get("files").is_some() && json.get("languages").is_some());
}

#[test]
fn build_is_deterministic_and_sorted() {
    let mut files: Vec<_> = super::python::FILES.iter().map(|(p, s)| parse(p, s)).collect();
    let a = Graph::build(files.clone(), ResolveMode::Scoped);
    files.reverse();
    let b = Graph::build(files, ResolveMode::Scoped);
    assert_eq!(a, b);
    assert!(a.files.windows(2).all(|w| w[0].path < w[1].path));
}
