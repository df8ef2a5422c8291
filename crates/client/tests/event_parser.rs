//! The maintenance event parsers: every notification type, field order variations,
//! extra and missing fields, garbage, push frames, and a property test that no input
//! makes them panic.

use ferrocache_client::{
    parse_message, parse_push, MaintenanceEvent, NotificationType as T, ParseError,
    PushNotification, UtcTime,
};
use proptest::prelude::*;
use redis::Value;
use std::net::IpAddr;

const SAMPLE: &str = "NotificationType|NodeMaintenanceStarting|StartTimeInUTC|2026-11-23T16:34:46|IsReplica|False|IPAddress|127.0.0.1|SSLPort|15001|NonSSLPort|13001";

fn time(s: &str) -> UtcTime {
    UtcTime::parse(s).expect("valid time")
}

#[test]
fn parses_the_documented_sample() {
    let ev = parse_message(SAMPLE.as_bytes()).unwrap();
    assert_eq!(
        ev,
        MaintenanceEvent {
            kind: T::NodeMaintenanceStarting,
            start_time_utc: Some(time("2026-11-23T16:34:46")),
            is_replica: Some(false),
            ip_address: Some("127.0.0.1".parse::<IpAddr>().unwrap()),
            ssl_port: Some(15001),
            non_ssl_port: Some(13001),
        }
    );
    // And writes it back byte for byte.
    assert_eq!(ev.to_message(), SAMPLE);
}

#[test]
fn every_notification_type() {
    let cases = [
        (
            "NodeMaintenanceScheduled",
            T::NodeMaintenanceScheduled,
            true,
        ),
        ("NodeMaintenanceStarting", T::NodeMaintenanceStarting, true),
        ("NodeMaintenanceStart", T::NodeMaintenanceStart, false),
        (
            "NodeMaintenanceFailoverComplete",
            T::NodeMaintenanceFailoverComplete,
            false,
        ),
        ("NodeMaintenanceEnded", T::NodeMaintenanceEnded, true),
    ];
    for (name, kind, with_time) in cases {
        let msg = if with_time {
            format!("NotificationType|{name}|StartTimeInUTC|2026-01-02T03:04:05|IsReplica|True|IPAddress|10.0.0.4|SSLPort|15000|NonSSLPort|13000")
        } else {
            format!("NotificationType|{name}|IsReplica|True|IPAddress|10.0.0.4|SSLPort|15000|NonSSLPort|13000")
        };
        let ev = parse_message(msg.as_bytes()).unwrap();
        assert_eq!(ev.kind, kind, "{msg}");
        assert_eq!(ev.kind.as_str(), name);
        assert_eq!(ev.start_time_utc.is_some(), with_time, "{msg}");
        assert_eq!(ev.is_replica, Some(true));
        assert_eq!(ev.ssl_port, Some(15000));
        assert_eq!(ev.non_ssl_port, Some(13000));
        assert_eq!(ev.to_message(), msg);
    }
}

#[test]
fn unknown_types_are_kept() {
    let ev = parse_message(b"NotificationType|NodeMaintenanceTeleport|IsReplica|False").unwrap();
    assert_eq!(ev.kind, T::Unknown("NodeMaintenanceTeleport".into()));
    assert_eq!(ev.is_replica, Some(false));
}

#[test]
fn fields_in_any_order_and_extra_fields_ignored() {
    let shuffled = "NonSSLPort|13001|IsReplica|False|Colour|Blue|NotificationType|NodeMaintenanceStarting|SSLPort|15001|IPAddress|127.0.0.1|StartTimeInUTC|2026-11-23T16:34:46|Another|x";
    assert_eq!(
        parse_message(shuffled.as_bytes()).unwrap(),
        parse_message(SAMPLE.as_bytes()).unwrap()
    );
    // Keys and types ignore ASCII case; surrounding whitespace is dropped.
    let shouty = " notificationtype|NODEMAINTENANCESTART|isreplica|true \r\n";
    let ev = parse_message(shouty.as_bytes()).unwrap();
    assert_eq!(ev.kind, T::NodeMaintenanceStart);
    assert_eq!(ev.is_replica, Some(true));
}

#[test]
fn bad_values_leave_the_field_empty() {
    let msg = "NotificationType|NodeMaintenanceStart|StartTimeInUTC|2026-02-30T00:00:00|IsReplica|maybe|IPAddress|not-an-ip|SSLPort|70000|NonSSLPort|-1";
    let ev = parse_message(msg.as_bytes()).unwrap();
    assert_eq!(ev, MaintenanceEvent::new(T::NodeMaintenanceStart));
}

#[test]
fn repeated_key_first_wins_and_dangling_key_ignored() {
    let msg = "NotificationType|NodeMaintenanceEnded|NotificationType|NodeMaintenanceStart|SSLPort";
    let ev = parse_message(msg.as_bytes()).unwrap();
    assert_eq!(ev.kind, T::NodeMaintenanceEnded);
    assert_eq!(ev.ssl_port, None);
}

