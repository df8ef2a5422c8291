//! The control interface for the management service: an HTTP JSON API on
//! `--admin-addr` (documented in docs/gateway.md). Topology, planned switches
//! (start → the service promotes the replica → finish), metrics.

use crate::maint::NoticeKind;
use crate::route::RouteKey;
use crate::topology::{resolve, Topology};
use crate::Shared;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// A switch between `start` and `finish`.
#[derive(Debug)]
pub(crate) struct Switch {
    shard: usize,
    from: String,
    to: String,
    held: Vec<RouteKey>,
    started: Instant,
    drain_ms: f64,
    connections: usize,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/topology", get(get_topology).put(put_topology))
        .route("/switch/start", post(switch_start))
        .route("/switch/finish", post(switch_finish))
        .route("/switch/abort", post(switch_abort))
        .route("/maintenance", post(maintenance))
        .route("/keys", axum::routing::put(put_keys))
        .route("/metrics", get(metrics))
        // Every answer is JSON, including axum's own 404 and 405.
        .fallback(|| async { ApiError(StatusCode::NOT_FOUND, "no such route".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route".into(),
            )
        })
        .with_state(shared)
}

/// An error answer: a status and `{"error": "..."}`.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

fn conflict(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::CONFLICT, msg.into())
}

type ApiResult = Result<Json<serde_json::Value>, ApiError>;

/// A JSON body, or a JSON error saying what is wrong with it (axum's own rejection
/// answers in plain text, and a missing body would otherwise be a 415).
fn body<T>(body: Result<Json<T>, JsonRejection>, shape: &str) -> Result<T, ApiError> {
    match body {
        Ok(Json(b)) => Ok(b),
        Err(JsonRejection::MissingJsonContentType(_)) => Err(bad(format!(
            "the body must be JSON (Content-Type: application/json): {shape}"
        ))),
        Err(e) => Err(bad(format!("{}; expected {shape}", e.body_text()))),
    }
}

async fn get_topology(State(shared): State<Arc<Shared>>) -> Json<Topology> {
    Json(shared.topology().clone())
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let mut m = shared.metrics.snapshot();
    m["epoch"] = json!(shared.topology().epoch);
    m["switch_in_progress"] = json!(shared.switch.lock().await.is_some());
    m["connections"]["handed_off"] = json!(shared.links.all().map(|l| l.adopted()).sum::<usize>());
    Json(m)
}

/// Replaces the topology (e.g. after an unplanned failover): the endpoint routes
/// to the named primary at once; held requests go there.
async fn put_topology(
    State(shared): State<Arc<Shared>>,
    new: Result<Json<Topology>, JsonRejection>,
) -> ApiResult {
    let new = body(
        new,
        r#"{"epoch": N, "nodes": [...], "shards": [{"primary": ..., "replicas": [...]}]}"#,
    )?;
    new.validate(shared.routes.node_count()).map_err(bad)?;
    let switch = shared.switch.lock().await;
    if switch.is_some() {
        return Err(conflict(
            "a switch is in progress: finish or abort it first",
        ));
    }
    let current = shared.topology().epoch;
    if new.epoch < current {
        return Err(conflict(format!(
            "stale epoch {} (the gateway is at {current})",
            new.epoch
        )));
    }
    let primary = resolve(&new.shards[0].primary).map_err(bad)?;
    // Endpoint connections a former primary serves directly come back, to follow
    // the new one (it also stops getting leases, so they cannot run there meanwhile).
    if let Some(old) = shared
        .routes
        .current(RouteKey::Endpoint)
        .and_then(|r| r.target)
    {
        if old != primary {
            if let Some(link) = shared.links.get(old) {
                link.release(Some(ferrocache_handoff::Via::Endpoint));
            }
        }
    }
    retarget(&shared, RouteKey::Endpoint, primary);
    for (i, node) in new.nodes.iter().enumerate() {
        retarget(&shared, RouteKey::Node(i), resolve(node).map_err(bad)?);
    }
    tracing::info!(epoch = new.epoch, primary = %new.shards[0].primary, "topology updated");
    *shared.topology() = new;
    drop(switch);
    Ok(Json(json!({"epoch": shared.topology().epoch})))
}

/// Points a route at `addr`; a new generation only if that is a change.
fn retarget(shared: &Shared, key: RouteKey, addr: std::net::SocketAddr) {
    if shared
        .routes
        .current(key)
        .is_some_and(|r| r.target != Some(addr))
    {
        shared.routes.update(key, |r| {
            r.target = Some(addr);
            r.generation += 1;
        });
    }
}

#[derive(Deserialize)]
struct StartBody {
    #[serde(default)]
    shard: usize,
    /// `host:port` of the node that will become primary.
    target: String,
}

