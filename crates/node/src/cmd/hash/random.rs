//! HRANDFIELD: random fields, with Redis's cases. No count: one field. A negative
//! count: that many picks with repetition, streamed (nothing is allocated per
//! pick, however large the count). A positive count: distinct fields — the whole
//! hash in its order when the count covers it; otherwise a random subset, in the
//! hash's order for a listpack asked for at most a third of its fields (Redis's
//! listpack sampling keeps order there) and in pick order elsewhere.

use super::*;
use crate::dispatch::Flow;
use ferrocache_resp::ReplyBuf;

/// Redis's bound: a count outside ±LONG_MAX/2 with WITHVALUES would overflow the
/// RESP2 reply length.
const MAX_WITH_VALUES: i64 = i64::MAX / 2;

pub fn hrandfield(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    if args.len() == 2 {
        let (db, out) = ctx.db_and_out();
        match lookup(db, args[1], now)? {
            Some(h) => {
                let (k, _) = pick(h);
                out.bulk(k);
            }
            None => out.null(),
        }
        return Ok(());
    }
    let count = int_arg(args[2])?;
    if count == i64::MIN {
        return Err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
                .into(),
        );
    }
    let with_values = match args.len() {
        3 => false,
        4 if eq(args[3], "withvalues") => true,
        _ => return Err(ERR_SYNTAX.into()),
    };
    if with_values && !(-MAX_WITH_VALUES..=MAX_WITH_VALUES).contains(&count) {
        return Err("ERR value is out of range".into());
    }
    let hard_limit = ctx.settings.output_limits.normal.hard as usize;
    let (db, out) = ctx.db_and_out();
    let Some(h) = lookup(db, args[1], now)? else {
        out.array(0);
        return Ok(());
    };
    let n = count.unsigned_abs();
    if n == 0 {
        out.array(0);
    } else if count < 0 || n == 1 {
        let mark = out.len();
        header(out, n, with_values);
        for i in 0..n {
            // The one reply a tiny request can make unbounded: like Redis, give up
            // and drop the client once its output passes the normal class's hard
            // limit (when one is set; by default neither server has one).
            if i % 1024 == 1023 && hard_limit > 0 && out.len() > hard_limit {
                out.buf.truncate(mark);
                ctx.flow = Flow::Close;
                return Ok(());
            }
            let (k, v) = pick(h);
            entry(out, k, v, with_values);
        }
    } else if n >= h.len() as u64 {
        header(out, h.len() as u64, with_values);
        for (k, v) in h.iter() {
            entry(out, k, v, with_values);
        }
    } else {
        let picked = distinct(h, n as usize);
        header(out, n, with_values);
        for i in picked {
            if let Some((k, v)) = h.get_index(i) {
                entry(out, k, v, with_values);
            }
        }
    }
    Ok(())
}

/// A uniformly random field and its value; the hash is never empty.
fn pick(h: &Hash) -> (&[u8], &[u8]) {
    h.get_index(fastrand::usize(..h.len()))
        .expect("stored hashes are never empty")
}

/// `n` distinct random positions, `n` < the hash's length.
fn distinct(h: &Hash, n: usize) -> Vec<usize> {
    let len = h.len();
    if n * 3 > len {
        // Most of the hash: shuffle the first n of all positions.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..n {
            let j = fastrand::usize(i..len);
            all.swap(i, j);
        }
        all.truncate(n);
        return all;
    }
    // A small part: draw until n are distinct (at most a third are taken, so
    // few draws repeat).
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut picked = Vec::with_capacity(n);
    while picked.len() < n {
        let i = fastrand::usize(..len);
        if seen.insert(i) {
            picked.push(i);
        }
    }
    if h.is_listpack() {
        picked.sort_unstable();
    }
    picked
}

/// The reply's array header: RESP2 flattens field/value pairs, RESP3 nests them.
fn header(out: &mut ReplyBuf, n: u64, with_values: bool) {
    let items = if with_values && !out.is_resp3() {
        n * 2
    } else {
        n
    };
    out.array(items as usize);
}

fn entry(out: &mut ReplyBuf, k: &[u8], v: &[u8], with_values: bool) {
    if with_values && out.is_resp3() {
        out.array(2);
    }
    out.bulk(k);
    if with_values {
        out.bulk(v);
    }
}