#[test]
fn garbage_is_an_error_value() {
    let cases: [(&[u8], ParseError); 6] = [
        (b"", ParseError::Empty),
        (b"   ", ParseError::Empty),
        (b"\xff\xfe|x", ParseError::NotUtf8),
        (b"hello world", ParseError::MissingNotificationType),
        (
            b"IsReplica|False|SSLPort|1",
            ParseError::MissingNotificationType,
        ),
        (
            b"NotificationType||IsReplica|True",
            ParseError::MissingNotificationType,
        ),
    ];
    for (input, want) in cases {
        assert_eq!(parse_message(input), Err(want), "{input:?}");
    }
    // Shifted pairs do not yield a type by accident.
    assert_eq!(
        parse_message(b"junk|NotificationType|NodeMaintenanceStart"),
        Err(ParseError::MissingNotificationType)
    );
}

#[test]
fn utc_times() {
    let t = time("2026-11-23T16:34:46");
    assert_eq!(t.to_string(), "2026-11-23T16:34:46");
    assert_eq!(UtcTime::from_unix_seconds(t.unix_seconds()), t);
    assert_eq!(time("1970-01-01T00:00:00").unix_seconds(), 0);
    assert_eq!(time("2000-03-01T00:00:00").unix_seconds(), 951_868_800);
    // Fractions and a trailing Z (other publishers) are accepted.
    assert_eq!(time("2026-11-23T16:34:46.1234567Z"), t);
    assert_eq!(time("2024-02-29T23:59:59").day, 29);
    for bad in [
        "2023-02-29T00:00:00",
        "2026-13-01T00:00:00",
        "2026-11-23T24:00:00",
        "2026-11-23 16:34",
        "+026-11-23T16:34:46",
        "2026-11-23T16:34:4x",
    ] {
        assert_eq!(UtcTime::parse(bad), None, "{bad}");
    }
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

#[test]
fn push_frames() {
    assert_eq!(
        parse_push(
            "FAILING_OVER",
            &[
                Value::Int(7),
                Value::Int(15),
                Value::Array(vec![bulk("1"), Value::Int(2)])
            ]
        ),
        Ok(PushNotification::FailingOver {
            seq: 7,
            time_s: 15,
            shards: vec!["1".into(), "2".into()]
        })
    );
    assert_eq!(
        parse_push("failed_over", &[bulk("8"), bulk("shard-1")]),
        Ok(PushNotification::FailedOver {
            seq: 8,
            shards: vec!["shard-1".into()]
        })
    );
    assert_eq!(
        parse_push(
            "MOVING",
            &[Value::Int(9), Value::Int(30), bulk("10.0.0.5:6379")]
        ),
        Ok(PushNotification::Moving {
            seq: 9,
            time_s: 30,
            endpoint: "10.0.0.5:6379".into()
        })
    );
    assert!(matches!(
        parse_push("MOVING", &[Value::Int(9), Value::Int(30), bulk("nowhere")]),
        Err(ParseError::BadField {
            field: "endpoint",
            ..
        })
    ));
    assert!(matches!(
        parse_push("FAILING_OVER", &[Value::Int(1)]),
        Err(ParseError::MissingField { field: "time", .. })
    ));
    assert!(matches!(
        parse_push("FAILED_OVER", &[bulk("x"), Value::Nil]),
        Err(ParseError::BadField { field: "seq", .. })
    ));
    assert_eq!(
        parse_push("invalidate", &[]),
        Err(ParseError::NotMaintenance("invalidate".into()))
    );
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::BulkString),
        "[a-z0-9:._-]{0,12}".prop_map(Value::SimpleString),
        Just(Value::Nil),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        proptest::collection::vec(inner, 0..4).prop_map(Value::Array)
    })
}

proptest! {
    #[test]
    fn parse_message_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_message(&bytes);
    }

    #[test]
    fn parse_message_never_panics_on_near_misses(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("NotificationType".to_string()),
                Just("NodeMaintenanceStart".to_string()),
                Just("StartTimeInUTC".to_string()),
                Just("IsReplica".to_string()),
                Just("SSLPort".to_string()),
                "[0-9T:.Z-]{0,25}",
                "\\PC{0,8}",
            ],
            0..14,
        )
    ) {
        let msg = parts.join("|");
        if let Ok(ev) = parse_message(msg.as_bytes()) {
            // Whatever parsed writes back to something that parses to the same event.
            prop_assert_eq!(parse_message(ev.to_message().as_bytes()), Ok(ev));
        }
    }

    #[test]
    fn parse_push_never_panics(
        kind in prop_oneof![Just("FAILING_OVER"), Just("FAILED_OVER"), Just("MOVING"), Just("X")],
        data in proptest::collection::vec(value(), 0..5),
    ) {
        let _ = parse_push(kind, &data);
    }

    #[test]
    fn utc_time_round_trips(secs in -62_000_000_000i64..253_000_000_000i64) {
        let t = UtcTime::from_unix_seconds(secs);
        prop_assert_eq!(t.unix_seconds(), secs);
        prop_assert_eq!(UtcTime::parse(&t.to_string()), Some(t));
    }
}
