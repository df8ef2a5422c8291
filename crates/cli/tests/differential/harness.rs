//! The differential harness: one reference redis-server and one subject (the
//! ferrocache node, or a second redis-server with FERRO_DIFF_SELF=1) receive the same
//! commands over parallel connections; replies are normalised and compared.

use super::normalise::{normalise_frames, rule, same, Rule};
use ferrocache_testkit::{escape, show, FerroNode, Frame, RedisServer, RespConn, Server};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub type Args = Vec<Vec<u8>>;

/// Arguments every reference redis-server gets: DEBUG is part of the command set
/// under test (DEBUG SLEEP), and Redis 7 refuses it unless enabled.
const REDIS_ARGS: &[&str] = &["--enable-debug-command", "yes"];

/// Read/write timeout of the harness's connections.
const CONN_TIMEOUT: Duration = Duration::from_secs(5);

/// With FERRO_DIFF_SELF=1 the subject is a second redis-server, to test the harness.
pub fn self_mode() -> bool {
    std::env::var("FERRO_DIFF_SELF").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The server under test.
pub enum Subject {
    Node(FerroNode),
    Redis(RedisServer),
}

impl Subject {
    /// Starts the ferrocache node with `node_args`, or in self mode a redis-server
    /// with `redis_args`.
    pub fn start(redis_args: &[&str], node_args: &[&str]) -> Subject {
        if self_mode() {
            let args: Vec<&str> = REDIS_ARGS.iter().chain(redis_args).copied().collect();
            Subject::Redis(RedisServer::start_with(&args).expect("start second redis-server"))
        } else {
            let bin = Path::new(env!("CARGO_BIN_EXE_ferrocache"));
            Subject::Node(FerroNode::start(bin, node_args).expect("start ferrocache node"))
        }
    }

    pub fn server(&self) -> &dyn Server {
        match self {
            Subject::Node(n) => n,
            Subject::Redis(r) => r,
        }
    }
}

/// Starts the reference redis-server.
pub fn start_reference(redis_args: &[&str]) -> RedisServer {
    let args: Vec<&str> = REDIS_ARGS.iter().chain(redis_args).copied().collect();
    RedisServer::start_with(&args)
        .expect("start redis-server (is Debian's redis-server installed?)")
}

/// Splits a command line into arguments as redis-cli does: whitespace separates,
/// "double quotes" allow \n \r \t \\ \" \xHH escapes, 'single quotes' are literal.
pub fn words(line: &str) -> Args {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let mut w = Vec::new();
        while i < b.len() && !b[i].is_ascii_whitespace() {
            match b[i] {
                b'"' => {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        if b[i] == b'\\' && i + 1 < b.len() {
                            i += 1;
                            match b[i] {
                                b'n' => w.push(b'\n'),
                                b'r' => w.push(b'\r'),
                                b't' => w.push(b'\t'),
                                b'0' => w.push(0),
                                b'x' if i + 2 < b.len() => {
                                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                                    w.push(u8::from_str_radix(hex, 16).expect("bad \\x escape"));
                                    i += 2;
                                }
                                c => w.push(c),
                            }
                        } else {
                            w.push(b[i]);
                        }
                        i += 1;
                    }
                    assert!(i < b.len(), "unbalanced quotes in {line:?}");
                    i += 1;
                }
                b'\'' => {
                    i += 1;
                    while i < b.len() && b[i] != b'\'' {
                        w.push(b[i]);
                        i += 1;
                    }
                    assert!(i < b.len(), "unbalanced quotes in {line:?}");
                    i += 1;
                }
                c => {
                    w.push(c);
                    i += 1;
                }
            }
        }
        out.push(w);
    }
    out
}

