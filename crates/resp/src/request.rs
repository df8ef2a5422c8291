//! The server-side request parser: the hot path. It finds one command (a RESP
//! array of bulk strings, or an inline line) in a buffer and records where each
//! argument lies, without copying or allocating, so a pipeline of commands can be
//! executed straight out of the read buffer.

use crate::ProtocolError;

/// Limits Redis applies while parsing (`proto-max-bulk-len`, inline size).
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    pub max_bulk_len: usize,
    pub max_inline_len: usize,
    pub max_multibulk_len: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bulk_len: 512 * 1024 * 1024,
            max_inline_len: 64 * 1024,
            max_multibulk_len: 1024 * 1024,
        }
    }
}

/// Positions of arguments in the buffer a request was parsed from.
/// Inline arguments with quotes need unescaping, so they are kept owned.
#[derive(Debug, Default)]
pub struct Spans {
    ranges: Vec<(usize, usize)>,
    owned: Vec<Vec<u8>>,
    inline_owned: bool,
}

impl Spans {
    pub fn clear(&mut self) {
        self.ranges.clear();
        self.owned.clear();
        self.inline_owned = false;
    }
    pub fn len(&self) -> usize {
        if self.inline_owned {
            self.owned.len()
        } else {
            self.ranges.len()
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Argument `i`, if the request has one.
    pub fn arg<'a>(&'a self, buf: &'a [u8], i: usize) -> Option<&'a [u8]> {
        if self.inline_owned {
            self.owned.get(i).map(|a| a.as_slice())
        } else {
            self.ranges.get(i).and_then(|&(s, e)| buf.get(s..e))
        }
    }

    /// Fills `out` with the arguments as slices of `buf` (or of owned inline data).
    pub fn collect<'a>(&'a self, buf: &'a [u8], out: &mut Vec<&'a [u8]>) {
        out.clear();
        if self.inline_owned {
            out.extend(self.owned.iter().map(|a| a.as_slice()));
        } else {
            out.extend(self.ranges.iter().map(|&(s, e)| &buf[s..e]));
        }
    }
}

/// Outcome of looking for one request at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// A whole request of this many bytes; arguments are in the `Spans`
    /// (possibly none: an empty inline line or `*0`, which Redis ignores).
    Complete(usize),
    /// More bytes are needed; at least this many in total before trying again.
    Incomplete(usize),
}

/// Parses one request from the start of `buf`, recording arguments in `spans`.
pub fn parse_request(
    buf: &[u8],
    spans: &mut Spans,
    limits: &ParseLimits,
) -> Result<Request, ProtocolError> {
    spans.clear();
    match buf.first() {
        None => Ok(Request::Incomplete(1)),
        Some(b'*') => parse_multibulk(buf, spans, limits),
        Some(_) => parse_inline(buf, spans, limits),
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'\r', &buf[from..]).map(|i| from + i)
}

/// Parses a decimal length the way Redis does (`string2ll`): optional '-', digits only.
fn parse_len(digits: &[u8]) -> Option<i64> {
    let (neg, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add((d - b'0') as i64)?;
    }
    Some(if neg { -n } else { n })
}

fn parse_multibulk(
    buf: &[u8],
    spans: &mut Spans,
    limits: &ParseLimits,
) -> Result<Request, ProtocolError> {
    let Some(cr) = find_crlf(buf, 1) else {
        if buf.len() > limits.max_inline_len {
            return Err(ProtocolError::TooBigMultibulkCount);
        }
        return Ok(Request::Incomplete(buf.len() + 1));
    };
    if cr + 1 >= buf.len() {
        return Ok(Request::Incomplete(cr + 2));
    }
    let count = parse_len(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
    if count > limits.max_multibulk_len as i64 {
        return Err(ProtocolError::InvalidMultibulkLength);
    }
    let mut pos = cr + 2;
    if count <= 0 {
        return Ok(Request::Complete(pos));
    }
    // A count is only a claim: reserve for at most 1024 arguments up front (as Redis
    // does), so a header alone cannot make every connection allocate megabytes.
    spans.ranges.reserve((count as usize).min(1024));
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(Request::Incomplete(pos + 1));
        }
        if buf[pos] != b'$' {
            return Err(ProtocolError::ExpectedBulk(buf[pos] as char));
        }
        let Some(cr) = find_crlf(buf, pos + 1) else {
            if buf.len() - pos > 32 {
                return Err(ProtocolError::TooBigBulkCount);
            }
            return Ok(Request::Incomplete(buf.len() + 1));
        };
        if cr + 1 >= buf.len() {
            return Ok(Request::Incomplete(cr + 2));
        }
        let len = parse_len(&buf[pos + 1..cr]).ok_or(ProtocolError::InvalidBulkLength)?;
        if len < 0 || len as u64 > limits.max_bulk_len as u64 {
            return Err(ProtocolError::InvalidBulkLength);
        }
        let start = cr + 2;
        let end = start + len as usize;
        if end + 2 > buf.len() {
            return Ok(Request::Incomplete(end + 2));
        }
        // Redis does not check the two bytes after a bulk payload; neither do we.
        spans.ranges.push((start, end));
        pos = end + 2;
    }
    Ok(Request::Complete(pos))
}

