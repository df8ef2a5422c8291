//! End-to-end tests of patching (SYSTEM.md §2): a patch to a new version under client
//! load with the event sequence and the resync gate, the diagnosis that results, a
//! platform patch of a resource group (one cache after the other, a second request
//! refused), and a service killed mid-patch that resumes it.

use super::load::Writer;
use super::support::{addr, Up, BIN};
use super::{events, subscriber};
use ferrocache_api::NotificationType as N;
use ferrocache_testkit::{poll_until, TempDir};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A copy of Debian's redis-server under another path: a second redis version whose
/// processes can be told apart by their executable. (`redis-server` is a link to
/// `redis-check-rdb`, which picks its mode from its own name: the copy keeps it.)
fn redis_copy(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let dst = bin.join("redis-server");
    let src = std::fs::canonicalize("/usr/bin/redis-server").unwrap();
    std::fs::copy(src, &dst).unwrap();
    dst
}

pub fn exe_of(pid: u64) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/exe")).unwrap()
}

/// Runs the CLI expecting it to fail; its error message.
pub fn cli_fails(up: &Up, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .args(args)
        .args(["--api", &format!("http://{}", up.api)])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success(), "ferrocache {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn records(up: &Up, kind: &str) -> Vec<serde_json::Value> {
    up.get("/caches/local/history")
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn patch_to_a_new_version_under_load_redis() {
    let dir = TempDir::new("patch").unwrap();
    let up = Up::start(&dir, "redis", &[]);
    let copy = redis_copy(dir.path());
    let v = up.cli(&[
        "versions",
        "add",
        "redis-next",
        "--engine",
        "redis",
        "--binary",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(v["engine"], "redis");
    let listed = up.cli(&["versions"]);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"redis-next") && names.iter().any(|n| n.starts_with("builtin-")));
    let builtin = names.iter().find(|n| n.starts_with("builtin-")).unwrap();
    let before = up.show();
    let old_version = before["nodes"][0]["version"].as_str().unwrap().to_string();
    assert!(old_version.starts_with("redis-7"), "{before}");
    // A version of another engine is refused, and nothing starts.
    let err = cli_fails(&up, &["patch", "local", "--to", builtin, "--now"]);
    assert!(err.contains("is engine builtin"), "{err}");

    let rx = subscriber(&up);
    let writer = Writer::start(addr(up.endpoint), &up.key("primary"));
    assert!(poll_until(Duration::from_secs(10), || writer.acked() > 100));
    let wf = up.cli(&["patch", "local", "--to", "redis-next", "--now"]);
    assert_eq!(wf["state"], "done", "{wf}");
    assert_eq!(wf["ops"], 2);
    let report = writer.stop();
    assert_eq!(
        report.errors,
        Vec::<String>::new(),
        "client errors through the endpoint"
    );
    report.verify(&mut up.connect());

    // Every node runs the new binary, and `cache show` says so.
    let after = up.show();
    for n in after["nodes"].as_array().unwrap() {
        assert_eq!(n["version"], "redis-next", "{after}");
        assert_eq!(exe_of(n["pid"].as_u64().unwrap()), copy);
    }
    // Replica first (3 events), then the primary after a planned failover (4).
    let got = events(&rx, 7);
    let kinds: Vec<(N, bool)> = got.iter().map(|e| (e.kind, e.is_replica)).collect();
    assert_eq!(
        kinds,
        [
            (N::NodeMaintenanceStarting, true),
            (N::NodeMaintenanceStart, true),
            (N::NodeMaintenanceEnded, true),
            (N::NodeMaintenanceStarting, false),
            (N::NodeMaintenanceStart, false),
            (N::NodeMaintenanceFailoverComplete, false),
            (N::NodeMaintenanceEnded, false),
        ]
    );
    // The resync gate: the second node began only after the first had caught up.
    let h = records(&up, "patch");
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0]["role"], "replica");
    assert_eq!(h[1]["role"], "primary");
    assert!(h[1]["started_ms"].as_i64() >= h[0]["ended_ms"].as_i64());
    for r in &h {
        assert_eq!(r["version"], "redis-next");
        // The backlog covers the restart: no full copy (the primary's INFO stats
        // counted a partial resync and no full one).
        assert_eq!(r["resync"], "partial", "{r}");
        assert!(
            r["detail"].as_str().unwrap().contains("resync gate passed"),
            "{r}"
        );
    }
    println!(
        "redis patch: resyncs {} / {}, write pause {} ms",
        h[0]["resync"], h[1]["resync"], h[1]["write_pause_ms"]
    );

    // The diagnosis names the patch, its time, and the measured facts.
    let d = up.cli(&["diagnose", "local"]);
    let title = d["title"].as_str().unwrap();
    assert!(
        title.starts_with(
            "We ran diagnostics on your resource and found we patched your cache local at "
        ),
        "{title}"
    );
    assert_eq!(d["finding"], "patch");
    assert_eq!(d["facts"].as_array().unwrap().len(), 2);
    assert!(
        d["facts"][1].as_str().unwrap().contains("writes held for"),
        "{d}"
    );
    assert!(d["description"]
        .as_str()
        .unwrap()
        .contains("would have seen no errors"));
    assert_eq!(d["recommended_steps"].as_array().unwrap().len(), 5);
    assert_eq!(up.get("/caches/local/diagnose"), d);
}

