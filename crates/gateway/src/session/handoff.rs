//! Handing this connection over to the node that serves it, when that node has a
//! handoff link and the connection is idle in a state the node can take as it is;
//! and picking a connection up again when the node gives it back.

use super::io::take_tcp;
use super::Session;
use crate::handoff::{Adopted, Handover};
use bytes::Bytes;
use ferrocache_handoff::ConnState;
use std::sync::atomic::Ordering;

impl Session {
    /// Idle, plain, authenticated, and in no state that only the gateway keeps
    /// (subscriptions, transactions, WATCH, maintenance pushes, a hold).
    pub(super) fn may_hand_off(&self) -> bool {
        let s = &self.state;
        !self.shared.links.is_empty()
            && self.authed
            && !self.closing
            && self.in_flight.is_empty()
            && self.client_out.is_empty()
            && self.backend_out.is_empty()
            && !self.route.hold
            && self.held_since.is_none()
            && self.reissue.is_none()
            && !self.blocking_outstanding
            && !s.in_multi
            && !s.watching
            && !s.watch_broken
            && !s.subscribed()
            && s.predicted_subs.iter().all(|p| p.is_empty())
            && self.maint.is_none()
            && matches!(self.client_rd, super::ClientRead::Tcp(_))
            && self.backend_gen.is_none_or(|g| g == self.route.generation)
            && self
                .route
                .target
                .and_then(|t| self.shared.links.get(t))
                .is_some_and(|l| l.is_up())
    }

    /// Passes the socket, its state and its unread input to the node. Returns
    /// whether it went; if not, the session goes on (closing the connection if
    /// the socket had already left it).
    pub(super) fn hand_off(&mut self) -> bool {
        let Some(link) = self
            .route
            .target
            .and_then(|t| self.shared.links.get(t))
            .cloned()
        else {
            return false;
        };
        if self.count.is_none() {
            return false;
        }
        let Some(stream) = take_tcp(&mut self.client_rd, &mut self.client_wr) else {
            return false;
        };
        let Some(count) = self.count.take() else {
            return false;
        };
        let state = ConnState {
            db: self.state.db,
            resp3: self.state.resp3,
            name: self.state.name.as_ref().map(|n| n.to_vec()),
            ..Default::default()
        };
        let adopted = Adopted {
            route: self.slot.route,
            moving_to: self.moving_to,
            count,
        };
        let handover = Handover {
            id: self.conn_id,
            adopted,
            state,
            keys: self.shared.auth_keys().as_ref().clone(),
            idle_timeout_ms: self.shared.config.idle_timeout.as_millis() as u64,
            pending: self.inbuf.split().to_vec(),
            stream,
        };
        if link.adopt(handover) {
            self.shared.metrics.handoffs.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        // The link went down in between, and the socket had already left the
        // session: it is closed (the client reconnects); nothing is left here.
        self.closing = true;
        false
    }

    /// A connection the node gave back: its state as the node reported it, and the
    /// input the node had not run, which goes first.
    pub(crate) fn resumed(mut self, state: ConnState, pending: Vec<u8>) -> Session {
        let s = &mut self.state;
        s.db = state.db;
        s.resp3 = state.resp3;
        s.name = state.name.map(Bytes::from);
        for c in state.channels {
            s.subs[crate::command::Sub::Channel.index()].insert(Bytes::from(c));
        }
        for p in state.patterns {
            s.subs[crate::command::Sub::Pattern.index()].insert(Bytes::from(p));
        }
        s.predicted_subs = s.subs.clone();
        // A WATCH does not survive the move; the next EXEC fails as Redis's does
        // when a watched key changed.
        s.watch_broken = state.watching;
        self.authed = true;
        self.inbuf.extend_from_slice(&pending);
        self
    }
}
