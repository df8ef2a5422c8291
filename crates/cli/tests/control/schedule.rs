//! End-to-end tests of maintenance windows (SYSTEM.md §6): a patch without `--now`
//! waits for the next window, NodeMaintenanceScheduled goes out `--scheduled-lead`
//! ahead of it, and windows shorter than 5 hours are refused.

use super::patch::cli_fails;
use super::support::Up;
use super::{events, subscriber};
use ferrocache_api::time::format_utc;
use ferrocache_api::NotificationType as N;
use ferrocache_testkit::{poll_until, TempDir};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `DAY HH:MM:SS 5h` for the UTC moment `t` (Unix seconds).
fn window_at(t: i64) -> String {
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    // 1970-01-01 was a Thursday.
    let day = days[((t.div_euclid(86_400) + 3).rem_euclid(7)) as usize];
    let time = &format_utc(t)[11..];
    format!("{day} {time} 5h")
}

#[test]
fn a_patch_waits_for_the_window_builtin() {
    let dir = TempDir::new("window").unwrap();
    let up = Up::start(&dir, "builtin", &["--scheduled-lead", "2s"]);
    let err = cli_fails(&up, &["schedule", "local", "--add", "Tue 02:00 4h"]);
    assert!(err.contains("at least 5 hours"), "{err}");
    assert!(up.cli(&["schedule", "local"])["windows"]
        .as_array()
        .unwrap()
        .is_empty());

    // A window opening a few seconds from now.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let opens = now + 8;
    let s = up.cli(&["schedule", "local", "--add", &window_at(opens)]);
    assert_eq!(s["next_start_ms"].as_i64(), Some(opens * 1000), "{s}");

    let rx = subscriber(&up);
    let wf = up.cli(&["patch", "local"]);
    assert_eq!(wf["state"], "scheduled", "{wf}");
    assert_eq!(wf["not_before_ms"].as_i64(), Some(opens * 1000));
    let id = wf["id"].as_u64().unwrap();
    // Listed while it waits, with its start time.
    let listed = up.get("/caches/local/workflows");
    assert_eq!(listed[0]["state"], "scheduled");
    let text = std::process::Command::new(super::support::BIN)
        .args(["history", "local", "--api", &format!("http://{}", up.api)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("scheduled  patch (workflow {id})"))
            && text.contains(&format_utc(opens)),
        "{text}"
    );

    // Scheduled for both nodes (replica first), with the window's opening as the
    // start time; then the usual sequence per node.
    let got = events(&rx, 2 + 3 + 4);
    for e in &got[..2] {
        assert_eq!(e.kind, N::NodeMaintenanceScheduled);
        assert_eq!(e.start_time, Some(opens));
    }
    assert!(got[0].is_replica && !got[1].is_replica);
    assert_eq!(got[2].kind, N::NodeMaintenanceStarting);
    assert!(poll_until(Duration::from_secs(60), || up
        .get(&format!("/workflows/{id}"))["state"]
        == "done"));
    let wf = up.get(&format!("/workflows/{id}"));
    assert!(wf["started_ms"].as_i64().unwrap() >= opens * 1000, "{wf}");
    let recorded = up.get("/caches/local/events");
    let first = recorded[0]["message"].as_str().unwrap();
    assert!(
        first.starts_with(&format!(
            "NotificationType|NodeMaintenanceScheduled|StartTimeInUTC|{}|IsReplica|True|",
            format_utc(opens)
        )),
        "{first}"
    );
    assert!(recorded[0]["published_ms"].as_i64().unwrap() < opens * 1000);
    let cleared = up.cli(&["schedule", "local", "--clear"]);
    assert!(cleared["windows"].as_array().unwrap().is_empty());
}

/// `method path` with a body; the status and the JSON answer.
fn http(api: &str, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(api).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let status = text[9..12].parse().unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn bad_maintenance_requests_change_nothing() {
    let dir = TempDir::new("bad").unwrap();
    let up = Up::start(&dir, "builtin", &[]);
    let cases: [(&str, &str, &[u8], u16, &str); 10] = [
        ("POST", "/versions", b"{}", 400, "invalid body"),
        (
            "POST",
            "/versions",
            br#"{"name":"x","engine":"builtin","binary":"relative"}"#,
            400,
            "absolute",
        ),
        (
            "POST",
            "/versions",
            br#"{"name":"a b","engine":"builtin","binary":"/bin/true"}"#,
            400,
            "invalid version name",
        ),
        (
            "PUT",
            "/caches/local/channel",
            br#"{"channel":"beta"}"#,
            400,
            "unknown channel",
        ),
        (
            "PUT",
            "/caches/local/channel",
            br#"{"channel":"preview"}"#,
            400,
            "no preview version",
        ),
        (
            "POST",
            "/caches/local/patch",
            br#"{"bogus":1}"#,
            400,
            "unknown field",
        ),
        (
            "POST",
            "/caches/local/patch",
            br#"{"to":"nope"}"#,
            400,
            "no version named nope",
        ),
        (
            "POST",
            "/caches/local/schedule",
            br#"{"add":"Tue 02:00 4h"}"#,
            400,
            "at least 5 hours",
        ),
        ("POST", "/caches/local/import", b"", 400, "not an RDB file"),
        (
            "POST",
            "/groups/nogroup/patch",
            b"",
            404,
            "no cache in resource group",
        ),
    ];
    for (method, path, body, status, text) in cases {
        let (got, v) = http(&up.api, method, path, body);
        assert_eq!(got, status, "{method} {path}: {v}");
        let e = v["error"].as_str().unwrap_or_default();
        assert!(e.contains(text), "{method} {path}: {e}");
    }
    assert_eq!(http(&up.api, "GET", "/caches/nope/diagnose", b"").0, 404);
    // Nothing was applied.
    assert!(up
        .get("/caches/local/workflows")
        .as_array()
        .unwrap()
        .is_empty());
    assert!(up.cli(&["schedule", "local"])["windows"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(up.cli(&["versions"]).as_array().unwrap().len(), 2);
    let d = up.cli(&["diagnose", "local"]);
    assert_eq!(d["finding"], "none");
}
