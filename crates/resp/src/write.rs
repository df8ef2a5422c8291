//! Reply encoding for a server: writes replies straight into an output buffer,
//! in RESP2 or RESP3 as the connection negotiated, with Redis's RESP2 fallbacks
//! (maps as flat arrays, doubles as bulk strings, booleans as integers).

use bytes::{BufMut, BytesMut};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

/// An output buffer that knows the connection's protocol version.
#[derive(Debug, Default)]
pub struct ReplyBuf {
    pub buf: BytesMut,
    pub proto: Protocol,
}

impl ReplyBuf {
    pub fn new(proto: Protocol) -> Self {
        ReplyBuf {
            buf: BytesMut::with_capacity(16 * 1024),
            proto,
        }
    }
    pub fn is_resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }
    pub fn protocol(&self) -> Protocol {
        self.proto
    }
    fn head(&mut self, tag: u8, n: usize) {
        self.buf.put_u8(tag);
        self.buf.put_slice(itoa::Buffer::new().format(n).as_bytes());
        self.buf.put_slice(b"\r\n");
    }
    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }
    pub fn simple(&mut self, s: impl AsRef<[u8]>) {
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_ref());
        self.buf.put_slice(b"\r\n");
    }
    /// An error reply; `msg` includes its code, e.g. `ERR syntax error`.
    /// Newlines would break framing, so they become spaces as in Redis.
    pub fn error(&mut self, msg: impl AsRef<[u8]>) {
        self.buf.put_u8(b'-');
        for &c in msg.as_ref() {
            self.buf
                .put_u8(if c == b'\r' || c == b'\n' { b' ' } else { c });
        }
        self.buf.put_slice(b"\r\n");
    }
    pub fn int(&mut self, i: i64) {
        self.buf.put_u8(b':');
        self.buf.put_slice(itoa::Buffer::new().format(i).as_bytes());
        self.buf.put_slice(b"\r\n");
    }
    pub fn bulk(&mut self, b: impl AsRef<[u8]>) {
        let b = b.as_ref();
        self.head(b'$', b.len());
        self.buf.put_slice(b);
        self.buf.put_slice(b"\r\n");
    }
    /// A bulk string holding an integer's decimal text.
    pub fn bulk_int(&mut self, i: i64) {
        let mut f = itoa::Buffer::new();
        let s = f.format(i);
        self.bulk(s.as_bytes());
    }
    /// Null bulk string (RESP2 `$-1`, RESP3 `_`).
    pub fn null(&mut self) {
        self.buf.put_slice(if self.is_resp3() {
            b"_\r\n"
        } else {
            b"$-1\r\n"
        });
    }
    /// Null array (RESP2 `*-1`, RESP3 `_`).
    pub fn null_array(&mut self) {
        self.buf.put_slice(if self.is_resp3() {
            b"_\r\n"
        } else {
            b"*-1\r\n"
        });
    }
    pub fn array(&mut self, n: usize) {
        self.head(b'*', n);
    }
    /// A map of `n` pairs (RESP2: a flat array of 2n items).
    pub fn map(&mut self, n: usize) {
        if self.is_resp3() {
            self.head(b'%', n)
        } else {
            self.head(b'*', n * 2)
        }
    }
    pub fn set(&mut self, n: usize) {
        self.head(if self.is_resp3() { b'~' } else { b'*' }, n);
    }
    /// Out-of-band push (RESP2: an ordinary array, as pub/sub messages have always been).
    pub fn push(&mut self, n: usize) {
        self.head(if self.is_resp3() { b'>' } else { b'*' }, n);
    }
    pub fn boolean(&mut self, b: bool) {
        if self.is_resp3() {
            self.buf.put_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }
    pub fn double(&mut self, d: f64) {
        let s = format_double(d);
        if self.is_resp3() {
            self.buf.put_u8(b',');
            self.buf.put_slice(s.as_bytes());
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }
    /// Verbatim text (RESP3 `=`, RESP2 bulk), as INFO and CLIENT LIST reply.
    pub fn verbatim(&mut self, text: impl AsRef<[u8]>) {
        let text = text.as_ref();
        if self.is_resp3() {
            self.head(b'=', text.len() + 4);
            self.buf.put_slice(b"txt:");
            self.buf.put_slice(text);
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Formats a double as Redis 7.0 replies with it (`%.17g`; `inf`, `-inf`, `nan`).
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // %.17g: 17 significant digits, exponent form when exp < -4 or exp >= 17,
    // trailing zeros removed.
    let sci = format!("{:.16e}", d);
    let (mantissa, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    if !(-4..17).contains(&exp) {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (16 - exp).max(0) as usize;
    let fixed = format!("{:.*}", decimals, d);
    trim_zeros(&fixed).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_like_printf_g17() {
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(-2.5e-5), "-2.5000000000000001e-05");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(123456789.0), "123456789");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(f64::INFINITY), "inf");
    }

    #[test]
    fn resp2_fallbacks() {
        let mut r = ReplyBuf::new(Protocol::Resp2);
        r.map(1);
        r.boolean(true);
        r.null();
        assert_eq!(&r.buf[..], b"*2\r\n:1\r\n$-1\r\n");
    }
}
