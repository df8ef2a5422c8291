//! HyperLogLog differential cases on hand-made strings: not HyperLogLogs at all
//! (WRONGTYPE variant), corrupt sparse bodies (INVALIDOBJ, and what each command
//! leaves behind), dense strings at the extremes of the estimator, and register
//! values the sparse form cannot hold.

use super::super::harness::Differ;
use super::{dense_body, hll, pfadd_args, set_raw, xzero};

/// Strings that are not HyperLogLogs (WRONGTYPE variant) and HLLs whose sparse body
/// does not add up to 16384 registers (INVALIDOBJ, with what each command leaves
/// behind), plus hand-made dense strings at the extremes of the estimator.
#[test]
fn invalid_and_corrupt_strings() {
    let mut d = Differ::new("hll/corrupt");
    let full = xzero(16384);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty_body", hll(1, 0, true, b"")),
        ("short", hll(1, 0, true, &xzero(16383))),
        ("long", hll(1, 0, true, &[&full[..], b"\x00"].concat())),
        (
            "val_overflow",
            hll(1, 0, true, &[&xzero(16381)[..], b"\x83"].concat()),
        ),
        (
            "val_overflow2",
            hll(1, 0, true, &[&xzero(16382)[..], b"\x83"].concat()),
        ),
        ("vals_only", hll(1, 0, true, &[0x80u8; 4096])),
        ("zeros_only", hll(1, 0, true, &[0u8; 16384])),
        (
            "xzero_one",
            hll(1, 0, true, &[&xzero(1)[..], &xzero(16383)].concat()),
        ),
        (
            "unmerged",
            hll(1, 0, true, &[&[0x80u8, 0x80][..], &xzero(16382)].concat()),
        ),
        ("valid_cache_on_junk", hll(1, 5, false, b"")),
        ("bad_encoding", hll(2, 0, true, &full)),
        (
            "bad_magic",
            [b"HYLX".as_slice(), &hll(1, 0, true, &full)[4..]].concat(),
        ),
        ("dense_short", hll(0, 0, true, &[0u8; 100])),
        ("dense_long", hll(0, 0, true, &[0u8; 12289])),
        ("dense_zero", hll(0, 0, true, &[0u8; 12288])),
        ("dense_max", hll(0, 0, true, &[0xffu8; 12288])),
        ("dense_51", hll(0, 0, true, &dense_body(|_| 51))),
        (
            "dense_mixed",
            hll(0, 0, true, &dense_body(|i| if i % 2 == 1 { 33 } else { 1 })),
        ),
        (
            "dense_sparse_ish",
            hll(0, 0, true, &dense_body(|i| (i % 7 == 0) as u8 * 3)),
        ),
        ("header_only", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0".to_vec()),
        ("too_short", b"HYLL\x01\0\0".to_vec()),
        ("magic_only", b"HYLL".to_vec()),
    ];
    for (key, value) in &cases {
        set_raw(&mut d, key, value.clone());
        d.check(&format!("PFCOUNT {key}"));
        d.check(&format!("GET {key}"));
        set_raw(&mut d, key, value.clone());
        d.check(&format!("PFCOUNT {key} {key}"));
        d.check(&format!("PFADD {key} a"));
        d.check(&format!("GET {key}"));
        // Several elements: on a corrupt body, those before the failing one stay.
        set_raw(&mut d, key, value.clone());
        d.check_args(pfadd_args(key, (0..30).map(|i| i.to_string())));
        d.check(&format!("GET {key}"));
        set_raw(&mut d, key, value.clone());
        d.check(&format!("PFMERGE dst_{key} {key}"));
        d.check(&format!("GET dst_{key}"));
        d.check(&format!("EXISTS dst_{key}"));
        set_raw(&mut d, key, value.clone());
        d.check(&format!("PFMERGE {key} nosuch"));
        d.check(&format!("GET {key}"));
        set_raw(&mut d, key, value.clone());
        d.check("CONFIG SET hll-sparse-max-bytes 10");
        d.check(&format!("PFADD {key} a"));
        d.check(&format!("GET {key}"));
        d.check("CONFIG SET hll-sparse-max-bytes 3000");
    }
    // Damage done to a real HLL with the string commands.
    d.check_all(&[
        "PFADD real a b c d e f g h",
        "SETRANGE real 4 \"\\x00\"",
        "PFCOUNT real",
        "SETRANGE real 4 \"\\x01\"",
        "PFCOUNT real",
        "SETRANGE real 15 \"\\x00\"",
        "PFCOUNT real",
        "APPEND real \"\\x00\"",
        "PFCOUNT real",
        "PFADD real a",
        "PFCOUNT real real",
        "GET real",
    ]);
    // A stale cache over a shrinking sparse string longer than the limit.
    let over = hll(
        1,
        0,
        true,
        &[&xzero(12711)[..], &xzero(1), &xzero(3672)].concat(),
    );
    for max in ["10", "3000"] {
        d.check(&format!("CONFIG SET hll-sparse-max-bytes {max}"));
        set_raw(&mut d, "over", over.clone());
        d.check("PFADD over a");
        d.check("GET over");
    }
    d.check("CONFIG SET hll-sparse-max-bytes 3000");
    d.finish();
}

/// Elements whose hash offers a register value above 32, which the sparse form
/// cannot hold: the HLL turns dense at once (found by search; Redis observed).
#[test]
fn register_values_above_sparse_max() {
    let mut d = Differ::new("hll/val-max");
    d.check_all(&[
        "PFADD v33 1692856687",
        "STRLEN v33",
        "GET v33",
        "PFCOUNT v33",
        "PFADD v35 a b 12722785857 c",
        "GET v35",
        "PFCOUNT v35",
        "PFADD sp x y 14778880364",
        "GET sp",
        "PFADD sp2 x y",
        "PFMERGE sp2 v33",
        "GET sp2",
        "PFADD sp3 q",
        "PFMERGE sp4 sp3 v35",
        "GET sp4",
        "PFCOUNT sp3 v35 v33 nosuch",
    ]);
    d.finish();
}
