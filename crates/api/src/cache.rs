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
        impl $t {
            /// The value's text, as in JSON and on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
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
text_enum!(Persistence, "persistence", None => "none", Rdb => "rdb", Aof => "aof",
           AofAlways => "aof-always");

/// What a cache's nodes write to disk, and so what a restarted node comes back with
/// (SYSTEM.md §8). Chosen at creation. In JSON it is its text (`aof-always`); a bad
/// value is refused with the `FromStr` message, which names the allowed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Persistence {
    /// Nothing: a restarted node comes back empty (a pure cache).
    None,
    /// RDB snapshots on a schedule: a restart loses the writes since the last one.
    /// The default, and what caches created before the option existed do.
    #[default]
    Rdb,
    /// An append-only file fsynced every second: a crash loses about a second.
    Aof,
    /// An append-only file fsynced before each reply: nothing acknowledged is lost.
    AofAlways,
}

impl Persistence {
    pub const ALL: [Persistence; 4] = [
        Persistence::None,
        Persistence::Rdb,
        Persistence::Aof,
        Persistence::AofAlways,
    ];

    /// One line for help texts.
    pub fn describe(self) -> &'static str {
        match self {
            Persistence::None => "no snapshots: a restarted node comes back empty",
            Persistence::Rdb => "RDB snapshot after 60 s if anything changed",
            Persistence::Aof => "append-only file, fsync every second",
            Persistence::AofAlways => "append-only file, fsync before each reply",
        }
    }
}

impl TryFrom<String> for Persistence {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Persistence> for String {
    fn from(p: Persistence) -> String {
        p.as_str().into()
    }
}

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
    /// Absent in caches stored before the option existed: they keep snapshotting.
    #[serde(default)]
    pub persistence: Persistence,
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
            persistence: Persistence::default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persistence_round_trips_as_text() {
        for p in Persistence::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{p}\""));
            assert_eq!(serde_json::from_str::<Persistence>(&json).unwrap(), p);
        }
        assert_eq!(Persistence::AofAlways.to_string(), "aof-always");
    }

    #[test]
    fn a_spec_stored_before_persistence_loads_as_rdb() {
        let old = r#"{"name":"old","tier":"standard","group":"default","engine":"builtin",
            "maxmemory":null,"idle_timeout_s":600,"port":7000,"tls_port":7001,
            "node_port_base":13000,"tls_node_port_base":15000}"#;
        let spec: CacheSpec = serde_json::from_str(old).unwrap();
        assert_eq!(spec.persistence, Persistence::Rdb);
        assert_eq!(
            CacheSpec::new("x", Tier::Basic, Engine::Builtin).persistence,
            Persistence::Rdb
        );
    }

    #[test]
    fn a_bad_persistence_names_the_allowed_values() {
        let bad = r#"{"name":"c","tier":"basic","persistence":"bogus"}"#;
        let e = serde_json::from_str::<CacheSpec>(bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown persistence 'bogus': expected one of none, rdb, aof, aof-always"),
            "{e}"
        );
        let e = serde_json::from_str::<CacheSpec>(r#"{"name":"c","tier":"basic","persistence":3}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a string"), "{e}");
    }

    #[test]
    fn spec_json_carries_persistence() {
        let mut spec = CacheSpec::new("x", Tier::Basic, Engine::Redis);
        spec.persistence = Persistence::Aof;
        let v = serde_json::to_value(&spec).unwrap();
        assert_eq!(v["persistence"], "aof");
        assert_eq!(serde_json::from_value::<CacheSpec>(v).unwrap(), spec);
    }
}
