//! Prefetching for pipelined input: before a command of a batch runs, the
//! commands after it are parsed and their first keys' table slots prefetched
//! (`Db::prefetch`), so their cache misses are in flight while the earlier
//! commands run instead of each stalling in turn. The replica's apply loop and
//! a pipelining client's batch both arrive as many commands in one read; this is
//! where their time went (the keyspace lookup was 58% of a replica's profile).

use ferrocache_keyspace::Keyspace;
use ferrocache_resp::{parse_request, ParseLimits, Request, Spans};
use std::collections::VecDeque;

/// Commands prefetched ahead of the one running: enough for the misses to
/// overlap, few enough that the lines are still in cache when they are used.
const DEPTH: usize = 8;

#[derive(Debug, Default)]
pub struct Lookahead {
    /// Where in the buffer the next command to prefetch starts.
    pos: usize,
    /// End positions of the prefetched commands that have not run yet.
    ends: VecDeque<usize>,
    spans: Spans,
}

impl Lookahead {
    /// Forgets positions: call when the buffer's start moved (a new batch).
    pub fn reset(&mut self) {
        self.pos = 0;
        self.ends.clear();
    }

    /// Called before the command starting at `at` runs: keeps the next `DEPTH`
    /// complete commands prefetched in database `db`. The first argument is
    /// taken as the key; for commands without one it is a harmless wasted hint.
    pub fn run(&mut self, buf: &[u8], at: usize, ks: &Keyspace, db: usize, limits: &ParseLimits) {
        while self.ends.front().is_some_and(|&end| end <= at) {
            self.ends.pop_front();
        }
        if self.pos < at {
            self.pos = at;
            self.ends.clear();
        }
        let Some(db) = ks.dbs.get(db) else { return };
        while self.ends.len() < DEPTH {
            let rest = &buf[self.pos..];
            let Ok(Request::Complete(n)) = parse_request(rest, &mut self.spans, limits) else {
                break;
            };
            if let Some(key) = self.spans.arg(rest, 1) {
                db.prefetch(key);
            }
            self.pos += n;
            self.ends.push_back(self.pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_depth_commands_ahead_and_stops_at_a_partial_one() {
        let ks = Keyspace::new(1);
        let cmd = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        let mut buf = cmd.repeat(20);
        buf.extend_from_slice(b"*2\r\n$3\r\nGET");
        let limits = ParseLimits::default();
        let mut la = Lookahead::default();
        la.run(&buf, 0, &ks, 0, &limits);
        assert_eq!(la.pos, DEPTH * cmd.len());
        la.run(&buf, 3 * cmd.len(), &ks, 0, &limits);
        assert_eq!(la.pos, (DEPTH + 3) * cmd.len());
        la.run(&buf, 19 * cmd.len(), &ks, 0, &limits);
        assert_eq!(la.pos, 20 * cmd.len(), "the partial command is left alone");
        la.run(&buf, 0, &ks, 99, &limits);
    }
}
