//! How an org wants its pull requests reviewed: an org default, a per-repository override
//! of any of its fields, and the system's defaults (`AGNUS_REVIEW_*`) under both. Pure
//! logic; the store keeps the two layers, the review engine reads the effective settings.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::ValidationError;
use crate::rules::PathGlob;

/// The most comments a setting may ask for per pull request.
pub const MAX_COMMENTS_CEILING: u32 = 100;
/// The most ignored-path globs one layer may hold.
pub const MAX_IGNORED_PATHS: usize = 50;
/// The largest `contextTokens` (the prompt's budget for graph context).
pub const MAX_CONTEXT_TOKENS: u32 = 8_000;
/// The system's `contextTokens` when `AGNUS_REVIEW_CONTEXT_TOKENS` is unset.
pub const DEFAULT_CONTEXT_TOKENS: u32 = 1_500;
/// The system's `minConfidence` when `AGNUS_REVIEW_MIN_CONFIDENCE` is unset.
pub const DEFAULT_MIN_CONFIDENCE: Confidence = Confidence(0.5);

/// A confidence from 0 to 1: a comment's (the model's own score, or the verifier's) and
/// the `minConfidence` threshold under which comments are not posted. Finite by
/// construction (so it is `Eq`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Confidence(f64);

impl Eq for Confidence {}

impl Confidence {
    /// What a comment without a usable score counts as: the middle of the scale (with the
    /// default `minConfidence` of 0.5 it is posted).
    pub const UNSCORED: Self = Self(0.5);

    /// A value from 0 to 1 exactly (settings: anything else is refused), kept to 6
    /// decimals: a threshold means nothing finer, and DynamoDB stores no number under 1e-130
    /// (a `minConfidence` of 2.2e-308 was refused by the table: the contract fuzz's 503).
    pub fn new(v: f64) -> Option<Self> {
        (0.0..=1.0).contains(&v).then_some(Self((v * 1e6).round() / 1e6))
    }

    /// A model's score: clamped to [0, 1]; NaN counts as [`Confidence::UNSCORED`].
    pub fn clamped(v: f64) -> Self {
        if v.is_nan() {
            Self::UNSCORED
        } else {
            Self(v.clamp(0.0, 1.0))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Confidence {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        Self::new(v).ok_or_else(|| format!("a confidence is from 0 to 1, got {v}"))
    }
}

impl From<Confidence> for f64 {
    fn from(c: Confidence) -> f64 {
        c.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Nit,
    Minor,
    Major,
    Critical,
}

impl FromStr for Severity {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "nit" => Self::Nit,
            "minor" => Self::Minor,
            "major" => Self::Major,
            "critical" => Self::Critical,
            _ => {
                return Err(ValidationError::new(
                    "invalid_severity",
                    "severity is nit, minor, major or critical",
                ));
            }
        })
    }
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nit => "nit",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }
}

/// Prompt budgets: `fast` reads less of the diff, `deep` more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Depth {
    Fast,
    Standard,
    Deep,
}

impl FromStr for Depth {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "fast" | "quick" => Self::Fast,
            "standard" | "normal" | "default" => Self::Standard,
            "deep" | "thorough" => Self::Deep,
            _ => return Err(ValidationError::new("invalid_depth", "depth is fast, standard or deep")),
        })
    }
}

impl Depth {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fast => "fast",
            Self::Standard => "standard",
            Self::Deep => "deep",
        }
    }
    /// The diff budget at this depth, from the system's (standard) budget.
    pub fn diff_budget(self, standard: usize) -> usize {
        match self {
            Self::Fast => standard / 4,
            Self::Standard => standard,
            Self::Deep => standard.saturating_mul(2),
        }
    }
}

/// The effective settings of one review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewSettings {
    pub auto_review: bool,
    pub review_on_push: bool,
    pub skip_drafts: bool,
    pub ignored_paths: Vec<PathGlob>,
    pub max_comments: u32,
    pub min_severity: Severity,
    pub depth: Depth,
    pub mention: String,
    /// Comments the model (or, at `deep`, the verifier) scores below this are not posted.
    pub min_confidence: Confidence,
    /// Prompt tokens for graph context (callers, callees); 0: none.
    pub context_tokens: u32,
}

