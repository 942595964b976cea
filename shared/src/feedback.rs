//! The feedback loop's vocabulary: a posted comment's id, the two signals a developer
//! can give, and the link that carries them (`GET /api/feedback?o=&c=&s=&sig=`).
//! Signing lives in `crypto::feedback`; storage in `store::feedback`.

use std::fmt;
use std::str::FromStr;

use crate::domain::OrgId;

/// A feedback link answers 410 once its comment is this old.
pub const LINK_TTL_SECS: i64 = 90 * 86_400;
/// The console's "violations" view of a rule looks back this far.
pub const VIOLATION_WINDOW_SECS: i64 = 30 * 86_400;

/// A posted comment's id: `c` + the post time in milliseconds (13 digits, so ids sort
/// by time) + 16 random hex digits. The time is signed with the id, so a link's age is
/// known without a read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommentId(String);

impl CommentId {
    pub fn new(at_millis: i64) -> Self {
        // Uniqueness, not secrecy: the link's signature is what makes it unforgeable.
        let random = uuid::Uuid::new_v4();
        Self(format!(
            "c{:013}{}",
            at_millis.clamp(0, 9_999_999_999_999),
            hex::encode(&random.as_bytes()[..8])
        ))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// When the comment was posted (unix milliseconds).
    pub fn at_millis(&self) -> i64 {
        self.0[1..14].parse().unwrap_or(0)
    }
    /// Is a link to this comment past its 90 days at `now_secs`?
    pub fn link_expired(&self, now_secs: i64) -> bool {
        now_secs.saturating_sub(self.at_millis() / 1000) > LINK_TTL_SECS
    }
}

impl FromStr for CommentId {
    type Err = FeedbackParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Bytes, never `&s[..]`: a multi-byte character across an index would panic.
        let b = s.as_bytes();
        let ok = b.len() == 30
            && b[0] == b'c'
            && b[1..14].iter().all(u8::is_ascii_digit)
            && b[14..].iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FeedbackParseError("c", "not a comment id"))
        }
    }
}

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a developer said about a comment. The last signal wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    Helpful,
    NotHelpful,
}

impl Signal {
    pub const ALL: [Signal; 2] = [Signal::Helpful, Signal::NotHelpful];
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Helpful => "helpful",
            Signal::NotHelpful => "not_helpful",
        }
    }
    /// The other signal (for "change your answer").
    pub fn other(self) -> Self {
        match self {
            Signal::Helpful => Signal::NotHelpful,
            Signal::NotHelpful => Signal::Helpful,
        }
    }
}

