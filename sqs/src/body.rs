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

/// Appends `text` JSON-escaped (without the quotes) to `out`.
pub fn escape_into(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPE[b as usize];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if escape == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0x0F) as usize]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
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
