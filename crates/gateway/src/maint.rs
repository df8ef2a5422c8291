//! Maintenance push frames for connections that opted in with
//! `CLIENT MAINT_NOTIFICATIONS ON` (SYSTEM.md §7): `FAILING_OVER`, `FAILED_OVER` and
//! `MOVING`, the notices current Redis clients act on (relaxing timeouts while a
//! failover runs, reconnecting elsewhere before a node goes away).
//!
//! The gateway answers the opt-in itself rather than forwarding it: nodes (Redis 7
//! among them) may not know the command, and only the endpoint knows which client
//! connections a maintenance touches. The management service announces each moment
//! over the admin API; every opted-in connection of the audience gets the frame.

use crate::route::RouteKey;
use bytes::Bytes;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Notices waiting for a slow connection before it starts missing some.
const BACKLOG: usize = 64;

/// What a notice tells its audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    /// The shard's primary will be handed over within `seconds`.
    FailingOver { seconds: u64, shard: usize },
    /// The hand-over of the shard's primary is done.
    FailedOver { shard: usize },
    /// This node goes away within `seconds`: reconnect to the endpoint.
    Moving { seconds: u64 },
}

/// One announcement, for the connections of one route.
#[derive(Debug)]
pub struct Notice {
    pub seq: u64,
    pub audience: RouteKey,
    pub kind: NoticeKind,
}

/// Where a `MOVING` notice sends a client, by the option it opted in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointType {
    /// An address (`internal-ip`, `external-ip`, and the `-fqdn` forms, for which
    /// the gateway has no name other than its address).
    Address,
    /// `none`: the client reconnects to the address it already uses.
    None,
}

/// A connection's opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptIn {
    pub endpoint_type: EndpointType,
}

/// The announcements channel every opted-in connection listens to.
pub struct Maint {
    tx: broadcast::Sender<Arc<Notice>>,
    seq: AtomicU64,
}

impl Default for Maint {
    fn default() -> Self {
        Maint {
            tx: broadcast::Sender::new(BACKLOG),
            seq: AtomicU64::new(0),
        }
    }
}

impl Maint {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Notice>> {
        self.tx.subscribe()
    }

    /// Sends a notice; returns its sequence number and how many connections listen.
    pub fn announce(&self, audience: RouteKey, kind: NoticeKind) -> (u64, usize) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let listeners = self
            .tx
            .send(Arc::new(Notice {
                seq,
                audience,
                kind,
            }))
            .unwrap_or(0);
        (seq, listeners)
    }
}

impl Notice {
    /// The RESP3 push frame, for a connection that opted in with `opt` and reaches
    /// the gateway at `endpoint` (a `MOVING` client goes to the same kind of port).
    pub fn frame(&self, opt: OptIn, endpoint: Option<SocketAddr>) -> Bytes {
        let mut f = String::with_capacity(64);
        let bulk = |f: &mut String, s: &str| {
            let _ = write!(f, "${}\r\n{s}\r\n", s.len());
        };
        match &self.kind {
            NoticeKind::FailingOver { seconds, shard } => {
                let _ = write!(f, ">4\r\n");
                bulk(&mut f, "FAILING_OVER");
                let _ = write!(f, ":{}\r\n:{seconds}\r\n", self.seq);
                bulk(&mut f, &shard.to_string());
            }
            NoticeKind::FailedOver { shard } => {
                let _ = write!(f, ">3\r\n");
                bulk(&mut f, "FAILED_OVER");
                let _ = write!(f, ":{}\r\n", self.seq);
                bulk(&mut f, &shard.to_string());
            }
            NoticeKind::Moving { seconds } => {
                let _ = write!(f, ">4\r\n");
                bulk(&mut f, "MOVING");
                let _ = write!(f, ":{}\r\n:{seconds}\r\n", self.seq);
                match (opt.endpoint_type, endpoint) {
                    (EndpointType::Address, Some(a)) => bulk(&mut f, &a.to_string()),
                    _ => f.push_str("_\r\n"),
                }
            }
        }
        Bytes::from(f)
    }
}

