//! Client → backend: find each complete request, decide what it means for the
//! connection (forward as is, rewrite, answer locally, hold), and forward it.

use super::auth::{NOAUTH, NOAUTH_HELLO};
use super::backend::encoded;
use super::{error_reply, Expect, Session};
use crate::command::{classify, Cmd};
use crate::state::Effect;
use bytes::Bytes;
use ferrocache_resp::{parse_request, ParseLimits, Request};
use std::sync::atomic::Ordering;
use tokio::time::Instant;

/// What held requests get once the hold deadline passes: they were never sent to a
/// node, so retrying them is always safe.
pub(crate) const HOLD_EXPIRED: &str = "TRYAGAIN the endpoint held this request while the \
    shard's primary was being switched or was unreachable, and the hold deadline passed; \
    it was not executed, retry it";

impl Session {
    /// Whether the next request may go to the backend now.
    fn can_forward(&self) -> bool {
        let in_multi = self.state.in_multi;
        self.bwr.is_some()
            && (self.backend_gen == Some(self.route.generation) || in_multi)
            && (!self.route.hold || in_multi)
            && !self.blocking_outstanding
    }

    /// Forwards every complete request that may go now, in arrival order.
    pub(super) fn pump(&mut self) {
        if self.closing {
            return;
        }
        let mut forwarded = 0u64;
        if self.reissue.is_some() && self.can_forward() {
            if let Some(raw) = self.reissue.take() {
                self.forward_blocking(raw);
                forwarded += 1;
            }
        }
        let inbuf = std::mem::take(&mut self.inbuf);
        let mut spans = std::mem::take(&mut self.spans);
        let limits = ParseLimits::default();
        let mut pos = 0;
        let mut held = self.reissue.is_some();
        while pos < inbuf.len() && !self.closing {
            if !self.can_forward() {
                // Waiting behind a blocking command is Redis's own behaviour, not a hold.
                held = !self.blocking_outstanding;
                break;
            }
            match parse_request(&inbuf[pos..], &mut spans, &limits) {
                Ok(Request::Incomplete(_)) => break,
                Ok(Request::Complete(n)) => {
                    let raw = &inbuf[pos..pos + n];
                    let mut args = Vec::with_capacity(spans.len());
                    spans.collect(raw, &mut args);
                    self.handle_request(&args, raw);
                    pos += n;
                    forwarded += 1;
                }
                Err(e) => {
                    // Redis answers a framing error and closes the connection.
                    self.local(error_reply(&format!("ERR {e}")), true);
                    pos = inbuf.len();
                }
            }
        }
        self.spans = spans;
        self.inbuf = inbuf;
        let _ = self.inbuf.split_to(pos);
        if forwarded > 0 {
            self.shared
                .metrics
                .requests_forwarded
                .fetch_add(forwarded, Ordering::Relaxed);
        }
        match (held, self.held_since) {
            (true, None) => self.held_since = Some(Instant::now()),
            (false, Some(since)) => {
                self.shared.metrics.record_hold(since.elapsed(), forwarded);
                self.held_since = None;
            }
            _ => {}
        }
    }

    /// The hold deadline passed: every complete request still held is answered with
    /// an error, in order, without being executed.
    pub(super) fn fail_held(&mut self) {
        let Some(since) = self.held_since.take() else {
            return;
        };
        let mut failed = 0u64;
        if self.reissue.take().is_some() {
            self.local_error(HOLD_EXPIRED);
            failed += 1;
        }
        let inbuf = std::mem::take(&mut self.inbuf);
        let mut spans = std::mem::take(&mut self.spans);
        let limits = ParseLimits::default();
        let mut pos = 0;
        while pos < inbuf.len() {
            match parse_request(&inbuf[pos..], &mut spans, &limits) {
                Ok(Request::Complete(n)) => {
                    if !spans.is_empty() {
                        self.local_error(HOLD_EXPIRED);
                        failed += 1;
                    }
                    pos += n;
                }
                Ok(Request::Incomplete(_)) => break,
                Err(e) => {
                    self.local(error_reply(&format!("ERR {e}")), true);
                    pos = inbuf.len();
                }
            }
        }
        self.spans = spans;
        self.inbuf = inbuf;
        let _ = self.inbuf.split_to(pos);
        let m = &self.shared.metrics;
        m.requests_hold_timed_out
            .fetch_add(failed, Ordering::Relaxed);
        m.record_hold(since.elapsed(), failed);
    }

    fn forward(&mut self, raw: &[u8], expect: Expect) {
        self.backend_out.extend_from_slice(raw);
        self.in_flight.push_back(expect);
    }

    fn forward_blocking(&mut self, raw: Bytes) {
        if self.client_id.is_none() {
            // Learn the node's id for this connection, to unblock it at a switch.
            self.forward(&encoded(&[b"CLIENT", b"ID"]), Expect::CaptureId);
        }
        self.backend_out.extend_from_slice(&raw);
        self.in_flight.push_back(Expect::Blocking {
            raw,
            unblock_sent: false,
        });
        self.blocking_outstanding = true;
    }

