//! The CLI's side of the HTTP API: one request, JSON in and out, the service's
//! `{"error": …}` turned into the command's error message.

use super::ApiFlags;
use anyhow::{anyhow, bail};
use ferrocache_api::ErrorBody;
use ferrocache_control::http_client::request;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Creating a cache starts processes; the rest answers at once.
const DEADLINE: Duration = Duration::from_secs(120);

pub(crate) struct Api {
    addr: String,
    token: Option<String>,
    rt: tokio::runtime::Runtime,
}

impl Api {
    pub(crate) fn new(flags: &ApiFlags) -> anyhow::Result<Api> {
        let addr = flags
            .api
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        if addr.starts_with("https://") {
            bail!("--api: https is not supported; the API is plain HTTP on loopback");
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Api {
            addr,
            token: flags.token.clone(),
            rt,
        })
    }

    pub(crate) fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<T> {
        let bytes = body.map(|b| serde_json::to_vec(&b)).transpose()?;
        let body = self.send(method, path, bytes.as_deref())?;
        Ok(serde_json::from_slice(&body)?)
    }

    /// One request with a raw body; the raw answer (export's RDB bytes).
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        bytes: Option<&[u8]>,
    ) -> anyhow::Result<Vec<u8>> {
        let r = self
            .rt
            .block_on(request(
                &self.addr,
                method,
                path,
                bytes,
                self.token.as_deref(),
                DEADLINE,
            ))
            .map_err(|e| {
                anyhow!("{e:#} (is the service running? `ferrocache up` or `ferrocache serve`)")
            })?;
        if !(200..300).contains(&r.status) {
            match serde_json::from_slice::<ErrorBody>(&r.body) {
                Ok(e) => bail!("{}", e.error),
                Err(_) => bail!("HTTP {}: {}", r.status, r.text()),
            }
        }
        Ok(r.body)
    }
}
