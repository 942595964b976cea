//! The call edges of a [`Graph`] as adjacency arrays, built once per review: callers and
//! callees of any symbol without scanning every edge ([`Graph::callers`] does that per
//! query, which a review asking about many symbols of a large repository cannot afford).

use std::collections::VecDeque;

use crate::graph::{EdgeKind, Graph, SymbolId};

/// Compressed adjacency of the `Calls` edges, both directions. Symbols are numbered
/// globally: file `f`'s symbol `s` is `first[f] + s`.
#[derive(Debug, Clone)]
pub struct CallIndex {
    first: Vec<u32>,
    callers_at: Vec<u32>,
    callers: Vec<u32>,
    callees_at: Vec<u32>,
    callees: Vec<u32>,
}

fn csr(n: usize, pairs: &[(u32, u32)]) -> (Vec<u32>, Vec<u32>) {
    let mut at = vec![0u32; n + 1];
    for &(from, _) in pairs {
        at[from as usize + 1] += 1;
    }
    for i in 0..n {
        at[i + 1] += at[i];
    }
    let mut fill = at.clone();
    let mut out = vec![0u32; pairs.len()];
    for &(from, to) in pairs {
        let slot = &mut fill[from as usize];
        out[*slot as usize] = to;
        *slot += 1;
    }
    (at, out)
}

impl CallIndex {
    pub fn new(graph: &Graph) -> Self {
        let mut first = Vec::with_capacity(graph.files.len() + 1);
        let mut total = 0u32;
        for file in &graph.files {
            first.push(total);
            total = total.saturating_add(u32::try_from(file.symbols.len()).unwrap_or(u32::MAX));
        }
        first.push(total);
        let n = total as usize;
        let global = |id: SymbolId| first[id.file as usize] + id.symbol;
        let calls: Vec<(u32, u32)> = graph
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Calls)
            .map(|e| (global(e.from), global(e.to)))
            .collect();
        let (callees_at, callees) = csr(n, &calls);
        let reversed: Vec<(u32, u32)> = calls.iter().map(|&(a, b)| (b, a)).collect();
        let (callers_at, callers) = csr(n, &reversed);
        CallIndex {
            first,
            callers_at,
            callers,
            callees_at,
            callees,
        }
    }

    fn global(&self, id: SymbolId) -> Option<usize> {
        let start = *self.first.get(id.file as usize)?;
        let end = *self.first.get(id.file as usize + 1)?;
        let g = start.checked_add(id.symbol)?;
        (g < end).then_some(g as usize)
    }

    fn id(&self, g: u32) -> SymbolId {
        // The last file whose first symbol is at or before `g` (empty files share a start).
        let file = self.first.partition_point(|&f| f <= g) - 1;
        SymbolId {
            file: file as u32,
            symbol: g - self.first[file],
        }
    }

    fn list<'a>(at: &'a [u32], to: &'a [u32], g: usize) -> &'a [u32] {
        &to[at[g] as usize..at[g + 1] as usize]
    }

    /// How many call sites' symbols call `id` directly.
    pub fn fan_in(&self, id: SymbolId) -> u32 {
        self.global(id)
            .map(|g| self.callers_at[g + 1] - self.callers_at[g])
            .unwrap_or(0)
    }

    /// What `id` calls directly.
    pub fn callees(&self, id: SymbolId) -> Vec<SymbolId> {
        let Some(g) = self.global(id) else {
            return Vec::new();
        };
        Self::list(&self.callees_at, &self.callees, g)
            .iter()
            .map(|&c| self.id(c))
            .collect()
    }

    /// Who calls `id`, up to `hops` calls away, nearest first, with the distance (as
    /// [`Graph::callers`], which it equals).
    pub fn callers(&self, id: SymbolId, hops: u32) -> Vec<(SymbolId, u32)> {
        let Some(start) = self.global(id) else {
            return Vec::new();
        };
        let mut seen = std::collections::HashSet::from([start as u32]);
        let mut queue = VecDeque::from([(start as u32, 0u32)]);
        let mut out = Vec::new();
        while let Some((at, distance)) = queue.pop_front() {
            if distance >= hops {
                continue;
            }
            for &caller in Self::list(&self.callers_at, &self.callers, at as usize) {
                if seen.insert(caller) {
                    out.push((self.id(caller), distance + 1));
                    queue.push_back((caller, distance + 1));
                }
            }
        }
        out
    }
}
