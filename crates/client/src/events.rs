//! Maintenance events: the pipe-delimited messages of the `AzureRedisEvents` channel
//! and the RESP3 maintenance push frames (`FAILING_OVER`, `FAILED_OVER`, `MOVING`),
//! parsed into typed values. Parsing never panics and never guesses: a message it
//! cannot use is a [`ParseError`] value, which the client reports as
//! [`Event::Malformed`].

use std::fmt;
use std::net::IpAddr;

/// The pub/sub channel maintenance events are published on.
pub const EVENTS_CHANNEL: &str = "AzureRedisEvents";

/// The `NotificationType` of a maintenance message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NotificationType {
    /// Window-scheduled work, 10–15 minutes ahead (carries the start time).
    NodeMaintenanceScheduled,
    /// About 20 seconds ahead (carries the start time).
    NodeMaintenanceStarting,
    /// Imminent, under 5 seconds ahead (no start time).
    NodeMaintenanceStart,
    /// The replica has been promoted; only when a primary was taken down.
    NodeMaintenanceFailoverComplete,
    /// The node is back and resynchronised (carries the time it ended).
    NodeMaintenanceEnded,
    /// A type this client does not know, kept as sent.
    Unknown(String),
}

impl NotificationType {
    fn parse(s: &str) -> NotificationType {
        const KNOWN: [(&str, NotificationType); 5] = [
            (
                "NodeMaintenanceScheduled",
                NotificationType::NodeMaintenanceScheduled,
            ),
            (
                "NodeMaintenanceStarting",
                NotificationType::NodeMaintenanceStarting,
            ),
            (
                "NodeMaintenanceStart",
                NotificationType::NodeMaintenanceStart,
            ),
            (
                "NodeMaintenanceFailoverComplete",
                NotificationType::NodeMaintenanceFailoverComplete,
            ),
            (
                "NodeMaintenanceEnded",
                NotificationType::NodeMaintenanceEnded,
            ),
        ];
        KNOWN
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|(_, t)| t)
            .unwrap_or_else(|| NotificationType::Unknown(s.to_string()))
    }

    /// The name as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            NotificationType::NodeMaintenanceScheduled => "NodeMaintenanceScheduled",
            NotificationType::NodeMaintenanceStarting => "NodeMaintenanceStarting",
            NotificationType::NodeMaintenanceStart => "NodeMaintenanceStart",
            NotificationType::NodeMaintenanceFailoverComplete => "NodeMaintenanceFailoverComplete",
            NotificationType::NodeMaintenanceEnded => "NodeMaintenanceEnded",
            NotificationType::Unknown(s) => s,
        }
    }
}

