//! Node software versions, update channels, patch requests and maintenance windows
//! (SYSTEM.md §2 and §6) as the API exchanges them.

use crate::cache::Engine;
use serde::{Deserialize, Serialize};

/// A version the service can run nodes on: an engine and the binary that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub name: String,
    pub engine: Engine,
    pub binary: String,
    /// `stable` or `preview`.
    pub channel: String,
    /// Unix milliseconds of registration; the newest of a channel is the one a
    /// channel change patches to.
    pub added_ms: i64,
}

/// `POST /versions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddVersion {
    pub name: String,
    pub engine: Engine,
    pub binary: String,
    #[serde(default = "stable")]
    pub channel: String,
}

fn stable() -> String {
    "stable".into()
}

/// The update channels.
pub const CHANNELS: [&str; 2] = ["stable", "preview"];

/// `POST /caches/{name}/patch` and `POST /groups/{group}/patch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PatchRequest {
    /// The version to patch to; none: a platform patch (every node restarted on the
    /// version it runs).
    #[serde(default)]
    pub to: Option<String>,
    /// Start at once instead of waiting for the cache's next maintenance window.
    #[serde(default)]
    pub now: bool,
}

/// `PUT /caches/{name}/channel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRequest {
    pub channel: String,
    #[serde(default)]
    pub now: bool,
}

/// The answer to a channel change: the patch it triggered, if the nodes did not
/// already run the channel's newest version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelChanged {
    pub cache: String,
    pub channel: String,
    pub version: String,
    pub workflow: Option<crate::http::WorkflowInfo>,
}

/// One weekly maintenance window, in UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Normalised text, e.g. `Tue 02:00 5h`.
    pub spec: String,
    /// 0 = Monday … 6 = Sunday.
    pub day: u8,
    /// Seconds after midnight UTC.
    pub start_s: u32,
    pub duration_s: u32,
}

/// The shortest window accepted (SYSTEM.md §6).
pub const MIN_WINDOW_S: u32 = 5 * 3600;
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl Window {
    /// Parses `DAY HH:MM[:SS] LENGTH` (`Tue 02:00 5h`, `sat 23:30 6h30m`); a window
    /// shorter than 5 hours is refused with an error that says so.
    pub fn parse(text: &str) -> Result<Window, String> {
        let usage = || {
            format!(
                "invalid window '{text}': expected DAY HH:MM LENGTH in UTC, e.g. \"Tue 02:00 5h\""
            )
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [day, time, len] = parts[..] else {
            return Err(usage());
        };
        const FULL: [&str; 7] = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        let day = (0..7)
            .find(|&i| DAYS[i].eq_ignore_ascii_case(day) || FULL[i].eq_ignore_ascii_case(day))
            .ok_or_else(|| format!("invalid day '{day}' in window '{text}': Mon … Sun"))?;
        let hms: Vec<&str> = time.split(':').collect();
        let num = |s: &str, max: u32| s.parse::<u32>().ok().filter(|v| *v <= max && s.len() == 2);
        let (h, m, s) = match hms[..] {
            [h, m] => (num(h, 23), num(m, 59), Some(0)),
            [h, m, s] => (num(h, 23), num(m, 59), num(s, 59)),
            _ => (None, None, None),
        };
        let (Some(h), Some(m), Some(s)) = (h, m, s) else {
            return Err(format!(
                "invalid start time '{time}' in window '{text}': HH:MM (UTC)"
            ));
        };
        let duration_s = parse_length(len).ok_or_else(|| {
            format!("invalid length '{len}' in window '{text}': e.g. 5h or 6h30m")
        })?;
        if duration_s < MIN_WINDOW_S {
            return Err(format!(
                "a maintenance window must last at least 5 hours; '{text}' lasts {}",
                show_length(duration_s)
            ));
        }
        if duration_s > 7 * 86_400 {
            return Err(format!(
                "a maintenance window cannot last longer than a week ('{text}')"
            ));
        }
        let start = if s == 0 {
            format!("{h:02}:{m:02}")
        } else {
            format!("{h:02}:{m:02}:{s:02}")
        };
        Ok(Window {
            spec: format!("{} {start} {}", DAYS[day], show_length(duration_s)),
            day: day as u8,
            start_s: h * 3600 + m * 60 + s,
            duration_s,
        })
    }

    /// When the work may start, at or after `now` (Unix seconds): `now` itself when
    /// inside this window, else the window's next opening.
    pub fn next_start(&self, now: i64) -> i64 {
        let days = now.div_euclid(86_400);
        // 1970-01-01 was a Thursday (3 with Monday = 0).
        let monday = days - (days + 3).rem_euclid(7);
        let mut best = i64::MAX;
        for week in -1..=1 {
            let open = (monday + 7 * week + i64::from(self.day)) * 86_400 + i64::from(self.start_s);
            let close = open + i64::from(self.duration_s);
            if open <= now && now < close {
                return now;
            }
            if open > now {
                best = best.min(open);
            }
        }
        best
    }
}

/// The earliest start among `windows` (None: no schedule, work may start at once).
pub fn next_window_start(windows: &[Window], now: i64) -> Option<i64> {
    windows.iter().map(|w| w.next_start(now)).min()
}

fn parse_length(s: &str) -> Option<u32> {
    let (mut total, mut digits, mut any) = (0u32, String::new(), false);
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let v: u32 = digits.parse().ok()?;
        digits.clear();
        total = total.checked_add(v.checked_mul(match c {
            'h' => 3600,
            'm' => 60,
            _ => return None,
        })?)?;
        any = true;
    }
    (any && digits.is_empty()).then_some(total)
}