/// One layer (org default or repository override): only the fields it sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_review: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_on_push: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_drafts: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_paths: Option<Vec<PathGlob>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_comments: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<Depth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mention: Option<String>,
    /// LLM-backed reviews per hour for the whole org (the org default only; it can lower
    /// the system's `AGNUS_REVIEWS_PER_ORG_PER_HOUR`, never raise it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews_per_hour: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<Confidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u32>,
}

/// The most `reviewsPerHour` a setting may name.
pub const MAX_REVIEWS_PER_HOUR: u32 = 10_000;

/// Settings that only the org default may hold.
pub const ORG_ONLY_FIELDS: [&str; 1] = ["reviewsPerHour"];

impl ReviewSettings {
    /// `base` with each field the layer sets replaced.
    pub fn with(mut self, layer: &SettingsLayer) -> Self {
        if let Some(v) = layer.auto_review {
            self.auto_review = v;
        }
        if let Some(v) = layer.review_on_push {
            self.review_on_push = v;
        }
        if let Some(v) = layer.skip_drafts {
            self.skip_drafts = v;
        }
        if let Some(v) = &layer.ignored_paths {
            self.ignored_paths = v.clone();
        }
        if let Some(v) = layer.max_comments {
            self.max_comments = v;
        }
        if let Some(v) = layer.min_severity {
            self.min_severity = v;
        }
        if let Some(v) = layer.depth {
            self.depth = v;
        }
        if let Some(v) = &layer.mention {
            self.mention = v.clone();
        }
        if let Some(v) = layer.min_confidence {
            self.min_confidence = v;
        }
        if let Some(v) = layer.context_tokens {
            self.context_tokens = v;
        }
        self
    }

    /// Is `path` left out of the review?
    pub fn ignores(&self, path: &str) -> bool {
        self.ignored_paths.iter().any(|g| g.matches(path))
    }
}

/// The fields a PATCH may name, in the API's spelling.
pub const FIELDS: [&str; 11] = [
    "autoReview",
    "reviewOnPush",
    "skipDrafts",
    "ignoredPaths",
    "maxComments",
    "minSeverity",
    "depth",
    "mention",
    "reviewsPerHour",
    "minConfidence",
    "contextTokens",
];

