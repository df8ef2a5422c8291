//! Maintenance events exactly as clients receive them on `AzureRedisEvents`
//! (SYSTEM.md §7): pipe-delimited `Key|Value` pairs, keys case-sensitive and in a fixed
//! order, booleans `True`/`False`, times UTC `yyyy-MM-ddTHH:mm:ss`.

use crate::time::{format_utc, parse_utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The pub/sub channel the events are published on.
pub const EVENTS_CHANNEL: &str = "AzureRedisEvents";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationType {
    NodeMaintenanceScheduled,
    NodeMaintenanceStarting,
    NodeMaintenanceStart,
    NodeMaintenanceFailoverComplete,
    NodeMaintenanceEnded,
}

impl NotificationType {
    pub const ALL: [NotificationType; 5] = [
        NotificationType::NodeMaintenanceScheduled,
        NotificationType::NodeMaintenanceStarting,
        NotificationType::NodeMaintenanceStart,
        NotificationType::NodeMaintenanceFailoverComplete,
        NotificationType::NodeMaintenanceEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::NodeMaintenanceScheduled => "NodeMaintenanceScheduled",
            NotificationType::NodeMaintenanceStarting => "NodeMaintenanceStarting",
            NotificationType::NodeMaintenanceStart => "NodeMaintenanceStart",
            NotificationType::NodeMaintenanceFailoverComplete => "NodeMaintenanceFailoverComplete",
            NotificationType::NodeMaintenanceEnded => "NodeMaintenanceEnded",
        }
    }

    /// Whether the event carries `StartTimeInUTC`: Start and FailoverComplete do not
    /// ("fired immediately before" / "has already occurred").
    pub fn has_start_time(self) -> bool {
        !matches!(
            self,
            NotificationType::NodeMaintenanceStart
                | NotificationType::NodeMaintenanceFailoverComplete
        )
    }
}

impl fmt::Display for NotificationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event about one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceEvent {
    pub kind: NotificationType,
    /// Unix seconds; present exactly when `kind.has_start_time()`.
    pub start_time: Option<i64>,
    pub is_replica: bool,
    pub ip: String,
    /// The node's direct TLS and plain ports (the gateway's 15000+i / 13000+i).
    pub ssl_port: u16,
    pub non_ssl_port: u16,
}

impl MaintenanceEvent {
    /// The message text, e.g.
    /// `NotificationType|NodeMaintenanceStarting|StartTimeInUTC|2026-11-23T16:34:46|IsReplica|False|IPAddress|127.0.0.1|SSLPort|15001|NonSSLPort|13001`.
    pub fn to_wire(&self) -> String {
        let mut s = format!("NotificationType|{}", self.kind);
        if let (true, Some(t)) = (self.kind.has_start_time(), self.start_time) {
            s.push_str("|StartTimeInUTC|");
            s.push_str(&format_utc(t));
        }
        let b = if self.is_replica { "True" } else { "False" };
        s.push_str(&format!(
            "|IsReplica|{b}|IPAddress|{}|SSLPort|{}|NonSSLPort|{}",
            self.ip, self.ssl_port, self.non_ssl_port
        ));
        s
    }

    /// Parses a message in exactly the wire format (order and case included).
    pub fn parse(text: &str) -> Result<MaintenanceEvent, String> {
        let parts: Vec<&str> = text.split('|').collect();
        let mut it = parts.chunks(2);
        let mut field = |key: &str| -> Result<&str, String> {
            match it.next() {
                Some([k, v]) if *k == key => Ok(*v),
                Some(other) => Err(format!("expected {key}, found {:?}", other.first())),
                None => Err(format!("missing {key}")),
            }
        };
        let kind_text = field("NotificationType")?;
        let kind = NotificationType::ALL
            .into_iter()
            .find(|k| k.as_str() == kind_text)
            .ok_or_else(|| format!("unknown NotificationType {kind_text}"))?;
        let start_time = if kind.has_start_time() {
            let t = field("StartTimeInUTC")?;
            Some(parse_utc(t).ok_or_else(|| format!("bad StartTimeInUTC {t}"))?)
        } else {
            None
        };
        let is_replica = match field("IsReplica")? {
            "True" => true,
            "False" => false,
            other => return Err(format!("bad IsReplica {other}")),
        };
        let ip = field("IPAddress")?.to_string();
        let port = |v: &str| v.parse::<u16>().map_err(|_| format!("bad port {v}"));
        let ssl_port = port(field("SSLPort")?)?;
        let non_ssl_port = port(field("NonSSLPort")?)?;
        if it.next().is_some() {
            return Err("trailing fields".into());
        }
        Ok(MaintenanceEvent {
            kind,
            start_time,
            is_replica,
            ip,
            ssl_port,
            non_ssl_port,
        })
    }
}

/// An event as the service recorded it (`GET /caches/{name}/events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub id: u64,
    pub cache: String,
    pub shard: usize,
    pub node: usize,
    /// When it was published (Unix milliseconds).
    pub published_ms: i64,
    /// The exact message text.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: NotificationType, replica: bool) -> MaintenanceEvent {
        MaintenanceEvent {
            kind,
            start_time: Some(1_795_451_686),
            is_replica: replica,
            ip: "127.0.0.1".into(),
            ssl_port: 15001,
            non_ssl_port: 13001,
        }
    }

    #[test]
    fn seed_format() {
        assert_eq!(
            ev(NotificationType::NodeMaintenanceStarting, false).to_wire(),
            "NotificationType|NodeMaintenanceStarting|StartTimeInUTC|2026-11-23T16:34:46|IsReplica|False|IPAddress|127.0.0.1|SSLPort|15001|NonSSLPort|13001"
        );
        assert_eq!(
            ev(NotificationType::NodeMaintenanceStart, true).to_wire(),
            "NotificationType|NodeMaintenanceStart|IsReplica|True|IPAddress|127.0.0.1|SSLPort|15001|NonSSLPort|13001"
        );
        assert_eq!(
            ev(NotificationType::NodeMaintenanceFailoverComplete, false).to_wire(),
            "NotificationType|NodeMaintenanceFailoverComplete|IsReplica|False|IPAddress|127.0.0.1|SSLPort|15001|NonSSLPort|13001"
        );
    }

    #[test]
    fn round_trip_and_refusals() {
        for k in NotificationType::ALL {
            let mut e = ev(k, true);
            if !k.has_start_time() {
                e.start_time = None;
            }
            assert_eq!(MaintenanceEvent::parse(&e.to_wire()), Ok(e));
        }
        assert!(MaintenanceEvent::parse("").is_err());
        assert!(MaintenanceEvent::parse("notificationtype|NodeMaintenanceStart").is_err());
        assert!(MaintenanceEvent::parse(
            "NotificationType|NodeMaintenanceStart|IsReplica|true|IPAddress|x|SSLPort|1|NonSSLPort|2"
        )
        .is_err());
    }
}
