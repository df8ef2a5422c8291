//! A general RESP2/RESP3 frame: what clients, proxies and tests read and write.
//! Servers parse requests with `parse_request` instead, which avoids allocating.

use crate::ProtocolError;
use bytes::{BufMut, Bytes, BytesMut};

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Simple(Bytes),
    Error(Bytes),
    Integer(i64),
    Bulk(Bytes),
    /// RESP2 null bulk (`$-1`) and RESP3 null (`_`) both decode to this.
    Null,
    /// RESP2 null array (`*-1`).
    NullArray,
    Array(Vec<Frame>),
    Map(Vec<(Frame, Frame)>),
    Set(Vec<Frame>),
    Push(Vec<Frame>),
    Double(f64),
    Boolean(bool),
    BigNumber(Bytes),
    Verbatim(Bytes, Bytes),
    /// An attribute map that precedes the frame it annotates.
    Attribute(Vec<(Frame, Frame)>, Box<Frame>),
}

impl Frame {
    /// The frame's text when it is a string of any kind.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(b) | Frame::Bulk(b) | Frame::Error(b) | Frame::BigNumber(b) => Some(b),
            Frame::Verbatim(_, b) => Some(b),
            _ => None,
        }
    }
    /// Builds a command: an array of bulk strings.
    pub fn command<I, A>(args: I) -> Frame
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        Frame::Array(
            args.into_iter()
                .map(|a| Frame::Bulk(Bytes::copy_from_slice(a.as_ref())))
                .collect(),
        )
    }
}

/// Nesting deeper than this is refused so that hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 128;
/// Aggregates larger than this are refused rather than pre-allocated.
const MAX_AGGREGATE: i64 = 1 << 28;

/// Decodes one frame from the start of `buf`: `Ok(Some((frame, consumed)))`,
/// `Ok(None)` if more bytes are needed.
pub fn decode(buf: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
    let mut pos = 0;
    match decode_at(buf, &mut pos, 0)? {
        Some(f) => Ok(Some((f, pos))),
        None => Ok(None),
    }
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let start = *pos;
    let cr = memchr::memchr(b'\r', &buf[start..])? + start;
    if cr + 1 >= buf.len() {
        return None;
    }
    *pos = cr + 2;
    Some(&buf[start..cr])
}

fn int(l: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(l)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(ProtocolError::Invalid("invalid integer"))
}

fn decode_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Frame>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(ProtocolError::Invalid("nesting too deep"));
    }
    let Some(&tag) = buf.get(*pos) else {
        return Ok(None);
    };
    let save = *pos;
    *pos += 1;
    let Some(l) = line(buf, pos) else {
        *pos = save;
        return Ok(None);
    };
    let text = || Bytes::copy_from_slice(l);
    let frame = match tag {
        b'+' => Frame::Simple(text()),
        b'-' => Frame::Error(text()),
        b':' => Frame::Integer(int(l)?),
        b'(' => Frame::BigNumber(text()),
        b'#' => match l {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return Err(ProtocolError::Invalid("invalid boolean")),
        },
        b',' => {
            let s = std::str::from_utf8(l).map_err(|_| ProtocolError::Invalid("invalid double"))?;
            Frame::Double(match s {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                _ => s
                    .parse()
                    .map_err(|_| ProtocolError::Invalid("invalid double"))?,
            })
        }
        b'_' => Frame::Null,
        b'$' | b'=' | b'!' => {
            let n = int(l)?;
            if n == -1 && tag == b'$' {
                Frame::Null
            } else {
                if !(0..=512 * 1024 * 1024).contains(&n) {
                    return Err(ProtocolError::InvalidBulkLength);
                }
                let n = n as usize;
                if *pos + n + 2 > buf.len() {
                    *pos = save;
                    return Ok(None);
                }
                let data = Bytes::copy_from_slice(&buf[*pos..*pos + n]);
                *pos += n + 2;
                match tag {
                    b'$' => Frame::Bulk(data),
                    b'!' => Frame::Error(data),
                    _ => {
                        if data.len() < 4 || data[3] != b':' {
                            return Err(ProtocolError::Invalid("invalid verbatim string"));
                        }
                        Frame::Verbatim(data.slice(..3), data.slice(4..))
                    }
                }
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = int(l)?;
            if n == -1 && tag == b'*' {
                return Ok(Some(Frame::NullArray));
            }
            if !(0..=MAX_AGGREGATE).contains(&n) {
                return Err(ProtocolError::InvalidMultibulkLength);
            }
            let items = if matches!(tag, b'%' | b'|') { n * 2 } else { n };
            let mut v = Vec::with_capacity((items as usize).min(1024));
            for _ in 0..items {
                match decode_at(buf, pos, depth + 1)? {
                    Some(f) => v.push(f),
                    None => {
                        *pos = save;
                        return Ok(None);
                    }
                }
            }
            match tag {
                b'*' => Frame::Array(v),
                b'~' => Frame::Set(v),
                b'>' => Frame::Push(v),
                _ => {
                    let mut pairs = Vec::with_capacity(v.len() / 2);
                    let mut it = v.into_iter();
                    while let (Some(k), Some(val)) = (it.next(), it.next()) {
                        pairs.push((k, val));
                    }
                    if tag == b'%' {
                        Frame::Map(pairs)
                    } else {
                        match decode_at(buf, pos, depth + 1)? {
                            Some(inner) => Frame::Attribute(pairs, Box::new(inner)),
                            None => {
                                *pos = save;
                                return Ok(None);
                            }
                        }
                    }
                }
            }
        }
        _ => return Err(ProtocolError::Invalid("unknown frame type")),
    };
    Ok(Some(frame))
}

