//! The HTTP JSON API (docs/api.md). Every error is a 4xx/5xx with `{"error": "…"}`;
//! bodies are parsed by hand from bytes so that a bad one gets that shape too. Bound
//! to a non-loopback address, every request needs the bearer token.

use crate::service::Ctl;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ferrocache_api::http::{FailoverRequest, Keys, RebootRequest, Regenerate, ServiceHealth};
use ferrocache_api::version::{
    next_window_start, AddVersion, AddWindow, ChannelChanged, ChannelRequest, PatchRequest,
    Schedule, Window, CHANNELS,
};
use ferrocache_api::{CacheSpec, ErrorBody};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, m: impl std::fmt::Display) -> ApiError {
        ApiError {
            status,
            message: m.to_string(),
        }
    }
    pub fn bad_request(m: impl std::fmt::Display) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    pub fn conflict(m: impl std::fmt::Display) -> ApiError {
        Self::new(StatusCode::CONFLICT, m)
    }
    pub fn not_found(m: impl std::fmt::Display) -> ApiError {
        Self::new(StatusCode::NOT_FOUND, m)
    }
    pub fn internal(m: impl std::fmt::Display) -> ApiError {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{m:#}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

type Res<T> = Result<T, ApiError>;

/// The largest RDB file `import` accepts in one request.
const IMPORT_LIMIT: usize = 1 << 30;
type Ctx = State<Arc<Ctl>>;

fn body<T: DeserializeOwned>(bytes: &Bytes) -> Res<T> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("a JSON body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))
}

/// A body that may be empty (then the type's default).
fn body_or_default<T: DeserializeOwned + Default>(bytes: &Bytes) -> Res<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    body(bytes)
}

fn cache(ctl: &Ctl, name: &str) -> Res<Arc<crate::cache::CacheRt>> {
    ctl.cache(name)
        .ok_or_else(|| ApiError::not_found(format!("no cache named {name}")))
}

pub fn router(ctl: Arc<Ctl>) -> Router {
    let loopback = ctl.config.api_addr.ip().is_loopback();
    let mut r = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/caches", get(list).post(create))
        .route("/caches/{name}", get(show).delete(delete))
        .route("/caches/{name}/keys", get(keys))
        .route("/caches/{name}/keys/regenerate", post(regenerate))
        .route("/caches/{name}/failover", post(failover))
        .route("/caches/{name}/reboot", post(reboot))
        .route("/caches/{name}/workflows", get(workflows))
        .route("/caches/{name}/events", get(events))
        .route("/caches/{name}/history", get(history))
        .route("/workflows/{id}", get(workflow))
        .route("/versions", get(versions).post(add_version))
        .route("/caches/{name}/channel", put(channel))
        .route("/caches/{name}/patch", post(patch))
        .route("/groups/{group}/patch", post(patch_group))
        .route(
            "/caches/{name}/schedule",
            get(schedule).post(add_window).delete(clear_schedule),
        )
        .route("/caches/{name}/diagnose", get(diagnose))
        .route("/caches/{name}/export", get(export))
        .route(
            "/caches/{name}/import",
            post(import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            )
        });
    if !loopback {
        r = r.layer(middleware::from_fn_with_state(ctl.clone(), require_token));
    }
    r.with_state(ctl)
}

async fn require_token(State(ctl): Ctx, req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == ctl.token);
    if ok {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a bearer token is required (see api-token in the data directory)",
        )
        .into_response()
    }
}

