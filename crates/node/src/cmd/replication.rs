//! Replication commands: REPLICAOF/SLAVEOF, ROLE, REPLCONF, PSYNC/SYNC, WAIT,
//! FAILOVER.
//! The work itself is in `crate::repl`; these parse, check and reply in Redis's
//! words.

use super::{eq, int_arg, lossy};
use crate::dispatch::{CmdResult, Ctx, Flow, Reject};
use crate::repl::failover::{self, Phase};
use crate::repl::state::LinkState;
use crate::repl::Role;

/// REPLICAOF host port | REPLICAOF NO ONE (and SLAVEOF).
pub fn replicaof(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if ctx.srv.repl.lock().failover.phase != Phase::None {
        return Err("ERR REPLICAOF not allowed while failing over.".into());
    }
    if eq(args[1], "no") && eq(args[2], "one") {
        if ctx.srv.repl.is_replica() {
            crate::repl::link::promote(ctx.srv);
            tracing::info!("REPLICAOF NO ONE: this node is now a primary");
        }
        ctx.out.ok();
        return Ok(());
    }
    let port = int_arg(args[2])
        .ok()
        .filter(|p| (0..=65535).contains(p))
        .ok_or(Reject::from("ERR Invalid master port"))? as u16;
    let host = lossy(args[1]);
    let same = {
        let st = ctx.srv.repl.lock();
        matches!(&st.role, Role::Replica { host: h, port: p } if *h == host && *p == port)
    };
    if same {
        ctx.out.simple("OK Already connected to specified master");
        return Ok(());
    }
    let Some(srv) = ctx.srv.self_arc() else {
        return Err("ERR the node is shutting down".into());
    };
    crate::repl::link::start(&srv, host.clone(), port);
    tracing::info!(primary = %format!("{host}:{port}"), "REPLICAOF: following a new primary");
    ctx.out.ok();
    Ok(())
}

/// ROLE: `master offset [[ip port offset] …]` or `slave host port state offset`.
pub fn role(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    let st = ctx.srv.repl.lock();
    match &st.role {
        Role::Primary => {
            ctx.out.array(3);
            ctx.out.bulk("master");
            ctx.out.int(st.offset() as i64);
            ctx.out.array(st.replicas.len());
            for r in st.replicas.values() {
                ctx.out.array(3);
                ctx.out.bulk(r.ip.to_string());
                ctx.out.bulk(r.listening_port.to_string());
                ctx.out.bulk(r.ack_offset.to_string());
            }
        }
        Role::Replica { host, port } => {
            let state = st.link.as_ref().map_or(LinkState::Connect, |l| l.state);
            ctx.out.array(5);
            ctx.out.bulk("slave");
            ctx.out.bulk(host);
            ctx.out.int(*port as i64);
            ctx.out.bulk(state.role_word());
            let offset = match state {
                LinkState::Connected => st.offset() as i64,
                _ => -1,
            };
            ctx.out.int(offset);
        }
    }
    Ok(())
}

/// REPLCONF option value …: what a replica tells its primary during the handshake
/// (and ACK/GETACK, which get no reply).
pub fn replconf(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(super::ERR_SYNTAX.into());
    }
    let mut silent = false;
    for pair in args[1..].chunks(2) {
        let (opt, val) = (pair[0], pair[1]);
        if eq(opt, "listening-port") {
            let port = int_arg(val)?;
            ctx.client.replconf.listening_port = u16::try_from(port).ok();
        } else if eq(opt, "ip-address") {
            ctx.client.replconf.ip_address = lossy(val).parse().ok();
        } else if eq(opt, "capa") {
            if eq(val, "eof") {
                ctx.client.replconf.capa_eof = true;
            }
        } else if eq(opt, "ack") || eq(opt, "getack") {
            // Only meaningful on a replication link, which the feeder and the
            // link read themselves; a normal client gets no reply, as from Redis.
            silent = true;
        } else if eq(opt, "rdb-only") || eq(opt, "rdb-filter-only") {
        } else {
            return Err(format!("ERR Unrecognized REPLCONF option: {}", lossy(opt)).into());
        }
    }
    if !silent {
        ctx.out.ok();
    }
    Ok(())
}