/// Parses the arguments after `CLIENT MAINT_NOTIFICATIONS`: `ON|OFF
/// [moving-endpoint-type TYPE]`. `Ok(None)` is OFF.
pub fn parse_opt_in(args: &[&[u8]]) -> Result<Option<OptIn>, &'static str> {
    let Some((switch, options)) = args.split_first() else {
        return Err("ERR wrong number of arguments for 'client|maint_notifications' command");
    };
    let on = if switch.eq_ignore_ascii_case(b"on") {
        true
    } else if switch.eq_ignore_ascii_case(b"off") {
        false
    } else {
        return Err("ERR syntax error");
    };
    let mut endpoint_type = EndpointType::Address;
    let mut rest = options;
    while let Some((name, tail)) = rest.split_first() {
        let Some((value, tail)) = tail.split_first() else {
            return Err("ERR syntax error");
        };
        if !name.eq_ignore_ascii_case(b"moving-endpoint-type") {
            return Err("ERR syntax error");
        }
        endpoint_type = match value.to_ascii_lowercase().as_slice() {
            b"internal-ip" | b"external-ip" | b"internal-fqdn" | b"external-fqdn" => {
                EndpointType::Address
            }
            b"none" => EndpointType::None,
            _ => return Err("ERR syntax error"),
        };
        rest = tail;
    }
    Ok(on.then_some(OptIn { endpoint_type }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(t: EndpointType) -> OptIn {
        OptIn { endpoint_type: t }
    }

    #[test]
    fn frames_are_resp3_pushes() {
        let n = Notice {
            seq: 7,
            audience: RouteKey::Endpoint,
            kind: NoticeKind::FailingOver {
                seconds: 5,
                shard: 0,
            },
        };
        let f = n.frame(opt(EndpointType::Address), None);
        assert_eq!(
            &f[..],
            b">4\r\n$12\r\nFAILING_OVER\r\n:7\r\n:5\r\n$1\r\n0\r\n"
        );
        let n = Notice {
            seq: 8,
            audience: RouteKey::Endpoint,
            kind: NoticeKind::FailedOver { shard: 0 },
        };
        let f = n.frame(opt(EndpointType::Address), None);
        assert_eq!(&f[..], b">3\r\n$11\r\nFAILED_OVER\r\n:8\r\n$1\r\n0\r\n");
        let n = Notice {
            seq: 9,
            audience: RouteKey::Node(1),
            kind: NoticeKind::Moving { seconds: 3 },
        };
        let addr: SocketAddr = "127.0.0.1:6379".parse().unwrap();
        let f = n.frame(opt(EndpointType::Address), Some(addr));
        assert_eq!(
            &f[..],
            b">4\r\n$6\r\nMOVING\r\n:9\r\n:3\r\n$14\r\n127.0.0.1:6379\r\n"
        );
        let f = n.frame(opt(EndpointType::None), Some(addr));
        assert_eq!(&f[..], b">4\r\n$6\r\nMOVING\r\n:9\r\n:3\r\n_\r\n");
    }

    #[test]
    fn opt_in_arguments() {
        let on = Ok(Some(opt(EndpointType::Address)));
        assert_eq!(parse_opt_in(&[b"ON"]), on);
        assert_eq!(
            parse_opt_in(&[b"on", b"moving-endpoint-type", b"internal-ip"]),
            on
        );
        assert_eq!(
            parse_opt_in(&[b"ON", b"MOVING-ENDPOINT-TYPE", b"none"]),
            Ok(Some(opt(EndpointType::None)))
        );
        assert_eq!(parse_opt_in(&[b"off"]), Ok(None));
        assert!(parse_opt_in(&[]).is_err());
        assert_eq!(parse_opt_in(&[b"maybe"]), Err("ERR syntax error"));
        assert_eq!(
            parse_opt_in(&[b"ON", b"moving-endpoint-type"]),
            Err("ERR syntax error")
        );
        assert_eq!(
            parse_opt_in(&[b"ON", b"moving-endpoint-type", b"carrier-pigeon"]),
            Err("ERR syntax error")
        );
    }
}
