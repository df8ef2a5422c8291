//! The service as a whole: configuration, start-up (re-adopting or restarting every
//! stored cache, resuming interrupted workflows), the registry of running caches, and
//! shutdown.

use crate::cache::CacheRt;
use crate::metrics::Metrics;
use crate::store::Store;
use anyhow::Context;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub api_addr: SocketAddr,
    /// The `ferrocache` binary: builtin nodes and gateways run it.
    pub ferrocache_bin: PathBuf,
    /// `redis-server` for engine redis.
    pub redis_server: PathBuf,
    /// NodeMaintenanceStarting is sent this long before the work (seed: ~20 s).
    pub starting_lead: Duration,
    /// NodeMaintenanceStart is sent this long before the work (seed: < 5 s).
    pub start_lead: Duration,
    /// NodeMaintenanceScheduled is sent this long before window-scheduled work
    /// (seed: 10–15 min).
    pub scheduled_lead: Duration,
    /// A primary is lost when both witnesses agree for this long.
    pub down_after: Duration,
    pub probe_interval: Duration,
}

impl Config {
    pub fn new(data_dir: PathBuf) -> anyhow::Result<Config> {
        Ok(Config {
            data_dir,
            api_addr: "127.0.0.1:7379".parse()?,
            ferrocache_bin: std::env::current_exe().context("cannot find my own binary")?,
            redis_server: "redis-server".into(),
            starting_lead: Duration::from_secs(20),
            start_lead: Duration::from_secs(5),
            scheduled_lead: Duration::from_secs(15 * 60),
            down_after: Duration::from_millis(1500),
            probe_interval: Duration::from_millis(200),
        })
    }
}

/// What every part of the service shares.
pub struct Ctl {
    pub config: Config,
    pub store: Store,
    /// The nodes' requirepass and masterauth (also the gateway's backend password).
    pub node_password: String,
    /// Bearer token the API requires when bound to a non-loopback address.
    pub token: String,
    pub metrics: Metrics,
    pub caches: Mutex<HashMap<String, Arc<CacheRt>>>,
    pub shutdown: CancellationToken,
    /// Wakes the patch runner when a patch is queued.
    pub wake: tokio::sync::Notify,
}

impl Ctl {
    pub fn cache(&self, name: &str) -> Option<Arc<CacheRt>> {
        self.caches.lock().get(name).cloned()
    }
}

pub struct Service {
    ctl: Arc<Ctl>,
    listener: tokio::net::TcpListener,
}

impl Service {
    /// Opens the store, binds the API, brings back every stored cache (adopting
    /// processes a killed predecessor left running) and resumes workflows.
    pub async fn start(config: Config) -> anyhow::Result<Service> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
        let store = Store::open(&config.data_dir.join("ferrocache.db"))?;
        let node_password =
            store.meta_or_insert("node_password", || crate::secret::random_hex(24))?;
        let token = store.meta_or_insert("api_token", || crate::secret::random_hex(24))?;
        let token_file = config.data_dir.join("api-token");
        write_private(&token_file, &token)?;
        let listener = tokio::net::TcpListener::bind(config.api_addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.api_addr))?;
        let ctl = Arc::new(Ctl {
            config,
            store,
            node_password,
            token,
            metrics: Metrics::default(),
            caches: Mutex::new(HashMap::new()),
            shutdown: CancellationToken::new(),
            wake: tokio::sync::Notify::new(),
        });
        crate::versions::register_defaults(&ctl)?;
        for name in ctl.store.cache_names()? {
            let rt = CacheRt::load(&ctl, &name)?;
            rt.bring_up(&ctl)
                .await
                .with_context(|| format!("bringing up cache {name}"))?;
            ctl.caches.lock().insert(name, rt);
        }
        for wf in ctl.store.workflows(None)? {
            tracing::info!(id = wf.info.id, cache = %wf.info.cache, phase = %wf.info.phase, "resuming workflow");
            crate::workflows::spawn(ctl.clone(), wf);
        }
        tokio::spawn(crate::workflows::patch::runner(ctl.clone()));
        Ok(Service { ctl, listener })
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.ctl.config.api_addr)
    }

    pub fn token(&self) -> &str {
        &self.ctl.token
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.ctl.shutdown.clone()
    }

    /// Creates a cache unless one of that name exists; answers its info either way.
    pub async fn ensure_cache(
        &self,
        spec: ferrocache_api::CacheSpec,
    ) -> anyhow::Result<ferrocache_api::CacheInfo> {
        if self.ctl.cache(&spec.name).is_none() {
            crate::cache::create(&self.ctl, spec.clone())
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
        }
        let rt = self.ctl.cache(&spec.name).context("cache vanished")?;
        Ok(rt.info(&self.ctl))
    }

    pub fn keys(&self, name: &str) -> Option<(String, String)> {
        self.ctl.cache(name).map(|rt| rt.state.lock().keys.clone())
    }

    /// Serves the API until the shutdown token is cancelled, then stops every cache's
    /// processes (gateways first, so clients get a clean close; nodes save on SIGTERM).
    pub async fn serve(self) -> anyhow::Result<()> {
        let ctl = self.ctl.clone();
        let app = crate::api::router(ctl.clone());
        let stop = ctl.shutdown.clone();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await?;
        let caches: Vec<_> = ctl.caches.lock().values().cloned().collect();
        for rt in caches {
            rt.shut_down(&ctl).await;
        }
        Ok(())
    }
}

fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(f, "{text}")?;
    Ok(())
}
