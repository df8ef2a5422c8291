//! `client-output-buffer-limit`: parsing and rendering the per-class limits.

use super::parse_memory;

/// Limits per client class for `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    pub normal: OutputLimit,
    pub replica: OutputLimit,
    pub pubsub: OutputLimit,
}

impl OutputLimits {
    pub(super) fn render(&self) -> String {
        let one =
            |n: &str, l: &OutputLimit| format!("{n} {} {} {}", l.hard, l.soft, l.soft_seconds);
        format!(
            "{} {} {}",
            one("normal", &self.normal),
            one("slave", &self.replica),
            one("pubsub", &self.pubsub)
        )
    }
}

pub(super) fn parse_output_limits(value: &str) -> Result<OutputLimits, String> {
    let mut limits = parse_output_limits_base();
    let parts: Vec<&str> = value.split_whitespace().collect();
    if parts.is_empty() || !parts.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    for chunk in parts.chunks(4) {
        let mem = |s: &str| {
            parse_memory(s)
                .ok_or("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        };
        let limit = OutputLimit {
            hard: mem(chunk[1])?,
            soft: mem(chunk[2])?,
            soft_seconds: chunk[3].parse().map_err(|_| {
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            })?,
        };
        match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => limits.normal = limit,
            "slave" | "replica" => limits.replica = limit,
            "pubsub" => limits.pubsub = limit,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        }
    }
    Ok(limits)
}

pub(super) fn parse_output_limits_base() -> OutputLimits {
    let zero = OutputLimit {
        hard: 0,
        soft: 0,
        soft_seconds: 0,
    };
    OutputLimits {
        normal: zero,
        replica: OutputLimit {
            hard: 256 << 20,
            soft: 64 << 20,
            soft_seconds: 60,
        },
        pubsub: OutputLimit {
            hard: 32 << 20,
            soft: 8 << 20,
            soft_seconds: 60,
        },
    }
}
