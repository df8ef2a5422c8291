//! Differential cases: sets. Membership, encodings, SMOVE and the algebra here;
//! random replies and SSCAN in `sets/replies.rs`, WATCH/MULTI and notifications in
//! `sets/signals.rs`, the seeded random sequence (`random_sets`) in
//! `sets/generator.rs`.
//!
//! Replies whose order Redis defines are compared exactly with `check_exact`: an
//! intset lists its members in ascending order (SMEMBERS, SSCAN, and the whole-set
//! forms of SPOP and SRANDMEMBER). Random replies go through the SPOP/SRANDMEMBER
//! rule; `pop_and_put_back` also puts each side's popped members back so that both
//! servers hold the same set afterwards.

mod generator;
mod replies;
mod signals;

use super::harness::{words, Differ};
use super::normalise::{random_members, Rule};
use ferrocache_testkit::Frame;

/// `SADD key` with the integers `from..to`.
fn sadd_range(key: &str, from: i64, to: i64) -> String {
    let members: Vec<String> = (from..to).map(|i| i.to_string()).collect();
    format!("SADD {key} {}", members.join(" "))
}

fn members_of(f: &Frame) -> Vec<Vec<u8>> {
    match f {
        Frame::Bulk(b) => vec![b.to_vec()],
        Frame::Array(v) | Frame::Set(v) => v
            .iter()
            .filter_map(|m| m.as_bytes().map(<[u8]>::to_vec))
            .collect(),
        _ => Vec::new(),
    }
}

/// SPOP on connection 0, compared by the SPOP rule, then each side's popped members
/// are added back (the SADD replies compared) and the set is compared whole.
fn pop_and_put_back(d: &mut Differ, key: &str, count: Option<&str>) {
    let line = match count {
        Some(c) => format!("SPOP {key} {c}"),
        None => format!("SPOP {key}"),
    };
    let args = words(&line);
    let popped = d.query_on(0, &line);
    let after = d.query_on(0, &format!("SMEMBERS {key}"));
    let normal = [0, 1].map(|i| Ok(vec![random_members(&args, &popped[i], &after[i], true)]));
    d.compare(&line, Rule::Exact, &normal);
    d.check(&format!("SCARD {key}"));
    let back = [0, 1].map(|i| members_of(&popped[i]));
    if !back[0].is_empty() && !back[1].is_empty() {
        let sadd =
            |m: &[Vec<u8>]| [vec![b"SADD".to_vec(), key.as_bytes().to_vec()], m.to_vec()].concat();
        d.check_each_on(0, sadd(&back[0]), sadd(&back[1]));
    }
    d.check(&format!("SMEMBERS {key}"));
    d.check(&format!("OBJECT ENCODING {key}"));
}

