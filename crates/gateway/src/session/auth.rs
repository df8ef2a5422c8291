//! Authentication at the endpoint: AUTH and the AUTH option of HELLO are answered
//! by the gateway with the cache's access keys (two may be valid at once, so one can
//! be rotated), in Redis's own words. Nodes never see the client's key.

use super::{error_reply, Session};
use bytes::Bytes;

pub(super) const NOAUTH: &str = "NOAUTH Authentication required.";
pub(super) const NOAUTH_HELLO: &str = "NOAUTH HELLO must be called with the client already \
    authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to \
    authenticate the client and select the RESP protocol version at the same time";
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const NO_PASSWORD: &str = "ERR AUTH <password> called without any password configured for \
    the default user. Are you sure your configuration is correct?";

impl Session {
    /// `AUTH [user] password`: the reply, and the connection authenticated on success.
    pub(super) fn auth_command(&mut self, args: &[&[u8]]) -> Bytes {
        match args.len() {
            2 => self.authenticate(None, args[1]),
            3 => self.authenticate(Some(args[1]), args[2]),
            1 => error_reply("ERR wrong number of arguments for 'auth' command"),
            _ => error_reply("ERR syntax error"),
        }
    }

    /// Checks credentials as Redis checks them for the `default` user, whose
    /// passwords are the access keys. Returns the reply to send.
    pub(super) fn authenticate(&mut self, user: Option<&[u8]>, pass: &[u8]) -> Bytes {
        let keys = self.shared.auth_keys();
        let default_user = user.is_none_or(|u| u == b"default");
        if keys.is_empty() {
            // Without keys the default user has no password: `AUTH pass` is a
            // configuration mistake, `AUTH default anything` succeeds, as in Redis.
            return match user {
                None => error_reply(NO_PASSWORD),
                Some(_) if default_user => {
                    self.authed = true;
                    Bytes::from_static(b"+OK\r\n")
                }
                Some(_) => error_reply(WRONGPASS),
            };
        }
        if default_user && keys.iter().any(|k| constant_time_eq(k.as_bytes(), pass)) {
            self.authed = true;
            Bytes::from_static(b"+OK\r\n")
        } else {
            error_reply(WRONGPASS)
        }
    }
}

/// Compares without an early exit, so timing does not reveal how much of a key matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
