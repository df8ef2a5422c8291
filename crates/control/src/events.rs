//! Maintenance events (SYSTEM.md §7) published on `AzureRedisEvents`. They are
//! published on the shard's primary: Redis and ferrocache both carry PUBLISH down the
//! replication stream, so every node of the shard delivers each event exactly once to
//! its subscribers — and subscribers through the endpoint see it wherever they are.

use crate::cache::CacheRt;
use crate::secret::now_ms;
use crate::service::Ctl;
use ferrocache_api::event::EventRecord;
use ferrocache_api::{MaintenanceEvent, NotificationType, EVENTS_CHANNEL};

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
