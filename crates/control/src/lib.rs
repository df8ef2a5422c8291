//! The management service: owns caches (nodes and a gateway as child processes),
//! keeps them healthy, runs maintenance workflows, announces maintenance events and
//! serves an HTTP API. It talks to nodes only over RESP and to gateways only over
//! their HTTP admin API.

pub mod api;
mod cache;
mod data;
mod diagnose;
mod events;
mod failover;
mod gateway_client;
mod health;
pub mod http_client;
mod launch;
mod metrics;
mod ports;
mod resp;
mod secret;
mod service;
mod store;
mod supervisor;
mod versions;
mod workflows;

pub use service::{Config, Service};