/// Applies a PATCH body to `layer`. A field set to `null` is cleared (a repository then
/// follows the org default again; the org default follows the system's).
pub fn patch(mut layer: SettingsLayer, body: &Map<String, Value>) -> Result<SettingsLayer, ValidationError> {
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ValidationError::new(
            "unknown_field",
            format!("unknown setting {unknown:?}; the settings are {}", FIELDS.join(", ")),
        ));
    }
    let invalid = |name: &str, what: &str| ValidationError::new("invalid_setting", format!("{name} must be {what}"));
    let flag = |name: &str| -> Result<Option<Option<bool>>, ValidationError> {
        match body.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::Bool(b)) => Ok(Some(Some(*b))),
            Some(_) => Err(invalid(name, "true, false or null")),
        }
    };
    if let Some(v) = flag("autoReview")? {
        layer.auto_review = v;
    }
    if let Some(v) = flag("reviewOnPush")? {
        layer.review_on_push = v;
    }
    if let Some(v) = flag("skipDrafts")? {
        layer.skip_drafts = v;
    }
    match body.get("ignoredPaths") {
        None => {}
        Some(Value::Null) => layer.ignored_paths = None,
        Some(Value::Array(items)) if items.len() <= MAX_IGNORED_PATHS => {
            let globs = items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| invalid("ignoredPaths", "a list of path globs"))
                        .and_then(PathGlob::parse)
                })
                .collect::<Result<Vec<_>, _>>()?;
            layer.ignored_paths = Some(globs);
        }
        Some(_) => return Err(invalid("ignoredPaths", "a list of at most 50 path globs, or null")),
    }
    match body.get("maxComments") {
        None => {}
        Some(Value::Null) => layer.max_comments = None,
        Some(v) => match crate::whole::of::<u32>(v) {
            Some(n @ 1..=MAX_COMMENTS_CEILING) => layer.max_comments = Some(n),
            _ => return Err(invalid("maxComments", "a number from 1 to 100, or null")),
        },
    }
    match body.get("minSeverity") {
        None => {}
        Some(Value::Null) => layer.min_severity = None,
        Some(Value::String(s)) => layer.min_severity = Some(s.parse()?),
        Some(_) => return Err(invalid("minSeverity", "nit, minor, major, critical or null")),
    }
    match body.get("depth") {
        None => {}
        Some(Value::Null) => layer.depth = None,
        Some(Value::String(s)) => layer.depth = Some(s.parse()?),
        Some(_) => return Err(invalid("depth", "fast, standard, deep or null")),
    }
    match body.get("reviewsPerHour") {
        None => {}
        Some(Value::Null) => layer.reviews_per_hour = None,
        Some(v) => match crate::whole::of::<u32>(v) {
            Some(n @ 1..=MAX_REVIEWS_PER_HOUR) => layer.reviews_per_hour = Some(n),
            _ => return Err(invalid("reviewsPerHour", "a number from 1 to 10000, or null")),
        },
    }
    match body.get("minConfidence") {
        None => {}
        Some(Value::Null) => layer.min_confidence = None,
        Some(v) => match v.as_f64().and_then(Confidence::new) {
            Some(c) => layer.min_confidence = Some(c),
            None => return Err(invalid("minConfidence", "a number from 0 to 1, or null")),
        },
    }
    match body.get("contextTokens") {
        None => {}
        Some(Value::Null) => layer.context_tokens = None,
        Some(v) => match crate::whole::of::<u32>(v) {
            Some(n @ 0..=MAX_CONTEXT_TOKENS) => layer.context_tokens = Some(n),
            _ => return Err(invalid("contextTokens", "a whole number from 0 to 8000, or null")),
        },
    }
    match body.get("mention") {
        None => {}
        Some(Value::Null) => layer.mention = None,
        Some(Value::String(s)) if valid_mention(s) => layer.mention = Some(s.clone()),
        Some(_) => {
            return Err(invalid(
                "mention",
                "a handle like @agnus (letters, digits, - and _, at most 39)",
            ));
        }
    }
    Ok(layer)
}