#[test]
fn add_remove_and_membership() {
    let mut d = Differ::new("sets/basics");
    d.check_all(&[
        "SADD s 3 1 2 3",
        "SADD s 2",
        "SCARD s",
        "TYPE s",
        "OBJECT ENCODING s",
        "SISMEMBER s 1",
        "SISMEMBER s 4",
        "SISMEMBER s 01",
        "SMISMEMBER s 1 4 2 01 -0",
        "SMISMEMBER nosuch a b",
        "SISMEMBER nosuch a",
        "SCARD nosuch",
        "SMEMBERS nosuch",
        "SREM s 4 01",
        "SREM s 1 1",
        "SREM nosuch a",
        "SMEMBERS s",
        // Removing the last members deletes the key; the count stops there.
        "SREM s 2 3 3 9",
        "EXISTS s",
        // String members, binary, empty, long (not inline).
        "SADD h a b \"\" \"\\x00\\r\\n\" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "SADD h xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx a",
        "OBJECT ENCODING h",
        "SISMEMBER h \"\"",
        "SISMEMBER h xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "SMISMEMBER h a \"\\x00\\r\\n\" z",
        "SMEMBERS h",
        "SREM h xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \"\"",
        "SCARD h",
        // Integers as Redis's string2ll reads them.
        "SADD i 0 -1 9223372036854775807 -9223372036854775808",
        "OBJECT ENCODING i",
        "SADD i2 9223372036854775808",
        "OBJECT ENCODING i2",
        "SADD i3 01",
        "OBJECT ENCODING i3",
        "SADD i4 -0",
        "OBJECT ENCODING i4",
        "SADD i5 \" 1\"",
        "OBJECT ENCODING i5",
        "SADD i6 +1",
        "OBJECT ENCODING i6",
        "SADD i7 1.0",
        "OBJECT ENCODING i7",
        // Wrong type and arity.
        "SET str v",
        "SADD str a",
        "SREM str a",
        "SISMEMBER str a",
        "SMISMEMBER str a",
        "SCARD str",
        "SMEMBERS str",
        "GET s",
        "SADD",
        "SADD s",
        "SREM s",
        "SISMEMBER s",
        "SISMEMBER s a b",
        "SMISMEMBER s",
        "SCARD",
        "SCARD a b",
        "SMEMBERS",
        "SMEMBERS a b",
        "sadd lower A a",
        "SmIsMeMbEr lower A a",
    ]);
    // An intset lists its members in ascending numeric order.
    d.check("SADD ord 50 -3 7 100 0 -1000 9223372036854775807");
    d.check_exact("SMEMBERS ord");
    d.check_exact("SINTER ord");
    d.check_exact("SUNION ord nosuch");
    d.check_exact("SDIFF ord nosuch");
    // Expired keys are missing.
    d.check("SADD gone a");
    d.check("PEXPIRE gone 1");
    d.check("DEBUG SLEEP 0.01");
    d.check("SCARD gone");
    d.check("SADD gone b");
    d.check("TTL gone");
    d.finish();
}