/// Encodes a frame in its own wire form (no RESP2/RESP3 translation).
pub fn encode(frame: &Frame, out: &mut BytesMut) {
    fn head(out: &mut BytesMut, tag: u8, n: usize) {
        out.put_u8(tag);
        out.put_slice(itoa::Buffer::new().format(n).as_bytes());
        out.put_slice(b"\r\n");
    }
    match frame {
        Frame::Simple(s) => {
            out.put_u8(b'+');
            out.put_slice(s);
            out.put_slice(b"\r\n");
        }
        Frame::Error(s) => {
            out.put_u8(b'-');
            out.put_slice(s);
            out.put_slice(b"\r\n");
        }
        Frame::Integer(i) => {
            out.put_u8(b':');
            out.put_slice(itoa::Buffer::new().format(*i).as_bytes());
            out.put_slice(b"\r\n");
        }
        Frame::Bulk(b) => {
            head(out, b'$', b.len());
            out.put_slice(b);
            out.put_slice(b"\r\n");
        }
        Frame::Null => out.put_slice(b"$-1\r\n"),
        Frame::NullArray => out.put_slice(b"*-1\r\n"),
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
            let tag = match frame {
                Frame::Array(_) => b'*',
                Frame::Set(_) => b'~',
                _ => b'>',
            };
            head(out, tag, v.len());
            v.iter().for_each(|f| encode(f, out));
        }
        Frame::Map(pairs) => {
            head(out, b'%', pairs.len());
            for (k, v) in pairs {
                encode(k, out);
                encode(v, out);
            }
        }
        Frame::Attribute(pairs, inner) => {
            head(out, b'|', pairs.len());
            for (k, v) in pairs {
                encode(k, out);
                encode(v, out);
            }
            encode(inner, out);
        }
        Frame::Double(d) => {
            out.put_u8(b',');
            out.put_slice(crate::format_double(*d).as_bytes());
            out.put_slice(b"\r\n");
        }
        Frame::Boolean(b) => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Frame::BigNumber(b) => {
            out.put_u8(b'(');
            out.put_slice(b);
            out.put_slice(b"\r\n");
        }
        Frame::Verbatim(fmt, b) => {
            head(out, b'=', b.len() + 4);
            out.put_slice(fmt);
            out.put_u8(b':');
            out.put_slice(b);
            out.put_slice(b"\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_nested() {
        let f = Frame::Map(vec![(
            Frame::Simple("a".into()),
            Frame::Array(vec![Frame::Integer(-3), Frame::Null, Frame::Double(1.5)]),
        )]);
        let mut out = BytesMut::new();
        encode(&f, &mut out);
        let (g, n) = decode(&out).unwrap().unwrap();
        assert_eq!(n, out.len());
        assert_eq!(f, g);
        for cut in 0..out.len() {
            assert_eq!(decode(&out[..cut]).unwrap(), None);
        }
    }
}
