//! Hand-written differential cases for keyspace commands and expiry.

use super::harness::Differ;
use ferrocache_testkit::{poll_until, Frame};
use std::time::Duration;

#[test]
fn del_exists_type_rename() {
    let mut d = Differ::new("keyspace/basic");
    d.check_all(&[
        "MSET a 1 b 2 c 3",
        "EXISTS a",
        "EXISTS a a a b nope",
        "EXISTS",
        "DEL a b nope b",
        "DEL",
        "EXISTS a b c",
        "UNLINK c c",
        "DBSIZE",
        "SET a 1",
        "TYPE a",
        "TYPE nope",
        "TYPE",
        "RENAME a b",
        "GET b",
        "EXISTS a",
        "RENAME nope x",
        "RENAME b b",
        "GET b",
        "RENAME nope nope",
        "SET c 3",
        "RENAMENX b c",
        "RENAMENX b d",
        "RENAMENX nope e",
        "RENAMENX d d",
        "MGET b c d",
        "RENAME d",
        // A TTL moves with the key on RENAME.
        "SET t v EX 5000",
        "RENAME t t2",
        "TTL t2",
        "SET plain v",
        "RENAME plain t2",
        "TTL t2",
        "TOUCH t2 nope t2",
        "TOUCH",
        "DBSIZE",
    ]);
    d.finish();
}

#[test]
fn keys_scan_randomkey() {
    let mut d = Differ::new("keyspace/iteration");
    d.check_all(&[
        "RANDOMKEY",
        "KEYS *",
        "SCAN 0",
        "MSET apple 1 apricot 2 banana 3 cherry 4 a*b 5 a?b 6 \"a b\" 7 A 8",
        "KEYS *",
        "KEYS a*",
        "KEYS a?b",
        "KEYS a\\*b",
        "KEYS [ab]*",
        "KEYS [^a]*",
        "KEYS [a-c]pple",
        "KEYS *an*",
        "KEYS A",
        "KEYS nomatch*",
        "KEYS",
        "RANDOMKEY",
        "RANDOMKEY extra",
        "SCAN 0",
        "SCAN 0 COUNT 2",
        "SCAN 0 MATCH a*",
        "SCAN 0 MATCH a* COUNT 1",
        "SCAN 0 TYPE string",
        "SCAN 0 TYPE list",
        "SCAN 0 COUNT 0",
        "SCAN 0 COUNT -1",
        "SCAN 0 COUNT abc",
        "SCAN 0 FOO",
        "SCAN 0 MATCH",
        "SCAN abc",
        "SCAN -1",
        "SCAN",
    ]);
    for i in 0..300 {
        d.check(&format!("SET key:{i} {i}"));
    }
    d.check_all(&[
        "SCAN 0",
        "SCAN 0 COUNT 7 MATCH key:1*",
        "KEYS key:2?",
        "DBSIZE",
        "RANDOMKEY",
    ]);
    d.finish();
}

#[test]
fn expire_family_and_ttl() {
    let mut d = Differ::new("keyspace/expire");
    d.check_all(&[
        "TTL nope",
        "PTTL nope",
        "EXPIRETIME nope",
        "PEXPIRETIME nope",
        "SET k v",
        "TTL k",
        "PTTL k",
        "EXPIRETIME k",
        "PEXPIRETIME k",
        "EXPIRE k 1000",
        "TTL k",
        "EXPIRE k 2000 NX",
        "EXPIRE k 2000 XX",
        "TTL k",
        "EXPIRE k 1000 GT",
        "EXPIRE k 3000 GT",
        "TTL k",
        "EXPIRE k 4000 LT",
        "EXPIRE k 1500 LT",
        "TTL k",
        "PERSIST k",
        "PERSIST k",
        "TTL k",
        // No TTL counts as infinite for GT/LT.
        "EXPIRE k 1000 GT",
        "EXPIRE k 1000 LT",
        "TTL k",
        "PERSIST k",
        "EXPIRE k 1000 XX",
        "EXPIRE k 1000 NX",
        "EXPIRE k 1000 NX XX",
        "EXPIRE k 1000 GT LT",
        "EXPIRE k 1000 NX GT",
        "EXPIRE k 1000 FOO",
        "EXPIRE k 1000 NX NX",
        "EXPIRE k abc",
        "EXPIRE k 1.5",
        "EXPIRE k \"\"",
        "EXPIRE k 9223372036854775807",
        "EXPIRE k 9223372036854775",
        "EXPIRE k -9223372036854775808",
        "PEXPIRE k 9223372036854775807",
        "EXPIREAT k 9223372036854775807",
        "PEXPIREAT k 9223372036854775807",
        "EXPIRE nope 100",
        "EXPIRE k",
        "PEXPIRE k 5000000",
        "PTTL k",
        "EXPIREAT k 4102444800",
        "EXPIRETIME k",
        "PEXPIRETIME k",
        "PEXPIREAT k 4102444800123",
        "PEXPIRETIME k",
        "EXPIRETIME k",
        "EXPIREAT k 4102444800 GT",
        "EXPIREAT k 4102444801 GT",
        "PEXPIREAT k 4102444800000 LT",
        "PEXPIRETIME k",
        // Zero, negative and past expiry delete the key at once.
        "EXPIRE k 0",
        "EXISTS k",
        "SET k v",
        "EXPIRE k -5",
        "EXISTS k",
        "SET k v",
        "PEXPIRE k -1",
        "EXISTS k",
        "SET k v",
        "EXPIREAT k 1",
        "EXISTS k",
        "SET k v",
        "PEXPIREAT k 1000",
        "GET k",
        "SET k v EX 1000",
        "EXPIRE k 0 XX",
        "EXISTS k",
        "SET k v",
        "EXPIRE k -1 GT",
        "EXISTS k",
        "PERSIST nope",
        "PERSIST",
    ]);
    d.finish();
}

