//! The topology the management service tells the gateway: which nodes exist (their
//! index gives their direct ports), which node is each shard's primary, and the epoch
//! that fences stale updates. These are the JSON bodies of the admin API.

use serde::{Deserialize, Serialize};
use std::net::{SocketAddr, ToSocketAddrs};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Raised by the management service on every change of primary; the gateway
    /// refuses an update whose epoch is lower than the one it has.
    pub epoch: u64,
    /// Every node as `host:port`; node i is reachable only through its own direct
    /// ports (plain `node_port_base + i`, TLS `tls_node_port_base + i`).
    pub nodes: Vec<String>,
    /// One entry per shard (exactly one today: the cache is unclustered).
    pub shards: Vec<Shard>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// `host:port` of the primary; must be one of `nodes`.
    pub primary: String,
    /// `host:port` of each replica; each must be one of `nodes`.
    #[serde(default)]
    pub replicas: Vec<String>,
}

impl Topology {
    /// The starting topology from the command line: node 0 is the primary of the
    /// only shard, the others its replicas.
    pub fn from_nodes(nodes: &[String]) -> Topology {
        Topology {
            epoch: 0,
            nodes: nodes.to_vec(),
            shards: vec![Shard {
                primary: nodes.first().cloned().unwrap_or_default(),
                replicas: nodes.iter().skip(1).cloned().collect(),
            }],
        }
    }

    /// Checks the topology is one the gateway can serve; the error says why not.
    pub fn validate(&self, node_ports: usize) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("a topology needs at least one node".into());
        }
        if self.nodes.len() > node_ports {
            return Err(format!(
                "the topology has {} nodes but the gateway serves {node_ports} node ports \
                 (one per --node it was started with)",
                self.nodes.len()
            ));
        }
        for n in &self.nodes {
            resolve(n)?;
        }
        if self.shards.len() != 1 {
            return Err(format!(
                "the topology has {} shards; this gateway serves one shard (unclustered) only",
                self.shards.len()
            ));
        }
        for (s, shard) in self.shards.iter().enumerate() {
            for addr in std::iter::once(&shard.primary).chain(&shard.replicas) {
                if !self.nodes.contains(addr) {
                    return Err(format!("shard {s}: {addr} is not one of the nodes"));
                }
            }
        }
        Ok(())
    }

    pub fn node_index(&self, addr: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n == addr)
    }
}

/// Resolves `host:port` to one socket address (the first the resolver gives).
pub fn resolve(addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr} resolves to no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_says_what_is_wrong() {
        let t = Topology::from_nodes(&["127.0.0.1:1".into(), "127.0.0.1:2".into()]);
        assert_eq!(t.validate(2), Ok(()));
        assert!(t.validate(1).unwrap_err().contains("2 nodes"));
        let mut bad = t.clone();
        bad.shards[0].primary = "127.0.0.1:3".into();
        assert!(bad
            .validate(2)
            .unwrap_err()
            .contains("not one of the nodes"));
        let mut bad = t.clone();
        bad.nodes[1] = "no port".into();
        assert!(bad.validate(2).unwrap_err().contains("cannot resolve"));
    }

    #[test]
    fn json_shape() {
        let t: Topology = serde_json::from_str(
            r#"{"epoch":3,"nodes":["127.0.0.1:1"],"shards":[{"primary":"127.0.0.1:1"}]}"#,
        )
        .unwrap();
        assert_eq!(t.epoch, 3);
        assert!(t.shards[0].replicas.is_empty());
    }
}
