//! Each retry and reconnect rule against real `redis-server` processes that are
//! stopped, killed (SIGKILL), frozen (SIGSTOP/SIGCONT), demoted and restarted on the
//! same port.

mod common;

use common::*;
use ferrocache_client::{
    failure_kind, retry_class, Client, DelayPurpose, Event, FailureKind, Options, RetryClass,
};
use ferrocache_testkit::{RedisServer, Server};
use redis::AsyncCommands;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_work_through_the_redis_api() {
    let server = RedisServer::start().unwrap();
    let mut c = Client::connect(url(server.port()), fast_opts())
        .await
        .unwrap();
    let _: () = c.set("k", "v").await.unwrap();
    let v: String = redis::cmd("GET")
        .arg("k")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(v, "v");
    let (a, b): (i64, i64) = redis::pipe()
        .incr("n", 1)
        .incr("n", 2)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!((a, b), (1, 3));
    // Error replies reach the caller as errors and are not retried.
    let err = c.lpush::<_, _, i64>("k", "x").await.unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    assert_eq!(retry_class(&err), RetryClass::NoRetry);
    let s = c.stats();
    assert_eq!(s.retries, 0);
    assert_eq!(s.surfaced_of(FailureKind::Server), 1, "{s:?}");
    assert_eq!(s.connects, 1);
}

/// A read in flight when the server is SIGKILLed is retried and succeeds once a new
/// server is up on the same port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_in_flight_survives_kill_and_restart() {
    let a = RedisServer::start().unwrap();
    let port = a.port();
    let opts = Options {
        command_timeout: Duration::from_secs(30),
        retry_timeout: Duration::from_secs(30),
        ..fast_opts()
    };
    let client = Client::connect(url(port), opts).await.unwrap();
    // Frozen, the server leaves the read in flight; then it dies.
    signal(&a, libc::SIGSTOP);
    let mut c = client.clone();
    let read = tokio::spawn(async move { c.get::<_, Option<String>>("k").await });
    let probe = client.clone();
    assert!(wait(move || probe.stats().in_flight == 1).await);
    signal(&a, libc::SIGKILL);
    drop(a);
    let probe = client.clone();
    assert!(wait(move || probe.stats().errors_of(FailureKind::ConnectionLost) >= 1).await);
    let _b = RedisServer::start_on(port, &[]).unwrap();
    let v = read.await.unwrap().expect("the retried read succeeds");
    assert_eq!(v, None, "a fresh server");
    let s = client.stats();
    assert!(s.retries >= 1, "{s:?}");
    assert_eq!(s.surfaced_total(), 0, "{s:?}");
    assert!(s.reconnects >= 1, "{s:?}");
}

/// A write in flight when the server stops has an unknown outcome: it is surfaced,
/// never sent again; the client then reconnects to the restarted server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_with_unknown_outcome_is_surfaced_not_retried() {
    let a = RedisServer::start().unwrap();
    let port = a.port();
    let opts = Options {
        command_timeout: Duration::from_secs(30),
        ..fast_opts()
    };
    let client = Client::connect(url(port), opts).await.unwrap();
    let mut c = client.clone();
    // BLPOP is a write (it pops).
    let write = tokio::spawn(async move { c.blpop::<_, redis::Value>("list", 0.0).await });
    assert!(wait(move || has_client_running(port, "blpop")).await);
    drop(a); // SIGTERM: redis-server closes every connection and exits.
    let err = write.await.unwrap().expect_err("the write must fail");
    assert_eq!(retry_class(&err), RetryClass::Reconnect, "{err}");
    assert_eq!(failure_kind(&err), FailureKind::ConnectionLost, "{err}");
    assert!(err.to_string().contains("outcome unknown"), "{err}");
    let s = client.stats();
    assert_eq!(s.retries, 0, "{s:?}");
    assert_eq!(s.surfaced_of(FailureKind::ConnectionLost), 1, "{s:?}");

    let b = RedisServer::start_on(port, &[]).unwrap();
    let mut c = client.clone();
    let _: () = c.set("after", "restart").await.unwrap();
    assert_eq!(ask(&b, &["GET", "after"]), "restart");
}

