//! The sanitizer's tests: what renders stays readable, and (checked by a CommonMark + GFM
//! tables parser, pulldown-cmark) nothing it returns renders HTML, an image, a link, a
//! mention, a reference or an autolink.

use proptest::prelude::*;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::*;

/// Why `markdown` (as a renderer reads it) is not inert, if it is not.
fn live(markdown: &str) -> Option<String> {
    if markdown.contains("<!--") {
        return Some("an HTML comment".into());
    }
    if let Some(line) = markdown.lines().find(|l| l.trim_start().starts_with('/')) {
        return Some(format!("a quick action line {line:?}"));
    }
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES;
    // Adjacent text events are read together (a mention split by an escape is one).
    let mut text = String::new();
    let mut in_block = false;
    for event in Parser::new_ext(markdown, options) {
        if let Event::Text(t) = &event {
            text.push_str(t);
            continue;
        }
        if let Some(why) = live_text(&text, in_block) {
            return Some(why);
        }
        text.clear();
        match event {
            Event::Html(h) | Event::InlineHtml(h) => return Some(format!("HTML {h:?}")),
            Event::Start(Tag::Image { dest_url, .. }) => return Some(format!("an image of {dest_url}")),
            Event::Start(Tag::Link { dest_url, .. }) => return Some(format!("a link to {dest_url}")),
            Event::Start(Tag::HtmlBlock) => return Some("an HTML block".into()),
            Event::Start(Tag::CodeBlock(_)) => in_block = true,
            Event::End(TagEnd::CodeBlock) => in_block = false,
            Event::Code(t) => {
                if let Some(why) = live_text(&t, true) {
                    return Some(why);
                }
            }
            _ => {}
        }
    }
    live_text(&text, in_block)
}

/// A mention in rendered text or code; outside code also a reference or an autolink.
fn live_text(text: &str, code: bool) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for (k, &c) in chars.iter().enumerate() {
        let next = chars.get(k + 1).copied();
        let prev = k.checked_sub(1).map(|p| chars[p]);
        let handle = next.is_some_and(|n| n.is_alphanumeric() || "_{<[-.".contains(n));
        let mail = prev.is_some_and(|p| p.is_ascii_alphanumeric())
            && chars[k + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '.' || **c == '-')
                .collect::<String>()
                .trim_end_matches('.')
                .contains('.');
        if (c == '@' || c == '\u{FF20}') && handle && !mail {
            return Some(format!("a mention in {text:?}"));
        }
        if !code && matches!(c, '#' | '!' | '&') && next.is_some_and(|n| n.is_ascii_digit()) {
            return Some(format!("a reference in {text:?}"));
        }
    }
    if code {
        return None;
    }
    let lower = text.to_lowercase();
    if lower.contains("://") {
        return Some(format!("a URL in {text:?}"));
    }
    if lower
        .match_indices("www.")
        .any(|(i, _)| i == 0 || lower[..i].ends_with(|c: char| c.is_whitespace() || "*_~(".contains(c)))
    {
        return Some(format!("a www link in {text:?}"));
    }
    None
}

#[test]
fn the_reported_payloads_are_inert() {
    for evil in [
        "ping -@security-team and .@octocat and (@octocat) and @org/team",
        "@all please look",
        "@{557058:abc} and @<6e3f4c1a-0000-4000-8000-000000000000>",
        "![x](https://evil.example/b.png)",
        "<img src=\"https://evil.example/b.png\">",
        "[click](https://evil.example) and [ref]\n\n[ref]: https://evil.example",
        "<https://evil.example> and https://evil.example/x and www.evil.example",
        "hidden <!-- the rest --> text",
        "&#64;octocat and &commat;octocat",
        "Fixes #12 and !34 and &5",
        "/merge\n /approve",
        "\\`<img src=x>`",
        "x `\n`<img src=x>`",
        "| `a | <img src=x>` |\n| - | - |\n| `b` | c |",
        "- a\n\n  ```\n<img src=x>\n  ```",
        "```\n<img src=x>\n",
        "````\n```\n<img src=x>\n````\n<img src=y>",
        "```mermaid\ngraph TD; A-->B; click A \"https://evil.example\"\n```",
    ] {
        let out = markdown(evil);
        assert_eq!(live(&out), None, "{evil:?} -> {out:?}");
    }
}

#[test]
fn findings_stay_readable() {
    assert_eq!(
        markdown("Use `Vec<u8>` and `&str`; a < b && c. Ping @octocat, mail a@b.com"),
        "Use `Vec<u8>` and `&str`; a &lt; b &amp;&amp; c. Ping @\u{200B}octocat, mail a@b.com"
    );
    assert_eq!(
        markdown("Fix:\n```rust\nfn f() -> Option<&str> { None }\n```\nDone."),
        "Fix:\n\n\n```rust\nfn f() -> Option<&str> { None }\n```\n\nDone."
    );
    assert_eq!(markdown("<!-- agnus-review:x -->"), "&lt;!-- agnus-review:x --&gt;");
    assert_eq!(
        markdown("**bold** _it_ and a list:\n- one"),
        "**bold** _it_ and a list:\n- one"
    );
}

#[test]
fn paths_cannot_break_out_of_their_code_span() {
    let path = "docs/x` @octocat `<!--.md";
    let span = code(path);
    assert_eq!(span, "``docs/x` @\u{200B}octocat `<\u{200B}!--.md``");
    assert_eq!(live(&format!("- {span} line 3: note")), None);
    let mut code_text = String::new();
    for event in Parser::new(&span) {
        if let Event::Code(t) = event {
            code_text.push_str(&t);
        }
    }
    assert_eq!(code_text.replace('\u{200B}', ""), path, "the path reads as it is");
    assert_eq!(live(&code("a|b `<img src=x>` @x")), None);
    assert_eq!(code("src/lib.rs"), "`src/lib.rs`");
}

fn markdownish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("@".to_owned()),
            Just("<".to_owned()),
            Just(">".to_owned()),
            Just("`".to_owned()),
            Just("```".to_owned()),
            Just("~~~".to_owned()),
            Just("\\".to_owned()),
            Just("|".to_owned()),
            Just("!".to_owned()),
            Just("[".to_owned()),
            Just("](".to_owned()),
            Just("]:".to_owned()),
            Just(")".to_owned()),
            Just("\n".to_owned()),
            Just("\n\n".to_owned()),
            Just("  ".to_owned()),
            Just("- ".to_owned()),
            Just("> ".to_owned()),
            Just("&".to_owned()),
            Just("#1".to_owned()),
            Just("/".to_owned()),
            Just("img src=x".to_owned()),
            Just("https://evil.example/b.png".to_owned()),
            Just("www.evil.example".to_owned()),
            Just("octocat".to_owned()),
            Just("a@b.c".to_owned()),
            Just("<!--".to_owned()),
            "[a-z .:-]{0,4}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn nothing_sanitized_is_live(text in markdownish()) {
        let out = markdown(&text);
        prop_assert_eq!(live(&out), None, "{:?} -> {:?}", text, out);
        // As posted: after the severity, in a folded note, after the summary.
        let note = format!("**major**: {out}\n- {} line 3: **nit**: {out}\n", code(&text));
        prop_assert_eq!(live(&note), None, "{:?}", note);
    }

    #[test]
    fn paths_are_inert_code(path in markdownish()) {
        let line = format!("- {} line 1: x", code(&path));
        prop_assert_eq!(live(&line), None, "{:?}", line);
    }
}