/// PSYNC replid offset: the connection becomes a replica's feed.
pub fn psync(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 && eq(args[3], "failover") {
        // Our primary is failing over to us: it has demoted itself and sends the
        // history it shares with us. Take over, then continue it for the old primary.
        if ctx.srv.repl.lock().replid.as_bytes() != args[1] {
            return Err("ERR PSYNC FAILOVER replid must match my replid.".into());
        }
        crate::repl::link::promote(ctx.srv);
        tracing::info!(
            client = ctx.client.handle.id,
            "MASTER MODE enabled (failover request)"
        );
    }
    refuse_if_unlinked(ctx)?;
    let offset = int_arg(args[2])?;
    ctx.client.replconf.psync = Some((lossy(args[1]), offset));
    ctx.flow = Flow::Replica;
    Ok(())
}

/// SYNC: the old full-resync-only form.
pub fn sync(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    refuse_if_unlinked(ctx)?;
    ctx.client.replconf.psync = Some(("?".into(), -1));
    ctx.flow = Flow::Replica;
    Ok(())
}

/// A replica can feed replicas of its own only while it follows its primary.
fn refuse_if_unlinked(ctx: &mut Ctx) -> CmdResult {
    let st = ctx.srv.repl.lock();
    if matches!(st.role, Role::Replica { .. })
        && st.link.as_ref().map(|l| l.state) != Some(LinkState::Connected)
    {
        return Err("NOMASTERLINK Can't SYNC while not connected with my master".into());
    }
    Ok(())
}

/// WAIT numreplicas timeout: how many replicas have acknowledged every write made
/// so far, waiting up to `timeout` ms (0: forever) for `numreplicas` of them.
pub fn wait(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if ctx.srv.repl.is_replica() {
        return Err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.".into());
    }
    let wanted = int_arg(args[1])?;
    let timeout = int_arg(args[2])
        .map_err(|_| Reject::from("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err("ERR timeout is negative".into());
    }
    let (offset, acked) = {
        let st = ctx.srv.repl.lock();
        (st.offset(), st.acked_at_least(st.offset()))
    };
    if ctx.client.in_exec || acked as i64 >= wanted {
        ctx.out.int(acked as i64);
        return Ok(());
    }
    // Ask the replicas for their offsets now rather than waiting for their
    // once-a-second ACK.
    ctx.srv
        .repl
        .lock()
        .feed_global(&["REPLCONF", "GETACK", "*"]);
    ctx.flow = Flow::Wait {
        offset,
        replicas: wanted.max(0) as usize,
        deadline_ms: if timeout == 0 {
            0
        } else {
            ctx.now_ms + timeout as u64
        },
    };
    Ok(())
}

/// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT: starts a
/// planned role swap with a replica (see `repl::failover`) and answers at once;
/// INFO's `master_failover_state` shows its progress.
pub fn failover(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() == 2 && eq(args[1], "abort") {
        if !failover::abort(ctx.srv, "FAILOVER ABORT") {
            return Err("ERR No failover in progress.".into());
        }
        ctx.out.ok();
        return Ok(());
    }
    let mut req = failover::Request::default();
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        if eq(args[i], "timeout") && more >= 1 && req.timeout_ms.is_none() {
            let ms = int_arg(args[i + 1])?;
            if ms <= 0 {
                return Err("ERR FAILOVER timeout must be greater than 0".into());
            }
            req.timeout_ms = Some(ms as u64);
            i += 2;
        } else if eq(args[i], "to") && more >= 2 && req.to.is_none() {
            let port = int_arg(args[i + 2])?;
            // Redis takes any integer here; a port that no replica has is "not a replica".
            let port = u16::try_from(port).unwrap_or(0);
            req.to = Some((lossy(args[i + 1]), port));
            i += 3;
        } else if eq(args[i], "force") && !req.force {
            req.force = true;
            i += 1;
        } else {
            return Err(super::ERR_SYNTAX.into());
        }
    }
    let Some(srv) = ctx.srv.self_arc() else {
        return Err("ERR the node is shutting down".into());
    };
    failover::start(&srv, req).map_err(Reject::from)?;
    ctx.out.ok();
    Ok(())
}