fn valid_mention(s: &str) -> bool {
    let Some(handle) = s.strip_prefix('@') else {
        return false;
    };
    !handle.is_empty()
        && handle.len() <= 39
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> ReviewSettings {
        ReviewSettings {
            auto_review: true,
            review_on_push: true,
            skip_drafts: true,
            ignored_paths: vec![],
            max_comments: 25,
            min_severity: Severity::Nit,
            depth: Depth::Standard,
            mention: "@agnus".into(),
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            context_tokens: DEFAULT_CONTEXT_TOKENS,
        }
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_repository_overrides_the_org_which_overrides_the_system() {
        let org = patch(
            SettingsLayer::default(),
            &body(json!({"maxComments": 10, "depth": "deep"})),
        )
        .unwrap();
        let repo = patch(
            SettingsLayer::default(),
            &body(json!({"maxComments": 3, "ignoredPaths": ["docs/**"]})),
        )
        .unwrap();
        let effective = base().with(&org).with(&repo);
        assert_eq!(effective.max_comments, 3);
        assert_eq!(effective.depth, Depth::Deep);
        assert!(effective.ignores("docs/a/b.md"));
        assert!(!effective.ignores("src/main.rs"));
        assert!(effective.auto_review, "unset fields follow the layer below");
        // null clears an override.
        let cleared = patch(repo, &body(json!({"maxComments": null}))).unwrap();
        assert_eq!(base().with(&org).with(&cleared).max_comments, 10);
    }

    #[test]
    fn bad_settings_are_refused_with_their_reason() {
        for bad in [
            json!({"maxComments": 0}),
            json!({"maxComments": 101}),
            json!({"maxComments": "5"}),
            json!({"minSeverity": "blocker"}),
            json!({"depth": "bottomless"}),
            json!({"mention": "agnus"}),
            json!({"mention": "@a b"}),
            json!({"ignoredPaths": ["/abs"]}),
            json!({"ignoredPaths": "docs/**"}),
            json!({"autoReview": "yes"}),
            json!({"reviewsPerHour": 0}),
            json!({"reviewsPerHour": 10_001}),
            json!({"reviewsPerHour": -1}),
            json!({"minConfidence": 1.01}),
            json!({"minConfidence": -0.1}),
            json!({"minConfidence": "0.7"}),
            json!({"minConfidence": true}),
            json!({"contextTokens": 8_001}),
            json!({"contextTokens": -1}),
            json!({"contextTokens": 10.5}),
            json!({"contextTokens": "1500"}),
            json!({"colour": "blue"}),
        ] {
            assert!(
                patch(SettingsLayer::default(), &body(bad.clone())).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn confidence_and_context_tokens_layer_like_the_other_settings() {
        let org = patch(
            SettingsLayer::default(),
            &body(json!({"minConfidence": 0.7, "contextTokens": 0})),
        )
        .unwrap();
        // The smallest normal double is a threshold of 0 (DynamoDB could not store it).
        let tiny = patch(
            SettingsLayer::default(),
            &body(json!({"minConfidence": 2.2250738585072014e-308})),
        )
        .unwrap();
        assert_eq!(tiny.min_confidence.map(Confidence::get), Some(0.0));
        assert_eq!(Confidence::new(0.7).map(Confidence::get), Some(0.7));
        let repo = patch(SettingsLayer::default(), &body(json!({"minConfidence": 0}))).unwrap();
        let system = base();
        assert_eq!(system.min_confidence.get(), 0.5, "the system default");
        assert_eq!(system.context_tokens, 1_500);
        let effective = base().with(&org).with(&repo);
        assert_eq!(effective.min_confidence.get(), 0.0, "the repository's override");
        assert_eq!(effective.context_tokens, 0, "0: no graph context");
        assert_eq!(base().with(&org).min_confidence.get(), 0.7);
        let cleared = patch(org, &body(json!({"minConfidence": null, "contextTokens": 8000.0}))).unwrap();
        assert_eq!(cleared.min_confidence, None);
        assert_eq!(cleared.context_tokens, Some(8_000));
        assert_eq!(
            patch(SettingsLayer::default(), &body(json!({"minConfidence": 2})))
                .unwrap_err()
                .code,
            "invalid_setting"
        );
    }

    #[test]
    fn model_confidences_are_clamped_and_nan_is_unscored() {
        assert_eq!(Confidence::clamped(1.7).get(), 1.0);
        assert_eq!(Confidence::clamped(-3.0).get(), 0.0);
        assert_eq!(Confidence::clamped(f64::NAN), Confidence::UNSCORED);
        assert_eq!(Confidence::clamped(f64::INFINITY).get(), 1.0);
        assert_eq!(Confidence::new(1.5), None);
        assert!(serde_json::from_value::<Confidence>(json!(1.5)).is_err());
        assert_eq!(serde_json::to_value(Confidence::clamped(0.25)).unwrap(), json!(0.25));
    }

    #[test]
    fn severities_order_and_depths_scale_the_budget() {
        assert!(Severity::Critical > Severity::Major && Severity::Minor > Severity::Nit);
        assert_eq!(Depth::Fast.diff_budget(100_000), 25_000);
        assert_eq!(Depth::Deep.diff_budget(100_000), 200_000);
        assert_eq!(
            "Thorough".parse::<Depth>().unwrap(),
            Depth::Deep,
            "the single-tenant install's word"
        );
    }
}
