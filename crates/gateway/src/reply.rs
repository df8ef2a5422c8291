//! An incremental scanner for the replies a backend sends: it finds where each frame
//! ends without allocating, and says just enough about it (push? error? null? the
//! first element's text?) for the session to match replies to requests and to tell
//! pub/sub messages from replies.

use ferrocache_resp::ProtocolError;

/// Deeper nesting than this is treated as a protocol error (no stack overflow).
const MAX_DEPTH: usize = 64;

/// What the session needs to know about one complete frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// Length of the whole frame in bytes.
    pub len: usize,
    pub kind: Kind,
    /// For an array or push whose first element is a simple or bulk string: where
    /// that text lies within the frame.
    pub head: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `>`: a RESP3 push (pub/sub message or confirmation, invalidation, maintenance).
    Push,
    /// `*` with this many elements.
    Array(usize),
    /// `-` or `!`.
    Error,
    /// `$-1`, `*-1` or `_`: what blocking commands answer on timeout.
    Null,
    /// `:` with its value (CLIENT ID's answer).
    Integer(i64),
    /// Anything else (simple strings, bulks, maps, sets, doubles …).
    Other,
}

impl Scanned {
    /// The first element's text, for arrays and pushes that start with a string.
    pub fn head<'a>(&self, frame: &'a [u8]) -> Option<&'a [u8]> {
        self.head.map(|(s, e)| &frame[s..e])
    }
}

/// Scans one frame at the start of `buf`: `Ok(None)` when it is not complete yet.
pub fn scan(buf: &[u8]) -> Result<Option<Scanned>, ProtocolError> {
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    let Some((line_end, after)) = line(buf, 1) else {
        return Ok(None);
    };
    let text = &buf[1..line_end];
    let (kind, head) = match tag {
        b'-' => (Kind::Error, None),
        b'!' => (Kind::Error, None),
        b'_' => (Kind::Null, None),
        b':' => (Kind::Integer(int(text)?), None),
        b'$' if text == b"-1" => (Kind::Null, None),
        b'*' if text == b"-1" => (Kind::Null, None),
        b'*' | b'>' => {
            let n = count(text)?;
            let head = first_text(buf, after, n);
            let kind = if tag == b'>' {
                Kind::Push
            } else {
                Kind::Array(n)
            };
            (kind, head)
        }
        _ => (Kind::Other, None),
    };
    Ok(skip(buf, 0, 0)?.map(|len| Scanned { len, kind, head }))
}

/// The text of the first element of an aggregate whose header ends at `pos`.
fn first_text(buf: &[u8], pos: usize, n: usize) -> Option<(usize, usize)> {
    if n == 0 {
        return None;
    }
    let tag = *buf.get(pos)?;
    let (end, after) = line(buf, pos + 1)?;
    match tag {
        b'+' => Some((pos + 1, end)),
        b'$' => {
            let len: usize = std::str::from_utf8(&buf[pos + 1..end]).ok()?.parse().ok()?;
            (after + len <= buf.len()).then_some((after, after + len))
        }
        _ => None,
    }
}

/// Finds the CR of the line starting at `from`: `(cr, position after CRLF)`.
fn line(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let cr = from + memchr::memchr(b'\r', buf.get(from..)?)?;
    (cr + 1 < buf.len()).then_some((cr, cr + 2))
}

fn int(text: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(ProtocolError::Invalid("invalid integer in reply"))
}

fn count(text: &[u8]) -> Result<usize, ProtocolError> {
    let n = int(text)?;
    usize::try_from(n).map_err(|_| ProtocolError::InvalidMultibulkLength)
}

/// Skips one frame starting at `pos`; returns the position after it.
fn skip(buf: &[u8], pos: usize, depth: usize) -> Result<Option<usize>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(ProtocolError::Invalid("reply nesting too deep"));
    }
    let Some(&tag) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((end, mut after)) = line(buf, pos + 1) else {
        return Ok(None);
    };
    let text = &buf[pos + 1..end];
    match tag {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Ok(Some(after)),
        b'$' | b'!' | b'=' => {
            if text == b"-1" {
                return Ok(Some(after));
            }
            let len = count(text)?;
            let total = after + len + 2;
            Ok((total <= buf.len()).then_some(total))
        }
        b'*' | b'>' | b'~' | b'%' | b'|' => {
            if text == b"-1" {
                return Ok(Some(after));
            }
            let n = count(text)?;
            let items = if matches!(tag, b'%' | b'|') { n * 2 } else { n };
            for _ in 0..items {
                match skip(buf, after, depth + 1)? {
                    Some(p) => after = p,
                    None => return Ok(None),
                }
            }
            if tag == b'|' {
                // An attribute annotates the frame that follows it.
                return skip(buf, after, depth + 1);
            }
            Ok(Some(after))
        }
        _ => Err(ProtocolError::Invalid("unknown reply type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_frames_and_partials() {
        let cases: &[(&[u8], Kind)] = &[
            (b"+OK\r\n", Kind::Other),
            (b"-ERR x\r\n", Kind::Error),
            (b":42\r\n", Kind::Integer(42)),
            (b"$3\r\nabc\r\n", Kind::Other),
            (b"$-1\r\n", Kind::Null),
            (b"*-1\r\n", Kind::Null),
            (b"_\r\n", Kind::Null),
            (b"%1\r\n+a\r\n:1\r\n", Kind::Other),
            (b"|1\r\n+k\r\n+v\r\n+OK\r\n", Kind::Other),
        ];
        for (bytes, kind) in cases {
            let s = scan(bytes).unwrap().unwrap();
            assert_eq!((s.len, s.kind), (bytes.len(), *kind), "{bytes:?}");
            for cut in 0..bytes.len() {
                assert_eq!(scan(&bytes[..cut]).unwrap(), None, "{bytes:?} cut {cut}");
            }
        }
    }

    #[test]
    fn heads_of_pubsub_frames() {
        let msg = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n";
        let s = scan(msg).unwrap().unwrap();
        assert_eq!(s.kind, Kind::Array(3));
        assert_eq!(s.head(msg), Some(&b"message"[..]));
        let push = b">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n";
        let s = scan(push).unwrap().unwrap();
        assert_eq!(
            (s.kind, s.head(push)),
            (Kind::Push, Some(&b"subscribe"[..]))
        );
        assert_eq!(s.len, push.len());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(scan(b"?x\r\n").is_err());
        assert!(scan(b"*x\r\n").is_err());
        assert!(scan(b"$-5\r\n").is_err());
        let deep = b"*1\r\n".repeat(100);
        assert!(scan(&deep).is_err());
    }
}
