//! Bit operations on strings: SETBIT, GETBIT, BITCOUNT, BITPOS.

use super::strings::read_string;
use super::*;
use ferrocache_keyspace::value_buf::Buf;
use ferrocache_keyspace::{Ttl, Value};

const ERR_BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";

/// A bit offset within the limit a string may grow to.
fn bit_offset(arg: &[u8], max_bulk_len: usize) -> Result<usize, crate::dispatch::Reject> {
    match ferrocache_keyspace::parse_i64(arg) {
        Some(o) if o >= 0 && ((o as u64) >> 3) < max_bulk_len as u64 => Ok(o as usize),
        _ => Err(ERR_BIT_OFFSET.into()),
    }
}

fn bit_at(s: &[u8], bit: usize) -> u8 {
    s.get(bit >> 3).map_or(0, |b| (b >> (7 - (bit & 7))) & 1)
}

pub fn setbit(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(args[2], ctx.settings.proto_max_bulk_len)?;
    let on = match args[3] {
        b"0" => false,
        b"1" => true,
        _ => return Err("ERR bit is not an integer or out of range".into()),
    };
    let now = ctx.now_ms;
    let db = ctx.db();
    let byte = offset >> 3;
    let mask = 1u8 << (7 - (offset & 7));
    let old = match db.get_mut(args[1], now) {
        Some(e) if !e.value.is_string() => return Err(ERR_WRONGTYPE.into()),
        Some(e) => {
            let raw = e.value.make_raw();
            if raw.len() <= byte {
                raw.resize(byte + 1, 0);
            }
            let old = raw[byte] & mask != 0;
            if on {
                raw[byte] |= mask;
            } else {
                raw[byte] &= !mask;
            }
            db.signal(args[1]);
            old
        }
        None => {
            let mut raw = vec![0u8; byte + 1];
            if on {
                raw[byte] |= mask;
            }
            db.set(args[1], Value::raw(raw), Ttl::Clear, now);
            false
        }
    };
    ctx.notify(Class::String, "setbit", args[1]);
    ctx.out.int(old as i64);
    Ok(())
}

pub fn getbit(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(args[2], ctx.settings.proto_max_bulk_len)?;
    let now = ctx.now_ms;
    let mut buf = Buf::default();
    let bit = read_string(ctx.db(), args[1], now, &mut buf)?.map_or(0, |s| bit_at(s, offset));
    ctx.out.int(bit as i64);
    Ok(())
}

/// Normalises a [start, end] range given in bytes or bits (negative = from the end)
/// into an inclusive range of bit indexes; None when it is empty.
fn bit_range(len_bytes: usize, start: i64, end: i64, in_bits: bool) -> Option<(i64, i64)> {
    let total = if in_bits {
        len_bytes as i64 * 8
    } else {
        len_bytes as i64
    };
    let (s, e) = clamp_range(start, end, total)?;
    Some(if in_bits { (s, e) } else { (s * 8, e * 8 + 7) })
}

fn unit_arg(a: &[u8]) -> Result<bool, crate::dispatch::Reject> {
    if eq(a, "bit") {
        Ok(true)
    } else if eq(a, "byte") {
        Ok(false)
    } else {
        Err(ERR_SYNTAX.into())
    }
}

pub fn bitcount(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let mut buf = Buf::default();
    let Some(s) = read_string(ctx.db(), args[1], now, &mut buf)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let range = match args.len() {
        2 => bit_range(s.len(), 0, -1, false),
        4 | 5 => {
            let start = int_arg(args[2])?;
            let end = int_arg(args[3])?;
            // Redis answers 0 for this empty range before it looks at BYTE|BIT.
            if start < 0 && end < 0 && start > end {
                None
            } else {
                let in_bits = if args.len() == 5 {
                    unit_arg(args[4])?
                } else {
                    false
                };
                bit_range(s.len(), start, end, in_bits)
            }
        }
        _ => return Err(ERR_SYNTAX.into()),
    };
    let count = match range {
        None => 0,
        Some((bs, be)) => count_bits(s, bs as usize, be as usize),
    };
    ctx.out.int(count as i64);
    Ok(())
}

/// Set bits in the inclusive bit range [bs, be].
fn count_bits(s: &[u8], bs: usize, be: usize) -> u64 {
    let (first, last) = (bs / 8, be / 8);
    let mut n: u64 = s[first..=last].iter().map(|b| b.count_ones() as u64).sum();
    // Remove the bits of the first and last byte that lie outside the range.
    let head = s[first] & !(0xFFu8 >> (bs % 8));
    let tail = s[last] & ((0xFFu16 >> (be % 8 + 1)) as u8);
    n -= head.count_ones() as u64 + tail.count_ones() as u64;
    n
}

pub fn bitpos(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let target = match ferrocache_keyspace::parse_i64(args[2]) {
        Some(b @ (0 | 1)) => b as u8,
        Some(_) => return Err("ERR The bit argument must be 1 or 0.".into()),
        None => return Err(ERR_NOT_INT.into()),
    };
    let now = ctx.now_ms;
    let mut buf = Buf::default();
    let Some(s) = read_string(ctx.db(), args[1], now, &mut buf)? else {
        ctx.out.int(if target == 1 { -1 } else { 0 });
        return Ok(());
    };
    let (range, end_given) = match args.len() {
        3 => (bit_range(s.len(), 0, -1, false), false),
        4..=6 => {
            let start = int_arg(args[3])?;
            let in_bits = if args.len() == 6 {
                unit_arg(args[5])?
            } else {
                false
            };
            let (end, given) = if args.len() >= 5 {
                (int_arg(args[4])?, true)
            } else {
                (-1, false)
            };
            (bit_range(s.len(), start, end, in_bits), given)
        }
        _ => return Err(ERR_SYNTAX.into()),
    };
    let Some((bs, be)) = range else {
        ctx.out.int(-1);
        return Ok(());
    };
    let found = (bs..=be).find(|&b| bit_at(s, b as usize) == target);
    let pos = match found {
        Some(p) => p,
        // No clear bit in an open-ended range: the string is zero-padded to the right.
        None if target == 0 && !end_given => be + 1,
        None => -1,
    };
    ctx.out.int(pos);
    Ok(())
}
