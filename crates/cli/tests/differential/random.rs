//! Generated differential sequences: a seeded generator of string, keyspace and
//! expiry commands (valid and invalid) over a small key universe, so that commands
//! collide on the same keys; every reply is compared.
//!
//! Knobs: `FERRO_DIFF_SEEDS=3,17` runs those seeds only (to reproduce a failure),
//! `FERRO_DIFF_SEED_COUNT=100` runs seeds 0..100, `FERRO_DIFF_COMMANDS=1000` sets the
//! commands per seed (defaults: 20 seeds × 200 commands).

use super::harness::{show_args, Args, Differ};
use std::time::{SystemTime, UNIX_EPOCH};

const DEFAULT_SEEDS: u64 = 20;
const DEFAULT_COMMANDS: usize = 200;

/// Keys drawn by every command: few, so that commands act on each other's keys.
const KEYS: &[&[u8]] = &[b"k0", b"k1", b"k2", b"k3", b"n", b"", b"b\0in\r\n", b"k10"];

/// The seeded generator; the per-type generators (lists, hashes …) build on its
/// argument makers.
pub struct Gen {
    pub rng: fastrand::Rng,
    /// Increases with every command, so that no two relative expiries land on the
    /// same millisecond (GT/LT comparisons would then depend on timing).
    slot: u64,
}