impl fmt::Display for NotificationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A time in UTC to the second, as the messages carry it (`yyyy-MM-ddTHH:mm:ss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl UtcTime {
    /// Parses `yyyy-MM-ddTHH:mm:ss`; a trailing `Z` or fraction of a second (which
    /// other publishers add) is accepted and the fraction dropped. `None` if invalid.
    pub fn parse(s: &str) -> Option<UtcTime> {
        let s = s.trim();
        let s = s.strip_suffix(['Z', 'z']).unwrap_or(s);
        let s = match s.find('.') {
            Some(dot) if s[dot + 1..].bytes().all(|b| b.is_ascii_digit()) => &s[..dot],
            _ => s,
        };
        let b = s.as_bytes();
        if b.len() != 19
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let t = UtcTime {
            year: num(0..4)?,
            month: num(5..7)? as u8,
            day: num(8..10)? as u8,
            hour: num(11..13)? as u8,
            minute: num(14..16)? as u8,
            second: num(17..19)? as u8,
        };
        let valid = (1..=12).contains(&t.month)
            && t.day >= 1
            && t.day <= days_in_month(t.year, t.month)
            && t.hour < 24
            && t.minute < 60
            && t.second < 60;
        valid.then_some(t)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        let days = days_from_civil(self.year as i64, self.month as i64, self.day as i64);
        days * 86_400 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64
    }

    /// The time `secs` seconds after the Unix epoch (clamped to years 0–9999).
    pub fn from_unix_seconds(secs: i64) -> UtcTime {
        let secs = secs.clamp(-62_167_219_200, 253_402_300_799);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        UtcTime {
            year: y as u16,
            month: m as u8,
            day: d as u8,
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
        }
    }
}

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil and its inverse (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// One `AzureRedisEvents` message. Fields a message did not carry, or carried with a
/// value that does not parse, are `None`: a garbled port must not hide a
/// `NodeMaintenanceStart`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceEvent {
    pub kind: NotificationType,
    /// `StartTimeInUTC`: when the maintenance starts (or, for `Ended`, ended).
    pub start_time_utc: Option<UtcTime>,
    /// `IsReplica`: whether the node under maintenance is a replica.
    pub is_replica: Option<bool>,
    /// `IPAddress` of the node.
    pub ip_address: Option<IpAddr>,
    /// `SSLPort` of the node.
    pub ssl_port: Option<u16>,
    /// `NonSSLPort` of the node.
    pub non_ssl_port: Option<u16>,
}

impl MaintenanceEvent {
    /// An event of `kind` with no fields, for building messages.
    pub fn new(kind: NotificationType) -> MaintenanceEvent {
        MaintenanceEvent {
            kind,
            start_time_utc: None,
            is_replica: None,
            ip_address: None,
            ssl_port: None,
            non_ssl_port: None,
        }
    }

    /// The message in the wire format, fields in the canonical order, absent ones left
    /// out (`NotificationType|…|StartTimeInUTC|…|IsReplica|False|…`).
    pub fn to_message(&self) -> String {
        let mut parts = vec!["NotificationType".to_string(), self.kind.to_string()];
        let mut push = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                parts.push(k.to_string());
                parts.push(v);
            }
        };
        push("StartTimeInUTC", self.start_time_utc.map(|t| t.to_string()));
        push(
            "IsReplica",
            self.is_replica
                .map(|b| if b { "True" } else { "False" }.to_string()),
        );
        push("IPAddress", self.ip_address.map(|a| a.to_string()));
        push("SSLPort", self.ssl_port.map(|p| p.to_string()));
        push("NonSSLPort", self.non_ssl_port.map(|p| p.to_string()));
        parts.join("|")
    }
}

/// Why a message could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("message is not UTF-8")]
    NotUtf8,
    #[error("empty message")]
    Empty,
    #[error("message has no NotificationType field")]
    MissingNotificationType,
    #[error("push frame {kind} lacks its {field} field")]
    MissingField { kind: String, field: &'static str },
    #[error("push frame {kind} has an invalid {field}: {value}")]
    BadField {
        kind: String,
        field: &'static str,
        value: String,
    },
    #[error("not a maintenance push frame: {0}")]
    NotMaintenance(String),
}

/// Parses one `AzureRedisEvents` message: `key|value` pairs separated by `|`, in any
/// order; keys and the known notification types are matched ignoring ASCII case;
/// unknown keys are ignored, and so is a trailing key without a value. If a key
/// repeats, its first occurrence counts.
pub fn parse_message(payload: &[u8]) -> Result<MaintenanceEvent, ParseError> {
    let text = std::str::from_utf8(payload).map_err(|_| ParseError::NotUtf8)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut kind = None;
    let mut ev = MaintenanceEvent::new(NotificationType::Unknown(String::new()));
    let mut seen = [false; 6];
    let mut it = text.split('|');
    while let (Some(key), Some(value)) = (it.next(), it.next()) {
        let (key, value) = (key.trim(), value.trim());
        let slot = [
            "NotificationType",
            "StartTimeInUTC",
            "IsReplica",
            "IPAddress",
            "SSLPort",
            "NonSSLPort",
        ]
        .iter()
        .position(|k| k.eq_ignore_ascii_case(key));
        let Some(slot) = slot else { continue };
        if std::mem::replace(&mut seen[slot], true) {
            continue;
        }
        match slot {
            0 if !value.is_empty() => kind = Some(NotificationType::parse(value)),
            0 => seen[0] = false,
            1 => ev.start_time_utc = UtcTime::parse(value),
            2 => {
                ev.is_replica = if value.eq_ignore_ascii_case("true") {
                    Some(true)
                } else if value.eq_ignore_ascii_case("false") {
                    Some(false)
                } else {
                    None
                }
            }
            3 => ev.ip_address = value.parse().ok(),
            4 => ev.ssl_port = value.parse().ok(),
            _ => ev.non_ssl_port = value.parse().ok(),
        }
    }
    ev.kind = kind.ok_or(ParseError::MissingNotificationType)?;
    Ok(ev)
}

/// A RESP3 maintenance push frame (sent to connections that opted in with
/// `CLIENT MAINT_NOTIFICATIONS ON`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushNotification {
    /// `FAILING_OVER <seq> <time_s> <shards>`: a failover starts within `time_s` seconds.
    FailingOver {
        seq: i64,
        time_s: i64,
        shards: Vec<String>,
    },
    /// `FAILED_OVER <seq> <shards>`: the failover is done.
    FailedOver { seq: i64, shards: Vec<String> },
    /// `MOVING <seq> <time_s> <host:port>`: the endpoint moves within `time_s` seconds.
    Moving {
        seq: i64,
        time_s: i64,
        endpoint: String,
    },
}

/// The push kinds [`parse_push`] understands.
pub const PUSH_KINDS: [&str; 3] = ["FAILING_OVER", "FAILED_OVER", "MOVING"];

/// Parses a maintenance push frame from its kind and the values after it.
pub fn parse_push(kind: &str, data: &[redis::Value]) -> Result<PushNotification, ParseError> {
    let upper = kind.to_ascii_uppercase();
    let field = |i: usize, name: &'static str| -> Result<&redis::Value, ParseError> {
        data.get(i).ok_or(ParseError::MissingField {
            kind: upper.clone(),
            field: name,
        })
    };
    let int = |i: usize, name: &'static str| -> Result<i64, ParseError> {
        let v = field(i, name)?;
        as_int(v).ok_or_else(|| ParseError::BadField {
            kind: upper.clone(),
            field: name,
            value: show(v),
        })
    };
    match upper.as_str() {
        "FAILING_OVER" => Ok(PushNotification::FailingOver {
            seq: int(0, "seq")?,
            time_s: int(1, "time")?,
            shards: as_list(field(2, "shards")?),
        }),
        "FAILED_OVER" => Ok(PushNotification::FailedOver {
            seq: int(0, "seq")?,
            shards: as_list(field(1, "shards")?),
        }),
        "MOVING" => {
            let seq = int(0, "seq")?;
            let time_s = int(1, "time")?;
            let v = field(2, "endpoint")?;
            let endpoint = as_text(v)
                .filter(|e| {
                    e.rsplit_once(':')
                        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                })
                .ok_or_else(|| ParseError::BadField {
                    kind: upper.clone(),
                    field: "endpoint",
                    value: show(v),
                })?;
            Ok(PushNotification::Moving {
                seq,
                time_s,
                endpoint,
            })
        }
        _ => Err(ParseError::NotMaintenance(kind.to_string())),
    }
}

fn as_text(v: &redis::Value) -> Option<String> {
    match v {
        redis::Value::BulkString(b) => std::str::from_utf8(b).ok().map(str::to_string),
        redis::Value::SimpleString(s) => Some(s.clone()),
        redis::Value::VerbatimString { text, .. } => Some(text.clone()),
        redis::Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn as_int(v: &redis::Value) -> Option<i64> {
    match v {
        redis::Value::Int(i) => Some(*i),
        other => as_text(other)?.trim().parse().ok(),
    }
}

fn as_list(v: &redis::Value) -> Vec<String> {
    match v {
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.iter().filter_map(as_text).collect()
        }
        redis::Value::Nil => Vec::new(),
        other => as_text(other).into_iter().collect(),
    }
}

fn show(v: &redis::Value) -> String {
    as_text(v).unwrap_or_else(|| format!("{v:?}"))
}

/// Where a malformed message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// The maintenance events pub/sub channel.
    Channel,
    /// A RESP3 push frame on the data connection.
    Push,
}

/// What the client's event stream yields, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A message from the maintenance events channel.
    Maintenance(MaintenanceEvent),
    /// A maintenance push frame.
    Push(PushNotification),
    /// A message that could not be parsed, with the reason and the text (lossy UTF-8).
    Malformed {
        source: EventSource,
        raw: String,
        error: ParseError,
    },
    /// The data connection `id` is up (the first, or a reconnect).
    Connected { id: u64 },
    /// The data connection `id` was closed or declared dead, and why.
    Disconnected { id: u64, reason: String },
    /// The client rebuilt everything from scratch after persistent errors (or on request).
    ForceReconnect,
    /// The circuit breaker opened: writes are held (or fail fast).
    BreakerOpened,
    /// The circuit breaker closed; `timed_out` when it reached its bound.
    BreakerClosed { timed_out: bool },
    /// The events subscriber is listening (again) on its own connection.
    Subscribed,
}