/// Step 3 of a planned failover: hold the shard's requests and wait (up to half the
/// hold deadline) until requests already sent have completed.
async fn switch_start(
    State(shared): State<Arc<Shared>>,
    b: Result<Json<StartBody>, JsonRejection>,
) -> ApiResult {
    let body = body(b, r#"{"shard": 0, "target": "host:port"}"#)?;
    let mut switch = shared.switch.lock().await;
    if let Some(s) = switch.as_ref() {
        return Err(conflict(format!(
            "a switch of shard {} to {} is already in progress",
            s.shard, s.to
        )));
    }
    let (from, held) = {
        let topo = shared.topology();
        let shard = topo
            .shards
            .get(body.shard)
            .ok_or_else(|| bad(format!("no shard {}", body.shard)))?;
        if shard.primary == body.target {
            return Err(bad(format!(
                "{} is already the primary of shard {}",
                body.target, body.shard
            )));
        }
        if !shard.replicas.contains(&body.target) {
            return Err(bad(format!(
                "{} is not a replica of shard {}",
                body.target, body.shard
            )));
        }
        // The endpoint and the direct ports of the shard's nodes all hold, so that
        // nothing writes to the old primary while the replica catches up.
        let mut held = vec![RouteKey::Endpoint];
        for n in std::iter::once(&shard.primary).chain(&shard.replicas) {
            held.extend(topo.node_index(n).map(RouteKey::Node));
        }
        (shard.primary.clone(), held)
    };
    let started = Instant::now();
    shared.metrics.switch_started();
    for &k in &held {
        shared.routes.update(k, |r| r.hold = true);
    }
    tracing::info!(shard = body.shard, %from, to = %body.target, "switch started: holding");
    let deadline = tokio::time::Instant::now() + shared.config.hold_deadline / 2;
    // Connections the shard's nodes serve directly come back first (each at a command
    // boundary); from then on they are held and moved like every other.
    let links: Vec<_> = {
        let topo = shared.topology();
        let shard = &topo.shards[body.shard];
        std::iter::once(&shard.primary)
            .chain(&shard.replicas)
            .filter_map(|n| resolve(n).ok())
            .filter_map(|a| shared.links.get(a).cloned())
            .collect()
    };
    for l in &links {
        l.release(None);
    }
    let mut out = 0;
    for l in &links {
        out += l.wait_returned(deadline).await;
    }
    if out > 0 {
        tracing::warn!(
            connections = out,
            "some connections were not given back by their node in time"
        );
    }
    let unsettled = shared.routes.wait_settled(&held, deadline).await;
    let (_, connections) = shared.routes.unsettled(&held);
    let drain_ms = started.elapsed().as_secs_f64() * 1000.0;
    *switch = Some(Switch {
        shard: body.shard,
        from,
        to: body.target,
        held,
        started,
        drain_ms,
        connections,
    });
    Ok(Json(json!({
        "drained": unsettled == 0,
        "connections": connections,
        "undrained_connections": unsettled,
        "drain_ms": drain_ms,
    })))
}

#[derive(Deserialize)]
struct FinishBody {
    #[serde(default)]
    shard: usize,
    epoch: u64,
}

/// Step 6: the target has been promoted. Move the shard's connections to it (each
/// replays its state), wait until they have re-attached, then release held requests.
async fn switch_finish(
    State(shared): State<Arc<Shared>>,
    b: Result<Json<FinishBody>, JsonRejection>,
) -> ApiResult {
    let body = body(b, r#"{"shard": 0, "epoch": N}"#)?;
    let mut guard = shared.switch.lock().await;
    let Some(sw) = guard.as_ref() else {
        return Err(conflict("no switch is in progress"));
    };
    if sw.shard != body.shard {
        return Err(conflict(format!(
            "the switch in progress is of shard {}",
            sw.shard
        )));
    }
    let current = shared.topology().epoch;
    if body.epoch <= current {
        return Err(conflict(format!(
            "the new epoch must be above the current one ({current}), got {}",
            body.epoch
        )));
    }
    let target = resolve(&sw.to).map_err(bad)?;
    let Some(sw) = guard.take() else {
        return Err(conflict("no switch is in progress"));
    };
    {
        let mut topo = shared.topology();
        topo.epoch = body.epoch;
        let shard = &mut topo.shards[sw.shard];
        shard.replicas.retain(|r| r != &sw.to);
        shard.replicas.push(sw.from.clone());
        shard.primary = sw.to.clone();
    }
    let reattach_started = Instant::now();
    shared.routes.update(RouteKey::Endpoint, |r| {
        r.target = Some(target);
        r.generation += 1;
    });
    let deadline = tokio::time::Instant::now() + shared.config.hold_deadline / 2;
    let unsettled = shared
        .routes
        .wait_settled(&[RouteKey::Endpoint], deadline)
        .await;
    let reattach_ms = reattach_started.elapsed().as_secs_f64() * 1000.0;
    for &k in &sw.held {
        shared.routes.update(k, |r| r.hold = false);
    }
    let duration_ms = sw.started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(shard = sw.shard, to = %sw.to, epoch = body.epoch, duration_ms, "switch finished: released");
    shared.metrics.record_switch(crate::metrics::SwitchRecord {
        shard: sw.shard,
        from: sw.from,
        to: sw.to,
        epoch: body.epoch,
        outcome: "finished",
        duration_ms,
        drain_ms: sw.drain_ms,
        reattach_ms,
        connections: sw.connections,
        unsettled_connections: unsettled,
    });
    Ok(Json(json!({
        "epoch": body.epoch,
        "reattached": unsettled == 0,
        "unattached_connections": unsettled,
        "reattach_ms": reattach_ms,
        "duration_ms": duration_ms,
    })))
}

#[derive(Deserialize)]
struct AbortBody {
    #[serde(default)]
    shard: usize,
}

/// Gives up a switch before `finish`: releases held requests to the old primary.
async fn switch_abort(
    State(shared): State<Arc<Shared>>,
    b: Result<Json<AbortBody>, JsonRejection>,
) -> ApiResult {
    // No body at all means shard 0: an operator's `curl -X POST` must be enough.
    let shard = match b {
        Err(JsonRejection::MissingJsonContentType(_)) => 0,
        b => body(b, r#"{"shard": 0} or no body"#)?.shard,
    };
    let mut guard = shared.switch.lock().await;
    match guard.as_ref() {
        Some(sw) if sw.shard == shard => {}
        _ => {
            return Err(conflict(format!(
                "no switch of shard {shard} is in progress"
            )))
        }
    }
    let Some(sw) = guard.take() else {
        return Err(conflict("no switch is in progress"));
    };
    for &k in &sw.held {
        shared.routes.update(k, |r| r.hold = false);
    }
    let duration_ms = sw.started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        shard,
        duration_ms,
        "switch aborted: released to the old primary"
    );
    shared.metrics.record_switch(crate::metrics::SwitchRecord {
        shard,
        from: sw.from,
        to: sw.to,
        epoch: shared.topology().epoch,
        outcome: "aborted",
        duration_ms,
        drain_ms: sw.drain_ms,
        reattach_ms: 0.0,
        connections: sw.connections,
        unsettled_connections: 0,
    });
    Ok(Json(json!({"released": true, "duration_ms": duration_ms})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintenanceBody {
    /// `failing_over`, `failed_over` or `moving`.
    notice: String,
    #[serde(default)]
    shard: usize,
    /// The node whose direct-port connections a `moving` notice is for.
    node: Option<usize>,
    #[serde(default)]
    seconds: u64,
}

/// Announces a maintenance moment to the connections that opted in with
/// `CLIENT MAINT_NOTIFICATIONS ON`: the shard's endpoint connections for
/// `failing_over` / `failed_over`, node `node`'s direct-port connections for `moving`.
async fn maintenance(
    State(shared): State<Arc<Shared>>,
    b: Result<Json<MaintenanceBody>, JsonRejection>,
) -> ApiResult {
    let b = body(
        b,
        r#"{"notice": "failing_over"|"failed_over"|"moving", "shard": 0, "node": N, "seconds": N}"#,
    )?;
    if b.shard >= shared.topology().shards.len() {
        return Err(bad(format!("no shard {}", b.shard)));
    }
    let (audience, kind) = match b.notice.as_str() {
        "failing_over" => (
            RouteKey::Endpoint,
            NoticeKind::FailingOver {
                seconds: b.seconds,
                shard: b.shard,
            },
        ),
        "failed_over" => (
            RouteKey::Endpoint,
            NoticeKind::FailedOver { shard: b.shard },
        ),
        "moving" => {
            let node = b
                .node
                .ok_or_else(|| bad("a moving notice names the node that goes away"))?;
            if node >= shared.routes.node_count() {
                return Err(bad(format!("no node {node}")));
            }
            (
                RouteKey::Node(node),
                NoticeKind::Moving { seconds: b.seconds },
            )
        }
        other => {
            return Err(bad(format!(
                "notice must be failing_over, failed_over or moving, not {other:?}"
            )))
        }
    };
    let (seq, listeners) = shared.maint.announce(audience, kind);
    tracing::info!(notice = %b.notice, seq, listeners, "maintenance notice");
    Ok(Json(json!({"seq": seq, "listeners": listeners})))
}

/// How many access keys may be valid at once (one in use, one being rotated in).
pub const MAX_AUTH_KEYS: usize = 2;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysBody {
    keys: Vec<String>,
}

/// Replaces the access keys. Connections already authenticated stay so (as in
/// Redis when its password changes); new AUTHs are checked against the new keys.
async fn put_keys(
    State(shared): State<Arc<Shared>>,
    b: Result<Json<KeysBody>, JsonRejection>,
) -> ApiResult {
    let b = body(b, r#"{"keys": ["key", "key"]}"#)?;
    if b.keys.is_empty() || b.keys.len() > MAX_AUTH_KEYS {
        return Err(bad(format!(
            "keys must list one or two access keys, not {}",
            b.keys.len()
        )));
    }
    if b.keys.iter().any(|k| k.is_empty()) {
        return Err(bad("an access key cannot be empty"));
    }
    shared.set_auth_keys(b.keys);
    tracing::info!("access keys replaced");
    Ok(Json(json!({"keys": shared.auth_keys().len()})))
}
