//! The gateway's admin API (docs/gateway.md) as the service calls it.

use crate::http_client::request;
use anyhow::bail;
use ferrocache_api::gateway::{SwitchFinished, SwitchStarted, Topology};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::time::Duration;

/// Switch calls wait for connections to drain (up to half the hold deadline).
const DEADLINE: Duration = Duration::from_secs(15);

/// The maintenance moments the gateway turns into RESP3 push frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    FailingOver { shard: usize, seconds: u64 },
    FailedOver { shard: usize },
    Moving { node: usize, seconds: u64 },
}

pub struct GatewayClient {
    pub admin: String,
}

impl GatewayClient {
    pub fn new(admin: &str) -> GatewayClient {
        GatewayClient {
            admin: admin.to_string(),
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<T> {
        let body = serde_json::to_vec(&body)?;
        let body = (method != "GET").then_some(body.as_slice());
        let r = request(&self.admin, method, path, body, None, DEADLINE).await?;
        if r.status != 200 {
            bail!("gateway {method} {path}: {} {}", r.status, r.text());
        }
        Ok(serde_json::from_slice(&r.body)?)
    }

    pub async fn healthy(&self) -> bool {
        let r = request(
            &self.admin,
            "GET",
            "/health",
            None,
            None,
            Duration::from_millis(500),
        )
        .await;
        matches!(r, Ok(r) if r.status == 200)
    }

    pub async fn topology(&self) -> anyhow::Result<Topology> {
        self.call("GET", "/topology", json!(null)).await
    }

    pub async fn put_topology(&self, t: &Topology) -> anyhow::Result<()> {
        let _: serde_json::Value = self
            .call("PUT", "/topology", serde_json::to_value(t)?)
            .await?;
        Ok(())
    }

    /// Replaces the access keys clients AUTH with; authenticated clients stay.
    pub async fn set_keys(&self, keys: &[&str]) -> anyhow::Result<()> {
        let _: serde_json::Value = self.call("PUT", "/keys", json!({"keys": keys})).await?;
        Ok(())
    }

    /// A maintenance notice for connections that opted in to push frames.
    pub async fn notice(&self, notice: &Notice) -> anyhow::Result<()> {
        let body = match *notice {
            Notice::FailingOver { shard, seconds } => {
                json!({"notice": "failing_over", "shard": shard, "seconds": seconds})
            }
            Notice::FailedOver { shard } => json!({"notice": "failed_over", "shard": shard}),
            Notice::Moving { node, seconds } => {
                json!({"notice": "moving", "node": node, "seconds": seconds})
            }
        };
        let _: serde_json::Value = self.call("POST", "/maintenance", body).await?;
        Ok(())
    }

    pub async fn switch_start(&self, shard: usize, target: &str) -> anyhow::Result<SwitchStarted> {
        self.call(
            "POST",
            "/switch/start",
            json!({"shard": shard, "target": target}),
        )
        .await
    }

    pub async fn switch_finish(&self, shard: usize, epoch: u64) -> anyhow::Result<SwitchFinished> {
        self.call(
            "POST",
            "/switch/finish",
            json!({"shard": shard, "epoch": epoch}),
        )
        .await
    }

    /// Releases a hold; `Ok(false)` when there was none to abort.
    pub async fn switch_abort(&self, shard: usize) -> anyhow::Result<bool> {
        let body = serde_json::to_vec(&json!({"shard": shard}))?;
        let r = request(
            &self.admin,
            "POST",
            "/switch/abort",
            Some(&body),
            None,
            DEADLINE,
        )
        .await?;
        Ok(r.status == 200)
    }

    pub async fn metrics(&self) -> anyhow::Result<serde_json::Value> {
        self.call("GET", "/metrics", json!(null)).await
    }
}
