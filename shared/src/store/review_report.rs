//! The review report on a job record (`review_report`): `dropped` (a map of counts by
//! reason), `walkthrough` (a list of `{path, text}` maps) and `llm_answer` (how the model's
//! answer came, JSON), written when the job finishes, read back in the review history.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{Item, get_opt_n, n, s};
use crate::review_report::{AnswerReport, Dropped, WalkthroughLine};

/// The attributes a finished job gains: (attribute, placeholder, value).
pub(super) fn report_values(
    dropped: Option<&Dropped>,
    walkthrough: Option<&[WalkthroughLine]>,
    llm_answer: Option<&AnswerReport>,
) -> Vec<(&'static str, &'static str, AttributeValue)> {
    let mut out = Vec::new();
    if let Some(json) = llm_answer.and_then(|a| serde_json::to_string(a).ok()) {
        out.push(("llm_answer", ":llm_answer", s(&json)));
    }
    if let Some(d) = dropped {
        let counts = d
            .counts()
            .iter()
            .map(|(name, count)| ((*name).to_owned(), n(*count)))
            .collect();
        out.push(("dropped", ":dropped", AttributeValue::M(counts)));
    }
    if let Some(lines) = walkthrough {
        let list = lines
            .iter()
            .map(|l| {
                AttributeValue::M(HashMap::from([
                    ("path".to_owned(), s(&l.path)),
                    ("text".to_owned(), s(&l.text)),
                ]))
            })
            .collect();
        out.push(("walkthrough", ":walkthrough", AttributeValue::L(list)));
    }
    out
}

pub(super) fn llm_answer_of(item: &Item) -> Option<AnswerReport> {
    serde_json::from_str(item.get("llm_answer")?.as_s().ok()?).ok()
}

pub(super) fn dropped_of(item: &Item) -> Option<Dropped> {
    let counts = item.get("dropped")?.as_m().ok()?;
    Some(Dropped::from_counts(
        counts
            .keys()
            .filter_map(|k| Some((k.as_str(), get_opt_n::<u32>(counts, k)?))),
    ))
}

pub(super) fn walkthrough_of(item: &Item) -> Option<Vec<WalkthroughLine>> {
    let list = item.get("walkthrough")?.as_l().ok()?;
    Some(
        list.iter()
            .filter_map(|v| {
                let m = v.as_m().ok()?;
                Some(WalkthroughLine {
                    path: m.get("path")?.as_s().ok()?.clone(),
                    text: m.get("text")?.as_s().ok()?.clone(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_reads_back_from_its_attributes() {
        let dropped = Dropped {
            low_confidence: 2,
            over_cap: 1,
            ..Dropped::default()
        };
        let walkthrough = vec![WalkthroughLine {
            path: "src/a.rs".into(),
            text: "Checks the input.".into(),
        }];
        let llm_answer = AnswerReport {
            truncated: true,
            salvaged: Some(2),
            retried_smaller: false,
        };
        let item: Item = report_values(Some(&dropped), Some(&walkthrough), Some(&llm_answer))
            .into_iter()
            .map(|(attr, _, v)| (attr.to_owned(), v))
            .collect();
        assert_eq!(dropped_of(&item), Some(dropped));
        assert_eq!(walkthrough_of(&item), Some(walkthrough));
        assert_eq!(llm_answer_of(&item), Some(llm_answer));
        assert_eq!(llm_answer_of(&Item::new()), None);
        assert_eq!(dropped_of(&Item::new()), None, "a job finished before the report");
    }
}
