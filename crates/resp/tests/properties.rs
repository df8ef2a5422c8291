//! Property tests for the RESP codec: hostile bytes never panic, every frame
//! round-trips through `encode`/`decode`, and commands framed as arrays of bulk
//! strings parse back into exactly their arguments, alone, cut short or pipelined.

use bytes::{Bytes, BytesMut};
use ferrocache_resp::{decode, encode, parse_request, Frame, ParseLimits, Request, Spans};
use proptest::prelude::*;

/// A moderate default keeps the suite well under a few seconds in a debug build;
/// `PROPTEST_CASES=100000` searches longer, and the fuzz target (fuzz/) longer still.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok());
    ProptestConfig::with_cases(cases.unwrap_or(512))
}

// ---------------------------------------------------------------- generators

/// Text for the line-framed kinds (`+`, `-`, `(`): RESP cannot carry CR or LF there,
/// so those two bytes are swapped for ordinary ones.
fn line_text() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..16).prop_map(|mut v| {
        for b in &mut v {
            if *b == b'\r' || *b == b'\n' {
                *b = b'x';
            }
        }
        Bytes::from(v)
    })
}

fn blob() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..32).prop_map(Bytes::from)
}

/// Every double except NaN, which is unequal to itself and so cannot be checked
/// for an exact round trip (its decoding is covered by the no-panic properties).
fn double() -> impl Strategy<Value = f64> {
    use prop::num::f64;
    f64::POSITIVE | f64::NEGATIVE | f64::NORMAL | f64::SUBNORMAL | f64::ZERO | f64::INFINITE
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line_text().prop_map(Frame::Simple),
        line_text().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        blob().prop_map(Frame::Bulk),
        Just(Frame::Null),
        Just(Frame::NullArray),
        double().prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        line_text().prop_map(Frame::BigNumber),
        (any::<[u8; 3]>(), blob())
            .prop_map(|(fmt, text)| Frame::Verbatim(Bytes::copy_from_slice(&fmt), text)),
    ]
}

/// Any frame, nested a few levels deep through every aggregate kind.
fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        let items = prop::collection::vec(inner.clone(), 0..6);
        let pairs = prop::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            items.clone().prop_map(Frame::Array),
            items.clone().prop_map(Frame::Set),
            items.prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (pairs, inner).prop_map(|(p, f)| Frame::Attribute(p, Box::new(f))),
        ]
    })
}

fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..10)
}

/// Bytes that look like RESP often enough to reach deep into both parsers:
/// a concatenation of protocol fragments and random bytes.
fn resp_ish() -> impl Strategy<Value = Vec<u8>> {
    const PIECES: &[&[u8]] = &[
        b"*",
        b"$",
        b"+",
        b"-",
        b":",
        b",",
        b"#",
        b"_",
        b"(",
        b"=",
        b"!",
        b"%",
        b"~",
        b">",
        b"|",
        b"\r\n",
        b"\r",
        b"\n",
        b"0",
        b"1",
        b"2",
        b"3",
        b"-1",
        b"-5",
        b"99999999999999999999",
        b"t",
        b"f",
        b"inf",
        b"nan",
        b"1.5e300",
        b"txt:",
        b"abc",
        b" ",
        b"\"",
        b"'",
        b"\\",
        b"\\x4",
        b"\\x41",
        b"\\n",
        b"\0",
    ];
    let piece = prop_oneof![
        3 => prop::sample::select(PIECES).prop_map(<[u8]>::to_vec),
        1 => prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// A valid encoding, then damaged: truncated, a byte overwritten, or garbage appended.
fn damaged_frame() -> impl Strategy<Value = Vec<u8>> {
    (frame(), any::<prop::sample::Index>(), any::<u8>(), 0u8..3).prop_map(|(f, at, b, how)| {
        let mut v = encoded(&f).to_vec();
        if v.is_empty() {
            return v;
        }
        let i = at.index(v.len());
        match how {
            0 => v.truncate(i),
            1 => v[i] = b,
            _ => v.extend_from_slice(&[b, b'\r', b'\n']),
        }
        v
    })
}

fn hostile() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        resp_ish(),
        damaged_frame()
    ]
}

// ---------------------------------------------------------------- helpers

fn encoded(f: &Frame) -> BytesMut {
    let mut out = BytesMut::new();
    encode(f, &mut out);
    out
}

/// Parses one request and copies out its arguments.
fn parse(
    buf: &[u8],
) -> (
    Result<Request, ferrocache_resp::ProtocolError>,
    Vec<Vec<u8>>,
) {
    let mut spans = Spans::default();
    let r = parse_request(buf, &mut spans, &ParseLimits::default());
    let mut args = Vec::new();
    if let Ok(Request::Complete(_)) = r {
        spans.collect(buf, &mut args);
    }
    (r, args.into_iter().map(<[u8]>::to_vec).collect())
}

