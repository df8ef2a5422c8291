//! `ferrocache-drill`: measures the whole system from a client's chair. A verifiable
//! workload runs through the resilient client while a fault is applied (a management
//! workflow, SIGKILL, or SIGSTOP/SIGCONT of a node); afterwards every acknowledged
//! write is read back and the report says what clients saw (docs/resilience.md).

mod fault;
mod mgmt;
mod plot;
mod progress;
mod report;
mod scenario;
mod timeline;
mod verify;
mod workload;

pub use report::{EventSeen, Latency, Report};
pub use scenario::Scenario;
pub use timeline::{Bucket, Timeline};

use anyhow::{bail, Context};
use fault::Applied;
use ferrocache_api::Role;
use ferrocache_client::{Client, Event, Options};
use hdrhistogram::Histogram;
use mgmt::Mgmt;
use report::{ms, EventSeen as Seen};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use workload::{Live, WorkerOut};

/// Everything a drill needs; the CLI fills it from flags.
#[derive(Debug, Clone)]
pub struct Config {
    pub scenario: Scenario,
    /// `host:port` to send the workload to (default: the cache's endpoint).
    pub endpoint: Option<String>,
    /// The cache whose management API applies faults and tells pids and ports.
    pub cache: Option<String>,
    /// The management API (`host:port` or `http://host:port`).
    pub api: String,
    pub token: Option<String>,
    /// AUTH password (default: the cache's primary access key).
    pub password: Option<String>,
    /// Total length of the workload (extended until a workflow has ended).
    pub duration: Duration,
    /// Workload before the fault.
    pub warmup: Duration,
    pub clients: usize,
    /// Send the workload to the primary's direct node port instead of the endpoint.
    pub direct: bool,
    pub command_timeout: Duration,
    /// How long a frozen node stays stopped.
    pub freeze_for: Duration,
    /// Bound on waiting for a workflow and for the cache to settle.
    pub settle_timeout: Duration,
    pub progress: bool,
    pub plot: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            scenario: Scenario::None,
            endpoint: None,
            cache: None,
            api: "127.0.0.1:7379".into(),
            token: None,
            password: None,
            duration: Duration::from_secs(30),
            warmup: Duration::from_secs(3),
            clients: 16,
            direct: false,
            command_timeout: Duration::from_secs(5),
            freeze_for: Duration::from_secs(10),
            settle_timeout: Duration::from_secs(120),
            progress: true,
            plot: None,
        }
    }
}

/// Runs a drill on a runtime of its own (for the CLI).
pub fn run_blocking(cfg: Config) -> anyhow::Result<Report> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(cfg))
}

fn redis_url(addr: &str, password: Option<&str>) -> String {
    // Percent-encode the password: access keys may hold `+`, `/` or `=`.
    let auth = password.map_or(String::new(), |p| {
        let enc: String = p
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!(":{enc}@")
    });
    format!("redis://{auth}{addr}/")
}

fn describe(ev: &Event) -> Option<(String, String)> {
    match ev {
        Event::Maintenance(m) => {
            let who = match m.is_replica {
                Some(true) => "replica",
                Some(false) => "primary",
                None => "node",
            };
            let port = m
                .non_ssl_port
                .map(|p| format!(" port {p}"))
                .unwrap_or_default();
            Some((m.kind.to_string(), format!("({who}{port})")))
        }
        Event::Push(p) => Some(("push".into(), format!("{p:?}"))),
        Event::Malformed { raw, error, .. } => {
            Some(("malformed".into(), format!("{raw:?}: {error}")))
        }
        _ => None,
    }
}

