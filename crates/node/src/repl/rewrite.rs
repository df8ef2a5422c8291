//! The deterministic form of a command for the replication stream. Most commands
//! are their own effect; those that depend on the clock or on which key a
//! blocking pop was served from are rewritten, mostly from the state they left
//! behind (which is exactly what the replica must end up with):
//!
//! - relative expiries (SET EX/PX, SETEX, PSETEX, EXPIRE, PEXPIRE, EXPIREAT,
//!   GETEX) become absolute PXAT/PEXPIREAT times, or DEL when the key is gone;
//! - RESTORE with a TTL carries the absolute expiry with ABSTTL (as Redis
//!   propagates it), or becomes DEL when REPLACE removed the key and the TTL had
//!   already passed;
//! - INCRBYFLOAT becomes SET … KEEPTTL and HINCRBYFLOAT becomes HSET of the result,
//!   so float formatting can never differ;
//! - served blocking pops (BLPOP …) become the plain pop of the key in the reply,
//!   and SPOP becomes SREM of the members it returned.

use ferrocache_keyspace::{value_buf, Db, Value};
use ferrocache_resp::{decode, Frame};

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// Feeds the effect of `name` (which ran with `argv`, replied `reply`, and left
/// `db` behind) to `feed`, one command at a time.
pub fn effect(
    name: &str,
    argv: &[&[u8]],
    reply: &[u8],
    db: &Db,
    now_ms: u64,
    mut feed: impl FnMut(&[&[u8]]),
) {
    let key = argv.get(1).copied().unwrap_or_default();
    let mut num = itoa::Buffer::new();
    let expire_at = db.get_ref(key, now_ms).map(|e| e.expire_at);
    match name {
        "set" if argv[3..].iter().any(|a| eq(a, "ex") || eq(a, "px")) => match expire_at {
            Some(at) if at != 0 => {
                feed(&[b"SET", key, argv[2], b"PXAT", num.format(at).as_bytes()])
            }
            _ => feed(argv),
        },
        "setex" | "psetex" => match expire_at {
            Some(at) if at != 0 => {
                feed(&[b"SET", key, argv[3], b"PXAT", num.format(at).as_bytes()])
            }
            _ => feed(&[b"DEL", key]),
        },
        "expire" | "pexpire" | "expireat" | "pexpireat" => match expire_at {
            Some(at) if at != 0 => feed(&[b"PEXPIREAT", key, num.format(at).as_bytes()]),
            Some(_) => feed(&[b"PERSIST", key]),
            None => feed(&[b"DEL", key]),
        },
        "getex" => match expire_at {
            Some(at) if at != 0 => feed(&[b"PEXPIREAT", key, num.format(at).as_bytes()]),
            Some(_) => feed(&[b"PERSIST", key]),
            None => feed(&[b"DEL", key]),
        },
        "restore" => match expire_at {
            Some(at) if at != 0 => restore_absolute(argv, num.format(at).as_bytes(), feed),
            Some(_) => feed(argv),
            None => feed(&[b"DEL", key]),
        },
        "incrbyfloat" => match db.get_ref(key, now_ms) {
            Some(e) => {
                let mut scratch = value_buf::Buf::default();
                feed(&[b"SET", key, e.value.as_bytes(&mut scratch), b"KEEPTTL"]);
            }
            None => feed(argv),
        },
        "hincrbyfloat" => match db.get_ref(key, now_ms).map(|e| &e.value) {
            Some(Value::Hash(h)) => match h.get(argv[2]) {
                Some(v) => feed(&[b"HSET", key, argv[2], v]),
                None => feed(argv),
            },
            _ => feed(argv),
        },
        "spop" => {
            let members = reply_strings(reply);
            if !members.is_empty() {
                let mut cmd: Vec<&[u8]> = vec![b"SREM", key];
                cmd.extend(members.iter().map(Vec::as_slice));
                feed(&cmd);
            }
        }
        "blpop" | "brpop" | "bzpopmin" | "bzpopmax" => {
            let plain: &[u8] = match name {
                "blpop" => b"LPOP",
                "brpop" => b"RPOP",
                "bzpopmin" => b"ZPOPMIN",
                _ => b"ZPOPMAX",
            };
            if let Some(k) = reply_strings(reply).first() {
                feed(&[plain, k]);
            }
        }
        "blmpop" | "bzmpop" => {
            // BLMPOP timeout numkeys key… LEFT|RIGHT [COUNT n]: reply [key, [elements]].
            let (plain, count) = served_mpop(name, reply);
            if let (Some(k), Some(n)) = (plain.first(), count) {
                let end = argv
                    .iter()
                    .rev()
                    .find(|a| ["left", "right", "min", "max"].iter().any(|w| eq(a, w)));
                if let Some(end) = end {
                    let cmd: &[u8] = if name == "blmpop" { b"LMPOP" } else { b"ZMPOP" };
                    feed(&[cmd, b"1", k, end, b"COUNT", num.format(n).as_bytes()]);
                }
            }
        }
        "blmove" => feed(&[b"LMOVE", argv[1], argv[2], argv[3], argv[4]]),
        "brpoplpush" => feed(&[b"RPOPLPUSH", argv[1], argv[2]]),
        _ => feed(argv),
    }
}

