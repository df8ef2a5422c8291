//! Hand-written differential cases for the wire protocol: malformed frames (same
//! error text, then the connection closes), inline commands, pipelining, and the
//! parsing limits.

use super::harness::{After, Differ};
use ferrocache_testkit::poll_until;
use std::time::Duration;

#[test]
fn malformed_frames_close_the_connection() {
    let mut d = Differ::new("protocol/malformed");
    let cases: &[&[u8]] = &[
        b"*abc\r\n",
        b"*1\r\n$abc\r\n",
        b"*1\r\n$-5\r\n",
        b"*1\r\nfoo\r\n",
        b"*2\r\n$3\r\nGET\r\n+k\r\n",
        b"*1\r\n:1\r\n",
        b"*3000000000\r\n",
        b"*1\r\n$600000000\r\n",
        b"*1\r\n$9223372036854775808\r\n",
        b"*1\r\n$4\r\nPING\r\n*x\r\n",
        b"SET a \"b\r\n",
        b"SET a 'b\r\n",
        b"ECHO \"abc\"def\r\n",
        b"*1\r\n$ 4\r\nPING\r\n",
        b"*+1\r\n$4\r\nPING\r\n",
    ];
    for case in cases {
        d.raw_on(1, case, After::Close);
    }
    // An inline request longer than 64 KiB without a newline.
    d.raw_on(1, &vec![b'a'; 70 * 1024], After::Close);
    // A multibulk count line longer than 64 KiB.
    let mut long = b"*".to_vec();
    long.extend(std::iter::repeat_n(b'1', 70 * 1024));
    d.raw_on(1, &long, After::Close);
    let mut long = b"*1\r\n$".to_vec();
    long.extend(std::iter::repeat_n(b'1', 70 * 1024));
    d.raw_on(1, &long, After::Close);
    // The error closes only that connection.
    d.check("PING");
    d.finish();
}

#[test]
fn inline_commands_and_odd_framing() {
    let mut d = Differ::new("protocol/inline");
    let open: &[(&[u8], usize)] = &[
        (b"PING\r\n", 1),
        (b"PING\n", 1),
        (b"ping hello\r\n", 1),
        (b"SET a \"b c\"\r\nGET a\r\n", 2),
        (b"SET q \"x\\ty\\x41\\n\"\r\nGET q\r\n", 2),
        (b"SET q 'single \"quoted\"'\r\nGET q\r\n", 2),
        (b"SET  spaced    out  \r\nGET spaced\r\n", 2),
        (b"ECHO \"\"\r\n", 1),
        (b"\r\n\r\n\nPING\r\n", 1),
        (b"   \r\nPING\r\n", 1),
        (b"NOSUCH a b\r\n", 1),
        (b"GET\r\n", 1),
        (b"*0\r\nPING\r\n", 1),
        (b"*-1\r\nPING\r\n", 1),
        (b"*-10\r\n*1\r\n$4\r\nPING\r\n", 1),
        (b"*1\r\n$4\r\nPINGXY", 1),
        (b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", 1),
        (b"*2\r\n$4\r\nECHO\r\n$3\r\na\r\n\r\n", 1),
        (b"*1\r\n$4\r\nping\r\n*1\r\n$4\r\nPING\r\nPING\r\n", 3),
    ];
    for (bytes, n) in open {
        d.raw_on(1, bytes, After::Open(*n));
    }
    d.finish();
}

#[test]
fn pipelines_and_split_frames() {
    let mut d = Differ::new("protocol/pipelines");
    // 1000 commands in one write.
    let mut bytes = Vec::new();
    for i in 0..1000 {
        let (k, v) = (format!("k{}", i % 10), i.to_string());
        bytes.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{v}\r\n",
                k.len(),
                v.len()
            )
            .as_bytes(),
        );
        bytes.extend_from_slice(format!("*2\r\n$4\r\nINCR\r\n${}\r\n{k}\r\n", k.len()).as_bytes());
    }
    d.raw_on(1, &bytes, After::Open(2000));
    // A frame sent one byte at a time is still one command.
    d.each("a command written one byte per write", |s| {
        let mut c = s.connect().unwrap();
        for b in b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nbytes\r\n" {
            c.send_raw(&[*b]).unwrap();
        }
        let set = c.read_frame().unwrap();
        let get = c.cmd(&["GET", "k"]).unwrap();
        format!("{set:?} {get:?}")
    });
    d.finish();
}

/// Waits until each server counts only connection 0 (closed connections of earlier
/// steps are gone), so that connection limits count the same connections.
fn settle_clients(d: &mut Differ) {
    d.each(
        "connected clients settle to the harness's connection 0",
        |s| {
            let mut c = s.connect().unwrap();
            let settled = poll_until(Duration::from_secs(5), || {
                let list = c.cmd(&["CLIENT", "LIST"]).unwrap();
                list.as_bytes().is_some_and(|t| {
                    t.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count() == 2
                })
            });
            format!("{settled}")
        },
    );
}

#[test]
fn limits_configured_at_run_time() {
    let mut d = Differ::new("protocol/limits");
    d.check_all(&[
        "CONFIG SET proto-max-bulk-len 1000",
        "CONFIG SET proto-max-bulk-len abc",
        "CONFIG SET proto-max-bulk-len 1048576",
        "CONFIG GET proto-max-bulk-len",
    ]);
    d.raw_on(1, b"*2\r\n$4\r\nECHO\r\n$1048577\r\n", After::Close);
    let mut ok = b"*2\r\n$4\r\nECHO\r\n$1048576\r\n".to_vec();
    ok.extend(std::iter::repeat_n(b'x', 1048576));
    ok.extend_from_slice(b"\r\n");
    d.raw_on(1, &ok, After::Open(1));
    d.check("CONFIG SET proto-max-bulk-len 512mb");

    // A query buffer above client-query-buffer-limit closes the connection.
    d.check_all(&[
        "CONFIG SET client-query-buffer-limit 1000",
        "CONFIG SET client-query-buffer-limit 1mb",
        "CONFIG GET client-query-buffer-limit",
    ]);
    let mut big = b"*2\r\n$4\r\nECHO\r\n$3000000\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 2_000_000));
    d.raw_on(1, &big, After::Close);
    d.check("CONFIG SET client-query-buffer-limit 1gb");

    // maxclients: one connection over the limit gets the error and is closed.
    d.check("CONFIG SET maxclients 3");
    settle_clients(&mut d);
    d.check_on(1, "PING");
    d.check_on(2, "PING");
    d.check_on(3, "PING");
    d.check_closed(3, Duration::from_secs(5), "beyond maxclients");
    d.drop_conn(1);
    d.drop_conn(2);
    d.check("CONFIG SET maxclients 10000");

    // timeout: an idle connection is closed (0 means never).
    d.check("CONFIG SET timeout 1");
    d.check_closed(0, Duration::from_secs(10), "idle past timeout 1");
    d.check("CONFIG SET timeout 0");
    d.check("CONFIG GET timeout");
    d.finish();
}
