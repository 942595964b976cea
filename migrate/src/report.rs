//! The summary of a run: counts per kind, what was skipped and why, rendered for the
//! operator.

use std::fmt::Write as _;

use agnus_shared::domain::OrgId;

use agnus_shared::rfc3339::format_rfc3339;

/// The kinds the summary counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Users,
    Invites,
    Repos,
    Reviews,
    Comments,
    Feedback,
    Checkpoints,
    Settings,
    ApiKeys,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Users,
        Kind::Invites,
        Kind::Repos,
        Kind::Reviews,
        Kind::Comments,
        Kind::Feedback,
        Kind::Checkpoints,
        Kind::Settings,
        Kind::ApiKeys,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Invites => "invites",
            Kind::Repos => "repos",
            Kind::Reviews => "reviews",
            Kind::Comments => "comments",
            Kind::Feedback => "feedback",
            Kind::Checkpoints => "checkpoints",
            Kind::Settings => "settings",
            Kind::ApiKeys => "api keys",
        }
    }
}

/// Per kind: rows in the old database, already migrated by an earlier run, migrated by
/// this one (or that would be, in a dry run), skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub source: usize,
    pub already: usize,
    pub migrated: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub dry_run: bool,
    pub default_org: Option<OrgId>,
    pub counts: Vec<(Kind, Count)>,
    /// What was skipped and why (one line each).
    pub skipped: Vec<String>,
    pub legacy_webhooks_until: Option<i64>,
    /// Transactions written.
    pub writes: usize,
}

impl Report {
    pub fn count(&mut self, kind: Kind) -> &mut Count {
        if let Some(i) = self.counts.iter().position(|(k, _)| *k == kind) {
            return &mut self.counts[i].1;
        }
        self.counts.push((kind, Count::default()));
        let last = self.counts.len() - 1;
        &mut self.counts[last].1
    }

    pub fn get(&self, kind: Kind) -> Count {
        self.counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }

    pub fn skip(&mut self, kind: Kind, why: String) {
        self.count(kind).skipped += 1;
        self.skipped.push(why);
    }

    pub fn render(&self) -> String {
        let verb = if self.dry_run { "would migrate" } else { "migrated" };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<12} {:>9} {:>9} {:>14} {:>9}",
            "kind", "source", "already", verb, "skipped"
        );
        for kind in Kind::ALL {
            let c = self.get(kind);
            let _ = writeln!(
                out,
                "{:<12} {:>9} {:>9} {:>14} {:>9}",
                kind.as_str(),
                c.source,
                c.already,
                c.migrated,
                c.skipped
            );
        }
        if self.skipped.is_empty() {
            out.push_str("skipped: nothing\n");
        } else {
            out.push_str("skipped:\n");
            for line in &self.skipped {
                let _ = writeln!(out, "  - {line}");
            }
        }
        match self.default_org {
            Some(org) => {
                let _ = writeln!(out, "default org: {org}");
            }
            None => out.push_str("default org: to be created (slug `default`)\n"),
        }
        if let Some(until) = self.legacy_webhooks_until {
            let _ = writeln!(
                out,
                "legacy webhook URLs: aliases of /api/webhooks/{{github,azure}}/default until {}",
                format_rfc3339(until)
            );
        }
        if self.dry_run {
            out.push_str("dry run: nothing was written\n");
        } else {
            let _ = writeln!(out, "transactions written: {}", self.writes);
        }
        out
    }
}