// ---------------------------------------------------------------- (1) never panic

proptest! {
    #![proptest_config(config())]

    /// Any input: `decode` returns, and a decoded frame lies within the input and
    /// does not depend on the bytes after it.
    #[test]
    fn decode_never_panics(buf in hostile()) {
        if let Ok(Some((f, n))) = decode(&buf) {
            prop_assert!(n > 0 && n <= buf.len());
            // NaN is unequal to itself, so compare the debug text.
            let again = decode(&buf[..n]);
            prop_assert_eq!(format!("{:?}", again), format!("{:?}", Ok::<_, ()>(Some((&f, n)))));
        }
    }

    /// Any input: `parse_request` returns; a complete request lies within the input
    /// with its (multibulk) arguments inside it; an incomplete one asks for more
    /// than it has; and appending bytes never changes a complete result.
    #[test]
    fn parse_request_never_panics(buf in hostile(), tail in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut spans = Spans::default();
        let r = parse_request(&buf, &mut spans, &ParseLimits::default());
        match r {
            Ok(Request::Complete(n)) => {
                prop_assert!(n > 0 && n <= buf.len());
                let mut args = Vec::new();
                spans.collect(&buf, &mut args);
                if buf[0] == b'*' {
                    let range = buf[..n].as_ptr_range();
                    for a in &args {
                        let ar = a.as_ptr_range();
                        prop_assert!(range.start <= ar.start && ar.end <= range.end);
                    }
                }
                let args: Vec<Vec<u8>> = args.into_iter().map(<[u8]>::to_vec).collect();
                let mut longer = buf.clone();
                longer.extend_from_slice(&tail);
                let (r2, args2) = parse(&longer);
                prop_assert_eq!(r2, Ok(Request::Complete(n)));
                prop_assert_eq!(args2, args);
            }
            Ok(Request::Incomplete(k)) => prop_assert!(k > buf.len()),
            Err(_) => {}
        }
    }
}

// ---------------------------------------------------------------- (2) frames round-trip

proptest! {
    #![proptest_config(config())]

    #[test]
    fn frame_roundtrip(f in frame()) {
        let out = encoded(&f);
        prop_assert_eq!(decode(&out), Ok(Some((f.clone(), out.len()))));
        for cut in 0..out.len() {
            prop_assert_eq!(decode(&out[..cut]), Ok(None), "prefix of {} bytes", cut);
        }
    }

    /// Frames back to back decode one after another, each consuming only its own bytes.
    #[test]
    fn frames_back_to_back(fs in prop::collection::vec(frame(), 1..5)) {
        let mut out = BytesMut::new();
        fs.iter().for_each(|f| encode(f, &mut out));
        let mut pos = 0;
        for f in &fs {
            let (g, n) = decode(&out[pos..]).map_err(|e| TestCaseError::fail(e.to_string()))?
                .ok_or_else(|| TestCaseError::fail("incomplete"))?;
            prop_assert_eq!(&g, f);
            pos += n;
        }
        prop_assert_eq!(pos, out.len());
    }
}

// ---------------------------------------------------------------- (3) requests

proptest! {
    #![proptest_config(config())]

    #[test]
    fn command_parses_to_its_args(args in command()) {
        let out = encoded(&Frame::command(&args));
        prop_assert_eq!(parse(&out), (Ok(Request::Complete(out.len())), args));
        for cut in 0..out.len() {
            let (r, _) = parse(&out[..cut]);
            prop_assert!(
                matches!(r, Ok(Request::Incomplete(k)) if k > cut),
                "prefix of {} bytes gave {:?}", cut, r
            );
        }
    }

    #[test]
    fn pipelined_commands_parse_in_order(cmds in prop::collection::vec(command(), 1..6)) {
        let mut out = BytesMut::new();
        cmds.iter().for_each(|c| encode(&Frame::command(c), &mut out));
        let mut pos = 0;
        for c in &cmds {
            let (r, args) = parse(&out[pos..]);
            let Ok(Request::Complete(n)) = r else {
                return Err(TestCaseError::fail(format!("at {pos}: {r:?}")));
            };
            prop_assert_eq!(&args, c);
            pos += n;
        }
        prop_assert_eq!(pos, out.len());
    }

    /// Inline commands of plain words split on runs of spaces, with or without CR.
    #[test]
    fn inline_words_parse(
        words in prop::collection::vec("[a-zA-Z0-9:_.-]{1,8}", 1..8),
        sep in " {1,3}",
        cr in any::<bool>(),
    ) {
        let line = format!("{}{}\n", words.join(&sep), if cr { "\r" } else { "" });
        let expect: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        prop_assert_eq!(parse(line.as_bytes()), (Ok(Request::Complete(line.len())), expect));
    }
}
