//! Human-readable rendering of frames and raw bytes for failure messages.

use ferrocache_resp::Frame;
use std::fmt::Write;

/// Bytes as a quoted string with `\r`, `\n`, `\0` and other non-printables escaped.
pub fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// A frame on one line, tagged by its RESP type: `+OK`, `-ERR x`, `:1`, `"bulk"`,
/// `(nil)`, `*[…]`, `%{k: v}`, `~[…]`, `>[…]`, `,1.5`, `#t`.
pub fn show(f: &Frame) -> String {
    let list = |tag: &str, v: &[Frame]| {
        format!(
            "{tag}[{}]",
            v.iter().map(show).collect::<Vec<_>>().join(", ")
        )
    };
    let map = |tag: &str, v: &[(Frame, Frame)]| {
        let items: Vec<String> = v
            .iter()
            .map(|(k, v)| format!("{}: {}", show(k), show(v)))
            .collect();
        format!("{tag}{{{}}}", items.join(", "))
    };
    match f {
        Frame::Simple(s) => format!("+{}", String::from_utf8_lossy(s)),
        Frame::Error(s) => format!("-{}", String::from_utf8_lossy(s)),
        Frame::Integer(i) => format!(":{i}"),
        Frame::Bulk(b) => escape(b),
        Frame::Null => "(nil)".into(),
        Frame::NullArray => "(nil array)".into(),
        Frame::Array(v) => list("*", v),
        Frame::Set(v) => list("~", v),
        Frame::Push(v) => list(">", v),
        Frame::Map(v) => map("%", v),
        Frame::Double(d) => format!(",{d}"),
        Frame::Boolean(b) => if *b { "#t" } else { "#f" }.into(),
        Frame::BigNumber(b) => format!("({}", String::from_utf8_lossy(b)),
        Frame::Verbatim(fmt, b) => format!("={}:{}", String::from_utf8_lossy(fmt), escape(b)),
        Frame::Attribute(a, inner) => format!("{} {}", map("|", a), show(inner)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_binary() {
        assert_eq!(escape(b"a\0\r\n\"\xff"), r#""a\x00\r\n\"\xff""#);
        let f = Frame::Array(vec![
            Frame::Integer(1),
            Frame::Null,
            Frame::Simple("OK".into()),
        ]);
        assert_eq!(show(&f), "*[:1, (nil), +OK]");
    }
}