pub async fn run(cfg: Config) -> anyhow::Result<Report> {
    if cfg.clients == 0 {
        bail!("--clients must be at least 1");
    }
    if cfg.scenario != Scenario::None && cfg.cache.is_none() {
        bail!(
            "--scenario {} needs --cache NAME: faults are applied through the management service",
            cfg.scenario
        );
    }
    if cfg.direct && cfg.cache.is_none() {
        bail!("--direct needs --cache NAME: the primary's node port comes from the management service");
    }
    let mgmt = cfg
        .cache
        .as_deref()
        .map(|c| Mgmt::new(&cfg.api, cfg.token.clone(), c));
    let info = match &mgmt {
        Some(m) => Some(
            m.settle(cfg.settle_timeout)
                .await
                .context("the cache is not ready for a drill")?,
        ),
        None => None,
    };
    let password = match (&cfg.password, &mgmt) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(m)) => Some(m.primary_key().await?),
        (None, None) => None,
    };
    let endpoint = match (&cfg.endpoint, &info) {
        (Some(e), _) => e.clone(),
        (None, Some(i)) => i.endpoint.clone(),
        (None, None) => bail!("give --endpoint HOST:PORT or --cache NAME"),
    };
    let host = endpoint
        .rsplit_once(':')
        .map_or("127.0.0.1", |(h, _)| h)
        .to_string();
    let address = match &info {
        Some(i) if cfg.direct => format!("{host}:{}", mgmt::node(i, Role::Primary)?.direct_port),
        _ => endpoint.clone(),
    };

    // The clients: the first also listens for maintenance events (one observer is
    // enough for the report; through the endpoint the others need no refresh).
    let mut opts = Options {
        command_timeout: cfg.command_timeout,
        subscribe_events: false,
        ..Options::default()
    };
    let url = redis_url(&address, password.as_deref());
    let mut clients = Vec::with_capacity(cfg.clients);
    let mut connecting = Vec::new();
    for i in 0..cfg.clients {
        opts.subscribe_events = i == 0;
        let (url, opts) = (url.clone(), opts.clone());
        connecting.push(tokio::spawn(
            async move { Client::connect(url, opts).await },
        ));
    }
    for c in connecting {
        clients.push(
            c.await?
                .with_context(|| format!("cannot connect to {address}"))?,
        );
    }

    let live = Arc::new(Live::new());
    let events: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let mut rx = clients[0].events();
    let (ev_live, ev_store) = (live.clone(), events.clone());
    let observer = tokio::spawn(async move {
        while let Ok(ev) = rx.recv().await {
            if let Some((kind, detail)) = describe(&ev) {
                let t_ms = ms(ev_live.now_us());
                if let Ok(mut v) = ev_store.lock() {
                    v.push(Seen { t_ms, kind, detail });
                }
            }
        }
    });
    let run_id: Arc<str> = format!("{:08x}", fastrand::u32(..)).into();
    let progress = progress::Progress::new(cfg.progress);
    let ticker = progress.spawn(live.clone());
    let workers: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            tokio::spawn(workload::run_worker(
                i,
                run_id.clone(),
                c.clone(),
                live.clone(),
            ))
        })
        .collect();

    // The fault, after the warm-up.
    tokio::time::sleep_until((live.t0 + cfg.warmup).into()).await;
    let fault_us = live.now_us();
    let fault_instant = Instant::now();
    let applied = match (&mgmt, &info) {
        (Some(m), Some(i)) => fault::apply(cfg.scenario, m, i).await,
        _ => Ok(Applied::Nothing),
    };
    let mut fault_desc = None;
    let mut fault_error = None;
    let mut fault_end_us: Option<u64> = None;
    let mut frozen = None;
    let mut workflow = None;
    match applied {
        Ok(Applied::Nothing) => {}
        Ok(Applied::Workflow(id)) => {
            fault_desc = Some(format!("workflow {id} ({})", cfg.scenario));
            progress.set_phase(format!("{} (workflow {id})", cfg.scenario));
            let m = mgmt.clone().expect("a workflow needs the service");
            let (l, limit) = (live.clone(), cfg.settle_timeout);
            workflow = Some(tokio::spawn(async move {
                let r = m.wait_workflow(id, limit).await;
                (l.now_us(), r)
            }));
        }
        Ok(Applied::Killed(pid)) => {
            fault_desc = Some(format!("SIGKILL pid {pid}"));
            progress.set_phase(format!("{} (pid {pid} killed)", cfg.scenario));
        }
        Ok(Applied::Frozen(f)) => {
            fault_desc = Some(format!("SIGSTOP pid {} for {:?}", f.pid, cfg.freeze_for));
            progress.set_phase(format!("{} (pid {} frozen)", cfg.scenario, f.pid));
            frozen = Some(Arc::new(f));
        }
        Ok(Applied::NotAvailable(why)) => {
            progress.set_phase(format!("{} not available", cfg.scenario));
            fault_error = Some(why);
        }
        Err(e) => fault_error = Some(format!("{e:#}")),
    }
    let resumer = frozen.clone().map(|f| {
        let (l, after) = (live.clone(), cfg.freeze_for);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            f.resume();
            l.now_us()
        })
    });

    tokio::time::sleep_until((live.t0 + cfg.duration).into()).await;
    if let Some(w) = workflow {
        // A workflow longer than the drill: keep the workload going until it ends.
        let (at, r) = w.await?;
        fault_end_us = Some(at);
        match r {
            Ok(None) => {}
            Ok(Some(e)) => fault_error = Some(format!("the workflow failed: {e}")),
            Err(e) => fault_error = Some(format!("{e:#}")),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    live.stop.store(true, Ordering::Relaxed);
    let end_us = live.now_us();
    let mut outs: Vec<WorkerOut> = Vec::with_capacity(workers.len());
    for w in workers {
        outs.push(w.await?);
    }
    let _ = ticker.await;
    progress.finish();
    if let Some(r) = resumer {
        if let Some(f) = &frozen {
            if f.resume() {
                r.abort();
                fault_end_us = Some(live.now_us());
            } else {
                fault_end_us = Some(r.await?);
            }
        }
    }

    // The clients' own counters.
    let (mut retries, mut absorbed, mut reconnects, mut dead, mut attempts) = (0, 0, 0, 0, 0);
    let mut per_100ms: Vec<u64> = Vec::new();
    for c in &clients {
        let s = c.stats();
        retries += s.retries;
        absorbed += s.errors_total().saturating_sub(s.surfaced_total());
        reconnects += s.reconnects;
        dead += s.dead_detected;
        attempts += s.connect_attempts;
        let b = s.connect_attempts_per_bucket(fault_instant, Duration::from_millis(100));
        if per_100ms.len() < b.len() {
            per_100ms.resize(b.len(), 0);
        }
        for (a, n) in per_100ms.iter_mut().zip(b) {
            *a += n;
        }
    }
    drop(clients);
    observer.abort();

    // Verification, through the endpoint once the cache has settled.
    let settle_error = match &mgmt {
        Some(m) => m
            .settle(cfg.settle_timeout)
            .await
            .err()
            .map(|e| format!("{e:#}")),
        None => None,
    };
    let verify_opts = Options {
        subscribe_events: false,
        ..Options::default()
    };
    let mut checker = Client::connect(redis_url(&endpoint, password.as_deref()), verify_opts)
        .await
        .with_context(|| format!("cannot connect to {endpoint} to verify"))?;
    let verified = verify::verify(&mut checker, &run_id, &outs).await?;
    // Leave nothing behind in the user's cache.
    let _ = cleanup(&mut checker, &run_id, &outs).await;

    let mut hist = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)?;
    let mut tl = Timeline::default();
    let mut all_acks = Vec::new();
    for o in &outs {
        hist.add(&o.hist)?;
        tl.merge(&o.timeline);
        all_acks.extend_from_slice(&o.acks);
    }
    let sorted = report::ack_times(&all_acks);
    let failover_us = if fault_desc.is_none() {
        None
    } else if cfg.scenario.is_process_fault() {
        report::first_ack_after(&all_acks, fault_us)
    } else {
        Some(report::max_gap_within(
            &sorted,
            fault_us,
            fault_end_us.unwrap_or(end_us),
        ))
    };
    let first_error = outs
        .iter()
        .flat_map(|o| &o.errors)
        .filter(|e| e.t_us >= fault_us)
        .map(|e| e.t_us - fault_us)
        .min();
    let evs = events.lock().map(|v| v.clone()).unwrap_or_default();
    Ok(Report {
        scenario: cfg.scenario.to_string(),
        path: if cfg.direct { "direct" } else { "endpoint" }.into(),
        address,
        engine: info.as_ref().map(|i| i.spec.engine.to_string()),
        clients: cfg.clients,
        duration_ms: ms(end_us),
        fault_at_ms: fault_desc.as_ref().map(|_| ms(fault_us)),
        fault: fault_desc,
        fault_error,
        fault_end_ms: fault_end_us.map(ms),
        ops: outs.iter().map(|o| o.ops).sum(),
        errors: outs.iter().map(|o| o.errors.len() as u64).sum(),
        errors_by_kind: workload::errors_by_kind(&outs),
        errors_absorbed: absorbed,
        retries,
        acked_writes: all_acks.len() as u64,
        lost_writes: verified.lost_writes,
        lost_sample: verified.lost_sample,
        unknown_writes: outs.iter().map(|o| o.unknown_writes).sum(),
        counters_off: verified.counters_off,
        max_write_pause_ms: ms(report::max_gap(&sorted, end_us)),
        failover_ms: failover_us.map(ms),
        first_error_ms: first_error.map(ms),
        dead_detected: dead,
        reconnects,
        connect_attempts: attempts,
        connect_attempts_per_100ms: per_100ms,
        events: evs,
        latency: Latency {
            p50_ms: ms(hist.value_at_quantile(0.5)),
            p99_ms: ms(hist.value_at_quantile(0.99)),
            max_ms: ms(hist.max()),
        },
        settle_error,
        timeline: tl,
    })
    .and_then(|r| {
        if let Some(p) = &cfg.plot {
            plot::write_svg(&r, p)?;
        }
        Ok(r)
    })
}

/// Deletes the drill's keys (best effort).
async fn cleanup(client: &mut Client, run: &str, outs: &[WorkerOut]) -> redis::RedisResult<()> {
    for o in outs {
        let mut keys: Vec<String> = o
            .acks
            .iter()
            .map(|a| workload::key(run, o.worker, a.seq))
            .collect();
        keys.push(workload::counter(run, o.worker));
        for chunk in keys.chunks(500) {
            let _: () = redis::cmd("DEL").arg(chunk).query_async(client).await?;
        }
    }
    Ok(())
}
