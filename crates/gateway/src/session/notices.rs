//! `CLIENT MAINT_NOTIFICATIONS` on one connection: the gateway answers the opt-in
//! itself and writes the notices meant for this connection as RESP3 pushes between
//! replies (never inside one: the output only ever holds whole frames).

use super::{Expect, Session};
use crate::maint::{parse_opt_in, Notice};
use crate::state::Effect;
use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};

const NEEDS_RESP3: &str = "ERR CLIENT MAINT_NOTIFICATIONS ON needs RESP3: \
    maintenance notifications are push frames; switch with HELLO 3 first";
const NOT_IN_MULTI: &str = "ERR CLIENT MAINT_NOTIFICATIONS cannot be queued in a \
    transaction through the endpoint";

impl Session {
    /// `CLIENT MAINT_NOTIFICATIONS ON|OFF [moving-endpoint-type TYPE]`.
    pub(super) fn client_maint(&mut self, args: &[&[u8]]) {
        if self.state.in_multi {
            return self.local_error(NOT_IN_MULTI);
        }
        match parse_opt_in(&args[2..]) {
            Err(e) => self.local_error(e),
            Ok(None) => {
                self.maint_off();
                self.local(Bytes::from_static(b"+OK\r\n"), false);
            }
            // The confirmed protocol can still change behind requests in flight
            // (HELLO 3 then this in one pipeline): judge by what will hold then.
            Ok(Some(_)) if !self.resp3_predicted() => self.local_error(NEEDS_RESP3),
            Ok(Some(opt)) => {
                let rx = match self.maint.take() {
                    Some((_, rx)) => rx,
                    None => self.shared.maint.subscribe(),
                };
                self.maint = Some((opt, rx));
                self.local(Bytes::from_static(b"+OK\r\n"), false);
            }
        }
    }

    /// The protocol the connection will speak once the requests in flight are
    /// answered (a HELLO or RESET among them changes it, if it succeeds).
    fn resp3_predicted(&self) -> bool {
        self.in_flight
            .iter()
            .rev()
            .find_map(|e| match e {
                Expect::Effect(Effect::Hello { resp3: Some(r), .. }) => Some(*r),
                Expect::Effect(Effect::Reset) => Some(false),
                _ => None,
            })
            .unwrap_or(self.state.resp3)
    }

    pub(super) fn maint_off(&mut self) {
        self.maint = None;
    }

    pub(super) fn on_notice(&mut self, n: Result<Arc<Notice>, RecvError>) {
        match n {
            Ok(n) => {
                let Some((opt, _)) = &self.maint else { return };
                // A connection back on RESP2 (HELLO 2) cannot take pushes.
                if n.audience == self.slot.route && self.state.resp3 {
                    let frame = n.frame(*opt, self.moving_to);
                    self.client_out.extend_from_slice(&frame);
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(conn = self.conn_id, missed, "maintenance notices missed");
            }
            Err(RecvError::Closed) => self.maint = None,
        }
    }
}

/// The next notice, for `select!` (only polled while the connection opted in).
pub(super) async fn next(
    maint: Option<&mut (crate::maint::OptIn, broadcast::Receiver<Arc<Notice>>)>,
) -> Result<Arc<Notice>, RecvError> {
    match maint {
        Some((_, rx)) => rx.recv().await,
        None => std::future::pending().await,
    }
}
