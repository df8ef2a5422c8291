//! Fuzzes both RESP parsers with arbitrary bytes: the frame decoder a client or
//! proxy uses, and the request parser a server runs on every read buffer.
//! Besides not panicking, each must stay inside the input it was given.

#![no_main]

use ferrocache_resp::{decode, parse_request, ParseLimits, Request, Spans};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((_, n))) = decode(data) {
        assert!(
            n > 0 && n <= data.len(),
            "decode consumed {n} of {}",
            data.len()
        );
    }

    // Default limits, and small ones so that the "too big" paths are reachable.
    let small = ParseLimits {
        max_bulk_len: 64,
        max_inline_len: 64,
        max_multibulk_len: 16,
    };
    for limits in [ParseLimits::default(), small] {
        parse_pipeline(data, &limits);
    }
});

/// Parses `data` as a server does: one request after another until the buffer
/// runs out, needs more bytes, or is malformed.
fn parse_pipeline(data: &[u8], limits: &ParseLimits) {
    let mut spans = Spans::default();
    let mut rest = data;
    while !rest.is_empty() {
        match parse_request(rest, &mut spans, limits) {
            Ok(Request::Complete(n)) => {
                assert!(
                    n > 0 && n <= rest.len(),
                    "complete at {n} of {}",
                    rest.len()
                );
                let mut args = Vec::new();
                spans.collect(rest, &mut args);
                // Multibulk arguments are spans of the request itself (inline ones
                // may be unescaped copies, which live elsewhere).
                if rest[0] == b'*' {
                    let inside = rest[..n].as_ptr_range();
                    for a in &args {
                        let r = a.as_ptr_range();
                        assert!(
                            inside.start <= r.start && r.end <= inside.end,
                            "span outside request"
                        );
                    }
                }
                rest = &rest[n..];
            }
            Ok(Request::Incomplete(k)) => {
                assert!(
                    k > rest.len(),
                    "incomplete asks for {k} with {} in hand",
                    rest.len()
                );
                break;
            }
            Err(_) => break,
        }
    }
}