/// A write sent while no server is up never left the client: it waits for the
/// connection and succeeds after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_without_connection_waits_and_succeeds() {
    let a = RedisServer::start().unwrap();
    let port = a.port();
    let client = Client::connect(url(port), fast_opts()).await.unwrap();
    drop(a);
    let probe = client.clone();
    assert!(wait(move || !probe.is_connected()).await);
    let mut c = client.clone();
    let write = tokio::spawn(async move { c.set::<_, _, ()>("k", "v").await });
    let probe = client.clone();
    assert!(wait(move || probe.stats().connect_failures >= 2).await);
    let b = RedisServer::start_on(port, &[]).unwrap();
    write
        .await
        .unwrap()
        .expect("a write that was never sent may wait and go");
    assert_eq!(ask(&b, &["GET", "k"]), "v");
}

/// A frozen server (SIGSTOP keeps its sockets open and the kernel keeps ACKing) is
/// found dead by the silence rule at the first command timeout; a frozen write is
/// surfaced, not retried; after SIGCONT the client is back, and every connection it
/// gave up on is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_server_detected_within_command_timeout() {
    let a = RedisServer::start().unwrap();
    let port = a.port();
    let opts = Options {
        command_timeout: Duration::from_millis(300),
        connect_timeout: Duration::from_millis(300),
        retry_timeout: Duration::from_millis(900),
        ..fast_opts()
    };
    let client = Client::connect(url(port), opts).await.unwrap();
    let mut c = client.clone();
    let _: () = c.set("k", "v").await.unwrap();
    let before = client.connection_id();
    signal(&a, libc::SIGSTOP);

    let err = c.set::<_, _, ()>("k", "w").await.unwrap_err();
    assert_eq!(failure_kind(&err), FailureKind::Timeout, "{err}");
    assert!(err.to_string().contains("outcome unknown"), "{err}");
    let s = client.stats();
    assert_eq!(
        s.retries, 0,
        "a write of unknown fate is not retried: {s:?}"
    );
    assert_eq!(s.dead_detected, 1, "{s:?}");
    assert!(!client.is_connected());

    // A read is retried until its budget runs out, then surfaced.
    let err = c.get::<_, Option<String>>("k").await.unwrap_err();
    assert!(
        matches!(
            failure_kind(&err),
            FailureKind::Connect | FailureKind::Timeout
        ),
        "{err}"
    );
    assert!(client.stats().connect_failures >= 1);

    signal(&a, libc::SIGCONT);
    let probe = client.clone();
    assert!(wait(move || probe.is_connected()).await);
    assert_ne!(client.connection_id(), before);
    let v: Option<String> = c.get("k").await.unwrap();
    // The frozen server had the write in its socket buffer: whether it ran is exactly
    // what the client could not know, which is why it was not sent again.
    assert!(matches!(v.as_deref(), Some("v" | "w")), "{v:?}");
    // Only the live connection and our own remain: the dead and the abandoned
    // half-open ones were closed.
    assert!(wait(move || client_count(port) == Some(2)).await);
}

/// READONLY (the server became a replica) makes the client take a fresh connection
/// and retry the write, which succeeds once the node is promoted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readonly_refreshes_and_retries_the_write() {
    let primary = RedisServer::start().unwrap();
    let p = primary.port().to_string();
    let node = RedisServer::start_with(&["--replicaof", "127.0.0.1", &p]).unwrap();
    let client = Client::connect(url(node.port()), fast_opts())
        .await
        .unwrap();
    let mut c = client.clone();
    let write = tokio::spawn(async move { c.set::<_, _, ()>("k", "v").await });
    let probe = client.clone();
    assert!(wait(move || probe.stats().errors_of(FailureKind::ReadOnly) >= 1).await);
    assert_eq!(ask(&node, &["REPLICAOF", "NO", "ONE"]), "OK");
    write
        .await
        .unwrap()
        .expect("the refused write is retried after promotion");
    assert_eq!(ask(&node, &["GET", "k"]), "v");
    let s = client.stats();
    assert!(s.refreshes >= 1, "{s:?}");
    assert!(s.retries >= 1, "{s:?}");
    assert_eq!(s.surfaced_total(), 0, "{s:?}");
}

