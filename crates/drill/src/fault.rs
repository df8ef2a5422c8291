//! Applying a scenario's fault: a management workflow through the HTTP API, or a
//! signal to a node process by the pid the service reports (SIGKILL; SIGSTOP and a
//! later SIGCONT for a frozen node, which keeps its sockets open).

use crate::mgmt::{node, Mgmt, Started};
use crate::scenario::Scenario;
use ferrocache_api::{CacheInfo, Role};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};

/// What applying the fault did.
pub enum Applied {
    Nothing,
    Workflow(u64),
    Killed(u32),
    Frozen(Frozen),
    /// The service has no route for it (reported, the workload still runs).
    NotAvailable(String),
}

/// A stopped process; resumed by [`Frozen::resume`] or, at the latest, on drop, so a
/// drill that fails half-way never leaves a node frozen.
pub struct Frozen {
    pub pid: u32,
    resumed: AtomicBool,
}

impl Frozen {
    /// SIGCONT; true the first time.
    pub fn resume(&self) -> bool {
        if self.resumed.swap(true, Ordering::SeqCst) {
            return false;
        }
        signal(self.pid, libc::SIGCONT).is_ok()
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        self.resume();
    }
}

fn signal(pid: u32, sig: i32) -> anyhow::Result<()> {
    let pid = i32::try_from(pid).map_err(|_| anyhow::anyhow!("pid {pid} out of range"))?;
    // SAFETY: kill(2) has no memory effects; the pid is the service's report of its child.
    if unsafe { libc::kill(pid, sig) } != 0 {
        anyhow::bail!("kill({pid}, {sig}): {}", std::io::Error::last_os_error());
    }
    Ok(())
}

fn pid_of(info: &CacheInfo, role: Role) -> anyhow::Result<u32> {
    let n = node(info, role)?;
    n.pid
        .ok_or_else(|| anyhow::anyhow!("node {} ({role:?}) has no pid", n.index))
}

/// Applies `scenario` to the cache `mgmt` manages, whose state was `info`.
pub async fn apply(scenario: Scenario, mgmt: &Mgmt, info: &CacheInfo) -> anyhow::Result<Applied> {
    let started = |s: Started| match s {
        Started::Workflow(id) => Applied::Workflow(id),
        Started::NotAvailable(why) => Applied::NotAvailable(why),
    };
    let reboot = |node: &str| json!({"node": node, "shard": 0});
    Ok(match scenario {
        Scenario::None => Applied::Nothing,
        // A drill patches now: `now` skips the maintenance window on services that
        // have one; the empty body is for services that patch at once anyway.
        Scenario::Patch => started(
            mgmt.start("patch", &[json!({"now": true}), json!({})])
                .await?,
        ),
        Scenario::Failover => started(mgmt.start("failover", &[json!({"shard": 0})]).await?),
        Scenario::RebootPrimary => started(mgmt.start("reboot", &[reboot("primary")]).await?),
        Scenario::RebootReplica => started(mgmt.start("reboot", &[reboot("replica")]).await?),
        Scenario::RebootAll => started(mgmt.start("reboot", &[reboot("all")]).await?),
        Scenario::KillPrimary | Scenario::KillReplica => {
            let role = if scenario == Scenario::KillPrimary {
                Role::Primary
            } else {
                Role::Replica
            };
            let pid = pid_of(info, role)?;
            signal(pid, libc::SIGKILL)?;
            Applied::Killed(pid)
        }
        Scenario::FreezePrimary => {
            let pid = pid_of(info, Role::Primary)?;
            signal(pid, libc::SIGSTOP)?;
            Applied::Frozen(Frozen {
                pid,
                resumed: AtomicBool::new(false),
            })
        }
    })
}