impl FromStr for Signal {
    type Err = FeedbackParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "helpful" => Ok(Signal::Helpful),
            "not_helpful" => Ok(Signal::NotHelpful),
            _ => Err(FeedbackParseError("s", "helpful or not_helpful")),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A malformed link parameter: which one, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{0}`: {1}")]
pub struct FeedbackParseError(pub &'static str, pub &'static str);

/// A parsed (not yet verified) feedback link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackLink {
    pub org: OrgId,
    pub comment: CommentId,
    pub signal: Signal,
    pub sig: String,
}

impl FeedbackLink {
    /// Reads `o`, `c`, `s` and `sig` from a query.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, FeedbackParseError> {
        let org = get("o")
            .and_then(|o| o.parse().ok())
            .ok_or(FeedbackParseError("o", "not an organization id"))?;
        let comment = get("c").ok_or(FeedbackParseError("c", "missing"))?.parse()?;
        let signal = get("s").ok_or(FeedbackParseError("s", "missing"))?.parse()?;
        let sig = get("sig")
            .filter(|s| !s.is_empty() && s.len() <= 64)
            .ok_or(FeedbackParseError("sig", "missing or too long"))?;
        Ok(Self {
            org,
            comment,
            signal,
            sig,
        })
    }

    /// The URL of this link under the console's base URL.
    pub fn url(base: &str, org: &OrgId, comment: &CommentId, signal: Signal, sig: &str) -> String {
        format!(
            "{}/api/feedback?o={org}&c={comment}&s={signal}&sig={sig}",
            base.trim_end_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn comment_ids_carry_their_time_and_round_trip() {
        let id = CommentId::new(1_732_000_000_123);
        assert_eq!(id.at_millis(), 1_732_000_000_123);
        assert_eq!(id.as_str().parse::<CommentId>().unwrap(), id);
        assert!(!id.link_expired(1_732_000_000 + LINK_TTL_SECS - 1));
        assert!(id.link_expired(1_732_000_001 + LINK_TTL_SECS));
        assert!(CommentId::new(1) < CommentId::new(2), "ids sort by time");
        for bad in [
            "",
            "c123",
            "x17320000001230123456789abcdef",
            "c173200000012Z0123456789abcdef",
            "c1732000000123 0123456789abcde",
        ] {
            assert!(bad.parse::<CommentId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn links_parse_back_what_url_writes() {
        let org = OrgId::new();
        let comment = CommentId::new(5);
        let url = FeedbackLink::url("http://localhost:3000/", &org, &comment, Signal::NotHelpful, "abc_-");
        assert!(url.starts_with("http://localhost:3000/api/feedback?o="));
        let query = url.split_once('?').unwrap().1;
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).unwrap())
            .collect();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let link = FeedbackLink::parse(get).unwrap();
        assert_eq!(
            (link.org, link.comment, link.signal, link.sig.as_str()),
            (org, comment, Signal::NotHelpful, "abc_-")
        );
        assert_eq!(
            FeedbackLink::parse(|k| (k != "s").then(|| "x".to_owned()))
                .unwrap_err()
                .0,
            "o"
        );
        assert_eq!("maybe".parse::<Signal>().unwrap_err().0, "s");
    }

    #[test]
    fn a_multi_byte_character_in_a_comment_id_is_refused_not_a_panic() {
        // 30 bytes, `c` first, a 3-byte `€` across byte 14 (the end of the time digits).
        let across_time = format!("c{}€{}", "1".repeat(12), "a".repeat(14));
        assert_eq!(across_time.len(), 30);
        let in_hex = format!("c{}é{}", "1".repeat(13), "a".repeat(14));
        assert_eq!(in_hex.len(), 30);
        for bad in [across_time.as_str(), in_hex.as_str(), "c€€€€€€€€€ab"] {
            assert_eq!(bad.parse::<CommentId>().unwrap_err().0, "c", "{bad:?}");
        }
    }

    /// Comment ids of any text, and near-misses: 30 bytes with a multi-byte character
    /// somewhere (the shape that used to panic).
    fn comment_id_like() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "c[0-9]{0,14}\\PC{1,3}[0-9a-f]{0,16}",
            "\\PC{0,3}[0-9]{13}[0-9a-f]{16}",
        ]
    }

    proptest! {
        #[test]
        fn comment_id_parsing_never_panics_and_keeps_only_ascii(raw in comment_id_like()) {
            if let Ok(id) = raw.parse::<CommentId>() {
                prop_assert_eq!(id.as_str().len(), 30);
                prop_assert!(id.as_str().is_ascii());
                prop_assert!(id.at_millis() >= 0);
            }
        }

        #[test]
        fn link_parsing_never_panics_and_keeps_its_bounds(
            o in any::<String>(),
            c in comment_id_like(),
            s in prop_oneof![any::<String>(), Just("helpful".to_owned())],
            sig in any::<String>(),
            missing in 0usize..5,
        ) {
            let query = [("o", o), ("c", c), ("s", s), ("sig", sig)];
            let get = |k: &str| {
                query
                    .iter()
                    .enumerate()
                    .find(|(i, (name, _))| *name == k && *i != missing)
                    .map(|(_, (_, v))| v.clone())
            };
            if let Ok(link) = FeedbackLink::parse(get) {
                prop_assert!(!link.sig.is_empty() && link.sig.len() <= 64);
                prop_assert_eq!(link.comment.as_str().len(), 30);
            }
        }
    }
}