/// A command as text, for messages.
pub fn show_args(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.iter()
                    .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'')
            {
                String::from_utf8_lossy(a).into_owned()
            } else {
                escape(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_reply(r: &Result<Vec<Frame>, String>) -> String {
    let s = match r {
        Ok(frames) => frames.iter().map(show).collect::<Vec<_>>().join(" ; "),
        Err(e) => format!("<{e}>"),
    };
    if s.len() > 600 {
        let mut cut = 600;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}… ({} chars)", &s[..cut], s.len())
    } else {
        s
    }
}

/// For long aggregate replies, the elements only one side has.
fn show_difference(a: &[Frame], b: &[Frame]) -> Option<String> {
    let flat = |v: &[Frame]| -> Vec<String> {
        v.iter()
            .flat_map(|f| match f {
                Frame::Array(x) | Frame::Set(x) | Frame::Push(x) => x.iter().map(show).collect(),
                Frame::Map(p) => p
                    .iter()
                    .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                    .collect(),
                other => vec![show(other)],
            })
            .collect()
    };
    let (fa, fb) = (flat(a), flat(b));
    if fa.len() + fb.len() < 12 {
        return None;
    }
    let only = |x: &[String], y: &[String]| {
        x.iter()
            .filter(|e| !y.contains(e))
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(format!(
        "only in reference: [{}]\n    only in subject:   [{}]",
        only(&fa, &fb),
        only(&fb, &fa)
    ))
}

/// What a raw (hand-made bytes) exchange expects of the connection afterwards.
#[derive(Debug, Clone, Copy)]
pub enum After {
    /// Read frames until the server closes the connection.
    Close,
    /// Read this many frames; the connection must stay open (checked with PING).
    Open(usize),
}

/// Replies of one side: normalised frames, or what went wrong reading them.
type Reply = Result<Vec<Frame>, String>;

/// The differential driver. Mismatches are collected; the test fails at `finish`
/// (or when the driver is dropped) with the whole list.
pub struct Differ {
    label: String,
    // Connections before servers, so they close first.
    conns: Vec<Option<[RespConn; 2]>>,
    reference: RedisServer,
    subject: Subject,
    mismatches: Vec<String>,
    step: usize,
    trace: bool,
}

impl Differ {
    pub fn new(label: &str) -> Differ {
        Self::start_with(label, &[], &[])
    }

    /// Servers with extra arguments: `redis_args` for redis-server (the reference,
    /// and the subject in self mode), `node_args` for the ferrocache node.
    pub fn start_with(label: &str, redis_args: &[&str], node_args: &[&str]) -> Differ {
        let reference = start_reference(redis_args);
        let subject = Subject::start(redis_args, node_args);
        Differ {
            label: label.to_string(),
            conns: Vec::new(),
            reference,
            subject,
            mismatches: Vec::new(),
            step: 0,
            trace: std::env::var_os("FERRO_DIFF_TRACE").is_some(),
        }
    }

    pub fn servers(&self) -> [&dyn Server; 2] {
        [&self.reference, self.subject.server()]
    }

    pub fn subject_name(&self) -> &str {
        self.subject.server().name()
    }

    /// Connection pair `c`, connected on first use.
    pub fn conn(&mut self, c: usize) -> &mut [RespConn; 2] {
        if self.conns.len() <= c {
            self.conns.resize_with(c + 1, || None);
        }
        if self.conns[c].is_none() {
            let [r, s] = self.servers().map(|srv| srv.addr());
            let connect =
                |a: SocketAddr| RespConn::connect_timeout(a, CONN_TIMEOUT).expect("connect");
            self.conns[c] = Some([connect(r), connect(s)]);
        }
        self.conns[c].as_mut().expect("just connected")
    }

    /// Forgets connection pair `c` (the next use reconnects).
    pub fn drop_conn(&mut self, c: usize) {
        if let Some(slot) = self.conns.get_mut(c) {
            *slot = None;
        }
    }

    fn record(&mut self, what: &str, reference: &Reply, subject: &Reply, extra: Option<String>) {
        let mut m = format!(
            "[{} #{}] {what}\n    redis-server: {}\n    {:<13} {}",
            self.label,
            self.step,
            show_reply(reference),
            format!("{}:", self.subject_name()),
            show_reply(subject)
        );
        if let Some(x) = extra {
            m.push_str("\n    ");
            m.push_str(&x);
        }
        self.mismatches.push(m);
    }

    /// Sends `args` on pair `c` and reads `n` frames from each side; returns the
    /// normalised replies (not compared).
    pub fn exchange(&mut self, c: usize, args: &[Vec<u8>], n: usize) -> [Reply; 2] {
        self.step += 1;
        let rule = rule(args);
        let pair = self.conn(c);
        let replies = [0, 1].map(|i| one_side(&mut pair[i], args, n, rule));
        if replies.iter().any(|r| r.is_err()) {
            // The stream may be out of step: start over on this pair.
            self.drop_conn(c);
        }
        if self.trace {
            eprintln!(
                "[{} #{}] {}\n    => {}\n    => {}",
                self.label,
                self.step,
                show_args(args),
                show_reply(&replies[0]),
                show_reply(&replies[1])
            );
        }
        replies
    }

    /// Compares two sides' replies; records a mismatch. Returns whether they agree.
    pub fn compare(&mut self, what: &str, rule: Rule, replies: &[Reply; 2]) -> bool {
        let ok = match (&replies[0], &replies[1]) {
            (Ok(a), Ok(b)) => same(rule, a, b),
            _ => false,
        };
        if !ok {
            let extra = match (&replies[0], &replies[1]) {
                (Ok(a), Ok(b)) => show_difference(a, b),
                _ => None,
            };
            self.record(what, &replies[0], &replies[1], extra);
        }
        ok
    }

    /// Runs a command on pair `c` and compares the `n` frames it produces.
    pub fn check_args_n(&mut self, c: usize, args: Args, n: usize) -> bool {
        let replies = self.exchange(c, &args, n);
        self.compare(&show_args(&args), rule(&args), &replies)
    }

    /// `check_args_n` with one reply on connection 0, from a command line.
    pub fn check(&mut self, line: &str) -> bool {
        self.check_args_n(0, words(line), 1)
    }

    pub fn check_on(&mut self, c: usize, line: &str) -> bool {
        self.check_args_n(c, words(line), 1)
    }

    /// A command that replies with `n` frames (SUBSCRIBE a b → 2).
    pub fn check_frames_on(&mut self, c: usize, line: &str, n: usize) -> bool {
        self.check_args_n(c, words(line), n)
    }

    pub fn check_args(&mut self, args: Args) -> bool {
        self.check_args_n(0, args, 1)
    }

    /// Runs every line on connection 0.
    pub fn check_all(&mut self, lines: &[&str]) {
        for l in lines {
            self.check(l);
        }
    }

    /// Sends a command without reading anything (CLIENT REPLY OFF, a subscriber's …).
    pub fn send_on(&mut self, c: usize, line: &str) {
        let args = words(line);
        for conn in self.conn(c).iter_mut() {
            conn.write_command(&args).expect("write");
        }
    }

    /// Reads `n` frames on pair `c` without sending (pub/sub messages) and compares
    /// them exactly.
    pub fn read_on(&mut self, c: usize, n: usize, what: &str) -> bool {
        self.step += 1;
        let pair = self.conn(c);
        let replies: [Reply; 2] =
            [0, 1].map(|i| pair[i].read_frames(n).map_err(|e| format!("{e:#}")));
        if replies.iter().any(|r| r.is_err()) {
            self.drop_conn(c);
        }
        self.compare(&format!("(read {n} frames: {what})"), Rule::Exact, &replies)
    }

    /// `check`, but compared exactly whatever the command's rule: for replies whose
    /// order is deterministic in the case at hand (a listpack hash's insertion order).
    pub fn check_exact(&mut self, line: &str) -> bool {
        self.step += 1;
        let args = words(line);
        let pair = self.conn(0);
        let replies = [0, 1].map(|i| one_side(&mut pair[i], &args, 1, Rule::Exact));
        if replies.iter().any(|r| r.is_err()) {
            self.drop_conn(0);
        }
        self.compare(&show_args(&args), Rule::Exact, &replies)
    }

    /// Raw replies of both sides, not compared (to learn per-side values such as
    /// client ids). Panics if either side fails to reply.
    pub fn query_on(&mut self, c: usize, line: &str) -> [Frame; 2] {
        let args = words(line);
        let pair = self.conn(c);
        [0, 1].map(|i| {
            pair[i]
                .send(&args)
                .unwrap_or_else(|e| panic!("{}: {e:#}", show_args(&args)))
        })
    }

    /// Sends a different command to each side (e.g. naming each side's own client id)
    /// and compares the replies with the rule of the reference's command.
    pub fn check_each_on(&mut self, c: usize, reference: Args, subject: Args) -> bool {
        self.step += 1;
        let rule = rule(&reference);
        let pair = self.conn(c);
        let replies = [
            one_side(&mut pair[0], &reference, 1, rule),
            one_side(&mut pair[1], &subject, 1, rule),
        ];
        if replies.iter().any(|r| r.is_err()) {
            self.drop_conn(c);
        }
        let what = format!("{}  |  {}", show_args(&reference), show_args(&subject));
        self.compare(&what, rule, &replies)
    }

    /// The local address of each side's connection `c` (for CLIENT KILL ADDR).
    pub fn local_addrs(&mut self, c: usize) -> [SocketAddr; 2] {
        let pair = self.conn(c);
        [0, 1].map(|i| pair[i].local_addr().expect("local addr"))
    }

    /// Compares whether each side closed connection `c` within `timeout`, then
    /// forgets the pair.
    pub fn check_closed(&mut self, c: usize, timeout: Duration, what: &str) -> bool {
        self.step += 1;
        let pair = self.conn(c);
        let replies: [Reply; 2] = [0, 1].map(|i| {
            let conn = &mut pair[i];
            let closed = conn.wait_closed(timeout).map_err(|e| format!("{e:#}"))?;
            let mut frames: Vec<Frame> = Vec::new();
            if closed {
                // Whatever the server sent before closing.
                while let Ok(f) = conn.read_frame() {
                    frames.push(f);
                }
            }
            frames.push(Frame::Simple(
                if closed { "<closed>" } else { "<still open>" }.into(),
            ));
            Ok(frames)
        });
        self.drop_conn(c);
        self.compare(
            &format!("(connection closed? {what})"),
            Rule::Exact,
            &replies,
        )
    }

    /// Sends raw bytes on a fresh connection pair `c` and compares what comes back.
    pub fn raw_on(&mut self, c: usize, bytes: &[u8], after: After) -> bool {
        self.step += 1;
        self.drop_conn(c);
        let pair = self.conn(c);
        let replies: [Reply; 2] = [0, 1].map(|i| {
            let conn = &mut pair[i];
            if let Err(e) = conn.send_raw(bytes) {
                // A server may close while the bytes are still being written.
                if !conn.is_closed() {
                    return Err(format!("{e:#}"));
                }
            }
            let mut frames = Vec::new();
            match after {
                After::Close => {
                    while frames.len() < 100 {
                        match conn.read_frame() {
                            Ok(f) => frames.push(f),
                            Err(_) if conn.is_closed() => break,
                            Err(e) => return Err(format!("{e:#} (after {} frames)", frames.len())),
                        }
                    }
                    frames.push(Frame::Simple("<closed>".into()));
                }
                After::Open(n) => {
                    for _ in 0..n {
                        frames.push(conn.read_frame().map_err(|e| format!("{e:#}"))?);
                    }
                    frames.push(
                        conn.send(&["PING"])
                            .map_err(|e| format!("then PING: {e:#}"))?,
                    );
                }
            }
            Ok(frames)
        });
        self.drop_conn(c);
        self.compare(
            &format!("(raw bytes {})", escape(bytes)),
            Rule::Exact,
            &replies,
        )
    }

    /// Runs `f` against each server (it may open its own connections) and compares
    /// the descriptions it returns.
    pub fn each(&mut self, what: &str, f: impl Fn(&dyn Server) -> String) -> bool {
        self.step += 1;
        let replies: [Reply; 2] = self.servers().map(|s| Ok(vec![Frame::Simple(f(s).into())]));
        self.compare(what, Rule::Exact, &replies)
    }

    /// Fails the test with every mismatch seen.
    pub fn finish(mut self) {
        self.report();
    }

    fn report(&mut self) {
        if self.mismatches.is_empty() {
            return;
        }
        let list = std::mem::take(&mut self.mismatches);
        let subject = self.subject.server();
        panic!(
            "{} mismatch(es) between redis-server and {} in '{}':\n{}\n--- {} log tail ---\n{}",
            list.len(),
            subject.name(),
            self.label,
            list.join("\n"),
            subject.name(),
            subject.log_tail()
        );
    }

    /// Adds a note to the last mismatch recorded.
    pub fn annotate_last(&mut self, note: &str) {
        if let Some(m) = self.mismatches.last_mut() {
            m.push_str("\n    ");
            m.push_str(note);
        }
    }

    pub fn mismatch_count(&self) -> usize {
        self.mismatches.len()
    }
}

impl Drop for Differ {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.report();
        }
    }
}