/// Expired keys vanish on access (lazy) and by themselves within about a second
/// (active cycle), with millisecond accuracy.
#[test]
fn keys_expire_lazily_and_actively() {
    let mut d = Differ::new("keyspace/expiry-timing");
    d.each(
        "lazy: a key with PX 100 is gone when read after it expired",
        |s| {
            let mut c = s.connect().unwrap();
            c.cmd(&["SET", "k", "v", "PX", "100"]).unwrap();
            let present = c.cmd(&["EXISTS", "k"]).unwrap();
            let gone = poll_until(Duration::from_secs(3), || {
                c.cmd(&["GET", "k"]).unwrap() == Frame::Null
            });
            format!("present at once: {present:?}; gone within 3 s: {gone}")
        },
    );
    d.each(
        "active: 50 keys with PX 50, never read, leave DBSIZE within 3 s",
        |s| {
            let mut c = s.connect().unwrap();
            for i in 0..50 {
                c.cmd(&["SET", &format!("a{i}"), "v", "PX", "50"]).unwrap();
            }
            c.cmd(&["SET", "keep", "v"]).unwrap();
            let done = poll_until(Duration::from_secs(3), || {
                c.cmd(&["DBSIZE"]).unwrap() == Frame::Integer(1)
            });
            format!("DBSIZE reached 1: {done}")
        },
    );
    d.each(
        "millisecond accuracy: a key with PX 300 is not gone before 300 ms, and is gone well within two seconds",
        |s| {
            let mut c = s.connect().unwrap();
            let t0 = std::time::Instant::now();
            c.cmd(&["SET", "ms", "v", "PX", "300"]).unwrap();
            // The upper bound only catches a key that never expires: a loaded
            // machine may stall a poll for hundreds of milliseconds.
            let gone = poll_until(Duration::from_secs(3), || {
                c.cmd(&["GET", "ms"]).unwrap() == Frame::Null
            });
            let ms = t0.elapsed().as_millis();
            format!("gone: {gone}; in the window: {}", (300..=2000).contains(&ms))
        },
    );
    d.finish();
}

#[test]
fn copy_move_select_swapdb() {
    let mut d = Differ::new("keyspace/databases");
    d.check_all(&[
        "SET src v",
        "COPY src dst",
        "GET dst",
        "COPY src dst",
        "SET src v2",
        "COPY src dst REPLACE",
        "GET dst",
        "COPY src src",
        "COPY nope x",
        "COPY src other DB 1",
        "COPY src other DB 16",
        "COPY src other DB -1",
        "COPY src other DB abc",
        "COPY src other DB",
        "COPY src other FOO",
        "COPY src other REPLACE REPLACE",
        "COPY src src DB 1",
        "COPY src src DB 0",
        "SET withttl v EX 5000",
        "COPY withttl copied",
        "TTL copied",
        "COPY src",
        "SELECT 1",
        "GET other",
        "COPY other src DB 0",
        "COPY other src DB 0 REPLACE",
        "SELECT 0",
        "GET src",
        "MOVE src 1",
        "MOVE src 1",
        "SET src again",
        "MOVE src 1",
        "EXISTS src",
        "MOVE nope 1",
        "MOVE dst 0",
        "MOVE dst 16",
        "MOVE dst -1",
        "MOVE dst abc",
        "MOVE dst",
        "MOVE withttl 2",
        "SELECT 2",
        "TTL withttl",
        "SELECT 16",
        "SELECT -1",
        "SELECT abc",
        "SELECT 1.0",
        "SELECT",
        "SELECT 15",
        "SET in15 v",
        "DBSIZE",
        "SELECT 0",
        "DBSIZE",
        "SWAPDB 0 15",
        "GET in15",
        "DBSIZE",
        "SWAPDB 0 15",
        "SWAPDB 0 0",
        "SWAPDB 0 16",
        "SWAPDB -1 0",
        "SWAPDB a 0",
        "SWAPDB 0 b",
        "SWAPDB 0",
        "FLUSHDB",
        "DBSIZE",
        "SELECT 1",
        "DBSIZE",
        "FLUSHALL",
        "DBSIZE",
        "SET x 1",
        "FLUSHDB ASYNC",
        "SET x 1",
        "FLUSHDB SYNC",
        "FLUSHDB FOO",
        "FLUSHALL SYNC",
        "FLUSHALL ASYNC",
        "FLUSHALL FOO",
        "FLUSHALL SYNC ASYNC",
        "DBSIZE",
        "DBSIZE extra",
    ]);
    d.finish();
}