fn parse_inline(
    buf: &[u8],
    spans: &mut Spans,
    limits: &ParseLimits,
) -> Result<Request, ProtocolError> {
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        if buf.len() > limits.max_inline_len {
            return Err(ProtocolError::TooBigInline);
        }
        return Ok(Request::Incomplete(buf.len() + 1));
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    // The common case (redis-cli, telnet, PING_INLINE) has no quotes: its arguments
    // are recorded as spans of the buffer, like a RESP array's, without copying.
    if !line.iter().any(|&c| c == b'"' || c == b'\'' || c == 0) {
        split_plain_inline(line, &mut spans.ranges);
        return Ok(Request::Complete(nl + 1));
    }
    spans.inline_owned = true;
    split_inline_args(line, &mut spans.owned)?;
    Ok(Request::Complete(nl + 1))
}

/// `split_inline_args` for a line without quotes or NULs, as spans of the line
/// (which starts at offset 0 of the parsed buffer): arguments are separated by
/// C whitespace and end at space, tab, CR or LF, as in `sdssplitargs`.
fn split_plain_inline(line: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return;
        }
        let start = i;
        while i < n && !matches!(line[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        out.push((start, i));
    }
}

/// Splits an inline command line like `sdssplitargs`: whitespace separated,
/// double quotes with escapes (\n, \xHH …), single quotes with only \'.
fn split_inline_args(line: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), ProtocolError> {
    // Redis splits a C string, so a NUL ends the line. It must end it here too:
    // a NUL between arguments would otherwise yield empty arguments forever.
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Ok(());
        }
        let mut arg = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex(line[i + 2]), hex(line[i + 3])) {
                        arg.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    i += 1;
                    arg.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    // A closing quote must be followed by a space or the end.
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    arg.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    arg.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    arg.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => arg.push(c),
                }
            }
            i += 1;
        }
        out.push(arg);
    }
}

/// C's `isspace`, which unlike `u8::is_ascii_whitespace` includes vertical tab.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(buf: &[u8]) -> Result<(Request, Vec<Vec<u8>>), ProtocolError> {
        let mut spans = Spans::default();
        let r = parse_request(buf, &mut spans, &ParseLimits::default())?;
        let mut out = Vec::new();
        spans.collect(buf, &mut out);
        Ok((r, out.into_iter().map(|a| a.to_vec()).collect()))
    }

    #[test]
    fn multibulk_complete_and_partial() {
        let full = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        assert_eq!(
            args(full).unwrap(),
            (
                Request::Complete(full.len()),
                vec![b"GET".to_vec(), b"k".to_vec()]
            )
        );
        for cut in 0..full.len() {
            assert!(matches!(
                args(&full[..cut]).unwrap().0,
                Request::Incomplete(_)
            ));
        }
    }

    #[test]
    fn inline_quotes() {
        let (_, a) = args(b"set \"a b\" 'c\\'d' \"\\x41\\n\"\r\n").unwrap();
        assert_eq!(
            a,
            vec![
                b"set".to_vec(),
                b"a b".to_vec(),
                b"c'd".to_vec(),
                b"A\n".to_vec()
            ]
        );
        assert_eq!(args(b"set \"abc\r\n"), Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(args(b"\r\n").unwrap(), (Request::Complete(2), vec![]));
    }

    #[test]
    fn inline_nul_ends_the_line() {
        // Found by tests/properties.rs: this used to loop forever, pushing empty args.
        assert_eq!(args(b"\0\r\n").unwrap(), (Request::Complete(3), vec![]));
        let (r, a) = args(b"get a\0 b\n").unwrap();
        assert_eq!(
            (r, a),
            (Request::Complete(9), vec![b"get".to_vec(), b"a".to_vec()])
        );
        assert_eq!(args(b"get \"a\0\"\n"), Err(ProtocolError::UnbalancedQuotes));
        // Vertical tab separates like C's isspace, but only between arguments.
        assert_eq!(
            args(b"\x0bget\x0bk\n").unwrap().1,
            vec![b"get\x0bk".to_vec()]
        );
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(args(b"*x\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(
            args(b"*1\r\n$-5\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            args(b"*1\r\n+OK\r\n"),
            Err(ProtocolError::ExpectedBulk('+'))
        );
        assert_eq!(
            args(b"*99999999999\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
    }
}