async fn health() -> Json<ServiceHealth> {
    Json(ServiceHealth {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

async fn metrics(State(ctl): Ctx) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        ctl.metrics.render(),
    )
}

async fn list(State(ctl): Ctx) -> Json<Vec<ferrocache_api::CacheInfo>> {
    let caches: Vec<_> = ctl.caches.lock().values().cloned().collect();
    let mut out: Vec<_> = caches.iter().map(|c| c.info(&ctl)).collect();
    out.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
    Json(out)
}

async fn create(State(ctl): Ctx, bytes: Bytes) -> Res<impl IntoResponse> {
    let spec: CacheSpec = body(&bytes)?;
    let rt = crate::cache::create(&ctl, spec).await?;
    Ok((StatusCode::CREATED, Json(rt.info(&ctl))))
}

async fn show(State(ctl): Ctx, Path(name): Path<String>) -> Res<impl IntoResponse> {
    Ok(Json(cache(&ctl, &name)?.info(&ctl)))
}

async fn delete(State(ctl): Ctx, Path(name): Path<String>) -> Res<impl IntoResponse> {
    let rt = cache(&ctl, &name)?;
    if rt.info(&ctl).workflow.is_some() {
        return Err(ApiError::conflict(format!(
            "cache {name} is running a workflow"
        )));
    }
    ctl.caches.lock().remove(&name);
    rt.shut_down(&ctl).await;
    ctl.store.delete_cache(&name).map_err(ApiError::internal)?;
    ctl.metrics.forget(&name);
    let _ = std::fs::remove_dir_all(&rt.dir);
    Ok(Json(serde_json::json!({"deleted": name})))
}

async fn keys(State(ctl): Ctx, Path(name): Path<String>) -> Res<Json<Keys>> {
    let (primary, secondary) = cache(&ctl, &name)?.state.lock().keys.clone();
    Ok(Json(Keys { primary, secondary }))
}

async fn regenerate(State(ctl): Ctx, Path(name): Path<String>, bytes: Bytes) -> Res<Json<Keys>> {
    let rt = cache(&ctl, &name)?;
    let req: Regenerate = body(&bytes)?;
    if req.key != "primary" && req.key != "secondary" {
        return Err(ApiError::bad_request(format!(
            "key must be primary or secondary, not {}",
            req.key
        )));
    }
    let key = crate::secret::random_hex(22).map_err(ApiError::internal)?;
    ctl.store
        .set_key(&name, &req.key, &key)
        .map_err(ApiError::internal)?;
    {
        let mut st = rt.state.lock();
        if req.key == "primary" {
            st.keys.0 = key
        } else {
            st.keys.1 = key
        }
    }
    // The gateway takes the new keys at once; clients stay connected. A gateway
    // that cannot take them (not answering) is restarted with them instead.
    if let Err(e) = rt.push_keys().await {
        tracing::warn!(cache = %name, "gateway did not take the new keys ({e:#}); restarting it");
        rt.restart_gateway(&ctl).await.map_err(ApiError::internal)?;
    }
    keys(State(ctl), Path(name)).await
}

async fn failover(
    State(ctl): Ctx,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Res<impl IntoResponse> {
    let rt = cache(&ctl, &name)?;
    let req: FailoverRequest = body_or_default(&bytes)?;
    let wf = crate::workflows::submit(&ctl, &rt, "failover", req.shard).await?;
    Ok((StatusCode::ACCEPTED, Json(wf)))
}

async fn reboot(State(ctl): Ctx, Path(name): Path<String>, bytes: Bytes) -> Res<impl IntoResponse> {
    let rt = cache(&ctl, &name)?;
    let req: RebootRequest = body(&bytes)?;
    let kind = match req.node.as_str() {
        "primary" => "reboot-primary",
        "replica" => "reboot-replica",
        "all" => "reboot-all",
        other => {
            return Err(ApiError::bad_request(format!(
                "node must be primary, replica or all, not {other}"
            )))
        }
    };
    let wf = crate::workflows::submit(&ctl, &rt, kind, req.shard).await?;
    Ok((StatusCode::ACCEPTED, Json(wf)))
}

async fn workflows(State(ctl): Ctx, Path(name): Path<String>) -> Res<impl IntoResponse> {
    cache(&ctl, &name)?;
    let rows = ctl
        .store
        .workflows(Some(&name))
        .map_err(ApiError::internal)?;
    Ok(Json(rows.into_iter().map(|r| r.info).collect::<Vec<_>>()))
}

async fn workflow(State(ctl): Ctx, Path(id): Path<String>) -> Res<impl IntoResponse> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid workflow id {id}")))?;
    let row = ctl.store.workflow(id).map_err(ApiError::internal)?;
    Ok(Json(
        row.ok_or_else(|| ApiError::not_found(format!("no workflow {id}")))?
            .info,
    ))
}

async fn events(
    State(ctl): Ctx,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Res<impl IntoResponse> {
    let after = match q.get("after") {
        Some(a) => a
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid after={a}")))?,
        None => 0,
    };
    if ctl.cache(&name).is_none()
        && ctl
            .store
            .events(&name, 0)
            .map_err(ApiError::internal)?
            .is_empty()
    {
        return Err(ApiError::not_found(format!("no cache named {name}")));
    }
    Ok(Json(
        ctl.store.events(&name, after).map_err(ApiError::internal)?,
    ))
}

async fn history(State(ctl): Ctx, Path(name): Path<String>) -> Res<impl IntoResponse> {
    let h = ctl.store.history(&name).map_err(ApiError::internal)?;
    if h.is_empty() && ctl.cache(&name).is_none() {
        return Err(ApiError::not_found(format!("no cache named {name}")));
    }
    Ok(Json(h))
}

async fn versions(State(ctl): Ctx) -> Res<impl IntoResponse> {
    Ok(Json(ctl.store.versions().map_err(ApiError::internal)?))
}

async fn add_version(State(ctl): Ctx, bytes: Bytes) -> Res<impl IntoResponse> {
    let req: AddVersion = body(&bytes)?;
    let v = crate::versions::add(&ctl, req)?;
    Ok((StatusCode::CREATED, Json(v)))
}

async fn patch(State(ctl): Ctx, Path(name): Path<String>, bytes: Bytes) -> Res<impl IntoResponse> {
    let rt = cache(&ctl, &name)?;
    let req: PatchRequest = body_or_default(&bytes)?;
    let wf = crate::workflows::patch::submit(&ctl, &rt, &req)?;
    Ok((StatusCode::ACCEPTED, Json(wf)))
}

async fn patch_group(
    State(ctl): Ctx,
    Path(group): Path<String>,
    bytes: Bytes,
) -> Res<impl IntoResponse> {
    let req: PatchRequest = body_or_default(&bytes)?;
    let wfs = crate::workflows::patch::submit_group(&ctl, &group, &req)?;
    Ok((StatusCode::ACCEPTED, Json(wfs)))
}

async fn channel(
    State(ctl): Ctx,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Res<impl IntoResponse> {
    let rt = cache(&ctl, &name)?;
    let req: ChannelRequest = body(&bytes)?;
    if !CHANNELS.contains(&req.channel.as_str()) {
        return Err(ApiError::bad_request(format!(
            "unknown channel '{}': expected stable or preview",
            req.channel
        )));
    }
    let newest = ctl
        .store
        .pick_version(rt.spec.engine, Some(&req.channel))
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "no {} version of engine {} is registered (`ferrocache versions add … --channel {}`)",
                req.channel, rt.spec.engine, req.channel
            ))
        })?;
    let current: Vec<Option<String>> = (0..rt.state.lock().nodes.len())
        .map(|i| ctl.store.node_version(&name, i).ok().flatten())
        .collect();
    // The patch first: if it is refused (one is pending), the channel stays as it was.
    let workflow = if current
        .iter()
        .all(|v| v.as_deref() == Some(newest.name.as_str()))
    {
        None
    } else {
        let req = PatchRequest {
            to: Some(newest.name.clone()),
            now: req.now,
        };
        Some(crate::workflows::patch::submit(&ctl, &rt, &req)?)
    };
    let (_, windows) = ctl.store.settings(&name).map_err(ApiError::internal)?;
    ctl.store
        .set_settings(&name, &req.channel, &windows)
        .map_err(ApiError::internal)?;
    Ok(Json(ChannelChanged {
        cache: name,
        channel: req.channel,
        version: newest.name,
        workflow,
    }))
}

