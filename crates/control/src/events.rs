//! Maintenance events (SYSTEM.md §7) published on `AzureRedisEvents`. They are
//! published on the shard's primary: Redis and ferrocache both carry PUBLISH down the
//! replication stream, so every node of the shard delivers each event exactly once to
//! its subscribers — and subscribers through the endpoint see it wherever they are.
//! The same moments go to the gateway, which sends them as RESP3 push frames to the
//! connections that opted in with `CLIENT MAINT_NOTIFICATIONS ON`.

use crate::cache::CacheRt;
use crate::gateway_client::Notice;
use crate::secret::now_ms;
use crate::service::Ctl;
use ferrocache_api::event::EventRecord;
use ferrocache_api::{MaintenanceEvent, NotificationType, Tier, EVENTS_CHANNEL};
use std::time::Duration;

/// Publishes `kind` about node `node`; `start_in_s` is its StartTimeInUTC from now.
pub async fn publish(
    ctl: &Ctl,
    rt: &CacheRt,
    shard: usize,
    node: usize,
    is_replica: bool,
    kind: NotificationType,
    start_in_s: i64,
) {
    let start = now_ms() / 1000 + start_in_s;
    publish_at(ctl, rt, shard, node, is_replica, kind, start).await
}

/// Publishes `kind` about node `node` with StartTimeInUTC `start_s` (Unix seconds).
pub async fn publish_at(
    ctl: &Ctl,
    rt: &CacheRt,
    shard: usize,
    node: usize,
    is_replica: bool,
    kind: NotificationType,
    start_s: i64,
) {
    let ev = MaintenanceEvent {
        kind,
        start_time: kind.has_start_time().then_some(start_s),
        is_replica,
        ip: "127.0.0.1".into(),
        ssl_port: rt.spec.tls_node_port_base + node as u16,
        non_ssl_port: rt.spec.node_port_base + node as u16,
    };
    let message = ev.to_wire();
    let mut targets: Vec<usize> = rt.primary_of(shard).into_iter().collect();
    let mut delivered = false;
    for attempt in 0..2 {
        for &t in &targets {
            match rt.client(ctl, t).await {
                Ok(mut c) => match c.ok(&["PUBLISH", EVENTS_CHANNEL, &message]).await {
                    Ok(_) => delivered = true,
                    Err(e) => tracing::warn!(cache = %rt.name, node = t, "PUBLISH failed: {e:#}"),
                },
                Err(e) => tracing::warn!(cache = %rt.name, node = t, "cannot publish: {e:#}"),
            }
        }
        if delivered || attempt == 1 {
            break;
        }
        // The primary did not take it: tell whichever replicas answer directly.
        targets = rt.replicas_of(shard);
    }
    if let Some(gw) = rt.gateway_client() {
        let fails_over = !is_replica && rt.spec.tier != Tier::Basic;
        for n in notices(kind, shard, node, fails_over, ctl.config.start_lead) {
            if let Err(e) = gw.notice(&n).await {
                tracing::warn!(cache = %rt.name, "gateway did not take {n:?}: {e:#}");
            }
        }
    }
    let rec = EventRecord {
        id: 0,
        cache: rt.name.clone(),
        shard,
        node,
        published_ms: now_ms(),
        message,
    };
    if let Err(e) = ctl.store.add_event(&rec) {
        tracing::error!("cannot record event: {e:#}");
    }
    tracing::info!(cache = %rt.name, "event {}", rec.message);
}

/// The push frames an event stands for. `NodeMaintenanceStart` is the last word
/// before the node goes: its direct-port clients are sent to the endpoint
/// (`MOVING`), and if a failover follows, the endpoint's clients are told to expect
/// it (`FAILING_OVER`, within the Start lead). `NodeMaintenanceFailoverComplete`
/// ends it (`FAILED_OVER`).
fn notices(
    kind: NotificationType,
    shard: usize,
    node: usize,
    fails_over: bool,
    start_lead: Duration,
) -> Vec<Notice> {
    let seconds = start_lead.as_secs_f64().ceil() as u64;
    match kind {
        NotificationType::NodeMaintenanceStart => {
            let mut v = vec![Notice::Moving { node, seconds }];
            if fails_over {
                v.push(Notice::FailingOver { shard, seconds });
            }
            v
        }
        NotificationType::NodeMaintenanceFailoverComplete => vec![Notice::FailedOver { shard }],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NotificationType as N;

    #[test]
    fn events_map_to_push_notices() {
        let lead = Duration::from_millis(1500);
        assert_eq!(
            notices(N::NodeMaintenanceStart, 0, 1, true, lead),
            vec![
                Notice::Moving {
                    node: 1,
                    seconds: 2
                },
                Notice::FailingOver {
                    shard: 0,
                    seconds: 2
                }
            ]
        );
        assert_eq!(
            notices(N::NodeMaintenanceStart, 0, 1, false, lead),
            vec![Notice::Moving {
                node: 1,
                seconds: 2
            }]
        );
        assert_eq!(
            notices(N::NodeMaintenanceFailoverComplete, 0, 1, false, lead),
            vec![Notice::FailedOver { shard: 0 }]
        );
        assert!(notices(N::NodeMaintenanceStarting, 0, 1, true, lead).is_empty());
        assert!(notices(N::NodeMaintenanceEnded, 0, 1, true, lead).is_empty());
    }
}
