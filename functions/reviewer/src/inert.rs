//! Inert markdown: the one sanitizer for everything the review engine posts that the model
//! or the repository wrote (the summary, comment texts, rule names, file paths). On GitHub,
//! GitLab, Azure DevOps and Bitbucket alike, what it returns renders the words and the code
//! but does nothing else:
//!
//! - **no mention or reference** of anyone: a zero-width space follows every `@` (also
//!   `＠`), except in an e-mail address (`a@b.c`), so `@user`, `@org/team`, `.@x`, `-@x`,
//!   GitLab's `@all`, Bitbucket's `@{…}` and Azure DevOps' `@<GUID>` stay text; the same
//!   after `#` or `!` or `&` before a digit (issue, merge-request and epic references);
//! - **no HTML**: `<`, `>` and `&` are written as entities outside code (so no tag, no
//!   comment that hides the rest, no fake review marker, no entity spelling an `@`);
//! - **no images and no links**: `![`, `](` and `]:` (inline images and links, reference
//!   definitions) get a zero-width space, `scheme://` and `www.` too (no autolink);
//! - **no quick actions**: a line starting with `/` (GitLab runs `/merge`, `/approve` …
//!   in a note) starts with a zero-width space;
//! - **code stays code**: inline code spans (on lines without `|`, which a table could
//!   split) and fenced code blocks keep `<`, `>` and `&` as they are; a fenced block is
//!   re-fenced on its own lines with a fence longer than any backtick run inside it and a
//!   language name from a fixed list (no `suggestion`, `mermaid`, … renderers); every
//!   backtick that is not part of a code span is escaped, so no span can form across lines.
//!
//! [`code`] puts a path in a code span that its backticks cannot break.

/// What breaks a mention, reference, link or autolink without showing.
const ZW: char = '\u{200B}';

/// Info strings kept on a fenced code block (syntax highlighting only; everything else,
/// such as GitHub's `suggestion` or `mermaid`, is dropped).
const LANGUAGES: &[&str] = &[
    "bash",
    "c",
    "c++",
    "cpp",
    "cs",
    "csharp",
    "css",
    "diff",
    "dockerfile",
    "go",
    "graphql",
    "haskell",
    "hcl",
    "html",
    "ini",
    "java",
    "javascript",
    "js",
    "json",
    "jsx",
    "kotlin",
    "kt",
    "lua",
    "makefile",
    "markdown",
    "md",
    "php",
    "powershell",
    "proto",
    "py",
    "python",
    "rb",
    "ruby",
    "rust",
    "rs",
    "scala",
    "scss",
    "sh",
    "shell",
    "sql",
    "swift",
    "terraform",
    "text",
    "toml",
    "ts",
    "tsx",
    "txt",
    "typescript",
    "xml",
    "yaml",
    "yml",
    "zig",
];

fn is_at(c: char) -> bool {
    matches!(c, '@' | '\u{FF20}' | '\u{FE6B}')
}

/// Is the `@` at `k` part of an e-mail address (`a@b.c`): a letter or digit before it, a
/// dotted domain after it?
fn email_at(chars: &[char], k: usize) -> bool {
    if chars[k] != '@' || k == 0 || !chars[k - 1].is_ascii_alphanumeric() {
        return false;
    }
    let domain: String = chars[k + 1..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '-' || **c == '.')
        .collect();
    let domain = domain.trim_end_matches('.');
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
}

/// An `@` that could start a mention: anything but whitespace follows it.
fn live_at(chars: &[char], k: usize) -> bool {
    is_at(chars[k]) && chars.get(k + 1).is_some_and(|n| !n.is_whitespace() && *n != ZW) && !email_at(chars, k)
}

/// Code (inside a span or block): as it is, with mentions and HTML comment openers broken.
fn push_code(out: &mut String, chars: &[char]) {
    for (k, &c) in chars.iter().enumerate() {
        out.push(c);
        if live_at(chars, k) || (c == '<' && chars.get(k + 1) == Some(&'!')) {
            out.push(ZW);
        }
    }
}

/// One character of text outside code, made inert; returns how many it consumed.
fn push_text(out: &mut String, chars: &[char], k: usize) -> usize {
    let c = chars[k];
    let next = chars.get(k + 1).copied();
    let digit_next = next.is_some_and(|n| n.is_ascii_digit());
    match c {
        '&' => {
            out.push_str("&amp;");
            if digit_next {
                out.push(ZW);
            }
        }
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '`' => out.push_str("\\`"),
        '#' | '!' if digit_next || (c == '!' && next == Some('[')) => {
            out.push(c);
            out.push(ZW);
        }
        ']' if matches!(next, Some('(' | ':' | '[')) => {
            out.push(c);
            out.push(ZW);
        }
        ':' if next == Some('/') && chars.get(k + 2) == Some(&'/') => {
            out.push(c);
            out.push(ZW);
        }
        'w' | 'W'
            if (k == 0 || !(chars[k - 1].is_alphanumeric() || chars[k - 1] == '@'))
                && chars.len() >= k + 4
                && chars[k..k + 4].iter().collect::<String>().eq_ignore_ascii_case("www.") =>
        {
            out.extend(&chars[k..k + 3]);
            out.push(ZW);
            out.push('.');
            return 4;
        }
        c => {
            out.push(c);
            if live_at(chars, k) {
                out.push(ZW);
            }
        }
    }
    1
}

/// The length of the backtick run at `k`.
fn run_at(chars: &[char], k: usize) -> usize {
    chars[k..].iter().take_while(|c| **c == '`').count()
}

