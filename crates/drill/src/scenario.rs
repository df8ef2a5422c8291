//! The drill scenarios: what fault each applies, and how it is applied (through the
//! management API, or as a signal to a node process).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The workload alone, no fault (works against any endpoint).
    None,
    Patch,
    RebootPrimary,
    RebootReplica,
    RebootAll,
    Failover,
    KillPrimary,
    KillReplica,
    FreezePrimary,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::Patch,
        Scenario::RebootPrimary,
        Scenario::RebootReplica,
        Scenario::RebootAll,
        Scenario::Failover,
        Scenario::KillPrimary,
        Scenario::KillReplica,
        Scenario::FreezePrimary,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::None => "none",
            Scenario::Patch => "patch",
            Scenario::RebootPrimary => "reboot-primary",
            Scenario::RebootReplica => "reboot-replica",
            Scenario::RebootAll => "reboot-all",
            Scenario::Failover => "failover",
            Scenario::KillPrimary => "kill-primary",
            Scenario::KillReplica => "kill-replica",
            Scenario::FreezePrimary => "freeze-primary",
        }
    }

    /// Faults applied to a node process by signal (the rest are management workflows).
    pub fn is_process_fault(self) -> bool {
        matches!(
            self,
            Scenario::KillPrimary | Scenario::KillReplica | Scenario::FreezePrimary
        )
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Scenario, String> {
        std::iter::once(Scenario::None)
            .chain(Scenario::ALL)
            .find(|sc| sc.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                format!(
                    "unknown scenario `{s}` (one of: {}, none)",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(s.name().parse::<Scenario>(), Ok(s));
        }
        assert!("reboot".parse::<Scenario>().is_err());
    }
}