/// RESTORE with its TTL argument replaced by the absolute expiry `at`, every
/// other option kept, and ABSTTL added when it was not there (at the end, where
/// Redis puts it).
fn restore_absolute(argv: &[&[u8]], at: &[u8], mut feed: impl FnMut(&[&[u8]])) {
    let mut cmd: Vec<&[u8]> = Vec::with_capacity(argv.len() + 1);
    cmd.extend_from_slice(argv);
    cmd[2] = at;
    if !argv[4..].iter().any(|a| eq(a, "absttl")) {
        cmd.push(b"ABSTTL");
    }
    feed(&cmd);
}

/// The strings in a reply, in order: a bulk string, or the strings of an array,
/// set or map (RESP2 or RESP3), one level deep.
fn reply_strings(reply: &[u8]) -> Vec<Vec<u8>> {
    let Ok(Some((frame, _))) = decode(reply) else {
        return Vec::new();
    };
    let item = |f: &Frame| match f {
        Frame::Bulk(b) | Frame::Simple(b) => Some(b.to_vec()),
        _ => None,
    };
    match &frame {
        Frame::Bulk(_) | Frame::Simple(_) => item(&frame).into_iter().collect(),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            items.iter().filter_map(item).collect()
        }
        _ => Vec::new(),
    }
}

/// For a served BLMPOP/BZMPOP: the key and how many elements were popped.
fn served_mpop(_name: &str, reply: &[u8]) -> (Vec<Vec<u8>>, Option<usize>) {
    let Ok(Some((Frame::Array(items), _))) = decode(reply) else {
        return (Vec::new(), None);
    };
    let key = match items.first() {
        Some(Frame::Bulk(k)) => vec![k.to_vec()],
        _ => Vec::new(),
    };
    let count = match items.get(1) {
        Some(Frame::Array(v)) => Some(v.len()),
        _ => None,
    };
    (key, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrocache_keyspace::Entry;

    const NOW: u64 = 1_700_000_000_000;

    /// The commands `effect` feeds for RESTORE `argv`, run against `db`.
    fn fed(argv: &[&str], db: &Db) -> Vec<Vec<String>> {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        let mut out = Vec::new();
        effect("restore", &argv, b"+OK\r\n", db, NOW, |c| {
            out.push(
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            )
        });
        out
    }

    fn db_with(key: &str, expire_at: u64) -> Db {
        let mut db = Db::default();
        db.insert_entry(
            key.as_bytes(),
            Entry {
                value: Value::string(b"v"),
                expire_at,
                lru: 0,
            },
        );
        db
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn restore_with_a_relative_ttl_carries_the_absolute_expiry() {
        let at = NOW + 5000;
        let db = db_with("k", at);
        let got = fed(
            &[
                "RESTORE", "k", "5000", "PAYLOAD", "REPLACE", "IDLETIME", "7",
            ],
            &db,
        );
        let want = [
            "RESTORE",
            "k",
            &at.to_string(),
            "PAYLOAD",
            "REPLACE",
            "IDLETIME",
            "7",
            "ABSTTL",
        ];
        assert_eq!(got, vec![strs(&want)]);
    }

    #[test]
    fn restore_keeps_freq_and_an_existing_absttl() {
        let at = NOW + 90_000;
        let db = db_with("k", at);
        let got = fed(
            &["restore", "k", &at.to_string(), "P", "absttl", "FREQ", "3"],
            &db,
        );
        assert_eq!(
            got,
            vec![strs(&[
                "restore",
                "k",
                &at.to_string(),
                "P",
                "absttl",
                "FREQ",
                "3"
            ])]
        );
    }

    #[test]
    fn restore_without_a_ttl_is_its_own_effect() {
        let db = db_with("k", 0);
        let got = fed(&["RESTORE", "k", "0", "P", "REPLACE"], &db);
        assert_eq!(got, vec![strs(&["RESTORE", "k", "0", "P", "REPLACE"])]);
    }

    #[test]
    fn restore_that_replaced_a_key_with_a_past_ttl_is_a_del() {
        // REPLACE removed the old key and the TTL had already passed: no key.
        let db = Db::default();
        let got = fed(&["RESTORE", "k", "1", "P", "REPLACE", "ABSTTL"], &db);
        assert_eq!(got, vec![strs(&["DEL", "k"])]);
    }
}
