//! CLIENT and its subcommands: identity, listing, killing, pausing, reply mode.

use super::*;
use crate::client::ReplyMode;
use crate::clients::{ClientHandle, ROLE_MASTER, ROLE_NORMAL, ROLE_REPLICA};
use crate::dispatch::{Flow, Reject};
use crate::server::PauseKind;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Client names may not contain spaces, newlines or other special characters.
pub fn validate_name(name: &[u8]) -> Result<(), Reject> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(
            "ERR Client names cannot contain spaces, newlines or special characters.".into(),
        );
    }
    Ok(())
}

pub fn client(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"id" => ctx.out.int(ctx.client.handle.id as i64),
        b"setname" => {
            validate_name(args[2])?;
            let name = Some(bytes::Bytes::copy_from_slice(args[2])).filter(|n| !n.is_empty());
            *ctx.client.handle.name.lock() = name;
            ctx.out.ok();
        }
        b"getname" => match ctx.client.handle.name.lock().clone() {
            Some(n) => ctx.out.bulk(&n),
            None => ctx.out.null(),
        },
        b"info" => {
            let line = ctx
                .client
                .handle
                .info_line(ctx.now_ms, &ctx.srv.stats.commands.names)
                + "\n";
            ctx.out.verbatim(line);
        }
        b"list" => list(ctx, args)?,
        b"kill" => kill(ctx, args)?,
        b"pause" if args.len() > 4 => return Err(subcommand_error("CLIENT", args[1])),
        b"pause" => pause(ctx, args)?,
        b"unpause" => {
            ctx.srv.pause.end();
            ctx.out.ok();
        }
        b"reply" => {
            if eq(args[2], "on") {
                ctx.client.reply_mode = ReplyMode::On;
                ctx.out.ok();
            } else if eq(args[2], "off") {
                ctx.client.reply_mode = ReplyMode::Off;
            } else if eq(args[2], "skip") {
                ctx.client.skip_next = true;
            } else {
                return Err(ERR_SYNTAX.into());
            }
        }
        b"unblock" => unblock(ctx, args)?,
        b"no-evict" => {
            let on = if eq(args[2], "on") {
                true
            } else if eq(args[2], "off") {
                false
            } else {
                return Err(ERR_SYNTAX.into());
            };
            ctx.client.handle.no_evict.store(on, Relaxed);
            ctx.out.ok();
        }
        _ => {
            return super::server::help(
                ctx,
                "CLIENT",
                &[
                    "GETNAME",
                    "    Return the name of the current connection.",
                    "ID",
                    "    Return the ID of the current connection.",
                    "INFO",
                    "    Return information about the current client connection.",
                    "KILL <ip:port>",
                    "    Kill connection made from <ip:port>.",
                    "KILL <option> <value> [<option> <value> [...]]",
                    "    Kill connections. Options are:",
                    "    * ADDR (<ip:port>|<unixsocket>:0)",
                    "      Kill connections made from the specified address",
                    "    * LADDR (<ip:port>|<unixsocket>:0)",
                    "      Kill connections made to specified local address",
                    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                    "      Kill connections by type.",
                    "    * USER <username>",
                    "      Kill connections authenticated by <username>.",
                    "    * SKIPME (YES|NO)",
                    "      Skip killing current connection (default: yes).",
                    "    * ID <client-id>",
                    "      Kill connections by client id.",
                    "    * MAXAGE <maxage>",
                    "      Kill connections older than the specified age.",
                    "LIST [options ...]",
                    "    Return information about client connections. Options:",
                    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                    "      Return clients of specified type.",
                    "UNPAUSE",
                    "    Stop the current client pause, resuming traffic.",
                    "PAUSE <timeout> [WRITE|ALL]",
                    "    Suspend all, or just write, clients for <timeout> milliseconds.",
                    "REPLY (ON|OFF|SKIP)",
                    "    Control the replies sent to the current connection.",
                    "SETNAME <name>",
                    "    Assign the name <name> to the current connection.",
                    "NO-EVICT (ON|OFF)",
                    "    Protect current client connection from eviction.",
                ],
            )
        }
    }
    Ok(())
}

/// Client types as CLIENT LIST/KILL TYPE name them.
/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's blocking command as if
/// it timed out (or with an UNBLOCKED error). The gateway uses it to move a blocked
/// connection to a new primary.
fn unblock(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let id = ferrocache_keyspace::parse_i64(args[2])
        .ok_or(Reject::from("ERR value is not an integer or out of range"))?;
    let error = match args.get(3) {
        None => false,
        Some(a) if args.len() == 4 && eq(a, "timeout") => false,
        Some(a) if args.len() == 4 && eq(a, "error") => true,
        Some(_) => return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()),
    };
    let done = u64::try_from(id).is_ok_and(|id| crate::blocking::unblock(ctx.srv, id, error));
    ctx.out.int(i64::from(done));
    Ok(())
}

