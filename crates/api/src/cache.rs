//! Caches: tier, engine, settings, and what `cache show` answers.

use crate::node::NodeInfo;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// One node, no replica: maintenance makes it unavailable.
    Basic,
    /// A primary and a replica behind one endpoint.
    Standard,
    /// Standard plus persistence (several shards: a later slice).
    Premium,
}

impl Tier {
    /// Nodes per shard.
    pub fn nodes_per_shard(self) -> usize {
        match self {
            Tier::Basic => 1,
            Tier::Standard | Tier::Premium => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// `ferrocache node` (the same binary as the service).
    Builtin,
    /// Debian's `redis-server`.
    Redis,
}

macro_rules! text_enum {
    ($t:ty, $what:literal, $($v:ident => $s:literal),+) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$v => $s),+ })
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok(Self::$v),)+
                    _ => Err(format!(concat!("unknown ", $what, " '{}': expected one of {}"),
                                     s, [$($s),+].join(", "))) }
            }
        }
    };
}
text_enum!(Tier, "tier", Basic => "basic", Standard => "standard", Premium => "premium");
text_enum!(Engine, "engine", Builtin => "builtin", Redis => "redis");

/// What a cache is made of: the body of `POST /caches`. Ports 0 are chosen free by the
/// service when the cache is created, then kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    pub name: String,
    pub tier: Tier,
    #[serde(default = "default_group")]
    pub group: String,
    #[serde(default = "default_engine")]
    pub engine: Engine,
    /// `maxmemory` as Redis takes it (`100mb`, bytes); none means no limit.
    #[serde(default)]
    pub maxmemory: Option<String>,
    /// Idle client connections are closed after this many seconds (default 600).
    #[serde(default = "default_idle")]
    pub idle_timeout_s: u64,
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub tls_port: u16,
    #[serde(default)]
    pub node_port_base: u16,
    #[serde(default)]
    pub tls_node_port_base: u16,
}

fn default_group() -> String {
    "default".into()
}
fn default_engine() -> Engine {
    Engine::Builtin
}
fn default_idle() -> u64 {
    600
}

impl CacheSpec {
    /// A spec with every default, for `up` and tests.
    pub fn new(name: &str, tier: Tier, engine: Engine) -> CacheSpec {
        CacheSpec {
            name: name.into(),
            tier,
            group: default_group(),
            engine,
            maxmemory: None,
            idle_timeout_s: default_idle(),
            port: 0,
            tls_port: 0,
            node_port_base: 0,
            tls_node_port_base: 0,
        }
    }

    /// Checks what serde cannot; the error says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if self.name.is_empty() || self.name.len() > 63 || !self.name.chars().all(ok) {
            return Err(format!(
                "invalid cache name '{}': 1-63 letters, digits, '-' or '_'",
                self.name
            ));
        }
        if self.group.is_empty() || !self.group.chars().all(ok) {
            return Err(format!("invalid resource group '{}'", self.group));
        }
        if self.tier == Tier::Premium {
            // Premium differs by persistence and clustering, which come in a later slice.
            return Err("tier premium is not available yet: use basic or standard".into());
        }
        Ok(())
    }
}

/// One cache as `GET /caches/{name}` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheInfo {
    pub spec: CacheSpec,
    /// `host:port` clients use (plain), and TLS.
    pub endpoint: String,
    pub tls_endpoint: String,
    /// Raised on every change of primary.
    pub epoch: u64,
    pub nodes: Vec<NodeInfo>,
    /// The workflow running on the cache, if any (its id).
    pub workflow: Option<u64>,
}
