//! Maintenance events published for real on `AzureRedisEvents` of a real server: the
//! client's stream yields them typed and in order, the circuit breaker holds (or
//! fails) writes between Start and FailoverComplete, timeouts relax, and a completed
//! failover gives the client a fresh connection.

mod common;

use common::*;
use ferrocache_client::{
    failure_kind, retry_class, BreakerMode, Client, Event, EventSource, FailureKind,
    MaintenanceEvent, NotificationType as T, Options, RetryClass, EVENTS_CHANNEL,
};
use ferrocache_testkit::{RedisServer, Server};
use redis::AsyncCommands;
use std::time::Duration;
use tokio::sync::broadcast;

fn event_opts() -> Options {
    Options {
        subscribe_events: true,
        ..fast_opts()
    }
}

fn msg(kind: &str, replica: bool) -> String {
    let replica = if replica { "True" } else { "False" };
    format!("NotificationType|{kind}|IsReplica|{replica}|IPAddress|127.0.0.1|SSLPort|15001|NonSSLPort|13001")
}

fn publish(server: &RedisServer, payload: &str) {
    assert_eq!(ask(server, &["PUBLISH", EVENTS_CHANNEL, payload]), "1");
}

/// A client whose subscriber is listening (the server counts its subscription).
async fn subscribed_client(server: &RedisServer, opts: Options) -> Client {
    let client = Client::connect(url(server.port()), opts).await.unwrap();
    let port = server.port();
    assert!(
        wait(move || {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            let Ok(mut c) = ferrocache_testkit::RespConn::connect(addr) else {
                return false;
            };
            matches!(c.cmd(&["PUBSUB", "NUMSUB", EVENTS_CHANNEL]),
                Ok(ferrocache_testkit::Frame::Array(v)) if v.get(1) == Some(&ferrocache_testkit::Frame::Integer(1)))
        })
        .await
    );
    client
}

/// The next maintenance-related event (connection events are skipped).
async fn next_maintenance(rx: &mut broadcast::Receiver<Event>) -> Event {
    loop {
        let ev = tokio::time::timeout(DEADLINE, rx.recv())
            .await
            .expect("an event within the deadline")
            .expect("the stream is open");
        if matches!(ev, Event::Maintenance(_) | Event::Malformed { .. }) {
            return ev;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_typed_and_in_order() {
    let server = RedisServer::start().unwrap();
    let client = subscribed_client(&server, event_opts()).await;
    let mut rx = client.events();
    let sent = [
        "NotificationType|NodeMaintenanceScheduled|StartTimeInUTC|2026-11-23T16:35:57|IsReplica|False|IPAddress|127.0.0.1|SSLPort|15001|NonSSLPort|13001".to_string(),
        "NotificationType|NodeMaintenanceStarting|StartTimeInUTC|2026-11-23T16:34:46|IsReplica|False|IPAddress|127.0.0.1|SSLPort|15001|NonSSLPort|13001".to_string(),
        msg("NodeMaintenanceStart", false),
        "garbage without a type".to_string(),
        msg("NodeMaintenanceFailoverComplete", false),
        msg("NodeMaintenanceSomethingNew", false),
        "NotificationType|NodeMaintenanceEnded|StartTimeInUTC|2026-11-23T16:37:48|IsReplica|False|IPAddress|127.0.0.1|SSLPort|15001|NonSSLPort|13001".to_string(),
    ];
    for m in &sent {
        publish(&server, m);
    }
    let mut got = Vec::new();
    for _ in 0..sent.len() {
        got.push(next_maintenance(&mut rx).await);
    }
    let kinds: Vec<String> = got
        .iter()
        .map(|e| match e {
            Event::Maintenance(m) => m.kind.to_string(),
            Event::Malformed { source, .. } => {
                assert_eq!(*source, EventSource::Channel);
                "malformed".into()
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "NodeMaintenanceScheduled",
            "NodeMaintenanceStarting",
            "NodeMaintenanceStart",
            "malformed",
            "NodeMaintenanceFailoverComplete",
            "NodeMaintenanceSomethingNew",
            "NodeMaintenanceEnded"
        ]
    );
    if let Event::Maintenance(m) = &got[1] {
        assert_eq!(m.to_message(), sent[1]);
    }
    assert!(matches!(
        &got[5],
        Event::Maintenance(MaintenanceEvent {
            kind: T::Unknown(_),
            ..
        })
    ));
    let s = client.stats();
    assert_eq!(s.events, 7);
    assert_eq!(s.events_malformed, 1);
}

/// Hold mode: a write issued after `NodeMaintenanceStart` waits, unsent, until
/// `NodeMaintenanceFailoverComplete`, then goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_holds_writes_until_failover_completes() {
    let server = RedisServer::start().unwrap();
    let opts = Options {
        breaker: BreakerMode::Hold,
        breaker_max_hold: Duration::from_secs(60),
        ..event_opts()
    };
    let client = subscribed_client(&server, opts).await;
    let mut rx = client.events();
    publish(&server, &msg("NodeMaintenanceStart", false));
    next_maintenance(&mut rx).await;
    assert!(client.breaker_open());

    // Reads are not held.
    let mut c = client.clone();
    let _: Option<String> = c.get("k").await.unwrap();
    let write = tokio::spawn(async move { c.set::<_, _, ()>("k", "v").await });
    let probe = client.clone();
    assert!(wait(move || probe.stats().writes_holding == 1).await);
    assert_eq!(ask(&server, &["GET", "k"]), "(nil)", "held, not sent");
    assert!(!write.is_finished());

    publish(&server, &msg("NodeMaintenanceFailoverComplete", false));
    write.await.unwrap().expect("released after the failover");
    assert_eq!(ask(&server, &["GET", "k"]), "v");
    assert!(!client.breaker_open());
    let s = client.stats();
    assert_eq!(
        (s.breaker_opened, s.writes_held, s.breaker_timeouts),
        (1, 1, 0)
    );
}

/// A replica's maintenance costs no failover: the breaker stays closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_maintenance_does_not_open_the_breaker() {
    let server = RedisServer::start().unwrap();
    let opts = Options {
        breaker: BreakerMode::Hold,
        ..event_opts()
    };
    let client = subscribed_client(&server, opts).await;
    let mut rx = client.events();
    publish(&server, &msg("NodeMaintenanceStart", true));
    next_maintenance(&mut rx).await;
    assert!(!client.breaker_open());
    let mut c = client.clone();
    let _: () = c.set("k", "v").await.unwrap();
}

/// Fail-fast mode: the write fails at once with an error that says it was not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_fails_fast_by_choice() {
    let server = RedisServer::start().unwrap();
    let opts = Options {
        breaker: BreakerMode::FailFast,
        ..event_opts()
    };
    let client = subscribed_client(&server, opts).await;
    let mut rx = client.events();
    publish(&server, &msg("NodeMaintenanceStart", false));
    next_maintenance(&mut rx).await;
    let mut c = client.clone();
    let err = c.set::<_, _, ()>("k", "v").await.unwrap_err();
    assert_eq!(failure_kind(&err), FailureKind::BreakerOpen);
    assert_eq!(retry_class(&err), RetryClass::NoRetry);
    assert_eq!(ask(&server, &["GET", "k"]), "(nil)");
    publish(&server, &msg("NodeMaintenanceFailoverComplete", false));
    next_maintenance(&mut rx).await;
    let _: () = c.set("k", "v").await.unwrap();
}

/// The breaker closes by itself at its bound when no FailoverComplete comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_is_bounded() {
    let server = RedisServer::start().unwrap();
    let opts = Options {
        breaker: BreakerMode::Hold,
        breaker_max_hold: Duration::from_millis(200),
        ..event_opts()
    };
    let client = subscribed_client(&server, opts).await;
    let mut rx = client.events();
    publish(&server, &msg("NodeMaintenanceStart", false));
    next_maintenance(&mut rx).await;
    let mut c = client.clone();
    let _: () = c.set("k", "v").await.unwrap();
    let s = client.stats();
    assert_eq!((s.writes_held, s.breaker_timeouts), (1, 1), "{s:?}");
    assert!(!client.breaker_open());
    assert_eq!(ask(&server, &["GET", "k"]), "v");
}

