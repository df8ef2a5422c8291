//! The blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. Each
//! does what its non-blocking form does when a list has data; otherwise it
//! blocks (`Ctx::block`). Where blocking is not allowed (MULTI) it answers as on
//! a timeout — except BLMOVE/BRPOPLPUSH, which Redis answers with a nil bulk
//! there (its timeout reply is a nil array).
//!
//! When a blocked client is served, the node runs the same handler again with
//! `keys_to_try` narrowed to the key that became ready.

use super::moves::{move_element, parse_mpop, pop_first, Moved, Shape};
use super::*;

fn bpop_generic(ctx: &mut Ctx, args: &[&[u8]], end: End) -> CmdResult {
    let timeout = timeout_arg(args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    let to_try = ctx.keys_to_try(keys);
    if !pop_first(ctx, &to_try, end, Shape::One)? && !ctx.block(keys, timeout) {
        ctx.out.null_array();
    }
    Ok(())
}

pub fn blpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    bpop_generic(ctx, args, End::Head)
}

pub fn brpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    bpop_generic(ctx, args, End::Tail)
}

fn bmove_generic(ctx: &mut Ctx, args: &[&[u8]], from: End, to: End, timeout: &[u8]) -> CmdResult {
    let timeout = timeout_arg(timeout)?;
    let (src, dst) = (args[1], args[2]);
    let moved = match ctx.keys_to_try(&[src]).first() {
        Some(_) => move_element(ctx, src, dst, from, to)?,
        None => Moved::NoSource,
    };
    match moved {
        Moved::Yes => {}
        Moved::NoSource => {
            if !ctx.block(&[src], timeout) {
                ctx.out.null();
            }
        }
        // A waiter served while its destination holds another type gets the
        // error as its reply and stops waiting (Redis 7.0); the source keeps its
        // element. A failed handler would leave it blocked, so the error is
        // written as the reply instead.
        Moved::DestinationWrongType if ctx.ready_key.is_some() => {
            ctx.srv.stats.record_error(ERR_WRONGTYPE.as_bytes());
            ctx.out.error(ERR_WRONGTYPE);
        }
        Moved::DestinationWrongType => return Err(ERR_WRONGTYPE.into()),
    }
    Ok(())
}

pub fn blmove(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (from, to) = (end_arg(args[3])?, end_arg(args[4])?);
    bmove_generic(ctx, args, from, to, args[5])
}

pub fn brpoplpush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    bmove_generic(ctx, args, End::Tail, End::Head, args[3])
}

/// BLMPOP timeout numkeys key… LEFT|RIGHT [COUNT count]: the timeout is checked
/// after the other arguments, as Redis does.
pub fn blmpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let m = parse_mpop(args, 2)?;
    let timeout = timeout_arg(args[1])?;
    let keys = &args[m.keys];
    let to_try = ctx.keys_to_try(keys);
    if !pop_first(ctx, &to_try, m.end, Shape::Many(m.count))? && !ctx.block(keys, timeout) {
        ctx.out.null_array();
    }
    Ok(())
}