/// One side of an exchange: send, read `n` frames, apply the rule (with the extra
/// round trips RANDOMKEY and SCAN need), normalise.
fn one_side(conn: &mut RespConn, args: &[Vec<u8>], n: usize, rule: Rule) -> Reply {
    let e = |e: anyhow::Error| format!("{e:#}");
    conn.write_command(args).map_err(e)?;
    let frames = conn.read_frames(n).map_err(e)?;
    match (rule, frames.as_slice()) {
        (Rule::RandomKey, [Frame::Bulk(k)]) => {
            let exists = conn.send(&[&b"EXISTS"[..], k]).map_err(e)?;
            let verdict = if exists == Frame::Integer(1) {
                "<an existing key>"
            } else {
                "<a key that does not exist>"
            };
            Ok(vec![Frame::Simple(verdict.into())])
        }
        (Rule::Scan, [first @ Frame::Array(_)]) if args.get(1).is_some_and(|c| c == b"0") => {
            scan_all(conn, args, first.clone(), 1, 1)
        }
        (Rule::ElementScan { pairs }, [first @ Frame::Array(_)])
            if args.get(2).is_some_and(|c| c == b"0") =>
        {
            scan_all(conn, args, first.clone(), 2, if pairs { 2 } else { 1 })
        }
        (Rule::RandomFields, [reply @ (Frame::Bulk(_) | Frame::Array(_))]) => {
            let all = conn.send(&[&b"HGETALL"[..], &args[1]]).map_err(e)?;
            Ok(vec![super::normalise::random_fields(args, reply, &all)])
        }
        (Rule::RandomZMembers, [reply @ (Frame::Bulk(_) | Frame::Array(_))]) => {
            let all = conn
                .send(&[&b"ZRANGE"[..], &args[1], b"0", b"-1", b"WITHSCORES"])
                .map_err(e)?;
            let all = super::normalise::flat_pairs(&all);
            Ok(vec![super::normalise::random_fields(args, reply, &all)])
        }
        (
            Rule::RandomMembers { distinct },
            [reply @ (Frame::Bulk(_) | Frame::Array(_) | Frame::Set(_))],
        ) => {
            let all = conn.send(&[&b"SMEMBERS"[..], &args[1]]).map_err(e)?;
            Ok(vec![super::normalise::random_members(
                args, reply, &all, distinct,
            )])
        }
        _ => Ok(normalise_frames(rule, &frames)),
    }
}