#[test]
fn encodings_and_conversions() {
    let mut d = Differ::new("sets/encodings");
    d.check(&sadd_range("big", 0, 512));
    d.check("OBJECT ENCODING big");
    d.check("SADD big 511");
    d.check("OBJECT ENCODING big");
    d.check("SADD big 512");
    d.check("OBJECT ENCODING big");
    // One-way: shrinking keeps the table.
    d.check(&format!(
        "SREM big {}",
        (0..500)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    d.check("SCARD big");
    d.check("OBJECT ENCODING big");
    d.check("SMEMBERS big");
    // A string converts an intset; removing it keeps the table.
    d.check("SADD mixed 1 2 3");
    d.check("SADD mixed x");
    d.check("OBJECT ENCODING mixed");
    d.check("SREM mixed x");
    d.check("OBJECT ENCODING mixed");
    // The first member of a new set decides nothing: any string converts.
    d.check("SADD first x 1 2");
    d.check("OBJECT ENCODING first");
    // A lower limit applies to later additions.
    d.check("CONFIG SET set-max-intset-entries 3");
    d.check("SADD small 1 2 3");
    d.check("OBJECT ENCODING small");
    d.check("SADD small 4");
    d.check("OBJECT ENCODING small");
    d.check("SADD small2 1 2 3 4");
    d.check("OBJECT ENCODING small2");
    d.check("SADD ord 9 8 7");
    d.check("CONFIG SET set-max-intset-entries 2");
    d.check("OBJECT ENCODING ord");
    d.check("SADD ord 8");
    d.check("OBJECT ENCODING ord");
    d.check("SADD ord 6");
    d.check("OBJECT ENCODING ord");
    d.check("CONFIG SET set-max-intset-entries 0");
    d.check("SADD zero 1");
    d.check("OBJECT ENCODING zero");
    d.check("CONFIG SET set-max-intset-entries 512");
    // STORE results are built member by member: intset when every member is an
    // integer and they fit.
    d.check("SADD ints 1 2 3 4");
    d.check("SADD strs a b 3 4");
    d.check("SINTERSTORE dst ints strs");
    d.check("OBJECT ENCODING dst");
    d.check_exact("SMEMBERS dst");
    d.check("SUNIONSTORE dst ints strs");
    d.check("OBJECT ENCODING dst");
    d.check("SDIFFSTORE dst strs ints");
    d.check("OBJECT ENCODING dst");
    d.check("SDIFFSTORE dst big");
    d.check("OBJECT ENCODING dst");
    d.check_exact("SMEMBERS dst");
    d.check("SUNIONSTORE dst big");
    d.check("OBJECT ENCODING dst");
    // SDIFF's second algorithm fills the result with the first set and then removes:
    // past 512 integers it has become a table, however few remain.
    d.check(&sadd_range("many", 0, 600));
    d.check(&sadd_range("most", 0, 590));
    d.check("SDIFFSTORE dst many most");
    d.check("SCARD dst");
    d.check("OBJECT ENCODING dst");
    d.check("SDIFF many most");
    // ... while the first algorithm only adds what survives.
    d.check("SADD few 1 2");
    d.check("SDIFFSTORE dst many few");
    d.check("OBJECT ENCODING dst");
    d.check("SDIFFSTORE dst many few few few few");
    d.check("OBJECT ENCODING dst");
    d.check(&sadd_range("m2", 0, 100));
    d.check("SDIFFSTORE dst m2 nosuch few");
    d.check("OBJECT ENCODING dst");
    // SPOP of most of a table rebuilds the rest as a new set: an intset again when
    // only integers remain.
    d.check(&sadd_range("pop", 0, 600));
    d.check("OBJECT ENCODING pop");
    d.check("EXPIRE pop 1000");
    d.query_on(0, "SPOP pop 500");
    d.check("SCARD pop");
    d.check("OBJECT ENCODING pop");
    // The rebuilt set keeps the key's TTL.
    d.check("TTL pop");
    d.check(&sadd_range("pop2", 0, 600));
    d.query_on(0, "SPOP pop2 499");
    d.check("SCARD pop2");
    d.check("OBJECT ENCODING pop2");
    d.check("SADD pop3 1 2 3 4 5 6 7 8 9 10 11 x");
    d.check("SREM pop3 x");
    d.query_on(0, "SPOP pop3 10");
    d.check("OBJECT ENCODING pop3");
    d.check("SADD pop4 1 2 3 4 5 6 7 8 9 10 11 x");
    d.check("SREM pop4 x");
    d.query_on(0, "SPOP pop4 9");
    d.check("OBJECT ENCODING pop4");
    d.finish();
}

#[test]
fn smove() {
    let mut d = Differ::new("sets/smove");
    d.check_all(&[
        "SADD src 1 2 a",
        "SADD dst 3",
        "SMOVE src dst 1",
        "SMEMBERS src",
        "SMEMBERS dst",
        "OBJECT ENCODING dst",
        "SMOVE src dst a",
        "OBJECT ENCODING dst",
        "SMOVE src dst nosuch",
        "SMOVE src fresh 2",
        "EXISTS src",
        "SMEMBERS fresh",
        "OBJECT ENCODING fresh",
        "SADD src2 x",
        "SMOVE src2 fresh2 x",
        "OBJECT ENCODING fresh2",
        // Already in the destination: removed from the source only.
        "SADD s3 x y",
        "SADD d3 x",
        "SMOVE s3 d3 x",
        "SMEMBERS s3",
        "SMEMBERS d3",
        // Same key: a membership test.
        "SMOVE d3 d3 x",
        "SMOVE d3 d3 q",
        "SMOVE nosuch nosuch q",
        // Type checks: a missing source answers 0 whatever the destination.
        "SET str v",
        "SMOVE nosuch str x",
        "SMOVE str d3 x",
        "SMOVE d3 str x",
        "SMOVE d3 str nosuch",
        "SMOVE str str x",
        "SMOVE",
        "SMOVE a b",
        "SMOVE a b c d",
        // The destination keeps its TTL; the source's goes with it.
        "SADD ttl a b",
        "EXPIRE ttl 1000",
        "SMOVE s3 ttl y",
        "TTL ttl",
    ]);
    d.finish();
}

#[test]
fn intersection_union_difference() {
    let mut d = Differ::new("sets/algebra");
    d.check_all(&[
        "SADD a 1 2 3 4 x y",
        "SADD b 2 3 4 5 y z",
        "SADD c 3 4 5 6 y",
        "SADD n 1 2 3",
        "SINTER a b c",
        "SINTER a",
        "SINTER a a",
        "SINTER a nosuch",
        "SINTER nosuch a",
        "SUNION a b c",
        "SUNION a nosuch",
        "SUNION nosuch",
        "SDIFF a b",
        "SDIFF a b c",
        "SDIFF a nosuch",
        "SDIFF nosuch a",
        "SDIFF a a",
        "SDIFF a b a",
        "SDIFF b nosuch nosuch",
        // Wrong types: every key is checked, even after a missing one.
        "SET str v",
        "SINTER nosuch str",
        "SINTER str nosuch",
        "SINTER a str",
        "SUNION nosuch str",
        "SDIFF nosuch str",
        "SDIFF a str",
        "SINTERCARD 2 nosuch str",
        "SINTERSTORE dst nosuch str",
        "SUNIONSTORE dst a str",
        "SDIFFSTORE dst str",
        "EXISTS dst",
        // STORE replaces whatever was there, TTL included; an empty result deletes.
        "SET dst v EX 1000",
        "SINTERSTORE dst a b",
        "TYPE dst",
        "TTL dst",
        "SMEMBERS dst",
        "SUNIONSTORE dst a b c",
        "SMEMBERS dst",
        "SDIFFSTORE dst a b c",
        "SMEMBERS dst",
        "SINTERSTORE dst a nosuch",
        "EXISTS dst",
        "SET dst v",
        "SDIFFSTORE dst a a",
        "EXISTS dst",
        "SET dst v",
        "SUNIONSTORE dst nosuch",
        "EXISTS dst",
        "SINTERSTORE dst nosuch",
        "SADD dst q",
        "SINTERSTORE dst a c n",
        "SMEMBERS dst",
        // The destination may be a source.
        "SUNIONSTORE a a b",
        "SMEMBERS a",
        "SINTERSTORE a a c",
        "SMEMBERS a",
        "SDIFFSTORE a a n",
        "SMEMBERS a",
        // SINTERCARD
        "SINTERCARD 3 a b c",
        "SINTERCARD 1 b",
        "SINTERCARD 2 b c LIMIT 2",
        "SINTERCARD 2 b c LIMIT 0",
        "SINTERCARD 2 b c LIMIT 100",
        "SINTERCARD 2 b c limit 1 LIMIT 3",
        "SINTERCARD 2 b nosuch",
        "SINTERCARD 1 nosuch LIMIT 1",
        "SINTERCARD 0 a",
        "SINTERCARD -1 a",
        "SINTERCARD abc a",
        "SINTERCARD 9223372036854775808 a",
        "SINTERCARD 3 a b",
        "SINTERCARD 2 a",
        "SINTERCARD 1 a LIMIT",
        "SINTERCARD 1 a LIMIT -1",
        "SINTERCARD 1 a LIMIT abc",
        "SINTERCARD 1 a LIMIT 1.5",
        "SINTERCARD 1 a FOO 1",
        "SINTERCARD 1 a b",
        "SINTERCARD 1",
        "SINTER",
        "SUNION",
        "SDIFF",
        "SINTERSTORE dst",
        "SUNIONSTORE dst",
        "SDIFFSTORE dst",
    ]);
    // Intset results come out in ascending order.
    d.check("SADD i1 9 3 7 1 5");
    d.check("SADD i2 1 3 5 7 100 -4");
    d.check_exact("SINTER i1 i2");
    d.check_exact("SINTER i2 i1");
    d.check_exact("SUNION i1 i2");
    d.check_exact("SDIFF i2 i1");
    d.check_exact("SDIFF i1 i2");
    // A table of integers: SUNION and SDIFF build an intset, so ascending again.
    d.check("SADD t 30 10 20 5 x");
    d.check("SREM t x");
    d.check_exact("SUNION t");
    d.check_exact("SDIFF t i1");
    d.check_exact("SINTER i1 t i2");
    d.finish();
}

#[test]
fn keyspace_commands_on_sets() {
    let mut d = Differ::new("sets/keyspace");
    d.check_all(&[
        "SADD s 1 2 3",
        "SADD h a b",
        "COPY s c",
        "SMEMBERS c",
        "OBJECT ENCODING c",
        "RENAME h r",
        "SMEMBERS r",
        "TYPE r",
        "EXPIRE r 1000",
        "SADD r c",
        "TTL r",
        "SREM r a b c",
        "EXISTS r",
        "MOVE s 1",
        "SELECT 1",
        "SMEMBERS s",
        "SELECT 0",
        "DEL c",
        "DBSIZE",
    ]);
    d.finish();
}