fn type_matches(c: &ClientHandle, t: &[u8]) -> Result<bool, Reject> {
    let t = t.to_ascii_lowercase();
    Ok(match t.as_slice() {
        b"normal" => !c.is_pubsub() && c.role.load(Relaxed) == ROLE_NORMAL,
        b"pubsub" => c.is_pubsub(),
        b"master" => c.role.load(Relaxed) == ROLE_MASTER,
        b"replica" | b"slave" => c.role.load(Relaxed) == ROLE_REPLICA,
        _ => return Err(format!("ERR Unknown client type '{}'", lossy(&t)).into()),
    })
}

fn list(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut clients = ctx.srv.clients.all();
    let mut i = 2;
    while i < args.len() {
        if eq(args[i], "type") && i + 1 < args.len() {
            let t = args[i + 1];
            let mut keep = Vec::new();
            for c in clients {
                if type_matches(&c, t)? {
                    keep.push(c);
                }
            }
            clients = keep;
            i += 2;
        } else if eq(args[i], "id") && i + 1 < args.len() {
            let mut ids = Vec::new();
            for a in &args[i + 1..] {
                match ferrocache_keyspace::parse_i64(a) {
                    Some(id) if id > 0 => ids.push(id as u64),
                    _ => return Err("ERR Invalid client ID".into()),
                }
            }
            clients.retain(|c| ids.contains(&c.id));
            i = args.len();
        } else {
            return Err(ERR_SYNTAX.into());
        }
    }
    let now = ctx.now_ms;
    let names = &ctx.srv.stats.commands.names;
    let text: String = clients
        .iter()
        .map(|c| c.info_line(now, names) + "\n")
        .collect();
    ctx.out.verbatim(text);
    Ok(())
}

fn kill(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let me = ctx.client.handle.id;
    if args.len() == 3 {
        // Old form: CLIENT KILL ip:port.
        let addr = lossy(args[2]);
        let Some(target) = ctx
            .srv
            .clients
            .all()
            .into_iter()
            .find(|c| c.addr.to_string() == addr)
        else {
            return Err("ERR No such client".into());
        };
        kill_one(ctx, &target, me);
        ctx.out.ok();
        return Ok(());
    }
    if !args.len().is_multiple_of(2) {
        return Err(ERR_SYNTAX.into());
    }
    let mut candidates: Vec<Arc<ClientHandle>> = ctx.srv.clients.all();
    let mut skipme = true;
    for pair in args[2..].chunks(2) {
        let (opt, val) = (pair[0], pair[1]);
        if eq(opt, "id") {
            let id = ferrocache_keyspace::parse_i64(val)
                .filter(|&i| i > 0)
                .ok_or(Reject::from("ERR client-id should be greater than 0"))?;
            candidates.retain(|c| c.id == id as u64);
        } else if eq(opt, "addr") {
            let a = lossy(val);
            candidates.retain(|c| c.addr.to_string() == a);
        } else if eq(opt, "laddr") {
            let a = lossy(val);
            candidates.retain(|c| c.laddr.to_string() == a);
        } else if eq(opt, "type") {
            let mut keep = Vec::new();
            for c in candidates {
                if type_matches(&c, val)? {
                    keep.push(c);
                }
            }
            candidates = keep;
        } else if eq(opt, "user") {
            if val != b"default" {
                return Err(format!("ERR No such user '{}'", lossy(val)).into());
            }
        } else if eq(opt, "skipme") {
            skipme = if eq(val, "yes") {
                true
            } else if eq(val, "no") {
                false
            } else {
                return Err(ERR_SYNTAX.into());
            };
        } else if eq(opt, "maxage") {
            let age = int_arg(val)?;
            let now = ctx.now_ms;
            candidates.retain(|c| (now.saturating_sub(c.created_ms) / 1000) as i64 >= age);
        } else {
            return Err(ERR_SYNTAX.into());
        }
    }
    if skipme {
        candidates.retain(|c| c.id != me);
    }
    for c in &candidates {
        kill_one(ctx, c, me);
    }
    ctx.out.int(candidates.len() as i64);
    Ok(())
}

fn kill_one(ctx: &mut Ctx, target: &ClientHandle, me: u64) {
    if target.id == me {
        ctx.flow = Flow::Close;
    } else {
        target.request_kill();
    }
}

fn pause(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let timeout = ferrocache_keyspace::parse_i64(args[2]).ok_or(Reject::from(
        "ERR timeout is not an integer or out of range",
    ))?;
    if timeout < 0 {
        return Err("ERR timeout is negative".into());
    }
    let kind = match args.get(3) {
        None => PauseKind::All,
        Some(a) if args.len() == 4 && eq(a, "write") => PauseKind::Write,
        Some(a) if args.len() == 4 && eq(a, "all") => PauseKind::All,
        Some(_) => return Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into()),
    };
    ctx.srv
        .pause
        .start(kind, ctx.now_ms.saturating_add(timeout as u64));
    ctx.out.ok();
    Ok(())
}