/// Iterates SCAN (cursor at `args[cursor_at]`) to cursor 0 from its first reply; the
/// sorted, deduplicated elements, taken `group` at a time (2: HSCAN's field/value).
fn scan_all(
    conn: &mut RespConn,
    args: &[Vec<u8>],
    first: Frame,
    cursor_at: usize,
    group: usize,
) -> Reply {
    let mut keys: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut reply = first;
    for _ in 0..100_000 {
        let Frame::Array(parts) = &reply else {
            return Ok(vec![reply.clone()]);
        };
        let [Frame::Bulk(cursor), Frame::Array(batch)] = parts.as_slice() else {
            return Err(format!("malformed SCAN reply {}", show(&reply)));
        };
        let items: Vec<Vec<u8>> = batch
            .iter()
            .filter_map(|k| k.as_bytes().map(|b| b.to_vec()))
            .collect();
        keys.extend(items.chunks(group).map(<[Vec<u8>]>::to_vec));
        if &cursor[..] == b"0" {
            keys.sort();
            keys.dedup();
            let items = keys
                .into_iter()
                .flatten()
                .map(|k| Frame::Bulk(k.into()))
                .collect();
            return Ok(vec![
                Frame::Simple("<scan complete>".into()),
                Frame::Array(items),
            ]);
        }
        let mut next = args.to_vec();
        next[cursor_at] = cursor.to_vec();
        reply = conn.send(&next).map_err(|e| format!("{e:#}"))?;
    }
    Err("SCAN did not return to cursor 0 within 100000 calls".into())
}
