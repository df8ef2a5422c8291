//! A client connection's state as the backend holds it — what a move to another node
//! must replay — tracked from the commands the client sends and the replies they get.
//!
//! Two views are kept. The *confirmed* view changes only when a reply says the command
//! took effect; it is what gets replayed. The *predicted* view changes when a command
//! is forwarded; it decides what to do with the commands that follow it in a pipeline
//! (is the connection inside MULTI? how many confirmations will UNSUBSCRIBE produce?).

use crate::command::Sub;
use bytes::Bytes;
use std::collections::BTreeSet;

/// A state change that takes effect when its command's reply is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Select(i64),
    /// HELLO: the protocol version (if given) and the name (if SETNAME was given).
    Hello {
        resp3: Option<bool>,
        name: Option<Bytes>,
    },
    SetName(Bytes),
    Reset,
}

#[derive(Debug, Default)]
pub struct ConnState {
    // --- confirmed ---
    pub db: i64,
    pub resp3: bool,
    pub name: Option<Bytes>,
    /// Channels, patterns and shard channels, indexed by `Sub::index`.
    pub subs: [BTreeSet<Bytes>; 3],
    // --- predicted ---
    pub in_multi: bool,
    /// Effects of commands queued inside MULTI: they apply when EXEC succeeds.
    pub multi_effects: Vec<Effect>,
    pub watching: bool,
    /// The connection moved to another node while it had a WATCH: its next EXEC
    /// must fail as if a watched key had changed.
    pub watch_broken: bool,
    pub predicted_subs: [BTreeSet<Bytes>; 3],
}

impl ConnState {
    pub fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Select(db) => self.db = db,
            Effect::Hello { resp3, name } => {
                if let Some(r) = resp3 {
                    self.resp3 = r;
                }
                if name.is_some() {
                    self.name = name;
                }
            }
            Effect::SetName(n) => self.name = (!n.is_empty()).then_some(n),
            // RESET: db 0, RESP2, no name, no subscriptions. (Its effect on the
            // transaction and WATCH was predicted when it was forwarded.)
            Effect::Reset => {
                self.db = 0;
                self.resp3 = false;
                self.name = None;
                self.subs = Default::default();
            }
        }
    }

    pub fn subscribed(&self) -> bool {
        self.subs.iter().any(|s| !s.is_empty())
    }

    /// After a backend is lost or replaced, the predictions fall back to what was
    /// confirmed: nothing unconfirmed happened on the new backend. Returns whether
    /// this broke a WATCH.
    pub fn forget_predictions(&mut self) -> bool {
        self.in_multi = false;
        self.multi_effects.clear();
        self.predicted_subs = self.subs.clone();
        let broke = self.watching;
        if broke {
            self.watching = false;
            self.watch_broken = true;
        }
        broke
    }

    /// Predicts a subscribe-family command and returns how many confirmations the
    /// server will send for it.
    pub fn predict_subscription(&mut self, kind: Sub, subscribe: bool, names: &[&[u8]]) -> usize {
        let set = &mut self.predicted_subs[kind.index()];
        if subscribe {
            for n in names {
                set.insert(Bytes::copy_from_slice(n));
            }
            return names.len();
        }
        if names.is_empty() {
            // UNSUBSCRIBE with no names confirms each subscription, or once if none.
            let n = set.len().max(1);
            set.clear();
            return n;
        }
        for n in names {
            set.remove(*n);
        }
        names.len()
    }
}
