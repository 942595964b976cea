//! What a review job's history says about the answer beyond its comment count (issue 31):
//! how many of the model's comments were not posted, and why, and the per-file walkthrough
//! as it was posted. Written by the review engine on the job record, read by
//! `GET /api/repos/{id}/reviews`.

use serde::{Deserialize, Serialize};

/// Comments the model wrote that were not posted inline, by reason (an empty comment is
/// not a comment and is not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Dropped {
    /// Scored below the settings' `minConfidence` by the model (and, at `deep`, still
    /// below it after the verifier's score).
    pub low_confidence: u32,
    /// At or above `minConfidence` by the model, lowered below it by the verifier (`deep`).
    pub unverified: u32,
    /// On a file or line the diff does not show (noted in the summary instead when its
    /// confidence is high enough).
    pub invalid_anchor: u32,
    /// Below the settings' `minSeverity`.
    pub below_severity: u32,
    /// The same path, line and text as an earlier comment.
    pub duplicate: u32,
    /// Past `maxComments` or the per-file cap.
    pub over_cap: u32,
}

impl Dropped {
    /// Each count with its name in the API.
    pub fn counts(&self) -> [(&'static str, u32); 6] {
        [
            ("lowConfidence", self.low_confidence),
            ("unverified", self.unverified),
            ("invalidAnchor", self.invalid_anchor),
            ("belowSeverity", self.below_severity),
            ("duplicate", self.duplicate),
            ("overCap", self.over_cap),
        ]
    }

    /// The counts from `(name, count)` pairs (unknown names ignored).
    pub fn from_counts<'a>(counts: impl IntoIterator<Item = (&'a str, u32)>) -> Self {
        let mut d = Self::default();
        for (name, count) in counts {
            let slot = match name {
                "lowConfidence" => &mut d.low_confidence,
                "unverified" => &mut d.unverified,
                "invalidAnchor" => &mut d.invalid_anchor,
                "belowSeverity" => &mut d.below_severity,
                "duplicate" => &mut d.duplicate,
                "overCap" => &mut d.over_cap,
                _ => continue,
            };
            *slot = count;
        }
        d
    }

    pub fn total(&self) -> u32 {
        self.counts().iter().map(|(_, n)| n).sum()
    }
}

/// How the model's answer came (docs/review-engine.md, "Small models"): whether an answer
/// was cut short at `max_tokens` (`finish_reason: "length"`), how many comments were
/// salvaged from an answer that did not parse whole, and whether a second, smaller request
/// was made. Recorded only when something of the kind happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AnswerReport {
    pub truncated: bool,
    /// Comments kept from a cut-short or unreadable answer (`None`: it parsed whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salvaged: Option<u32>,
    /// The first answer was unusable and a smaller one was asked for.
    pub retried_smaller: bool,
}

impl AnswerReport {
    /// Whether there is anything to record.
    pub fn is_notable(&self) -> bool {
        self.truncated || self.salvaged.is_some() || self.retried_smaller
    }
}

/// One line of the walkthrough: a file the diff showed, and what changed in it (model
/// text, made inert markdown on one line, as posted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkthroughLine {
    pub path: String,
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip_by_name() {
        let d = Dropped {
            low_confidence: 1,
            unverified: 2,
            invalid_anchor: 3,
            below_severity: 4,
            duplicate: 5,
            over_cap: 6,
        };
        assert_eq!(Dropped::from_counts(d.counts()), d);
        assert_eq!(d.total(), 21);
        let json = serde_json::to_value(d).unwrap();
        assert_eq!(json["lowConfidence"], 1);
        assert_eq!(json["overCap"], 6);
        let old: Dropped = serde_json::from_str("{}").unwrap();
        assert_eq!(old, Dropped::default());
    }
}