/// Where the code span opened by a run of `len` backticks ending before `from` closes:
/// the next run of exactly `len` backticks.
fn closer(chars: &[char], from: usize, len: usize) -> Option<usize> {
    let mut m = from;
    while m < chars.len() {
        if chars[m] == '`' {
            let run = run_at(chars, m);
            if run == len {
                return Some(m);
            }
            m += run;
        } else {
            m += 1;
        }
    }
    None
}

/// One line outside a fenced block.
fn push_line(out: &mut String, line: &str) {
    let chars: Vec<char> = line.chars().collect();
    // In a table row a `|` splits cells before code spans are found: no spans there.
    let spans = !line.contains('|');
    let lead = chars.iter().take_while(|c| **c == ' ' || **c == '\t').count();
    out.extend(&chars[..lead]);
    if chars.get(lead) == Some(&'/') {
        out.push(ZW);
    }
    let mut k = lead;
    while k < chars.len() {
        let c = chars[k];
        if c == '\\' && chars.get(k + 1).is_some_and(|n| n.is_ascii_punctuation()) {
            // An escaped character renders as itself: as inert as any other (a `\@x`
            // is still a mention once rendered).
            match chars[k + 1] {
                '<' | '>' | '&' => {
                    push_text(out, &chars, k + 1);
                }
                escaped @ ('`' | '\\') => {
                    out.push('\\');
                    out.push(escaped);
                }
                _ => {
                    out.push('\\');
                    push_text(out, &chars, k + 1);
                }
            }
            k += 2;
            continue;
        }
        if c == '`' {
            let len = run_at(&chars, k);
            if let Some(end) = closer(&chars, k + len, len).filter(|_| spans) {
                out.extend(&chars[k..k + len]);
                push_code(out, &chars[k + len..end]);
                out.extend(&chars[end..end + len]);
                k = end + len;
            } else {
                for _ in 0..len {
                    out.push_str("\\`");
                }
                k += len;
            }
            continue;
        }
        k += push_text(out, &chars, k);
    }
}

/// A fence opener (up to 3 spaces, then 3 or more backticks or tildes): its character,
/// length and info string.
fn fence_open(line: &str) -> Option<(char, usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = rest.chars().take_while(|x| *x == c).count();
    let info = &rest[len..];
    (indent <= 3 && len >= 3 && !(c == '`' && info.contains('`'))).then_some((c, len, info))
}

fn fence_close(line: &str, c: char, len: usize) -> bool {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let run = rest.chars().take_while(|x| *x == c).count();
    indent <= 3 && run >= len && rest[run..].trim().is_empty()
}

/// A fenced block, re-fenced on its own: a blank line first (no list, quote or paragraph
/// goes on), a fence no line inside can close, a known language or none.
fn push_block(out: &mut String, info: &str, body: &[&str]) {
    let longest = body
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let language = info.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    let language = if LANGUAGES.contains(&language.as_str()) {
        language
    } else {
        String::new()
    };
    out.push_str(&format!("\n\n{fence}{language}\n"));
    for line in body {
        let chars: Vec<char> = line.chars().collect();
        let lead = chars.iter().take_while(|c| c.is_whitespace()).count();
        out.extend(&chars[..lead]);
        if chars.get(lead) == Some(&'/') {
            out.push(ZW);
        }
        push_code(out, &chars[lead..]);
        out.push('\n');
    }
    out.push_str(&fence);
    out.push_str("\n\n");
}

/// Model or repository text as inert markdown (see the module's documentation).
pub fn markdown(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8 + 16);
    let mut i = 0;
    while i < lines.len() {
        if let Some((c, len, info)) = fence_open(lines[i]) {
            let body: Vec<&str> = lines[i + 1..]
                .iter()
                .take_while(|l| !fence_close(l, c, len))
                .copied()
                .collect();
            push_block(&mut out, info, &body);
            i += body.len() + 2;
            continue;
        }
        push_line(&mut out, lines[i]);
        out.push('\n');
        i += 1;
    }
    out.trim_end().to_owned()
}

/// Model text as inert markdown on one line (a list item's text): control characters
/// and line breaks become spaces, whitespace runs one space, and a leading fence or
/// list/heading/quote character is escaped so the line stays a line of text.
pub fn line(text: &str) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    let escaped = match flat.chars().next() {
        Some('`' | '~' | '#' | '>' | '-' | '+' | '*' | '=' | '|') => format!("\\{flat}"),
        _ => flat,
    };
    markdown(&escaped).replace('\n', " ")
}

/// A path (or any one-line name) as inert inline code: a code span whose fence is longer
/// than any backtick run inside; a name with `|` (which a table would split) as escaped
/// text instead.
pub fn code(text: &str) -> String {
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one_line.trim().is_empty() {
        return String::new();
    }
    let chars: Vec<char> = one_line.chars().collect();
    let mut out = String::with_capacity(one_line.len() + 8);
    if one_line.contains('|') {
        // Escaped text, trimmed (leading spaces could make it an indented code block).
        let chars: Vec<char> = one_line.trim().chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            if c.is_ascii_punctuation() && !matches!(c, '<' | '>' | '&' | '`' | '@') {
                out.push('\\');
            }
            k += push_text(&mut out, &chars, k);
        }
        return out;
    }
    let longest = one_line.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if one_line.starts_with(['`', ' ']) || one_line.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    out.push_str(&fence);
    out.push_str(pad);
    push_code(&mut out, &chars);
    out.push_str(pad);
    out.push_str(&fence);
    out
}

#[cfg(test)]
#[path = "inert_tests.rs"]
mod tests;
