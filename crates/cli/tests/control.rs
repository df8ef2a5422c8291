//! End-to-end tests of the management service: the real `ferrocache up` on free
//! ports, real node processes (`ferrocache node` and Debian's `redis-server`), real
//! clients through the endpoint.

#[path = "control/data.rs"]
mod data;
#[path = "control/frozen.rs"]
mod frozen;
#[path = "control/load.rs"]
mod load;
#[path = "control/patch.rs"]
mod patch;
#[path = "control/schedule.rs"]
mod schedule;
#[path = "control/support.rs"]
mod support;

use ferrocache_api::{MaintenanceEvent, NotificationType as N};
use ferrocache_testkit::{poll_until, Frame, RespConn, TempDir};
use load::Writer;
use std::time::{Duration, Instant};
use support::{addr, Up};

fn up_serves(engine: &str) {
    let dir = TempDir::new("up").unwrap();
    let up = Up::start(&dir, engine, &[]);
    let c = up.show();
    assert_eq!(c["spec"]["tier"], "standard");
    assert_eq!(c["spec"]["engine"], engine);
    let roles: Vec<&str> = c["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["primary", "replica"]);
    for which in ["primary", "secondary"] {
        let mut conn = RespConn::connect(addr(up.endpoint)).unwrap();
        assert_eq!(
            conn.cmd(&["AUTH", &up.key(which)]).unwrap(),
            Frame::Simple("OK".into())
        );
        assert_eq!(
            conn.cmd(&["SET", which, "v"]).unwrap(),
            Frame::Simple("OK".into())
        );
        assert_eq!(conn.cmd(&["GET", which]).unwrap(), Frame::Bulk("v".into()));
    }
    let mut wrong = RespConn::connect(addr(up.endpoint)).unwrap();
    assert!(matches!(
        wrong.cmd(&["AUTH", "nope"]).unwrap(),
        Frame::Error(_)
    ));

    // Regenerating a key: the old one stops working, clients already connected
    // stay connected.
    let old = up.key("secondary");
    let mut kept = RespConn::connect(addr(up.endpoint)).unwrap();
    assert_eq!(
        kept.cmd(&["AUTH", &old]).unwrap(),
        Frame::Simple("OK".into())
    );
    let keys = up.cli(&["keys", "local", "--regenerate", "secondary"]);
    let new = keys["secondary"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(keys["primary"].as_str().unwrap(), up.key("primary"));
    assert_eq!(
        kept.cmd(&["GET", "primary"]).unwrap(),
        Frame::Bulk("v".into())
    );
    let mut fresh = RespConn::connect(addr(up.endpoint)).unwrap();
    assert!(matches!(
        fresh.cmd(&["AUTH", &old]).unwrap(),
        Frame::Error(_)
    ));
    assert_eq!(
        fresh.cmd(&["AUTH", &new]).unwrap(),
        Frame::Simple("OK".into())
    );
}

#[test]
fn up_with_builtin_engine() {
    up_serves("builtin");
}

#[test]
fn up_with_redis_engine() {
    up_serves("redis");
}

/// Subscribes through the endpoint with the `redis` crate, as an application would.
fn subscriber(up: &Up) -> std::sync::mpsc::Receiver<String> {
    let url = format!("redis://:{}@127.0.0.1:{}/", up.key("primary"), up.endpoint);
    let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut ps = con.as_pubsub();
        ps.subscribe("AzureRedisEvents").unwrap();
        ps.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        ready_tx.send(()).unwrap();
        while let Ok(m) = ps.get_message() {
            if tx.send(m.get_payload::<String>().unwrap()).is_err() {
                return;
            }
        }
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    rx
}

/// A RESP3 connection on `port` that opted in to maintenance push frames; each push
/// it receives is passed on as its words (`["FAILING_OVER", "1", "5", "0"]`).
fn maint_listener(up: &Up, port: u16) -> std::sync::mpsc::Receiver<Vec<String>> {
    let mut c = RespConn::connect(addr(port)).unwrap();
    let hello = c
        .cmd(&["HELLO", "3", "AUTH", "default", &up.key("primary")])
        .unwrap();
    assert!(matches!(hello, Frame::Map(_)), "HELLO 3: {hello:?}");
    let on = c.cmd(&["CLIENT", "MAINT_NOTIFICATIONS", "ON"]).unwrap();
    assert_eq!(on, Frame::Simple("OK".into()));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(Some(Frame::Push(parts))) = c.read_frame_within(Duration::from_secs(60)) {
            let words = parts
                .iter()
                .map(|p| match p {
                    Frame::Integer(i) => i.to_string(),
                    other => String::from_utf8_lossy(other.as_bytes().unwrap_or(b"nil")).into(),
                })
                .collect();
            if tx.send(words).is_err() {
                return;
            }
        }
    });
    rx
}

