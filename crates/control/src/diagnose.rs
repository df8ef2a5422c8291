//! Diagnostics (SYSTEM.md §11): the seed's insight — "We ran diagnostics on your
//! resource and found we patched your cache NAME at TIME …" — written from the history
//! records of the most recent maintenance (a workflow's records, or one unplanned
//! failover), with the measured figures and the recommended steps.

use ferrocache_api::diagnose::Diagnosis;
use ferrocache_api::time::format_utc;
use ferrocache_api::{HistoryRecord, Role};

fn role(r: Role) -> &'static str {
    match r {
        Role::Primary => "primary",
        Role::Replica => "replica",
    }
}

fn at(ms: i64) -> String {
    format!("{} UTC", format_utc(ms / 1000))
}

/// The diagnosis of `cache` from its history (oldest first); `scheduled` says whether
/// the cache has maintenance windows (the steps recommend them otherwise).
pub fn diagnose(cache: &str, history: &[HistoryRecord], scheduled: bool) -> Diagnosis {
    let mut records: Vec<HistoryRecord> = Vec::new();
    if let Some(last) = history.last() {
        records = match last.workflow {
            Some(w) => history
                .iter()
                .filter(|r| r.workflow == Some(w))
                .cloned()
                .collect(),
            None => vec![last.clone()],
        };
    }
    let steps = steps(cache, scheduled);
    let Some(first) = records.first().cloned() else {
        return Diagnosis {
            cache: cache.into(),
            finding: "none".into(),
            title: format!(
                "We ran diagnostics on your resource and found no maintenance or failover of your cache {cache}"
            ),
            description: "The service has not patched, rebooted or failed over this cache."
                .into(),
            facts: vec![],
            recommended_steps: steps,
            records,
        };
    };
    let end = records
        .iter()
        .map(|r| r.ended_ms)
        .max()
        .unwrap_or(first.ended_ms);
    let start = at(first.started_ms);
    let finding = first.kind.clone();
    let title = match finding.as_str() {
        "patch" => format!("We ran diagnostics on your resource and found we patched your cache {cache} at {start}"),
        "reboot" => format!("We ran diagnostics on your resource and found we rebooted your cache {cache} at {start}"),
        "planned-failover" => format!("We ran diagnostics on your resource and found a planned failover of your cache {cache} at {start}"),
        "unplanned-failover" => format!("We ran diagnostics on your resource and found the primary node of your cache {cache} was lost at {start} and replaced by its replica"),
        "import" => format!("We ran diagnostics on your resource and found data was imported into your cache {cache} at {start}"),
        other => format!("We ran diagnostics on your resource and found a {other} of your cache {cache} at {start}"),
    };
    let facts: Vec<String> = records.iter().map(fact).collect();
    let pauses: Vec<f64> = records.iter().filter_map(|r| r.write_pause_ms).collect();
    let moved: u64 = records.iter().filter_map(|r| r.connections_moved).sum();
    let closed: u64 = records.iter().filter_map(|r| r.connections_closed).sum();
    let full = records
        .iter()
        .filter(|r| r.resync.as_deref() == Some("full"))
        .count();
    let max_pause = pauses.iter().cloned().fold(0.0, f64::max);
    let span = (end - first.started_ms) as f64 / 1000.0;
    let mut d = match finding.as_str() {
        "unplanned-failover" => format!(
            "Our service detected that the primary node of your cache {cache} stopped answering at {start}, confirmed it with the replica's own link, and promoted the replica; writes could not be served for {max_pause:.0} ms. Requests that were in flight on the lost primary got connection errors (their outcome is unknown: retry idempotent ones); requests sent during the outage were held by the endpoint and then served by the new primary. Writes acknowledged by the old primary but not yet replicated may be lost."
        ),
        "import" => format!(
            "Your cache {cache} was unavailable for {span:.1} s while its data was replaced by the imported file; clients saw connection errors and reconnected afterwards."
        ),
        _ => {
            let mut d = format!(
                "The maintenance of your cache {cache} ran from {start} to {} ({span:.1} s), one node at a time, replica first; each node rejoined and caught up with the primary before the next was touched.",
                at(end)
            );
            // A primary restarted without a failover: a basic-tier cache's only node.
            let in_place: Vec<&HistoryRecord> = records
                .iter()
                .filter(|r| r.role == Role::Primary && r.write_pause_ms.is_none())
                .filter(|r| r.kind == "patch" || r.kind == "reboot")
                .collect();
            if let Some(r) = in_place.first() {
                d.push_str(&format!(
                    " Your cache has no replica (basic tier): it was unavailable for {} ms while its only node restarted. Client applications would have seen connection errors and had to reconnect; data saved before the restart was reloaded.",
                    r.ended_ms - r.started_ms
                ));
                d.push_str(" Use the standard tier for a cache that keeps serving through maintenance.");
                d.push_str(" Data loss is possible on the basic tier; guard against it with persistence and regular exports.");
                return Diagnosis {
                    cache: cache.into(),
                    finding,
                    title,
                    description: d,
                    facts,
                    recommended_steps: steps,
                    records,
                };
            }
            if pauses.is_empty() {
                d.push_str(" No failover was needed: the primary kept serving throughout.");
            } else {
                d.push_str(&format!(
                    " The primary role was handed over {} time(s); writes through the endpoint were held for at most {max_pause:.1} ms each time, then released to the new primary in order.",
                    pauses.len()
                ));
            }
            d.push_str(&format!(
                " Client applications connected through the endpoint would have seen no errors: {moved} connection(s) were moved to the new primary and {closed} closed. Connections made directly to a node's own port were closed when that node restarted."
            ));
            if full > 0 {
                d.push_str(&format!(" {full} node(s) needed a full resynchronisation, which adds load on the primary while it runs."));
            }
            d
        }
    };
    d.push_str(" Data loss is unlikely on the standard tier; guard against it with persistence and regular exports.");
    Diagnosis {
        cache: cache.into(),
        finding,
        title,
        description: d,
        facts,
        recommended_steps: steps,
        records,
    }
}

