//! Moving elements between lists (LMOVE, RPOPLPUSH) and popping from the
//! first non-empty of several (LMPOP); the blocking forms reuse these.

use super::*;

/// What `move_element` did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Moved {
    /// The element moved and the reply is written.
    Yes,
    /// `src` is missing: nothing done, nothing replied.
    NoSource,
    /// `dst` holds another type: nothing popped, nothing replied. LMOVE fails
    /// with WRONGTYPE; a served BLMOVE gets the error as its reply.
    DestinationWrongType,
}

/// Pops from `src` and pushes onto `dst` (the same list rotates), replying with
/// the element. A source of another type is an error.
pub(super) fn move_element(
    ctx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Moved, Reject> {
    let now = ctx.now_ms;
    let db = ctx.db();
    if db.get_coll::<List>(src, now)?.is_none_or(|l| l.is_empty()) {
        return Ok(Moved::NoSource);
    }
    if db.get_coll::<List>(dst, now).is_err() {
        return Ok(Moved::DestinationWrongType);
    }
    let Some(value) = db.get_coll::<List>(src, now)?.and_then(|l| l.pop(from)) else {
        return Ok(Moved::NoSource);
    };
    // `src` stays in place even if that emptied it, so that popping and pushing
    // the same list's only element rotates it instead of deleting it.
    let list = db.coll_or_default::<List>(dst, now)?;
    list.push_owned(to, value.clone());
    db.signal(dst);
    // Redis's order: the push event, the reply, the pop event (and "del").
    ctx.notify(Class::List, push_event(to), dst);
    ctx.out.bulk(&value);
    ctx.notify(Class::List, pop_event(from), src);
    if ctx.db().modified(src) {
        ctx.notify(Class::Generic, "del", src);
    }
    Ok(Moved::Yes)
}

/// LMOVE and RPOPLPUSH: nil when the source is missing.
fn move_or_nil(ctx: &mut Ctx, args: &[&[u8]], from: End, to: End) -> CmdResult {
    match move_element(ctx, args[1], args[2], from, to)? {
        Moved::Yes => {}
        Moved::NoSource => ctx.out.null(),
        Moved::DestinationWrongType => return Err(ERR_WRONGTYPE.into()),
    }
    Ok(())
}

pub fn lmove(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (from, to) = (end_arg(args[3])?, end_arg(args[4])?);
    move_or_nil(ctx, args, from, to)
}

pub fn rpoplpush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    move_or_nil(ctx, args, End::Tail, End::Head)
}

/// LMPOP's and BLMPOP's arguments after the command (and BLMPOP's timeout).
pub(super) struct Mpop {
    /// Where the keys are in the arguments.
    pub keys: std::ops::Range<usize>,
    pub end: End,
    pub count: usize,
}

/// Parses `numkeys key… LEFT|RIGHT [COUNT count]` starting at `args[at]`, with
/// Redis's checks in its order (numkeys, the end, then COUNT).
pub(super) fn parse_mpop(args: &[&[u8]], at: usize) -> Result<Mpop, Reject> {
    let numkeys = positive_arg(args[at], "ERR numkeys should be greater than 0")?;
    let end_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(at + 1))
        .filter(|&i| i < args.len())
        .ok_or(Reject::from(ERR_SYNTAX))?;
    let end = end_arg(args[end_at])?;
    let mut count = None;
    let mut j = end_at + 1;
    while j < args.len() {
        if count.is_none() && eq(args[j], "count") && j + 1 < args.len() {
            count = Some(positive_arg(
                args[j + 1],
                "ERR count should be greater than 0",
            )?);
            j += 2;
        } else {
            return Err(ERR_SYNTAX.into());
        }
    }
    Ok(Mpop {
        keys: at + 1..end_at,
        end,
        count: count.map_or(1, |c| usize::try_from(c).unwrap_or(usize::MAX)),
    })
}

/// How a pop from one of several lists replies (BLPOP's pair or LMPOP's nesting).
#[derive(Clone, Copy)]
pub(super) enum Shape {
    /// `[key, element]` (BLPOP, BRPOP).
    One,
    /// `[key, [element…]]` with up to this many elements (LMPOP, BLMPOP).
    Many(usize),
}

/// Pops from the first of `keys` that holds a list and replies; false, with
/// nothing replied, when none does. A key of another type met on the way is
/// an error, even if a later key holds a list (as in Redis).
pub(super) fn pop_first(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    end: End,
    shape: Shape,
) -> Result<bool, Reject> {
    let now = ctx.now_ms;
    for &key in keys {
        let (db, out) = ctx.db_and_out();
        let Some(list) = db.get_coll::<List>(key, now)? else {
            continue;
        };
        if list.is_empty() {
            continue;
        }
        out.array(2);
        out.bulk(key);
        match shape {
            Shape::One => {
                if let Some(v) = list.pop(end) {
                    out.bulk(&v);
                }
            }
            Shape::Many(count) => {
                out.array(count.min(list.len()));
                list.pop_many(end, count, |v| out.bulk(v));
            }
        }
        let emptied = list.is_empty();
        popped(ctx, key, end, emptied);
        return Ok(true);
    }
    Ok(false)
}

pub fn lmpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let m = parse_mpop(args, 1)?;
    if !pop_first(ctx, &args[m.keys], m.end, Shape::Many(m.count))? {
        ctx.out.null_array();
    }
    Ok(())
}