/// Reconnect delays: a random stagger first, then full-jitter backoff whose ceiling
/// doubles up to the cap; every delay is under its ceiling and they differ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_delays_grow_and_are_jittered() {
    let a = RedisServer::start().unwrap();
    let port = a.port();
    let opts = Options {
        backoff_min: Duration::from_millis(5),
        backoff_max: Duration::from_millis(80),
        reconnect_stagger: Duration::from_millis(30),
        ..fast_opts()
    };
    let client = Client::connect(url(port), opts).await.unwrap();
    drop(a);
    let probe = client.clone();
    assert!(wait(move || probe.stats().delays_for(DelayPurpose::Reconnect).len() >= 8).await);
    let s = client.stats();
    let stagger = s.delays_for(DelayPurpose::Stagger);
    assert_eq!(stagger.len(), 1, "one stagger after the loss: {stagger:?}");
    assert!(stagger[0].delay <= Duration::from_millis(30));
    let recon = &s.delays_for(DelayPurpose::Reconnect)[..8];
    let ceilings: Vec<u128> = recon.iter().map(|d| d.ceiling.as_millis()).collect();
    assert_eq!(ceilings, [5, 10, 20, 40, 80, 80, 80, 80]);
    assert!(recon.iter().all(|d| d.delay <= d.ceiling));
    let distinct: std::collections::HashSet<_> = recon.iter().map(|d| d.delay).collect();
    assert!(distinct.len() > 4, "jittered: {recon:?}");
    assert!(s.connect_attempts >= 9);
}

/// Persistent errors force a rebuild, at most once per minimum interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_reconnect_respects_min_interval() {
    let a = RedisServer::start().unwrap();
    let port = a.port();
    drop(a);
    let run = |min_interval: Duration| async move {
        let opts = Options {
            force_reconnect_after: Duration::ZERO,
            force_reconnect_min_interval: min_interval,
            retry_timeout: Duration::from_millis(100),
            ..fast_opts()
        };
        let client = Client::new(url(port), opts).unwrap();
        let mut events = client.events();
        let mut c = client.clone();
        for _ in 0..3 {
            let err = c.get::<_, Option<String>>("k").await.unwrap_err();
            assert_eq!(retry_class(&err), RetryClass::ConnectAndRetry, "{err}");
        }
        let mut forced = 0;
        while let Ok(ev) = events.try_recv() {
            forced += usize::from(ev == Event::ForceReconnect);
        }
        (client, forced)
    };
    let (client, forced) = run(Duration::from_secs(3600)).await;
    assert_eq!(client.stats().force_reconnects, 1);
    assert_eq!(forced, 1);
    assert!(!client.force_reconnect(), "inside the minimum interval");
    assert_eq!(client.stats().force_reconnects, 1);

    let (client, forced) = run(Duration::ZERO).await;
    assert_eq!(client.stats().force_reconnects, 3);
    assert_eq!(forced, 3);
    assert!(client.force_reconnect());
}

/// The idle PING keeps a connection open past the server's idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_ping_keeps_the_connection_alive() {
    let server = RedisServer::start_with(&["--timeout", "1"]).unwrap();
    let opts = Options {
        idle_ping_interval: Some(Duration::from_millis(200)),
        ..fast_opts()
    };
    let client = Client::connect(url(server.port()), opts).await.unwrap();
    let probe = client.clone();
    // 12 pings at 200 ms of idleness each span well over the server's 1 s timeout.
    assert!(wait(move || probe.stats().idle_pings >= 12).await);
    let s = client.stats();
    assert_eq!(s.connects, 1, "never closed by the server: {s:?}");
    assert_eq!(s.errors_total(), 0, "{s:?}");
}