fn fact(r: &HistoryRecord) -> String {
    let mut s = format!(
        "node {} ({}), {} from {} to {} ({} ms)",
        r.node,
        role(r.role),
        r.kind,
        at(r.started_ms),
        at(r.ended_ms),
        r.ended_ms - r.started_ms
    );
    if let Some(p) = r.write_pause_ms {
        let what = if r.kind == "unplanned-failover" {
            "no primary for"
        } else {
            "writes held for"
        };
        s.push_str(&format!(", {what} {p:.1} ms"));
    }
    if let Some(m) = r.connections_moved {
        s.push_str(&format!(", {m} connection(s) moved"));
    }
    if let Some(c) = r.connections_closed {
        s.push_str(&format!(", {c} closed"));
    }
    if let Some(v) = &r.version {
        s.push_str(&format!(", now on {v}"));
    }
    if let Some(x) = &r.resync {
        s.push_str(&format!(", {x} resync"));
    }
    s.push_str(&format!(": {}", r.detail));
    s
}

/// The seeds' recommended steps, as this service's commands.
fn steps(cache: &str, scheduled: bool) -> Vec<String> {
    let mut v = vec![
        "Make your client resilient to short connection breaks: retry idempotent commands with exponential backoff and jitter, and let it reconnect on its own (ferrocache-client does both).".to_string(),
        "Configure your client library with a connect timeout of at least 5 seconds and a command timeout of about 5 seconds; on Linux, set net.ipv4.tcp_retries2 to 5 so dead connections are noticed in seconds, not 15 minutes.".to_string(),
    ];
    if scheduled {
        v.push(format!("Your cache has maintenance windows (`ferrocache schedule {cache} --show`); patches wait for them unless forced."));
    } else {
        v.push(format!("Schedule updates for a maintenance window to reduce the impact on your system: `ferrocache schedule {cache} --add \"Sun 02:00 5h\"`."));
    }
    v.push(format!("Test your system's resiliency to connection breaks using a reboot to simulate a patch: `ferrocache reboot {cache} --node primary`."));
    v.push(format!("Enable persistence or periodically export your cache's data to further prevent data loss: `ferrocache export {cache} FILE`."));
    v
}
