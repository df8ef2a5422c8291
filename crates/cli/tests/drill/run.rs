//! Running `ferrocache drill --json` against a `ferrocache up` started by the test.

use super::support::{Up, BIN};
use std::process::Command;

/// Runs a drill on the cache `local` with short leads and durations; returns the exit
/// status's success, the JSON report (if any) and stderr.
pub fn drill(up: &Up, args: &[&str]) -> (bool, serde_json::Value, String) {
    let out = Command::new(BIN)
        .args(["drill", "--cache", "local", "--json", "--warmup", "1s"])
        .args(["--api", &format!("http://{}", up.api)])
        .args(args)
        .env("FERROCACHE_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.success(), json, stderr)
}

/// A drill that must succeed; its report.
pub fn report(up: &Up, args: &[&str]) -> serde_json::Value {
    let (ok, r, err) = drill(up, args);
    assert!(
        ok && r.is_object(),
        "drill {args:?} failed: {err}\n{r}\n{}",
        up.log_tail()
    );
    eprintln!("drill {args:?}: {r}");
    r
}

pub fn u(r: &serde_json::Value, field: &str) -> u64 {
    r[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} missing in {r}"))
}
