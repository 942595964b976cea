//! The `AmazonSQS.SendMessage` request body (awsJson1_0), written in one pass.
//!
//! Same bytes as the SDK's serializer (`ser_send_message_input`: `QueueUrl`, `MessageBody`,
//! `MessageAttributes` in that order, each attribute `StringValue` then `DataType`, no
//! whitespace) and the same escaping as its `aws_smithy_json` writer, which is also
//! serde_json's: `"` `\` and the C0 controls, `\b \f \n \r \t` short, the rest `\u00xx`
//! (lower-case hex); everything else, DEL and non-ASCII included, verbatim. The difference is
//! speed: the SDK escapes into a fresh `String` byte by byte and then copies it; this copies
//! runs of plain bytes straight into the one output buffer (serde_json's table scan).

/// Per byte: 0 = copied as is; otherwise the character after the backslash (`u` = `\u00xx`).
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x0C] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes per step of the fast paths: a fixed-size chunk checked without early exit
/// compiles to a few vector compares, so plain text costs a fraction of a byte-by-byte loop.
const CHUNK: usize = 16;

/// Appends `text` JSON-escaped (without the quotes) to `out`.
pub fn escape_into(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut copied = 0;
    for (n, chunk) in bytes.chunks(CHUNK).enumerate() {
        let plain = chunk
            .iter()
            .fold(true, |plain, &b| plain & (b >= 0x20) & (b != b'"') & (b != b'\\'));
        if plain {
            continue;
        }
        for (k, &b) in chunk.iter().enumerate() {
            let escape = ESCAPE[b as usize];
            if escape == 0 {
                continue;
            }
            let i = n * CHUNK + k;
            out.extend_from_slice(&bytes[copied..i]);
            if escape == b'u' {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0x0F) as usize]);
            } else {
                out.extend_from_slice(&[b'\\', escape]);
            }
            copied = i + 1;
        }
    }
    out.extend_from_slice(&bytes[copied..]);
}

/// Whether SQS accepts `text` as a message body or attribute value: #x9 #xA #xD
/// #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF.
///
/// Checked on the bytes of the (valid UTF-8) text rather than char by char: on the intake's
/// hot path this pass runs over every inline payload. A `&str` holds no surrogates, so the
/// only characters refused are the C0 controls other than tab, LF and CR (single bytes
/// below 0x20) and U+FFFE / U+FFFF, whose encodings are exactly `EF BF BE` / `EF BF BF`
/// (0xEF only ever starts a three-byte sequence, so those bytes mean those characters).
/// Chunks with neither kind of byte are skipped whole.
pub fn sqs_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.chunks(CHUNK).enumerate().all(|(n, chunk)| {
        let suspect = chunk.iter().fold(false, |s, &b| s | (b < 0x20) | (b == 0xEF));
        !suspect
            || chunk.iter().enumerate().all(|(k, &b)| {
                let i = n * CHUNK + k;
                match b {
                    0..=0x1F => matches!(b, b'\t' | b'\n' | b'\r'),
                    0xEF => !(bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF))),
                    _ => true,
                }
            })
    })
}

/// One message: its queue, body and `String` message attributes, **in the order given**
/// (the SDK takes a `HashMap`, whose order changes per call; a slice makes the request,
/// and so its signature, a function of the message alone).
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub queue_url: &'a str,
    pub body: &'a str,
    pub attributes: &'a [(&'a str, &'a str)],
}

impl Message<'_> {
    /// The JSON request body.
    pub fn to_json(&self) -> Vec<u8> {
        // Escaping grows the text only for the rare escaped bytes; room for a few.
        let attributes: usize = self.attributes.iter().map(|(k, v)| k.len() + v.len() + 48).sum();
        let mut out =
            Vec::with_capacity(self.body.len() + self.body.len() / 32 + self.queue_url.len() + attributes + 64);
        out.extend_from_slice(b"{\"QueueUrl\":\"");
        escape_into(&mut out, self.queue_url);
        out.extend_from_slice(b"\",\"MessageBody\":\"");
        escape_into(&mut out, self.body);
        out.extend_from_slice(b"\",\"MessageAttributes\":{");
        for (i, (name, value)) in self.attributes.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            escape_into(&mut out, name);
            out.extend_from_slice(b"\":{\"StringValue\":\"");
            escape_into(&mut out, value);
            out.extend_from_slice(b"\",\"DataType\":\"String\"}");
        }
        out.extend_from_slice(b"}}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        escape_into(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_like_serde_json() {
        let all_bytes: String = (0u8..0x80).map(char::from).collect();
        for text in [
            all_bytes.as_str(),
            "plain",
            "",
            "\"quoted\" \\back\\slash\\",
            "</script> 🚀 \u{2028}\u{2029} ünïcödé \u{7f}",
        ] {
            let json = serde_json::to_string(text).unwrap();
            assert_eq!(escaped(text), json[1..json.len() - 1], "{text:?}");
        }
    }

    /// The definition SQS documents, character by character.
    fn sqs_safe_by_char(text: &str) -> bool {
        text.chars().all(|c| {
            matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
        })
    }

    fn mixed_text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                prop::char::range('\u{0}', '\u{7f}'),
                prop::char::range('\u{fff0}', '\u{ffff}'),
                prop::char::range('\u{e000}', '\u{f000}'),
                Just('"'),
                Just('\\'),
                any::<char>(),
            ],
            0..80,
        )
        .prop_map(|cs| cs.into_iter().collect::<String>())
    }

    #[test]
    fn refused_characters_are_found_across_chunk_boundaries() {
        for pad in 0..40 {
            let padding = "a".repeat(pad);
            assert!(!sqs_safe(&format!("{padding}\u{FFFF}")), "{pad}");
            assert!(!sqs_safe(&format!("{padding}\u{FFFE}b")), "{pad}");
            assert!(!sqs_safe(&format!("{padding}\u{1}")), "{pad}");
            assert!(sqs_safe(&format!("{padding}\u{FFFD}\u{EFFF}\t\n")), "{pad}");
            let text = format!("{padding}\"\\\n{padding}");
            assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap().trim_matches('"'));
        }
    }

    proptest! {
        #[test]
        fn byte_scan_agrees_with_the_character_definition(text in mixed_text()) {
            prop_assert_eq!(sqs_safe(&text), sqs_safe_by_char(&text));
        }

        #[test]
        fn chunked_escape_agrees_with_serde_json(text in mixed_text()) {
            let json = serde_json::to_string(&text).unwrap();
            prop_assert_eq!(escaped(&text), &json[1..json.len() - 1]);
        }
    }

    #[test]
    fn body_is_valid_json_with_the_attributes_in_order() {
        let message = Message {
            queue_url: "https://sqs.us-east-1.amazonaws.com/1/q",
            body: "{\"a\":\"\\n\"}\n",
            attributes: &[("z", "1"), ("a", "\"2\"")],
        };
        let json = message.to_json();
        let text = std::str::from_utf8(&json).unwrap();
        assert!(text.find("\"z\"").unwrap() < text.find("\"a\":{").unwrap());
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["MessageBody"], message.body);
        assert_eq!(value["MessageAttributes"]["a"]["StringValue"], "\"2\"");
        assert_eq!(value["MessageAttributes"]["z"]["DataType"], "String");
    }
}
