//! The node's configuration as one declarative table of options: CONFIG GET/SET,
//! the TOML config file and the command-line overrides all go through it, and the
//! typed `Settings` snapshot the hot path reads is derived from it.

use std::collections::BTreeMap;

mod limits;
mod options;
mod settings;

use limits::parse_output_limits;
pub use limits::{OutputLimit, OutputLimits};
pub use options::{Kind, OptionDef, OPTIONS};
pub use settings::{AofFsync, AofSettings, ReplSettings, Settings};

/// CONFIG SET/GET failures, worded as Redis 7.0 words them.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfigError {
    Unknown(String),
    Immutable(String),
    Invalid { name: String, reason: String },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Unknown(n) => {
                write!(f, "ERR Unknown option or number of arguments for CONFIG SET - '{n}'")
            }
            ConfigError::Immutable(n) => write!(
                f,
                "ERR CONFIG SET failed (possibly related to argument '{n}') - can't set immutable config"
            ),
            ConfigError::Invalid { name, reason } => write!(
                f,
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Current option values in canonical text form.
#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<&'static str, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: OPTIONS
                .iter()
                .map(|o| (o.name, o.default.to_string()))
                .collect(),
        }
    }
}

fn find(name: &str) -> Option<&'static OptionDef> {
    let name = name.to_ascii_lowercase();
    OPTIONS
        .iter()
        .find(|o| o.name == name || o.alias == Some(name.as_str()))
}

/// Parses a memory amount the way Redis's `memtoull` does.
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1u64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1_000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suffix, mul)| lower.strip_suffix(suffix).map(|n| (n.to_string(), *mul)))
    .unwrap_or((lower.clone(), 1));
    if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mul)
}

fn canonical(def: &OptionDef, value: &str) -> Result<String, String> {
    match def.kind {
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int { min, max } => {
            let v: i64 = value
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer")?;
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(v.to_string())
        }
        Kind::Memory { min } => {
            let v = parse_memory(value).ok_or("argument must be a memory value")?;
            if v < min {
                return Err(format!(
                    "argument must be between {min} and {} inclusive",
                    i64::MAX
                ));
            }
            Ok(v.to_string())
        }
        Kind::Enum(choices) => {
            let lower = value.to_ascii_lowercase();
            if choices.contains(&lower.as_str()) {
                Ok(lower)
            } else {
                Err("argument(s) must be one of the following: ".to_string() + &choices.join(", "))
            }
        }
        Kind::Str => Ok(value.to_string()),
        Kind::KeyspaceEvents => crate::notify::Flags::parse(value).map(|f| f.store()),
        Kind::MemoryOrPercent => match value.strip_suffix('%') {
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= 100 => Ok(format!("{p}%")),
                _ => Err("argument must be a memory value or a percentage from 0% to 100%".into()),
            },
            None => parse_memory(value).map(|v| v.to_string()).ok_or_else(|| {
                "argument must be a memory value or a percentage from 0% to 100%".into()
            }),
        },
        Kind::SavePoints => {
            let parts: Vec<&str> = value.split_whitespace().collect();
            if !parts.len().is_multiple_of(2) || parts.iter().any(|p| p.parse::<u64>().is_err()) {
                return Err("Invalid save parameters".into());
            }
            Ok(parts.join(" "))
        }
        Kind::OutputBufferLimit => parse_output_limits(value).map(|l| l.render()),
    }
}

impl Config {
    /// Sets several options at once; nothing changes unless all are valid
    /// (CONFIG SET with several pairs is atomic in Redis 7).
    pub fn set_many(
        &mut self,
        pairs: &[(&str, &str)],
        at_runtime: bool,
    ) -> Result<(), ConfigError> {
        let mut staged = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            let def = find(name).ok_or_else(|| ConfigError::Unknown(name.to_string()))?;
            if at_runtime && !def.mutable {
                return Err(ConfigError::Immutable(def.name.to_string()));
            }
            let v = canonical(def, value).map_err(|reason| ConfigError::Invalid {
                name: def.name.to_string(),
                reason,
            })?;
            staged.push((def.name, v));
        }
        for (name, v) in staged {
            self.values.insert(name, v);
        }
        Ok(())
    }

    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        self.set_many(&[(name, value)], false)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        find(name)
            .and_then(|d| self.values.get(d.name))
            .map(String::as_str)
    }

    /// How CONFIG GET shows a stored value (only notify-keyspace-events differs:
    /// Redis shows `A` for the whole set of classes).
    pub fn display(name: &str, value: &str) -> String {
        match find(name).map(|d| d.kind) {
            Some(Kind::KeyspaceEvents) => crate::notify::Flags::parse(value)
                .map(|f| f.render())
                .unwrap_or_default(),
            _ => value.to_string(),
        }
    }

    /// Options whose names match a glob pattern (CONFIG GET).
    pub fn matching<'a>(
        &'a self,
        pattern: &'a [u8],
    ) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
        let alias_of = |n: &str| find(n).and_then(|d| d.alias);
        self.values
            .iter()
            .flat_map(move |(n, v)| {
                [Some(*n), alias_of(n)]
                    .into_iter()
                    .flatten()
                    .map(move |name| (name, v.as_str()))
            })
            .filter(move |(n, _)| ferrocache_keyspace::glob::matches(pattern, n.as_bytes(), true))
    }

    /// Loads a TOML file of `option = value` pairs (values: strings, integers or booleans).
    pub fn load_toml(&mut self, text: &str) -> anyhow::Result<()> {
        let table: toml::Table = toml::from_str(text)?;
        for (name, value) in table {
            let v = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => if b { "yes" } else { "no" }.to_string(),
                other => anyhow::bail!("option '{name}': unsupported value {other}"),
            };
            self.set(&name, &v)
                .map_err(|e| anyhow::anyhow!("option '{name}': {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("10k"), Some(10_000));
        assert_eq!(parse_memory("100MB"), Some(100 << 20));
        assert_eq!(parse_memory("x"), None);
        assert_eq!(parse_memory("-1"), None);
    }

    #[test]
    fn set_is_atomic_and_worded_like_redis() {
        let mut c = Config::default();
        let err = c
            .set_many(&[("timeout", "5"), ("maxmemory", "lots")], true)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        );
        assert_eq!(c.get("timeout"), Some("0"));
        assert!(matches!(
            c.set_many(&[("databases", "3")], true),
            Err(ConfigError::Immutable(_))
        ));
        c.set_many(&[("maxmemory", "1mb"), ("TIMEOUT", "5")], true)
            .unwrap();
        assert_eq!(c.settings().maxmemory, 1 << 20);
        assert_eq!(c.settings().timeout_secs, 5);
        let names: Vec<_> = c.matching(b"maxmemory*").map(|(n, _)| n).collect();
        assert_eq!(
            names,
            vec![
                "maxmemory",
                "maxmemory-policy",
                "maxmemory-reserved",
                "maxmemory-samples"
            ]
        );
    }

    #[test]
    fn toml_file() {
        let mut c = Config::default();
        c.load_toml("timeout = 30\nappendonly = true\nmaxmemory = \"2mb\"\n")
            .unwrap();
        assert_eq!(c.get("appendonly"), Some("yes"));
        assert!(c.load_toml("nonsense = 1").is_err());
    }
}
