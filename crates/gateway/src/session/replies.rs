//! Backend → client: find each complete frame, tell pub/sub traffic from replies,
//! match each reply to the request at the head of the in-flight queue, apply the
//! state change it confirms, and relay it (or swallow it, for replayed state).

use super::{Expect, Session};
use crate::command::Sub;
use crate::reply::{scan, Kind, Scanned};
use bytes::Bytes;
use ferrocache_resp::{decode, Frame};
use std::sync::atomic::Ordering;

impl Session {
    pub(super) fn process_replies(&mut self) {
        if self.binbuf.is_empty() {
            return;
        }
        let buf = std::mem::take(&mut self.binbuf);
        let mut pos = 0;
        let mut lost = false;
        while pos < buf.len() && !self.closing {
            match scan(&buf[pos..]) {
                Ok(Some(s)) => {
                    self.flush_locals();
                    self.on_frame(s, &buf[pos..pos + s.len]);
                    pos += s.len;
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(conn = self.conn_id, "the node sent an invalid reply: {e}");
                    lost = true;
                    break;
                }
            }
        }
        self.binbuf = buf;
        let _ = self.binbuf.split_to(pos);
        if lost {
            self.backend_lost("invalid reply");
        }
    }

    fn relay(&mut self, frame: &[u8]) {
        self.client_out.extend_from_slice(frame);
    }

    fn on_frame(&mut self, s: Scanned, frame: &[u8]) {
        let head = s.head(frame);
        // A push (RESP3), or in RESP2 an array while subscribed, may be pub/sub traffic
        // rather than a reply.
        let maybe_pubsub = match s.kind {
            Kind::Push => true,
            Kind::Array(_) => !self.state.resp3,
            _ => false,
        };
        if maybe_pubsub {
            if let Some(kind) = head.and_then(confirmation) {
                // In RESP2 an array starting with "subscribe" is a confirmation only
                // where one can arrive (otherwise it is, say, an LRANGE reply).
                let expected = matches!(self.in_flight.front(), Some(Expect::PubSub { .. }));
                if s.kind == Kind::Push || expected || self.state.subscribed() {
                    return self.on_confirmation(kind, frame);
                }
            }
            let message = head.is_some_and(|h| {
                h.eq_ignore_ascii_case(b"message")
                    || h.eq_ignore_ascii_case(b"pmessage")
                    || h.eq_ignore_ascii_case(b"smessage")
            });
            if s.kind == Kind::Push || (message && self.state.subscribed()) {
                // Messages, invalidations, maintenance pushes: not replies.
                return self.relay(frame);
            }
        }
        let Some(expect) = self.in_flight.pop_front() else {
            tracing::warn!(
                conn = self.conn_id,
                "the node sent a reply nobody asked for; closing"
            );
            self.closing = true;
            return;
        };
        let is_error = s.kind == Kind::Error;
        match expect {
            Expect::Relay => self.relay(frame),
            Expect::Local(reply, close) => {
                // flush_locals ran before this frame; keep order anyway.
                self.in_flight.push_front(Expect::Local(reply, close));
                self.flush_locals();
                self.on_frame(s, frame);
            }
            Expect::Replay | Expect::PubSub { swallow: true, .. } => {
                if is_error {
                    tracing::warn!(
                        conn = self.conn_id,
                        reply = %String::from_utf8_lossy(frame).trim_end(),
                        "could not restore the connection's state on the node; closing it"
                    );
                    self.closing = true;
                }
            }
            Expect::CaptureId => {
                if let Kind::Integer(id) = s.kind {
                    self.client_id = Some(id);
                }
            }
            Expect::Effect(effect) => {
                if !is_error {
                    self.state.apply(effect);
                }
                self.relay(frame);
            }
            // Not a confirmation: an error (bad arguments, or not allowed in context).
            Expect::PubSub { .. } => self.relay(frame),
            Expect::Blocking { raw, unblock_sent } => {
                self.blocking_outstanding = false;
                if unblock_sent && s.kind == Kind::Null {
                    // Our CLIENT UNBLOCK ended it: issue it again after the switch.
                    self.shared
                        .metrics
                        .blocking_reissued
                        .fetch_add(1, Ordering::Relaxed);
                    self.reissue = Some(raw);
                } else {
                    self.relay(frame);
                }
            }
            Expect::Exec(effects) => {
                if matches!(s.kind, Kind::Array(_)) {
                    for e in effects {
                        self.state.apply(e);
                    }
                }
                self.relay(frame);
            }
            Expect::ExecAborted => {
                // What EXEC answers when a watched key changed.
                let null: &[u8] = if self.state.resp3 {
                    b"_\r\n"
                } else {
                    b"*-1\r\n"
                };
                self.relay(null);
            }
        }
    }

    /// A subscribe-family confirmation: it updates the subscriptions and counts
    /// towards the subscribe command at the head of the queue.
    fn on_confirmation(&mut self, (kind, subscribe): (Sub, bool), frame: &[u8]) {
        if let Ok(Some((Frame::Array(items) | Frame::Push(items), _))) = decode(frame) {
            let set = &mut self.state.subs[kind.index()];
            match items.get(1) {
                Some(Frame::Bulk(name) | Frame::Simple(name)) if subscribe => {
                    set.insert(name.clone());
                }
                Some(Frame::Bulk(name) | Frame::Simple(name)) => {
                    set.remove::<Bytes>(name);
                }
                _ => {}
            }
        }
        match self.in_flight.front_mut() {
            Some(Expect::PubSub { remaining, swallow }) => {
                let swallow = *swallow;
                *remaining = remaining.saturating_sub(1);
                if *remaining == 0 {
                    self.in_flight.pop_front();
                }
                if !swallow {
                    self.relay(frame);
                }
            }
            // Unasked for (e.g. the node dropped a shard channel): pass it on.
            _ => self.relay(frame),
        }
    }
}

/// Which subscription a confirmation frame's first element names, and whether it
/// subscribes (`true`) or unsubscribes.
fn confirmation(head: &[u8]) -> Option<(Sub, bool)> {
    let lower = |s: &str| head.eq_ignore_ascii_case(s.as_bytes());
    Some(match head.len() {
        9 if lower("subscribe") => (Sub::Channel, true),
        10 if lower("psubscribe") => (Sub::Pattern, true),
        10 if lower("ssubscribe") => (Sub::Shard, true),
        11 if lower("unsubscribe") => (Sub::Channel, false),
        12 if lower("punsubscribe") => (Sub::Pattern, false),
        12 if lower("sunsubscribe") => (Sub::Shard, false),
        _ => return None,
    })
}
