//! Wire types of the management service: what its HTTP API, its store and the CLI
//! exchange, and the exact text of maintenance events. Types only — no I/O.

pub mod cache;
pub mod diagnose;
pub mod event;
pub mod gateway;
pub mod history;
pub mod http;
pub mod node;
pub mod time;
pub mod version;

pub use cache::{CacheInfo, CacheSpec, Engine, Tier};
pub use event::{MaintenanceEvent, NotificationType, EVENTS_CHANNEL};
pub use history::HistoryRecord;
pub use http::ErrorBody;
pub use node::{Health, NodeInfo, Role};
