//! The drill's side of the management API (docs/api.md): the cache's nodes and
//! keys, starting workflows, waiting for a workflow and for the cache to settle.

use anyhow::{anyhow, bail, Context};
use ferrocache_api::{CacheInfo, ErrorBody, Health, NodeInfo, Role};
use ferrocache_control::http_client::request;
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Mgmt {
    addr: String,
    token: Option<String>,
    pub cache: String,
}

/// What starting a workflow gave: its id, or why it could not start.
pub enum Started {
    Workflow(u64),
    /// The route does not exist on this service (e.g. patch before it lands).
    NotAvailable(String),
}

impl Mgmt {
    pub fn new(api: &str, token: Option<String>, cache: &str) -> Mgmt {
        let addr = api
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Mgmt {
            addr,
            token,
            cache: cache.to_string(),
        }
    }

    async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let bytes = body.map(|b| serde_json::to_vec(&b)).transpose()?;
        let r = request(
            &self.addr,
            method,
            path,
            bytes.as_deref(),
            self.token.as_deref(),
            DEADLINE,
        )
        .await?;
        Ok((r.status, r.body))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<T> {
        let (status, body) = self.raw(method, path, body).await?;
        if !(200..300).contains(&status) {
            bail!("{method} {path}: {}", error_text(status, &body));
        }
        serde_json::from_slice(&body).with_context(|| format!("{method} {path}"))
    }

    pub async fn info(&self) -> anyhow::Result<CacheInfo> {
        self.call("GET", &format!("/caches/{}", self.cache), None)
            .await
    }

    pub async fn primary_key(&self) -> anyhow::Result<String> {
        let keys: ferrocache_api::http::Keys = self
            .call("GET", &format!("/caches/{}/keys", self.cache), None)
            .await?;
        Ok(keys.primary)
    }

    /// Starts the workflow a management scenario asks for.
    pub async fn start(
        &self,
        route: &str,
        bodies: &[serde_json::Value],
    ) -> anyhow::Result<Started> {
        let path = format!("/caches/{}/{route}", self.cache);
        let mut last = String::new();
        // Several bodies are tried in order only for a route whose body this drill
        // cannot know in advance (patch: `{"now":true}` on services that schedule).
        for body in bodies {
            let (status, raw) = self.raw("POST", &path, Some(body.clone())).await?;
            if (200..300).contains(&status) {
                let v: serde_json::Value = serde_json::from_slice(&raw)?;
                let id = v["id"]
                    .as_u64()
                    .or_else(|| v["workflow"]["id"].as_u64())
                    .ok_or_else(|| anyhow!("POST {path}: no workflow id in {v}"))?;
                return Ok(Started::Workflow(id));
            }
            last = error_text(status, &raw);
            if (status == 404 && (last.contains("no such route") || !last.contains(&self.cache)))
                || status == 405
            {
                return Ok(Started::NotAvailable(format!(
                    "POST {path} is not available on this service ({last})"
                )));
            }
            if status != 400 {
                break;
            }
        }
        bail!("POST {path}: {last}")
    }

    /// Waits for a workflow to end; `Ok(None)` when done, `Ok(Some(error))` when failed.
    pub async fn wait_workflow(
        &self,
        id: u64,
        deadline: Duration,
    ) -> anyhow::Result<Option<String>> {
        let end = Instant::now() + deadline;
        loop {
            let w: serde_json::Value = self.call("GET", &format!("/workflows/{id}"), None).await?;
            match w["state"].as_str() {
                Some("done") => return Ok(None),
                Some("failed") => {
                    return Ok(Some(w["error"].as_str().unwrap_or("failed").to_string()))
                }
                _ => {}
            }
            if Instant::now() > end {
                bail!("workflow {id} still {} after {deadline:?}", w["phase"]);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until no workflow runs, every node is up in its assigned role and the
    /// replicas have caught up: the state in which acknowledged writes are read back.
    pub async fn settle(&self, deadline: Duration) -> anyhow::Result<CacheInfo> {
        let end = Instant::now() + deadline;
        loop {
            let last = self.info().await;
            if let Ok(info) = &last {
                if settled(info) {
                    return last;
                }
            }
            if Instant::now() > end {
                let state = match last {
                    Ok(i) => serde_json::to_string(&i.nodes).unwrap_or_default(),
                    Err(e) => format!("{e:#}"),
                };
                bail!("the cache did not settle within {deadline:?}: {state}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn settled(info: &CacheInfo) -> bool {
    info.workflow.is_none()
        && info.nodes.iter().all(|n| {
            n.health == Health::Up
                && n.reported_role == Some(n.role)
                && (n.role == Role::Primary || n.lag == Some(0))
        })
}

pub fn node(info: &CacheInfo, role: Role) -> anyhow::Result<&NodeInfo> {
    info.nodes
        .iter()
        .find(|n| n.role == role && n.shard == 0)
        .ok_or_else(|| anyhow!("cache {} has no {role:?} node", info.spec.name))
}

fn error_text(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => format!("{status}: {}", e.error),
        Err(_) => format!("HTTP {status}: {}", String::from_utf8_lossy(body)),
    }
}