/// Announced maintenance relaxes the command timeout; its end restores it. A
/// completed failover gives the client a fresh connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relaxed_timeouts_and_refresh_on_events() {
    let server = RedisServer::start().unwrap();
    let opts = Options {
        command_timeout: Duration::from_secs(1),
        relaxed_command_timeout: Some(Duration::from_secs(7)),
        ..event_opts()
    };
    let client = subscribed_client(&server, opts).await;
    let mut rx = client.events();
    let first = client.connection_id().unwrap();
    assert_eq!(client.command_timeout(), Duration::from_secs(1));
    publish(&server, &msg("NodeMaintenanceStarting", false));
    next_maintenance(&mut rx).await;
    assert_eq!(client.command_timeout(), Duration::from_secs(7));

    publish(&server, &msg("NodeMaintenanceFailoverComplete", false));
    next_maintenance(&mut rx).await;
    let probe = client.clone();
    assert!(wait(move || probe.connection_id().is_some_and(|id| id != first)).await);
    assert_eq!(client.stats().reconnects, 1);

    publish(&server, &msg("NodeMaintenanceEnded", false));
    next_maintenance(&mut rx).await;
    assert_eq!(client.command_timeout(), Duration::from_secs(1));
    // The replaced connections drain and close: ours, the subscriber's and the probe.
    let port = server.port();
    assert!(wait(move || client_count(port) == Some(3)).await);
    let mut c = client.clone();
    let _: () = c.set("k", "v").await.unwrap();
}

/// `CLIENT MAINT_NOTIFICATIONS ON` refused (redis-server 7.0 does not know it): logged
/// and counted, and the client works on RESP3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maint_notifications_opt_in_refused_is_harmless() {
    let server = RedisServer::start().unwrap();
    let opts = Options {
        maint_notifications: true,
        ..fast_opts()
    };
    let mut client = Client::connect(url(server.port()), opts).await.unwrap();
    let _: () = client.set("k", "v").await.unwrap();
    let v: String = client.get("k").await.unwrap();
    assert_eq!(v, "v");
    assert_eq!(client.stats().maint_opt_in_refused, 1);
}

/// The subscriber comes back after its server restarts and still delivers events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_resubscribes_after_restart() {
    let a = RedisServer::start().unwrap();
    let port = a.port();
    let client = subscribed_client(&a, event_opts()).await;
    drop(a);
    let b = RedisServer::start_on(port, &[]).unwrap();
    let client = {
        // Wait for the new subscription on the restarted server.
        let probe = client.clone();
        assert!(wait(move || probe.stats().subscriber_connects >= 2).await);
        client
    };
    let mut rx = client.events();
    publish(&b, &msg("NodeMaintenanceStart", false));
    assert!(matches!(
        next_maintenance(&mut rx).await,
        Event::Maintenance(MaintenanceEvent {
            kind: T::NodeMaintenanceStart,
            ..
        })
    ));
}