    fn handle_request(&mut self, args: &[&[u8]], raw: &[u8]) {
        if args.is_empty() {
            return; // Redis ignores empty requests.
        }
        let cmd = classify(args);
        if !self.authed && !matches!(cmd, Cmd::Auth | Cmd::Hello | Cmd::Quit) {
            self.local_error(NOAUTH);
            return;
        }
        match cmd {
            Cmd::Auth => {
                let reply = self.auth_command(args);
                self.local(reply, false);
            }
            Cmd::Hello => self.hello(args, raw),
            Cmd::Quit => self.local(Bytes::from_static(b"+OK\r\n"), true),
            Cmd::ClientReply => {
                self.local_error("ERR CLIENT REPLY is not supported through the endpoint")
            }
            Cmd::Monitor => self.local_error(
                "ERR MONITOR is not supported through the endpoint; \
                 run it on the node itself",
            ),
            Cmd::Reset => {
                // RESET runs at once even inside MULTI, and de-authenticates.
                let s = &mut self.state;
                s.in_multi = false;
                s.multi_effects.clear();
                s.watching = false;
                s.watch_broken = false;
                s.predicted_subs = Default::default();
                self.authed = self.shared.auth_keys().is_empty();
                self.maint_off();
                self.forward(raw, Expect::Effect(Effect::Reset));
            }
            Cmd::ClientMaint => self.client_maint(args),
            _ if self.state.in_multi => self.in_transaction(cmd, args, raw),
            Cmd::Multi => {
                self.state.in_multi = true;
                self.forward(raw, Expect::Relay);
            }
            Cmd::Watch => {
                self.state.watching = true;
                self.forward(raw, Expect::Relay);
            }
            Cmd::Unwatch => {
                self.state.watching = false;
                self.state.watch_broken = false;
                self.forward(raw, Expect::Relay);
            }
            Cmd::Subscribe(kind) | Cmd::Unsubscribe(kind) => {
                let subscribe = matches!(cmd, Cmd::Subscribe(_));
                if subscribe && args.len() < 2 {
                    self.forward(raw, Expect::Relay); // arity error: one reply
                    return;
                }
                let n = self.state.predict_subscription(kind, subscribe, &args[1..]);
                self.forward(
                    raw,
                    Expect::PubSub {
                        remaining: n,
                        swallow: false,
                    },
                );
            }
            Cmd::Blocking => self.forward_blocking(Bytes::copy_from_slice(raw)),
            _ => match effect_of(cmd, args) {
                Some(e) => self.forward(raw, Expect::Effect(e)),
                None => self.forward(raw, Expect::Relay),
            },
        }
    }

    /// Inside MULTI everything is queued by the node (`+QUEUED`); state changes wait
    /// for EXEC.
    fn in_transaction(&mut self, cmd: Cmd, args: &[&[u8]], raw: &[u8]) {
        let s = &mut self.state;
        match cmd {
            Cmd::Exec => {
                s.in_multi = false;
                s.watching = false;
                let effects = std::mem::take(&mut s.multi_effects);
                if std::mem::take(&mut s.watch_broken) {
                    self.forward(&encoded(&[b"DISCARD"]), Expect::ExecAborted);
                } else {
                    self.forward(raw, Expect::Exec(effects));
                }
            }
            Cmd::Discard => {
                s.in_multi = false;
                s.watching = false;
                s.watch_broken = false;
                s.multi_effects.clear();
                self.forward(raw, Expect::Relay);
            }
            _ => {
                if let Some(e) = effect_of(cmd, args) {
                    s.multi_effects.push(e);
                }
                self.forward(raw, Expect::Relay);
            }
        }
    }

    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`: the gateway checks AUTH
    /// itself and forwards the rest, so the node answers with its own server map.
    fn hello(&mut self, args: &[&[u8]], raw: &[u8]) {
        let resp3 = match args.get(1) {
            None => None,
            Some(v) => match std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.parse::<i64>().ok())
            {
                Some(2) => Some(false),
                Some(3) => Some(true),
                // The node answers NOPROTO (or its syntax error) in Redis's words.
                _ => return self.forward(raw, Expect::Relay),
            },
        };
        let mut keep: Vec<&[u8]> = args[..args.len().min(2)].to_vec();
        let mut auth = None;
        let mut name = None;
        let mut i = 2;
        while i < args.len() {
            let opt = args[i];
            if opt.eq_ignore_ascii_case(b"auth") && i + 2 < args.len() {
                auth = Some((args[i + 1], args[i + 2]));
                i += 3;
            } else if opt.eq_ignore_ascii_case(b"setname") && i + 1 < args.len() {
                name = Some(Bytes::copy_from_slice(args[i + 1]));
                keep.extend_from_slice(&args[i..i + 2]);
                i += 2;
            } else {
                // A syntax error: the node reports it, and (as in Redis) no AUTH applies.
                keep.extend_from_slice(&args[i..]);
                return self.forward(&encoded(&keep), Expect::Relay);
            }
        }
        match auth {
            Some((user, pass)) => {
                let reply = self.authenticate(Some(user), pass);
                if reply.first() == Some(&b'-') {
                    return self.local(reply, false);
                }
                let effect = Expect::Effect(Effect::Hello { resp3, name });
                self.forward(&encoded(&keep), effect);
            }
            None if !self.authed => self.local_error(NOAUTH_HELLO),
            None => self.forward(raw, Expect::Effect(Effect::Hello { resp3, name })),
        }
    }
}

/// The state change a command makes if it succeeds (outside or inside MULTI).
fn effect_of(cmd: Cmd, args: &[&[u8]]) -> Option<Effect> {
    match (cmd, args.len()) {
        (Cmd::Select, 2) => {
            let db = std::str::from_utf8(args[1]).ok()?.parse().ok()?;
            Some(Effect::Select(db))
        }
        (Cmd::ClientSetName, 3) => Some(Effect::SetName(Bytes::copy_from_slice(args[2]))),
        _ => None,
    }
}
