//! What can be kept of an answer cut short (docs/review-engine.md, "Small models"): a model
//! that stops at `max_tokens` (`finish_reason: "length"`) leaves JSON that does not parse.
//! Everything up to the last complete array element or closed object is still good: the
//! answer is cut there and its open brackets closed, so the summary and every complete
//! comment survive and only the comment in progress is lost. Text after a complete answer
//! (a model that went on talking) is cut the same way. Pure; never panics.

use serde::de::DeserializeOwned;

use crate::validate::parse_as;

/// The answer as `T` from the longest prefix of the JSON object in `text` that ends at a
/// complete value and reads as `T` once its open brackets are closed (the last
/// [`MAX_TRIES`] such prefixes tried, the longest first); `None` when none does.
pub fn salvage_as<T: DeserializeOwned>(text: &str) -> Option<T> {
    let (body, safe) = cuts(text)?;
    safe.iter().rev().find_map(|cut| parse_as::<T>(&cut.closed(body)).ok())
}

/// Prefixes tried by [`salvage_as`] (each is a parse of up to the whole answer).
const MAX_TRIES: usize = 16;
/// Brackets open at once, at most: an answer nested deeper is read up to there (the
/// review's answer nests 3 deep; this bounds the work per cut, whatever the model wrote).
const MAX_DEPTH: usize = 32;

/// The longest such prefix, closed (whether or not it reads as an answer).
pub fn close_truncated(text: &str) -> Option<String> {
    let (body, safe) = cuts(text)?;
    safe.back().map(|cut| cut.closed(body))
}

/// A place to cut: the byte offset after a complete value and the brackets open there.
struct Cut {
    end: usize,
    open: Vec<u8>,
}

impl Cut {
    fn closed(&self, body: &str) -> String {
        let mut out = String::with_capacity(self.end + self.open.len());
        out.push_str(&body[..self.end]);
        for b in self.open.iter().rev() {
            out.push(if *b == b'{' { '}' } else { ']' });
        }
        out
    }
}

/// The object in `text` and the last [`MAX_TRIES`] places it can be cut at a complete value
/// (after a closed object or array, or an opened array: an empty array is complete),
/// shortest first. One pass; the work per place is bounded by [`MAX_DEPTH`].
fn cuts(text: &str) -> Option<(&str, std::collections::VecDeque<Cut>)> {
    let start = text.find('{')?;
    let body = &text[start..];
    let mut stack: Vec<u8> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut safe = std::collections::VecDeque::with_capacity(MAX_TRIES + 1);
    let mut keep = |end: usize, stack: &[u8]| {
        if safe.len() == MAX_TRIES {
            safe.pop_front();
        }
        safe.push_back(Cut {
            end,
            open: stack.to_vec(),
        });
    };
    for (i, b) in body.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' if stack.len() == MAX_DEPTH => break,
            b'{' => stack.push(b'{'),
            b'[' => {
                stack.push(b'[');
                keep(i + 1, &stack);
            }
            b'}' | b']' => {
                let open = if b == b'}' { b'{' } else { b'[' };
                if stack.pop() != Some(open) {
                    break;
                }
                keep(i + 1, &stack);
                if stack.is_empty() {
                    break;
                }
            }
            _ => {}
        }
    }
    Some((body, safe))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::RawAnswer;

    const FULL: &str = r#"{"summary":"Adds a cache.","walkthrough":[{"path":"a.py","text":"adds get"}],"comments":[{"path":"a.py","line":3,"body":"Check for None [here].","severity":"minor","ruleId":null,"confidence":0.8},{"path":"a.py","line":9,"body":"Unused \"x\" {var}","severity":"nit","ruleId":null,"confidence":0.6}]}"#;

    fn answer(text: &str) -> Option<RawAnswer> {
        salvage_as(text)
    }

    #[test]
    fn a_complete_answer_is_kept_whole_and_trailing_talk_is_cut() {
        assert_eq!(close_truncated(FULL).as_deref(), Some(FULL));
        let talk = format!("```json\n{FULL}\n``` and then the model kept going {{ [");
        assert_eq!(answer(&talk).expect("parses").comments.len(), 2);
    }

    #[test]
    fn every_cut_keeps_the_complete_comments_and_never_panics() {
        let comments_at = FULL.find("\"comments\"").expect("has comments");
        let first_end = FULL.find("0.8}").expect("first comment") + 4;
        for cut in 0..FULL.len() {
            let Some(prefix) = FULL.get(..cut) else { continue };
            let salvaged = answer(prefix);
            if cut > first_end {
                assert!(
                    salvaged.as_ref().is_some_and(|a| !a.comments.is_empty()),
                    "cut at {cut}"
                );
            }
            if cut > comments_at + 12 {
                let a = salvaged.expect("the summary and walkthrough survive");
                assert_eq!(a.summary, "Adds a cache.");
                assert_eq!(a.walkthrough.len(), 1);
                assert!(a.comments.len() <= 2);
            }
        }
    }

    #[test]
    fn nothing_complete_is_nothing() {
        assert_eq!(close_truncated("no json here"), None);
        assert_eq!(close_truncated(r#"{"summary":"cut in the mi"#), None);
        assert!(
            answer(r#"{"comments":[{"path":"a.py""#).is_none(),
            "no summary: unusable"
        );
        // Mismatched brackets stop the scan; what was complete before stays.
        assert_eq!(close_truncated(r#"{"a":[1]]"#).as_deref(), Some(r#"{"a":[1]}"#));
        // A cut inside an element that would not read as a comment falls back to the last
        // cut that does.
        let nested = r#"{"summary":"s","comments":[{"path":"a.py","line":1,"body":"b"},{"path":"b.py","x":["#;
        assert_eq!(answer(nested).expect("salvaged").comments.len(), 1);
    }

    #[test]
    fn hostile_nesting_and_brackets_cost_one_bounded_pass() {
        // The answer cap's worth of brackets: deeper than MAX_DEPTH stops the scan, a
        // million closed arrays keep only the last few cuts.
        let head = "{\"summary\":\"s\",\"walkthrough\":";
        let deep = format!("{head}{}", "[".repeat(4 << 20));
        let closed = close_truncated(&deep).expect("cut within the depth bound");
        // The object and 31 arrays open: 31 `[` kept, 31 `]` and the `}` added.
        assert_eq!(closed.len(), head.len() + 2 * (MAX_DEPTH - 1) + 1);
        assert!(answer(&deep).is_none(), "nested arrays are no walkthrough lines");
        let flat = format!("{{\"summary\":\"s\",\"x\":[{}", "[],".repeat(1 << 20));
        assert!(close_truncated(&flat).is_some());
        assert_eq!(answer(&flat).expect("read").summary, "s");
    }
}
