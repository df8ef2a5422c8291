//! The seeded random HyperLogLog sequences (`random_hll`): PFADD/PFCOUNT/PFMERGE
//! over the shared small key universe, mixed with GET (to compare the bytes), SET
//! of HLL-like strings, other types, and header damage through SETRANGE/APPEND.

use super::super::harness::Args;
use super::super::random::{b, run_seeds, Gen};
use super::{hll, xzero};

/// Sets of elements the random generator draws from: small, so that commands
/// overlap; sometimes large batches to cross the sparse limit.
fn elements(g: &mut Gen, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| match g.rng.u8(..10) {
            0 => g.value(),
            1..=3 => b(format!("e{}", g.rng.u32(..50))),
            _ => b(format!("{}", g.rng.u32(..100_000))),
        })
        .collect()
}

/// A string for SET that is, or nearly is, a HyperLogLog.
fn hll_like(g: &mut Gen) -> Vec<u8> {
    let full = xzero(16384);
    match g.rng.u8(..8) {
        0 => hll(1, 0, false, &full),
        1 => hll(1, g.rng.u64(..1000), g.chance(50), &full),
        2 => hll(1, 0, true, &xzero(16000)),
        3 => hll(0, 0, true, &[0u8; 12288]),
        4 => hll(0, 0, true, &[0u8; 50]),
        5 => hll(
            1,
            0,
            true,
            &[&[0x84u8, 0x80, 0x80][..], &xzero(16381)].concat(),
        ),
        6 => b"HYLL".to_vec(),
        _ => hll(2, 0, true, &full),
    }
}

fn hll_command(g: &mut Gen) -> Args {
    let mut a: Args = match g.rng.u8(..30) {
        0..=7 => {
            let n = g.rng.usize(0..6);
            [vec![b("PFADD"), g.key()], elements(g, n)].concat()
        }
        8 => {
            let n = g.rng.usize(100..600);
            [vec![b("PFADD"), g.key()], elements(g, n)].concat()
        }
        9..=11 => vec![b("PFCOUNT"), g.key()],
        12 | 13 => [vec![b("PFCOUNT")], g.keys(2)].concat(),
        14..=16 => [vec![b("PFMERGE"), g.key()], g.keys(0)].concat(),
        17..=19 => vec![b("GET"), g.key()],
        20 => vec![b("SET"), g.key(), g.value()],
        21 => vec![b("SET"), g.key(), hll_like(g)],
        22 => vec![b("SADD"), g.key(), g.value()],
        23 => vec![b("DEL"), g.key()],
        24 => vec![b("TYPE"), g.key()],
        25 => vec![b("OBJECT"), b("ENCODING"), g.key()],
        26 => vec![b("STRLEN"), g.key()],
        27 => {
            // Damage a byte of the header: encoding or cache flag.
            let (offset, byte) =
                *g.pick(&[(4, 0u8), (4, 1), (4, 7), (15, 0x80), (15, 0), (0, b'X')]);
            vec![b("SETRANGE"), g.key(), b(offset.to_string()), vec![byte]]
        }
        // Whole opcodes only: a string ending in half an XZERO opcode is the one
        // documented difference (see `types::hll::sparse::decode`).
        28 => vec![
            b("APPEND"),
            g.key(),
            b(*g.pick(&[&b"\x00"[..], b"\x84", b""])),
        ],
        _ => {
            let (name, n): (&str, usize) = *g.pick(&[("PFADD", 0), ("PFCOUNT", 0), ("PFMERGE", 0)]);
            let mut a = vec![b(name)];
            a.extend((0..n).map(|_| g.key()));
            a
        }
    };
    if g.chance(10) {
        a[0] = a[0].to_ascii_lowercase();
    }
    a
}

#[test]
fn random_hll() {
    run_seeds("random-hll", hll_command);
}