fn show_length(s: u32) -> String {
    match (s / 3600, s / 60 % 60) {
        (h, 0) => format!("{h}h"),
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h{m}m"),
    }
}

/// `GET /caches/{name}/schedule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub cache: String,
    pub windows: Vec<Window>,
    /// The next opening (Unix milliseconds), none without windows.
    pub next_start_ms: Option<i64>,
}

/// `POST /caches/{name}/schedule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddWindow {
    pub add: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let w = Window::parse("tue 02:00 5h").unwrap();
        assert_eq!(
            (w.spec.as_str(), w.day, w.start_s),
            ("Tue 02:00 5h", 1, 7200)
        );
        assert_eq!(
            Window::parse("Saturday 23:30 6h30m").unwrap().spec,
            "Sat 23:30 6h30m"
        );
        let short = Window::parse("Tue 02:00 4h").unwrap_err();
        assert!(short.contains("at least 5 hours"), "{short}");
        for bad in [
            "",
            "Tue",
            "Xyz 02:00 5h",
            "Tue 2:00 5h",
            "Tue 24:00 5h",
            "Tue 02:00 5",
            "Tue 02:00 5x",
        ] {
            assert!(Window::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_start() {
        // 2026-11-23T16:34:46 was a Monday.
        let now = 1_795_451_686;
        let mon = Window::parse("Mon 16:00 5h").unwrap();
        assert_eq!(mon.next_start(now), now, "inside the window");
        let tue = Window::parse("Tue 02:00 5h").unwrap();
        assert_eq!(
            crate::time::format_utc(tue.next_start(now)),
            "2026-11-24T02:00:00"
        );
        let sun = Window::parse("Sun 22:00 5h").unwrap();
        // Sunday's window runs into Monday 03:00: at 16:34 Monday it is over.
        assert_eq!(
            crate::time::format_utc(sun.next_start(now)),
            "2026-11-29T22:00:00"
        );
        assert_eq!(
            next_window_start(&[tue.clone(), sun], now),
            Some(tue.next_start(now))
        );
        assert_eq!(next_window_start(&[], now), None);
    }
}