#[test]
fn platform_patch_of_a_resource_group_builtin() {
    let dir = TempDir::new("group").unwrap();
    let up = Up::start(&dir, "builtin", &[]);
    let other = up.cli(&[
        "cache", "create", "other", "--tier", "standard", "--group", "default",
    ]);
    assert_eq!(other["spec"]["group"], "default");
    let pids = |name: &str| -> Vec<u64> {
        up.cli(&["cache", "show", name])["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["pid"].as_u64().unwrap())
            .collect()
    };
    let before = (pids("local"), pids("other"));
    let version = up.show()["nodes"][0]["version"].clone();

    // Both are queued at once; they run one after the other.
    let api = format!("http://{}", up.api);
    let cli = std::process::Command::new(BIN)
        .args([
            "patch", "--group", "default", "--now", "--json", "--api", &api,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(poll_until(Duration::from_secs(20), || {
        up.get("/caches/local/workflows")
            .as_array()
            .is_some_and(|w| !w.is_empty())
    }));
    // A second patch of a cache with one pending is refused, and says why.
    let err = cli_fails(&up, &["patch", "local", "--now"]);
    assert!(err.contains("already has a patch pending"), "{err}");
    let out = cli.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", up.log_tail());
    let wfs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wfs = wfs.as_array().unwrap();
    assert_eq!(wfs.len(), 2);
    assert!(wfs
        .iter()
        .all(|w| w["state"] == "done" && w["kind"] == "patch"));
    let (a, b) = (&wfs[0], &wfs[1]);
    assert_eq!(
        (a["cache"].as_str(), b["cache"].as_str()),
        (Some("local"), Some("other"))
    );
    assert!(
        b["started_ms"].as_i64().unwrap() >= a["updated_ms"].as_i64().unwrap(),
        "the two caches of one group overlapped: {a} {b}"
    );
    // A platform patch: every node restarted, on the version it ran.
    let after = (pids("local"), pids("other"));
    for (x, y) in before
        .0
        .iter()
        .chain(&before.1)
        .zip(after.0.iter().chain(&after.1))
    {
        assert_ne!(x, y, "every node restarted");
    }
    assert_eq!(up.show()["nodes"][1]["version"], version);
    assert_eq!(records(&up, "patch").len(), 2);
}

#[test]
fn killed_service_resumes_a_patch() {
    let dir = TempDir::new("resume-patch").unwrap();
    let mut up = Up::start(
        &dir,
        "builtin",
        &["--starting-lead", "2s", "--start-lead", "1s"],
    );
    // The same binary under another version name (a hard link would do as well).
    let me = std::fs::canonicalize(BIN).unwrap();
    up.cli(&[
        "versions",
        "add",
        "builtin-next",
        "--engine",
        "builtin",
        "--binary",
        me.to_str().unwrap(),
        "--channel",
        "preview",
    ]);
    // A channel change patches to the channel's newest version.
    let changed = up.cli(&["channel", "local", "preview", "--now"]);
    assert_eq!(changed["version"], "builtin-next");
    let id = changed["workflow"]["id"].as_u64().unwrap();
    assert!(poll_until(Duration::from_secs(60), || up
        .get(&format!("/workflows/{id}"))["op"]
        == 1));
    up.kill();
    up.restart();
    assert!(poll_until(Duration::from_secs(90), || up
        .get(&format!("/workflows/{id}"))["state"]
        != "running"));
    let wf = up.get(&format!("/workflows/{id}"));
    assert_eq!(wf["state"], "done", "{wf}");
    assert!(
        poll_until(Duration::from_secs(30), || {
            let c = up.show();
            (0..2).all(|i| {
                c["nodes"][i]["health"] == "up" && c["nodes"][i]["version"] == "builtin-next"
            })
        }),
        "{}",
        up.show()
    );
    assert_eq!(records(&up, "patch").len(), 2);
    // Already on the channel's newest: nothing to patch.
    let again = up.cli(&["channel", "local", "preview"]);
    assert!(again["workflow"].is_null(), "{again}");
}

/// Basic tier: one node, nothing to fail over to; the patch restarts it in place, the
/// cache is unavailable meanwhile, and it comes back with its data (saved at SIGTERM).
fn patch_basic(engine: &str) {
    let dir = TempDir::new("patch-basic").unwrap();
    let up = Up::start(&dir, engine, &["--tier", "basic"]);
    let mut c = up.connect();
    assert_eq!(
        c.cmd(&["SET", "kept", "1"]).unwrap(),
        ferrocache_testkit::Frame::Simple("OK".into())
    );
    let pid = up.show()["nodes"][0]["pid"].as_u64().unwrap();
    let wf = up.cli(&["patch", "local", "--now"]);
    assert_eq!(wf["state"], "done", "{wf}");
    assert_eq!(wf["ops"], 1);
    let after = up.show();
    assert_ne!(after["nodes"][0]["pid"].as_u64().unwrap(), pid, "restarted");
    assert_eq!(after["epoch"], 0, "no failover");
    let mut c = up.connect();
    assert_eq!(
        c.cmd(&["GET", "kept"]).unwrap(),
        ferrocache_testkit::Frame::Bulk("1".into())
    );
    let h = records(&up, "patch");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["role"], "primary");
    assert!(h[0]["write_pause_ms"].is_null());
    let d = up.cli(&["diagnose", "local"]);
    let text = d["description"].as_str().unwrap();
    assert!(text.contains("no replica (basic tier)"), "{text}");
    assert!(text.contains("connection errors"), "{text}");
}

#[test]
fn patch_of_a_basic_cache_builtin() {
    patch_basic("builtin");
}

#[test]
fn patch_of_a_basic_cache_redis() {
    patch_basic("redis");
}
