//! The deterministic form of a command for the replication stream. Most commands
//! are their own effect; those that depend on the clock or on which key a
//! blocking pop was served from are rewritten, mostly from the state they left
//! behind (which is exactly what the replica must end up with):
//!
//! - relative expiries (SET EX/PX, SETEX, PSETEX, EXPIRE, PEXPIRE, EXPIREAT,
//!   GETEX) become absolute PXAT/PEXPIREAT times, or DEL when the key is gone;
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
