//! Real answers of a small local model replayed through the engine's reading of a Chat
//! Completions answer (`llm::chat_answer`): llama.cpp's `llama-server` with
//! SmolLM2-135M-Instruct, recorded by scripts/llm-record.py from the engine's own request
//! (bench/examples/llm_request.rs) — as sent, cut to 48 tokens, and without the schema's
//! bounds. Each fixture says where it came from (`provenance`).

use serde_json::Value;

use crate::llm::chat_answer;
use crate::validate::RawAnswer;

fn recorded(name: &str) -> Value {
    let text = match name {
        "good" => include_str!("../../../tests/fixtures/llm/good.json"),
        "truncated" => include_str!("../../../tests/fixtures/llm/truncated.json"),
        "unbounded" => include_str!("../../../tests/fixtures/llm/unbounded.json"),
        _ => unreachable!("no such fixture"),
    };
    serde_json::from_str(text).expect("a recorded answer")
}

fn replay(record: &Value) -> (Result<RawAnswer, String>, u64, u64, crate::llm::Cut) {
    let bytes = serde_json::to_vec(&record["response"]).expect("json");
    chat_answer::<RawAnswer>(&bytes).expect("a chat completion")
}

#[test]
fn every_recorded_request_was_accepted_by_the_real_server() {
    for name in ["good", "truncated", "unbounded"] {
        let r = recorded(name);
        assert_eq!(r["status"], 200, "{name}");
        assert!(
            r["provenance"]["model"]
                .as_str()
                .unwrap()
                .contains("SmolLM2-135M-Instruct")
        );
        assert!(r["response"]["usage"]["prompt_tokens"].as_u64().unwrap() > 0, "{name}");
    }
}

#[test]
fn the_bounded_answer_reads_and_keeps_within_its_bounds() {
    let r = recorded("good");
    let (answer, prompt, completion, cut) = replay(&r);
    assert!(prompt > 0 && completion > 0);
    let answer = answer.expect("the bounded request gets a usable answer");
    // The server's grammar honoured the schema's bounds.
    let schema = &r["request"]["response_format"]["json_schema"]["schema"]["properties"];
    let max_comments = schema["comments"]["maxItems"].as_u64().unwrap() as usize;
    let max_body = schema["comments"]["items"]["properties"]["body"]["maxLength"]
        .as_u64()
        .unwrap() as usize;
    let max_summary = schema["summary"]["maxLength"].as_u64().unwrap() as usize;
    assert!(answer.comments.len() <= max_comments);
    assert!(answer.summary.chars().count() <= max_summary);
    assert!(answer.comments.iter().all(|c| c.body.chars().count() <= max_body));
    assert!(!cut.truncated || cut.salvaged, "{cut:?}");
}

#[test]
fn an_answer_cut_at_max_tokens_is_marked_and_salvaged_or_refused() {
    let r = recorded("truncated");
    assert_eq!(r["response"]["choices"][0]["finish_reason"], "length");
    let (answer, _, completion, cut) = replay(&r);
    assert_eq!(completion, 48);
    assert!(cut.truncated);
    match answer {
        Ok(a) => assert!(cut.salvaged && a.comments.len() <= 1, "{a:?}"),
        Err(why) => assert!(why.starts_with("cut short at max_tokens"), "{why}"),
    }
}

#[test]
fn the_unbounded_request_shows_what_the_bounds_prevent() {
    // What the engine sent before this issue (no bounds, a flat 4,096 tokens): the model
    // loops inside its summary until max_tokens, and nothing of it is usable.
    let r = recorded("unbounded");
    assert_eq!(r["response"]["choices"][0]["finish_reason"], "length");
    let (answer, _, completion, cut) = replay(&r);
    assert_eq!(completion, 4096);
    assert!(cut.truncated);
    assert!(answer.is_err(), "{answer:?}");
    // The same request bounded ended by itself ("stop") with every string closed.
    assert_eq!(recorded("good")["response"]["choices"][0]["finish_reason"], "stop");
}
