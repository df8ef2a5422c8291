//! A frozen primary (SIGSTOP: the process keeps its sockets open and answers nothing)
//! is an unplanned failure too: the service's probes time out and the replica's own
//! link times out (the second witness), the replica is promoted while the old primary
//! is still frozen, and once it thaws it is made a replica of the new one.

use super::support::{addr, Up};
use ferrocache_testkit::{poll_until, Frame, RespConn, TempDir};
use std::time::{Duration, Instant};

/// Resumes the process whatever happens to the test.
struct Frozen(i32);

impl Frozen {
    fn freeze(pid: u32) -> Frozen {
        unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
        Frozen(pid as i32)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

fn frozen_primary(engine: &str) {
    let dir = TempDir::new("frozen").unwrap();
    let up = Up::start(&dir, engine, &[]);
    let key = up.key("primary");
    let (old, pid) = up.primary_pid();
    let mut conn = up.connect();
    assert_eq!(
        conn.cmd(&["SET", "before", "1"]).unwrap(),
        Frame::Simple("OK".into())
    );
    // The replica has it (the probes' lag may be stale): WAIT through the endpoint.
    assert_eq!(conn.cmd(&["WAIT", "1", "5000"]).unwrap(), Frame::Integer(1));
    let builtin = engine == "builtin";
    if builtin {
        // Wait until the primary serves this connection itself (handed over): its
        // local address is then the endpoint's.
        let endpoint = format!("laddr=127.0.0.1:{} ", up.endpoint);
        assert!(poll_until(Duration::from_secs(10), || matches!(
            conn.cmd(&["CLIENT", "INFO"]),
            Ok(Frame::Bulk(b)) if String::from_utf8_lossy(&b).contains(&endpoint)
        )));
    }
    let frozen = Frozen::freeze(pid);
    let since = Instant::now();
    if builtin {
        // A write sent to the frozen primary: when it thaws its lease has expired,
        // so it must not take the write as a primary (it would be lost when it
        // resyncs) but give the connection back, to run on the new primary.
        conn.write_command(&["SET", "during", "1"]).unwrap();
    }
    // Promotion happens while the old primary is still frozen.
    assert!(
        poll_until(Duration::from_secs(20), || up.show()["nodes"][1 - old]
            ["role"]
            == "primary"),
        "{}",
        up.show()
    );
    let mut writes = RespConn::connect(addr(up.endpoint)).unwrap();
    writes.cmd(&["AUTH", &key]).unwrap();
    assert!(poll_until(Duration::from_secs(10), || matches!(
        writes.cmd(&["SET", "after", "1"]),
        Ok(Frame::Simple(_))
    )));
    println!(
        "{engine}: first write accepted {:.0} ms after SIGSTOP of the primary",
        since.elapsed().as_secs_f64() * 1000.0
    );
    drop(frozen);
    // Thawed, it follows the new primary before anything routes to it.
    assert!(
        poll_until(Duration::from_secs(30), || {
            let c = up.show();
            c["nodes"][old]["role"] == "replica"
                && c["nodes"][old]["reported_role"] == "replica"
                && c["nodes"][old]["health"] == "up"
        }),
        "{}",
        up.show()
    );
    if builtin {
        let reply = conn.read_frame_within(Duration::from_secs(20)).unwrap();
        assert_eq!(
            reply,
            Some(Frame::Simple("OK".into())),
            "the write sent while frozen"
        );
    }
    let mut c = up.connect();
    if builtin {
        assert_eq!(c.cmd(&["GET", "during"]).unwrap(), Frame::Bulk("1".into()));
    }
    assert_eq!(c.cmd(&["GET", "before"]).unwrap(), Frame::Bulk("1".into()));
    assert_eq!(c.cmd(&["GET", "after"]).unwrap(), Frame::Bulk("1".into()));
    let h = up.get("/caches/local/history");
    assert_eq!(
        h.as_array().unwrap().last().unwrap()["kind"],
        "unplanned-failover"
    );
    let d = up.cli(&["diagnose", "local"]);
    assert_eq!(d["finding"], "unplanned-failover", "{d}");
    assert!(d["title"].as_str().unwrap().contains("was lost at"));
}

#[test]
fn frozen_primary_fails_over_redis() {
    frozen_primary("redis");
}

#[test]
fn frozen_primary_fails_over_builtin() {
    frozen_primary("builtin");
}