fn events(rx: &std::sync::mpsc::Receiver<String>, n: usize) -> Vec<MaintenanceEvent> {
    (0..n)
        .map(|i| {
            let text = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("event {i} never came"));
            MaintenanceEvent::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
        })
        .collect()
}

fn planned_failover_under_load(engine: &str) {
    let dir = TempDir::new("failover").unwrap();
    let up = Up::start(&dir, engine, &[]);
    let rx = subscriber(&up);
    let (old_primary, _) = up.primary_pid();
    let pushes = maint_listener(&up, up.endpoint);
    let direct_pushes = maint_listener(&up, up.node_base + old_primary as u16);
    let writer = Writer::start(addr(up.endpoint), &up.key("primary"));
    assert!(poll_until(Duration::from_secs(10), || writer.acked() > 100));
    let wf = up.cli(&["failover", "local"]);
    assert_eq!(wf["state"], "done", "{wf}");
    let report = writer.stop();
    assert_eq!(
        report.errors,
        Vec::<String>::new(),
        "client errors through the endpoint"
    );
    report.verify(&mut up.connect());

    let c = up.show();
    assert_eq!(c["epoch"], 1);
    let (new_primary, _) = up.primary_pid();
    assert_ne!(new_primary, old_primary, "roles swapped");

    // The exact sequence, about the old primary, with its direct ports; the text is
    // exactly what the service recorded (and MaintenanceEvent::parse checked the
    // field order and spelling).
    let got = events(&rx, 4);
    let kinds: Vec<N> = got.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            N::NodeMaintenanceStarting,
            N::NodeMaintenanceStart,
            N::NodeMaintenanceFailoverComplete,
            N::NodeMaintenanceEnded
        ]
    );
    for e in &got {
        assert!(!e.is_replica);
        assert_eq!(e.non_ssl_port, up.node_base + old_primary as u16);
        assert_eq!(e.ip, "127.0.0.1");
    }
    let recorded = up.get("/caches/local/events");
    let texts: Vec<String> = got.iter().map(MaintenanceEvent::to_wire).collect();
    let rec: Vec<&str> = recorded
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(rec, texts);
    assert!(texts[1].starts_with(
        "NotificationType|NodeMaintenanceStart|IsReplica|False|IPAddress|127.0.0.1|SSLPort|"
    ));

    // The same moments as RESP3 pushes for connections that opted in: the endpoint's
    // are told of the failover, the old primary's direct-port ones to move to the
    // endpoint.
    let push = |rx: &std::sync::mpsc::Receiver<Vec<String>>| {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("a maintenance push")
    };
    let (failing, failed) = (push(&pushes), push(&pushes));
    assert_eq!(
        (failing[0].as_str(), failing.len()),
        ("FAILING_OVER", 4),
        "{failing:?}"
    );
    assert_eq!(failing[3], "0", "shard");
    assert_eq!(
        (failed[0].as_str(), failed.len()),
        ("FAILED_OVER", 3),
        "{failed:?}"
    );
    let moving = push(&direct_pushes);
    assert_eq!(moving[0], "MOVING", "{moving:?}");
    assert_eq!(moving[3], format!("127.0.0.1:{}", up.endpoint));

    let h = up.get("/caches/local/history");
    let last = &h.as_array().unwrap()[0];
    assert_eq!(last["kind"], "planned-failover");
    assert_eq!(last["epoch"], 1);
    assert!(last["write_pause_ms"].as_f64().is_some(), "{last}");
    println!(
        "{engine}: planned failover write pause {} ms, {} writes acknowledged",
        last["write_pause_ms"], report.acked
    );
}