pub fn b(s: impl AsRef<[u8]>) -> Vec<u8> {
    s.as_ref().to_vec()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

impl Gen {
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.usize(..items.len())]
    }
    pub fn chance(&mut self, percent: u8) -> bool {
        self.rng.u8(..100) < percent
    }
    pub fn key(&mut self) -> Vec<u8> {
        b(self.pick(KEYS))
    }
    pub fn keys(&mut self, min: usize) -> Vec<Vec<u8>> {
        let n = self.rng.usize(min..min + 4);
        (0..n).map(|_| self.key()).collect()
    }
    pub fn value(&mut self) -> Vec<u8> {
        match self.rng.u8(..10) {
            0 => b(self.rng.i64(-100..100).to_string()),
            1 => b(self.pick(&[
                "0",
                "-1",
                "9223372036854775807",
                "-9223372036854775808",
                "01",
                " 1",
                "+5",
                "1.5",
                "1e3",
                "-0",
            ])),
            2 => b(""),
            3 => vec![0, b'\r', b'\n', 255],
            4 => vec![b'x'; self.rng.usize(0..80)],
            5 => b(format!(
                "{}.{}",
                self.rng.i32(-50..50),
                self.rng.u32(0..1000)
            )),
            _ => b(format!("v{}", self.rng.u8(..20))),
        }
    }
    /// An integer argument: mostly small, sometimes extreme or not an integer.
    pub fn int(&mut self) -> Vec<u8> {
        match self.rng.u8(..12) {
            0 => b(self.pick(&[
                "9223372036854775807",
                "-9223372036854775808",
                "9223372036854775808",
                "-9223372036854775809",
            ])),
            1 => b(self.pick(&["abc", "1.5", "", " 1", "1 ", "0x10", "1e2", "--1"])),
            2 => b(self.rng.i64(..).to_string()),
            _ => b(self.rng.i64(-20..100).to_string()),
        }
    }
    pub fn float(&mut self) -> Vec<u8> {
        match self.rng.u8(..8) {
            0 => b(self.pick(&[
                "inf", "-inf", "nan", "abc", "", "1e400", "0x1p3", "1.5e-3", "5e+2", " 1",
            ])),
            1 => b(self.rng.i64(-1000..1000).to_string()),
            _ => b(format!(
                "{}.{}",
                self.rng.i32(-100..100),
                self.rng.u32(0..100000)
            )),
        }
    }
    /// A range index for GETRANGE/BITCOUNT/BITPOS (read-only, so any size is safe).
    pub fn index(&mut self) -> Vec<u8> {
        match self.rng.u8(..10) {
            0 => b(self.pick(&[
                "9223372036854775807",
                "-9223372036854775808",
                "abc",
                "4294967296",
            ])),
            _ => b(self.rng.i64(-40..40).to_string()),
        }
    }
    /// A write offset small enough never to allocate much, or one that must fail.
    fn write_offset(&mut self, bits: bool) -> Vec<u8> {
        match self.rng.u8(..10) {
            0 if bits => b(self.pick(&["4294967296", "-1", "abc", "1.5"])),
            0 => b(self.pick(&["536870912", "-1", "abc", "9223372036854775807"])),
            _ => b(self.rng.u32(0..if bits { 600 } else { 80 }).to_string()),
        }
    }
    /// A relative TTL ≥ 1000 s, distinct for every command (see `slot`), or an
    /// invalid one (zero and negative delete the key at once: deterministic too).
    pub fn ttl(&mut self, millis: bool) -> Vec<u8> {
        self.slot += 1;
        match self.rng.u8(..10) {
            0 => b(self.pick(&["0", "-5", "abc", "9223372036854775807", "1.5", ""])),
            _ => {
                let secs = 1000 + self.slot * 10;
                b(if millis {
                    (secs * 1000).to_string()
                } else {
                    secs.to_string()
                })
            }
        }
    }
    /// An absolute expiry ≥ 1000 s ahead (offset by 5 s from the relative ones), or
    /// one in the past.
    pub fn at(&mut self, millis: bool) -> Vec<u8> {
        self.slot += 1;
        let secs = match self.rng.u8(..10) {
            0 => 1,
            _ => now_secs() + 1005 + self.slot * 10,
        };
        b(if millis {
            (secs * 1000).to_string()
        } else {
            secs.to_string()
        })
    }
    pub fn db(&mut self) -> Vec<u8> {
        b(self.pick(&["0", "1", "2", "0", "1", "16", "-1", "abc"]))
    }
    fn expire_flags(&mut self, args: &mut Args) {
        if self.chance(40) {
            args.push(b(self.pick(&["NX", "XX", "GT", "LT", "nx", "FOO"])));
            if self.chance(15) {
                args.push(b(self.pick(&["NX", "XX", "GT", "LT"])));
            }
        }
    }

    fn command(&mut self) -> Args {
        let mut a: Args = match self.rng.u8(..46) {
            0..=2 => vec![b("SET"), self.key(), self.value()],
            3..=5 => {
                let mut a = vec![b("SET"), self.key(), self.value()];
                for _ in 0..self.rng.usize(1..3) {
                    match self.rng.u8(..8) {
                        0 => a.extend([b("EX"), self.ttl(false)]),
                        1 => a.extend([b("PX"), self.ttl(true)]),
                        2 => a.extend([b("EXAT"), self.at(false)]),
                        3 => a.extend([b("PXAT"), self.at(true)]),
                        4 => a.push(b("NX")),
                        5 => a.push(b("XX")),
                        6 => a.push(b("KEEPTTL")),
                        _ => a.push(b("GET")),
                    }
                }
                a
            }
            6..=8 => vec![b("GET"), self.key()],
            9 => vec![b("SETNX"), self.key(), self.value()],
            10 => vec![b("SETEX"), self.key(), self.ttl(false), self.value()],
            11 => vec![b("PSETEX"), self.key(), self.ttl(true), self.value()],
            12 => vec![b("GETSET"), self.key(), self.value()],
            13 => vec![b("GETDEL"), self.key()],
            14 => {
                let mut a = vec![b("GETEX"), self.key()];
                match self.rng.u8(..6) {
                    0 => a.extend([b("EX"), self.ttl(false)]),
                    1 => a.extend([b("PX"), self.ttl(true)]),
                    2 => a.extend([b("EXAT"), self.at(false)]),
                    3 => a.push(b("PERSIST")),
                    4 => a.extend([b("PXAT"), self.at(true)]),
                    _ => {}
                }
                a
            }
            15 => [vec![b("MGET")], self.keys(1)].concat(),
            16 | 17 => {
                let mut a = vec![b(if self.chance(30) { "MSETNX" } else { "MSET" })];
                for _ in 0..self.rng.usize(1..4) {
                    a.extend([self.key(), self.value()]);
                }
                a
            }
            18 => vec![b("APPEND"), self.key(), self.value()],
            19 => vec![b("STRLEN"), self.key()],
            20 | 21 => vec![b(self.pick(&["INCR", "DECR"])), self.key()],
            22 => vec![b(self.pick(&["INCRBY", "DECRBY"])), self.key(), self.int()],
            23 => vec![b("INCRBYFLOAT"), self.key(), self.float()],
            24 => vec![b("GETRANGE"), self.key(), self.index(), self.index()],
            25 => vec![
                b("SETRANGE"),
                self.key(),
                self.write_offset(false),
                self.value(),
            ],
            26 => {
                let bit = b(self.pick(&["0", "1", "1", "2", "-1"]));
                vec![b("SETBIT"), self.key(), self.write_offset(true), bit]
            }
            27 => vec![b("GETBIT"), self.key(), self.index()],
            28 => {
                let mut a = vec![b("BITCOUNT"), self.key()];
                if self.chance(60) {
                    a.extend([self.index(), self.index()]);
                    if self.chance(40) {
                        a.push(b(self.pick(&["BYTE", "BIT", "bit", "FOO"])));
                    }
                }
                a
            }
            29 => {
                let bit = b(self.pick(&["0", "1", "2"]));
                let mut a = vec![b("BITPOS"), self.key(), bit];
                for _ in 0..self.rng.usize(0..3) {
                    a.push(self.index());
                }
                if a.len() == 5 && self.chance(40) {
                    a.push(b(self.pick(&["BYTE", "BIT"])));
                }
                a
            }
            30 => [vec![b(self.pick(&["DEL", "UNLINK"]))], self.keys(1)].concat(),
            31 => [vec![b(self.pick(&["EXISTS", "TOUCH"]))], self.keys(1)].concat(),
            32 => vec![b("TYPE"), self.key()],
            33 => vec![
                b(self.pick(&["RENAME", "RENAMENX"])),
                self.key(),
                self.key(),
            ],
            34 => {
                let mut a = vec![b("COPY"), self.key(), self.key()];
                if self.chance(40) {
                    a.extend([b("DB"), self.db()]);
                }
                if self.chance(40) {
                    a.push(b("REPLACE"));
                }
                a
            }
            35 => vec![b("MOVE"), self.key(), self.db()],
            36 => {
                let mut a = vec![b(self.pick(&["EXPIRE", "PEXPIRE"])), self.key()];
                let millis = a[0] == b"PEXPIRE";
                a.push(self.ttl(millis));
                self.expire_flags(&mut a);
                a
            }
            37 => {
                let mut a = vec![b(self.pick(&["EXPIREAT", "PEXPIREAT"])), self.key()];
                let millis = a[0] == b"PEXPIREAT";
                a.push(self.at(millis));
                self.expire_flags(&mut a);
                a
            }
            38 => vec![
                b(self.pick(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"])),
                self.key(),
            ],
            39 => vec![b("PERSIST"), self.key()],
            40 => vec![b("SELECT"), self.db()],
            41 => vec![b(self.pick(&["DBSIZE", "DBSIZE", "FLUSHDB"]))],
            42 => vec![
                b("KEYS"),
                b(self.pick(&["*", "k*", "k?", "[kn]*", "*1*", "k\\*"])),
            ],
            43 => vec![b("SWAPDB"), self.db(), self.db()],
            44 => {
                // Wrong arity of a real command.
                let (name, args): (&str, usize) = *self.pick(&[
                    ("GET", 0),
                    ("GET", 2),
                    ("SET", 1),
                    ("INCR", 2),
                    ("EXPIRE", 1),
                    ("GETRANGE", 2),
                    ("SETBIT", 2),
                    ("MSET", 3),
                    ("RENAME", 1),
                    ("TTL", 0),
                ]);
                let mut a = vec![b(name)];
                for _ in 0..args {
                    a.push(self.key());
                }
                a
            }
            _ => {
                // Unknown commands, with arguments echoed in the error.
                let name = b(self.pick(&["GETT", "FOO", "SETT", "INCRR", "X"]));
                [vec![name], self.keys(0)].concat()
            }
        };
        if self.chance(15) {
            a[0] = a[0].to_ascii_lowercase();
        }
        a
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seeds() -> Vec<u64> {
    match std::env::var("FERRO_DIFF_SEEDS") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) => (0..env_num("FERRO_DIFF_SEED_COUNT", DEFAULT_SEEDS)).collect(),
    }
}

#[test]
fn random_sequences() {
    run_seeds("random", Gen::command);
}

/// Runs `command` (a generator of one command) for every seed and compares every
/// reply. Each seed runs on a flushed keyspace with fresh connections and stops at
/// its first mismatch (later replies would only echo it); the test reports the
/// first mismatch of every failing seed.
pub fn run_seeds(label: &str, mut command: impl FnMut(&mut Gen) -> Args) {
    let commands = env_num("FERRO_DIFF_COMMANDS", DEFAULT_COMMANDS as u64) as usize;
    let mut d = Differ::new(label);
    // Without this, DBSIZE (which counts keys whose TTL passed but that no one has
    // deleted yet) would depend on when each server's active-expiry cycle happens to
    // run. Lazy expiry on access, which is deterministic, is still compared.
    let off = d.query_on(0, "DEBUG SET-ACTIVE-EXPIRE 0");
    assert!(
        off.iter().all(|f| f.as_bytes() == Some(b"OK")),
        "DEBUG SET-ACTIVE-EXPIRE: {off:?}"
    );
    let mut failed = Vec::new();
    for seed in seeds() {
        d.drop_conn(0);
        let flushed = d.query_on(0, "FLUSHALL");
        assert!(
            flushed.iter().all(|f| f.as_bytes() == Some(b"OK")),
            "FLUSHALL: {flushed:?}"
        );
        let mut g = Gen {
            rng: fastrand::Rng::with_seed(seed),
            slot: 0,
        };
        let mut history: Vec<String> = Vec::new();
        for i in 0..commands {
            let args = command(&mut g);
            let before = d.mismatch_count();
            d.check_args(args.clone());
            history.push(show_args(&args));
            if d.mismatch_count() > before {
                let recent =
                    history[history.len().saturating_sub(8)..history.len() - 1].join("\n      ");
                d.annotate_last(&format!(
                    "seed {seed}, command {i} (rerun: FERRO_DIFF_SEEDS={seed}); the commands before it:\n      {recent}"
                ));
                failed.push(seed);
                break;
            }
        }
    }
    if !failed.is_empty() {
        eprintln!("random sequences: seeds {failed:?} failed");
    }
    d.finish();
}
