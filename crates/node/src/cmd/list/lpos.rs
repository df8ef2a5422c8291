//! LPOS key element [RANK rank] [COUNT num] [MAXLEN len]: the indexes of
//! matching elements, scanning from the head (positive rank) or the tail.

use super::*;

struct Options {
    rank: i64,
    /// None: no COUNT given (the reply is one integer or nil, not an array).
    count: Option<i64>,
    /// 0: no limit on the elements compared.
    maxlen: i64,
}

fn parse(args: &[&[u8]]) -> Result<Options, Reject> {
    let mut o = Options {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut j = 3;
    while j < args.len() {
        let has_value = j + 1 < args.len();
        if eq(args[j], "rank") && has_value {
            o.rank = int_arg(args[j + 1])?;
            if o.rank == 0 {
                return Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list".into());
            }
        } else if eq(args[j], "count") && has_value {
            o.count = Some(non_negative_arg(
                args[j + 1],
                "ERR COUNT can't be negative",
            )?);
        } else if eq(args[j], "maxlen") && has_value {
            o.maxlen = non_negative_arg(args[j + 1], "ERR MAXLEN can't be negative")?;
        } else {
            return Err(ERR_SYNTAX.into());
        }
        j += 2;
    }
    Ok(o)
}

pub fn lpos(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let o = parse(args)?;
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let Some(list) = db.get_coll::<List>(args[1], now)? else {
        match o.count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let element = args[2];
    let entries = list.iter().enumerate();
    let found = if o.rank > 0 {
        scan(entries, element, &o, o.rank)
    } else {
        // Redis negates the rank in a C long: -LONG_MIN stays LONG_MIN, so every
        // match then passes the rank test and COUNT never stops the scan.
        scan(entries.rev(), element, &o, o.rank.wrapping_neg())
    };
    match o.count {
        Some(_) => {
            out.array(found.len());
            found.iter().for_each(|&i| out.int(i as i64));
        }
        None => match found.first() {
            Some(&i) => out.int(i as i64),
            None => out.null(),
        },
    }
    Ok(())
}

/// The indexes of the matches Redis reports, in scan order: from the `rank`-th
/// match on, up to COUNT of them (one when no COUNT was given).
fn scan<'a>(
    entries: impl Iterator<Item = (usize, &'a [u8])>,
    element: &[u8],
    o: &Options,
    rank: i64,
) -> Vec<usize> {
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    for (scanned, (index, v)) in entries.enumerate() {
        if o.maxlen != 0 && scanned as i64 >= o.maxlen {
            break;
        }
        if v != element {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(index);
        match o.count {
            None => break,
            // Redis's test, with its wrap-around for the LONG_MIN rank.
            Some(count) if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count => {
                break
            }
            Some(_) => {}
        }
    }
    found
}