#[test]
fn planned_failover_under_load_builtin() {
    planned_failover_under_load("builtin");
}

#[test]
fn planned_failover_under_load_redis() {
    planned_failover_under_load("redis");
}

fn reboot(engine: &str, which: &str) {
    let dir = TempDir::new("reboot").unwrap();
    let up = Up::start(&dir, engine, &[]);
    let rx = subscriber(&up);
    let before = up.show();
    let writer = Writer::start(addr(up.endpoint), &up.key("primary"));
    assert!(poll_until(Duration::from_secs(10), || writer.acked() > 100));
    let wf = up.cli(&["reboot", "local", "--node", which]);
    assert_eq!(wf["state"], "done", "{wf}");
    let report = writer.stop();
    assert_eq!(report.errors, Vec::<String>::new());
    report.verify(&mut up.connect());
    let after = up.show();
    let pids = |c: &serde_json::Value| -> Vec<u64> {
        c["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["pid"].as_u64().unwrap())
            .collect()
    };
    let changed = pids(&before)
        .iter()
        .zip(pids(&after))
        .filter(|(a, b)| *a != b)
        .count();
    let expect_events = if which == "primary" { 4 } else { 3 };
    assert_eq!(changed, 1, "exactly one node restarted");
    let got = events(&rx, expect_events);
    assert_eq!(got.last().unwrap().kind, N::NodeMaintenanceEnded);
    assert_eq!(got[0].is_replica, which == "replica");
    // The resync gate: the history records the offset the restarted node reached
    // before the workflow could end.
    let h = up.get("/caches/local/history");
    let detail = h[0]["detail"].as_str().unwrap();
    assert!(detail.contains("resync gate passed"), "{detail}");
    let epoch_after = after["epoch"].as_u64().unwrap();
    assert_eq!(epoch_after, if which == "primary" { 1 } else { 0 });
}

#[test]
fn reboot_primary_builtin() {
    reboot("builtin", "primary");
}

#[test]
fn reboot_replica_redis() {
    reboot("redis", "replica");
}

#[test]
fn reboot_replica_builtin() {
    reboot("builtin", "replica");
}

#[test]
fn reboot_primary_redis() {
    reboot("redis", "primary");
}

fn role_of(port: u16, key: &str) -> Option<String> {
    let mut c = RespConn::connect_timeout(addr(port), Duration::from_millis(300)).ok()?;
    c.cmd(&["AUTH", key]).ok()?;
    match c.cmd(&["ROLE"]).ok()? {
        Frame::Array(v) => v
            .first()
            .and_then(|f| f.as_bytes())
            .map(|b| String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn sigkill_primary(engine: &str) {
    let dir = TempDir::new("kill").unwrap();
    let up = Up::start(&dir, engine, &[]);
    let key = up.key("primary");
    let (old, pid) = up.primary_pid();
    // Watch ROLE on both nodes (through their direct ports) the whole time.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ports = [up.node_base, up.node_base + 1];
    let watcher = {
        let (stop, key) = (stop.clone(), key.clone());
        std::thread::spawn(move || {
            let mut both = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r: Vec<Option<String>> = ports.iter().map(|p| role_of(*p, &key)).collect();
                if r.iter().all(|x| x.as_deref() == Some("master")) {
                    both += 1;
                }
            }
            both
        })
    };
    let mut conn = up.connect();
    assert_eq!(
        conn.cmd(&["SET", "before", "1"]).unwrap(),
        Frame::Simple("OK".into())
    );
    // The replica has it (the probes' lag may be stale): WAIT through the endpoint.
    assert_eq!(conn.cmd(&["WAIT", "1", "5000"]).unwrap(), Frame::Integer(1));
    let killed = Instant::now();
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let mut writes = RespConn::connect(addr(up.endpoint)).unwrap();
    writes.cmd(&["AUTH", &key]).unwrap();
    let ok = poll_until(Duration::from_secs(10), || {
        matches!(writes.cmd(&["SET", "after", "1"]), Ok(Frame::Simple(_)))
    });
    let took = killed.elapsed();
    assert!(ok, "no write accepted after the kill");
    println!(
        "{engine}: first write accepted {:.0} ms after SIGKILL of the primary",
        took.as_secs_f64() * 1000.0
    );
    // The old primary comes back as a replica of the new one.
    assert!(
        poll_until(Duration::from_secs(30), || {
            let c = up.show();
            c["nodes"][old]["role"] == "replica"
                && c["nodes"][old]["health"] == "up"
                && c["nodes"][old]["reported_role"] == "replica"
        }),
        "{}",
        up.show()
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        watcher.join().unwrap(),
        0,
        "two primaries were seen at once"
    );
    // A connection the killed node served itself (handed over by the endpoint, as
    // builtin nodes do) died with it; a new one reaches the new primary.
    drop(conn);
    assert_eq!(
        up.connect().cmd(&["GET", "before"]).unwrap(),
        Frame::Bulk("1".into())
    );
    let h = up.get("/caches/local/history");
    assert_eq!(h[0]["kind"], "unplanned-failover");
}

#[test]
fn sigkill_primary_builtin() {
    sigkill_primary("builtin");
}

#[test]
fn sigkill_primary_redis() {
    sigkill_primary("redis");
}

#[test]
fn killed_service_resumes_its_workflow() {
    let dir = TempDir::new("resume").unwrap();
    // Long leads so the kill lands in the middle of the workflow.
    let mut up = Up::start(
        &dir,
        "builtin",
        &["--starting-lead", "2s", "--start-lead", "1s"],
    );
    let before = up.show();
    let api = format!("http://{}", up.api);
    let mut cli = std::process::Command::new(support::BIN)
        .args(["reboot", "local", "--node", "all", "--json", "--api", &api])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(poll_until(Duration::from_secs(20), || up.show()
        ["workflow"]
        .is_u64()));
    // Wait until the second node operation (the primary) has begun, then kill.
    let id = up.show()["workflow"].as_u64().unwrap();
    assert!(poll_until(Duration::from_secs(60), || up
        .get(&format!("/workflows/{id}"))["op"]
        == 1));
    up.kill();
    let _ = cli.kill();
    let _ = cli.wait();
    up.restart();
    assert!(poll_until(Duration::from_secs(90), || up
        .get(&format!("/workflows/{id}"))["state"]
        != "running"));
    let wf = up.get(&format!("/workflows/{id}"));
    assert_eq!(wf["state"], "done", "{wf}");
    assert!(
        poll_until(Duration::from_secs(30), || {
            let c = up.show();
            (0..2).all(|i| c["nodes"][i]["health"] == "up")
        }),
        "{}",
        up.show()
    );
    let after = up.show();
    for i in 0..2 {
        assert_ne!(
            before["nodes"][i]["pid"], after["nodes"][i]["pid"],
            "node {i} was rebooted"
        );
    }
    let h = up.get("/caches/local/history");
    assert_eq!(
        h.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == "reboot")
            .count(),
        2,
        "{h}"
    );
    // The endpoint still serves with the same keys.
    let mut c = up.connect();
    assert_eq!(c.cmd(&["PING"]).unwrap(), Frame::Simple("PONG".into()));
}