fn schedule_of(ctl: &Ctl, name: &str) -> Res<Schedule> {
    let (_, windows) = ctl.store.settings(name).map_err(ApiError::internal)?;
    let now = crate::secret::now_ms() / 1000;
    Ok(Schedule {
        cache: name.to_string(),
        next_start_ms: next_window_start(&windows, now).map(|s| s * 1000),
        windows,
    })
}

async fn schedule(State(ctl): Ctx, Path(name): Path<String>) -> Res<Json<Schedule>> {
    cache(&ctl, &name)?;
    Ok(Json(schedule_of(&ctl, &name)?))
}

async fn add_window(
    State(ctl): Ctx,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Res<Json<Schedule>> {
    cache(&ctl, &name)?;
    let req: AddWindow = body(&bytes)?;
    let w = Window::parse(&req.add).map_err(ApiError::bad_request)?;
    let (channel, mut windows) = ctl.store.settings(&name).map_err(ApiError::internal)?;
    if !windows.contains(&w) {
        windows.push(w);
    }
    ctl.store
        .set_settings(&name, &channel, &windows)
        .map_err(ApiError::internal)?;
    Ok(Json(schedule_of(&ctl, &name)?))
}

async fn clear_schedule(State(ctl): Ctx, Path(name): Path<String>) -> Res<Json<Schedule>> {
    cache(&ctl, &name)?;
    let (channel, _) = ctl.store.settings(&name).map_err(ApiError::internal)?;
    ctl.store
        .set_settings(&name, &channel, &[])
        .map_err(ApiError::internal)?;
    Ok(Json(schedule_of(&ctl, &name)?))
}

async fn diagnose(State(ctl): Ctx, Path(name): Path<String>) -> Res<impl IntoResponse> {
    let h = ctl.store.history(&name).map_err(ApiError::internal)?;
    if h.is_empty() && ctl.cache(&name).is_none() {
        return Err(ApiError::not_found(format!("no cache named {name}")));
    }
    let (_, windows) = ctl.store.settings(&name).map_err(ApiError::internal)?;
    Ok(Json(crate::diagnose::diagnose(
        &name,
        &h,
        !windows.is_empty(),
    )))
}

async fn export(State(ctl): Ctx, Path(name): Path<String>) -> Res<impl IntoResponse> {
    let rt = cache(&ctl, &name)?;
    let bytes = crate::data::export(&ctl, &rt)
        .await
        .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}

async fn import(State(ctl): Ctx, Path(name): Path<String>, bytes: Bytes) -> Res<impl IntoResponse> {
    let rt = cache(&ctl, &name)?;
    Ok(Json(crate::data::import(&ctl, &rt, &bytes).await?))
}
