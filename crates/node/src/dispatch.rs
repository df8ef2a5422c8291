//! Admission and dispatch: the one ordered check every command passes before it
//! runs (lookup and arity, auth, pub/sub context, transaction queueing, pause),
//! then the call and its statistics. Mirrors Redis's `processCommand` order so
//! that rejections carry the same error a client would get from Redis.

use crate::client::{Client, Multi, ReplyMode};
use crate::cmd::{self, Handler};
use crate::config::Settings;
use crate::server::{Clock, Shared};
use ferrocache_commands::{self as commands, CommandSpec};
use ferrocache_keyspace::{Db, Keyspace};
use ferrocache_resp::ReplyBuf;
use parking_lot::MutexGuard;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

/// A command's refusal: the error text including its code (`ERR …`, `WRONGTYPE …`).
#[derive(Debug)]
pub struct Reject(pub Cow<'static, str>);

impl From<&'static str> for Reject {
    fn from(s: &'static str) -> Self {
        Reject(Cow::Borrowed(s))
    }
}
impl From<String> for Reject {
    fn from(s: String) -> Self {
        Reject(Cow::Owned(s))
    }
}

pub type CmdResult = Result<(), Reject>;

/// What the connection loop must do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Send what is buffered, then close (QUIT, protocol error).
    Close,
    /// The command was not run because of CLIENT PAUSE: wait, then run it again.
    Paused,
    /// DEBUG SLEEP: wait this many milliseconds before sending the reply.
    Sleep(u64),
    /// A blocking command found nothing: the client waits (its registration is in
    /// `client.blocked`) and runs nothing else until served or timed out.
    Block,
    /// PSYNC/SYNC: the connection becomes a replica's feed (`repl::feeder`).
    Replica,
    /// An adopted connection sent what only the gateway answers (`CLIENT
    /// MAINT_NOTIFICATIONS`): give it back with that request unrun.
    Release,
    /// WAIT: reply with how many replicas acknowledged `offset`, waiting for
    /// `replicas` of them until `deadline_ms` (Unix ms; 0 = forever).
    Wait {
        offset: u64,
        replicas: usize,
        deadline_ms: u64,
    },
}

/// Everything a command handler may touch.
pub struct Ctx<'c, 's> {
    pub srv: &'s Shared,
    pub client: &'c mut Client,
    pub out: &'c mut ReplyBuf,
    pub settings: &'c Settings,
    pub now_ms: u64,
    pub flow: Flow,
    pub(crate) clock: &'c mut Clock,
    pub(crate) guard: &'c mut Option<MutexGuard<'s, Keyspace>>,
    /// Set while serving a blocked client: the key that became ready.
    pub(crate) ready_key: Option<ferrocache_keyspace::Key>,
    /// A read-only command: its lookups count as keyspace hits/misses.
    pub(crate) reading: bool,
    /// What replication needs to record this command (see `repl::record`).
    pub(crate) recorder: crate::repl::Recorder,
}

impl<'s> Ctx<'_, 's> {
    /// The keyspace, locked on first use and held for the rest of the batch.
    pub fn ks(&mut self) -> &mut Keyspace {
        self.ks_and_out().0
    }
    /// The client's selected database.
    pub fn db(&mut self) -> &mut Db {
        let i = self.client.db;
        &mut self.ks().dbs[i]
    }
    /// The keyspace and the reply buffer together, for handlers that stream a reply
    /// while reading the data.
    pub fn ks_and_out(&mut self) -> (&mut Keyspace, &mut ReplyBuf) {
        let (db, reading) = (self.client.db, self.reading);
        let recorder = &mut self.recorder;
        let active = self.srv.repl.is_active();
        let ks = self.guard.get_or_insert_with(|| {
            let mut ks = lock_keyspace(self.srv, self.settings);
            ks.dbs[db].reading = reading;
            if active {
                recorder.dirty_before = Some(ks.dirty());
            }
            ks
        });
        (&mut **ks, &mut *self.out)
    }

    /// The selected database and the reply buffer together.
    pub fn db_and_out(&mut self) -> (&mut Db, &mut ReplyBuf) {
        let i = self.client.db;
        let (ks, out) = self.ks_and_out();
        (&mut ks.dbs[i], out)
    }

    /// Publishes a keyspace notification (`notify-keyspace-events`) for `key` in
    /// the client's database. Call it after the change, as Redis does.
    pub fn notify(&mut self, class: crate::notify::Class, event: &str, key: &[u8]) {
        let db = self.client.db;
        self.notify_db(db, class, event, key);
    }

    /// `notify` for a key in another database (MOVE, COPY … DB n).
    pub fn notify_db(&mut self, db: usize, class: crate::notify::Class, event: &str, key: &[u8]) {
        if !self.settings.notify.wants(class) {
            return;
        }
        let me = self.client.handle.id;
        // Expiries and creations the lookups recorded happened first.
        if let Some(ks) = self.guard.as_mut() {
            crate::notify::publish_recorded(
                self.srv,
                self.settings,
                ks,
                Some(self.out),
                me,
                self.now_ms,
            );
        }
        crate::notify::publish(
            self.srv,
            self.settings,
            Some(self.out),
            me,
            self.now_ms,
            db,
            class,
            event,
            key,
        );
    }

    /// Blocks the client on `keys` until one of them is written or `timeout_ms`
    /// passes (None: forever). Returns false when the command may not block
    /// (inside MULTI/EXEC): the handler then replies as it would on timeout.
    /// When the client is later served, the handler runs again with
    /// `keys_to_try` narrowed to the key that became ready.
    pub fn block(&mut self, keys: &[&[u8]], timeout_ms: Option<u64>) -> bool {
        crate::blocking::block(self, keys, timeout_ms)
    }

    /// The keys a blocking command should try, in order: all of `keys` in a normal
    /// call; only the key that became ready when serving a blocked client.
    pub fn keys_to_try<'k>(&self, keys: &[&'k [u8]]) -> Vec<&'k [u8]> {
        match &self.ready_key {
            None => keys.to_vec(),
            Some(ready) => keys
                .iter()
                .copied()
                .filter(|k| *k == ready.as_slice())
                .take(1)
                .collect(),
        }
    }
}

/// Locks the keyspace, bringing its event recording in line with the
/// notification settings (one comparison when unchanged).
pub fn lock_keyspace<'s>(srv: &'s Shared, settings: &Settings) -> MutexGuard<'s, Keyspace> {
    let mut ks = srv.keyspace.lock();
    let flags = settings.notify;
    ks.record(
        flags.wants(crate::notify::Class::Expired),
        flags.wants(crate::notify::Class::New),
        flags.wants(crate::notify::Class::KeyMiss),
    );
    ks.set_lfu(settings.policy.is_lfu().then_some(settings.lfu));
    ks.log_expired(srv.repl.is_active());
    ks
}

/// A dispatchable command: its table entry, handler and statistics slot.
pub struct Command {
    pub spec: &'static CommandSpec,
    pub handler: Handler,
    pub stat: usize,
    /// Statistics slots of subcommands, in table order.
    pub sub_stats: Vec<usize>,
}

/// Per-command counters for INFO commandstats, indexed by slot.
pub struct CommandStats {
    pub names: Vec<String>,
    pub calls: Vec<AtomicU64>,
    pub usec: Vec<AtomicU64>,
    pub rejected: Vec<AtomicU64>,
    pub failed: Vec<AtomicU64>,
    pub latency: Vec<crate::latency::Histogram>,
}

impl Default for CommandStats {
    fn default() -> Self {
        let mut names = Vec::new();
        for c in commands::COMMANDS {
            names.push(c.name.to_string());
            for s in c.subcommands {
                names.push(format!("{}|{}", c.name, s.name));
            }
        }
        let n = names.len();
        let zeros = || (0..n).map(|_| AtomicU64::new(0)).collect();
        CommandStats {
            names,
            calls: zeros(),
            usec: zeros(),
            rejected: zeros(),
            failed: zeros(),
            latency: (0..n).map(|_| Default::default()).collect(),
        }
    }
}

impl CommandStats {
    pub fn reset(&self) {
        for v in [&self.calls, &self.usec, &self.rejected, &self.failed] {
            v.iter().for_each(|a| a.store(0, Relaxed));
        }
        self.latency
            .iter()
            .for_each(crate::latency::Histogram::reset);
    }
}

/// The dispatch table, keyed by lower-cased name.
type Table = HashMap<Vec<u8>, Command, foldhash::fast::FixedState>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Slots are laid out as CommandStats names them: each command, then its subcommands.
        let mut next_slot = 0;
        let mut map = Table::default();
        for spec in commands::COMMANDS {
            let stat = next_slot;
            let sub_stats = (stat + 1..stat + 1 + spec.subcommands.len()).collect();
            next_slot = stat + 1 + spec.subcommands.len();
            if let Some(handler) = cmd::handler(spec.name) {
                map.insert(
                    spec.name.as_bytes().to_vec(),
                    Command {
                        spec,
                        handler,
                        stat,
                        sub_stats,
                    },
                );
            }
        }
        map
    })
}

pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    if name.len() > 32 {
        return None;
    }
    let mut buf = [0u8; 32];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    table().get(&lower[..])
}

/// The name Redis uses in messages: `get`, or `client|setname` for a subcommand.
pub fn full_name(cmd: &Command, argv: &[&[u8]]) -> String {
    match argv.get(1).and_then(|s| cmd.spec.subcommand(s)) {
        Some(sub) if !cmd.spec.subcommands.is_empty() => format!("{}|{}", cmd.spec.name, sub.name),
        _ => cmd.spec.name.to_string(),
    }
}

/// Redis prints arguments with `%s`: a NUL ends them.
fn c_str(a: &[u8]) -> &[u8] {
    a.iter().position(|&c| c == 0).map_or(a, |i| &a[..i])
}

fn unknown_command(argv: &[&[u8]]) -> String {
    let mut args = String::new();
    for a in argv[1..].iter().map(|a| c_str(a)) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        let a = String::from_utf8_lossy(a);
        let a: String = a.chars().take(room).collect();
        args.push_str(&format!("'{a}' "));
    }
    let name: String = String::from_utf8_lossy(c_str(argv[0]))
        .chars()
        .take(128)
        .collect();
    format!("ERR unknown command '{name}', with args beginning with: {args}")
}

/// Resolves the command and checks arity; on failure, the error to reply with.
fn resolve(argv: &[&[u8]]) -> Result<(&'static Command, usize), String> {
    let Some(cmd) = lookup(argv[0]) else {
        return Err(unknown_command(argv));
    };
    let spec = cmd.spec;
    if !spec.subcommands.is_empty() && argv.len() >= 2 {
        let Some(i) = spec
            .subcommands
            .iter()
            .position(|s| s.name.as_bytes().eq_ignore_ascii_case(argv[1]))
        else {
            let sub: String = String::from_utf8_lossy(c_str(argv[1]))
                .chars()
                .take(128)
                .collect();
            return Err(format!(
                "ERR unknown subcommand '{sub}'. Try {} HELP.",
                spec.name.to_ascii_uppercase()
            ));
        };
        let sub = &spec.subcommands[i];
        if !sub.arity_ok(argv.len()) {
            return Err(format!(
                "ERR wrong number of arguments for '{}|{}' command",
                spec.name, sub.name
            ));
        }
        return Ok((cmd, cmd.sub_stats[i]));
    }
    if !spec.arity_ok(argv.len()) {
        return Err(format!(
            "ERR wrong number of arguments for '{}' command",
            spec.name
        ));
    }
    Ok((cmd, cmd.stat))
}

/// Commands allowed while a RESP2 connection is in subscribed mode.
fn allowed_in_pubsub(name: &str) -> bool {
    matches!(
        name,
        "ping"
            | "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "quit"
            | "reset"
    )
}

/// Commands that act on a transaction rather than being queued in it.
fn controls_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

fn reject(srv: &Shared, client: &mut Client, out: &mut ReplyBuf, msg: &str, stat: Option<usize>) {
    if let Some(m) = client.multi.as_mut() {
        m.aborted = true;
    }
    if let Some(slot) = stat {
        srv.stats.commands.rejected[slot].fetch_add(1, Relaxed);
    }
    srv.stats.record_error(msg.as_bytes());
    out.error(msg);
}

/// Runs one command from a client (admission, then execution).
pub fn submit<'s>(
    srv: &'s Shared,
    guard: &mut Option<MutexGuard<'s, Keyspace>>,
    client: &mut Client,
    out: &mut ReplyBuf,
    settings: &Settings,
    argv: &[&[u8]],
    clock: &mut Clock,
) -> Flow {
    let skip_this = std::mem::take(&mut client.skip_next);
    let mark = out.len();
    let flow = admit_and_run(srv, guard, client, out, settings, argv, clock);
    // Clients blocked on keys this command wrote are served before anything else runs.
    if srv.blocked_clients.load(Relaxed) > 0 {
        crate::blocking::serve_ready(srv, guard, clock);
    }
    // CLIENT REPLY OFF|SKIP: the command ran, its reply is dropped.
    if client.reply_mode == ReplyMode::Off || skip_this {
        out.buf.truncate(mark);
    }
    flow
}

fn admit_and_run<'s>(
    srv: &'s Shared,
    guard: &mut Option<MutexGuard<'s, Keyspace>>,
    client: &mut Client,
    out: &mut ReplyBuf,
    settings: &Settings,
    argv: &[&[u8]],
    clock: &mut Clock,
) -> Flow {
    // Pipelines usually repeat one command: try the connection's last one first.
    let cached = client
        .last_resolved
        .filter(|(c, _)| {
            c.spec.subcommands.is_empty() && c.spec.name.as_bytes().eq_ignore_ascii_case(argv[0])
        })
        .filter(|(c, _)| c.spec.arity_ok(argv.len()));
    let (cmd, stat) = match cached.map_or_else(|| resolve(argv), Ok) {
        Ok(found) => {
            client.last_resolved = Some(found);
            found
        }
        Err(msg) => {
            // A rejected EXEC ends the transaction at once, as Redis's execCommandAbort.
            if lookup(argv[0]).is_some_and(|c| c.spec.name == "exec") {
                abort_exec(srv, guard, client);
                let reason = msg.strip_prefix("ERR ").unwrap_or(&msg);
                let msg = format!("EXECABORT Transaction discarded because of: {reason}");
                reject(srv, client, out, &msg, None);
                return Flow::Continue;
            }
            reject(srv, client, out, &msg, None);
            return Flow::Continue;
        }
    };
    let spec = cmd.spec;
    if settings.requirepass.is_some() && !client.authenticated && !spec.has(commands::NO_AUTH) {
        reject(
            srv,
            client,
            out,
            "NOAUTH Authentication required.",
            Some(stat),
        );
        return Flow::Continue;
    }
    // maxmemory: evict before every command, refuse those that may grow memory
    // when eviction cannot make room (Redis's order: before the pub/sub and MULTI checks).
    // A replica leaves memory to its primary: it evicts only when told (a DEL in
    // the stream), as Redis's replica-ignore-maxmemory does.
    if settings.maxmemory > 0 && !srv.repl.is_replica() {
        let grows = spec.has(commands::DENYOOM)
            || (spec.name == "exec" && client.multi.as_ref().is_some_and(|m| m.denyoom));
        let ks = guard.get_or_insert_with(|| lock_keyspace(srv, settings));
        let ahead = if grows {
            ks.dbs[client.db].growth_bytes() as u64
        } else {
            0
        };
        let fits = crate::evict::make_room(
            srv,
            ks,
            settings,
            out,
            client.handle.id,
            clock.now_ms(),
            ahead,
        );
        if !fits && grows {
            reject(srv, client, out, crate::evict::ERR_OOM, Some(stat));
            return Flow::Continue;
        }
    }
    // A FAILOVER that has demoted this node holds writes until the target has
    // taken over, so that they are refused with READONLY only once there is a new
    // primary to go to (Redis refuses them while the handover is still running).
    if srv.pause.is_held()
        && !client.is_master
        && (client.multi.is_none() || spec.name == "exec")
        && pause_blocks(srv, spec, argv, clock.now_ms())
    {
        return Flow::Paused;
    }
    if let Some(msg) = replication_refusal(srv, client, settings, spec) {
        reject(srv, client, out, msg, Some(stat));
        return Flow::Continue;
    }
    if client.subscription_count() > 0 && !out.is_resp3() && !allowed_in_pubsub(spec.name) {
        let msg = format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            full_name(cmd, argv)
        );
        reject(srv, client, out, &msg, Some(stat));
        return Flow::Continue;
    }
    if client.multi.is_some() && !controls_multi(spec.name) {
        if spec.has(commands::NO_MULTI) {
            reject(
                srv,
                client,
                out,
                "ERR Command not allowed inside a transaction",
                Some(stat),
            );
            return Flow::Continue;
        }
        if let Some(m) = client.multi.as_mut() {
            m.queued.push(argv.iter().map(|a| a.to_vec()).collect());
            m.denyoom |= spec.has(commands::DENYOOM);
        }
        out.simple("QUEUED");
        return Flow::Continue;
    }
    if srv.pause.is_set() && !client.is_master && pause_blocks(srv, spec, argv, clock.now_ms()) {
        return Flow::Paused;
    }
    run(srv, guard, client, out, settings, cmd, stat, argv, clock)
}

/// The refusals replication adds, in Redis's order: too few good replicas for a
/// write (min-replicas-to-write), a write on a read-only replica, a replica whose
/// link is down and that must not serve stale data.
fn replication_refusal(
    srv: &Shared,
    client: &Client,
    settings: &Settings,
    spec: &CommandSpec,
) -> Option<&'static str> {
    let repl = &settings.repl;
    let write = spec.has(commands::WRITE);
    if !srv.repl.is_replica() {
        if write && repl.min_replicas_to_write > 0 {
            let good = srv.repl.lock().good_replicas(repl.min_replicas_max_lag);
            if good < repl.min_replicas_to_write {
                return Some("NOREPLICAS Not enough good replicas to write.");
            }
        }
        return None;
    }
    if client.is_master {
        return None;
    }
    if write && repl.read_only {
        return Some("READONLY You can't write against a read only replica.");
    }
    if !repl.serve_stale_data && !spec.has(commands::STALE) && !srv.repl.link_up() {
        return Some(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        );
    }
    None
}

/// Whether CLIENT PAUSE in force holds this command back.
fn pause_blocks(srv: &Shared, spec: &CommandSpec, argv: &[&[u8]], now_ms: u64) -> bool {
    use crate::server::PauseKind;
    match srv.pause.current(now_ms) {
        None => false,
        Some((PauseKind::All, _)) => {
            // CLIENT UNPAUSE must stay possible, or an ALL pause could never be lifted early.
            !(spec.name == "client"
                && argv
                    .get(1)
                    .is_some_and(|s| s.eq_ignore_ascii_case(b"unpause")))
        }
        Some((PauseKind::Write, _)) => {
            spec.has(commands::WRITE) || spec.has(commands::MAY_REPLICATE) || spec.name == "exec"
        }
    }
}

/// Executes an admitted command (also used by EXEC for queued commands).
#[allow(clippy::too_many_arguments)]
pub fn run<'s>(
    srv: &'s Shared,
    guard: &mut Option<MutexGuard<'s, Keyspace>>,
    client: &mut Client,
    out: &mut ReplyBuf,
    settings: &Settings,
    cmd: &'static Command,
    stat: usize,
    argv: &[&[u8]],
    clock: &mut Clock,
) -> Flow {
    let (flow, _) = run_with(
        srv, guard, client, out, settings, cmd, stat, argv, clock, None,
    );
    if flow == Flow::Block {
        if let Some(pending) = &client.blocked {
            crate::blocking::set_command(srv, pending.id, cmd, stat, argv);
        }
    }
    flow
}

/// Runs a command; returns the flow and whether it failed. `ready_key` is set
/// when running a blocked client's command again for the key that became ready
/// (a failure then leaves it blocked, as Redis 7.0 leaves a client blocked on a
/// key that now holds another type).
#[allow(clippy::too_many_arguments)]
pub fn run_with<'s>(
    srv: &'s Shared,
    guard: &mut Option<MutexGuard<'s, Keyspace>>,
    client: &mut Client,
    out: &mut ReplyBuf,
    settings: &Settings,
    cmd: &'static Command,
    stat: usize,
    argv: &[&[u8]],
    clock: &mut Clock,
    ready_key: Option<ferrocache_keyspace::Key>,
) -> (Flow, bool) {
    // Set before running, so CLIENT LIST/INFO show themselves as Redis does.
    client.handle.last_cmd.store(stat, Relaxed);
    let now_ms = clock.now_ms();
    let db = client.db;
    let mark = out.len();
    let reading = cmd.spec.has(commands::READONLY);
    let mut recorder = crate::repl::Recorder::default();
    if let Some(ks) = guard.as_mut() {
        ks.dbs[db].reading = reading;
        if srv.repl.is_active() {
            recorder.dirty_before = Some(ks.dirty());
        }
    }
    let mut ctx = Ctx {
        srv,
        client,
        out,
        settings,
        now_ms,
        flow: Flow::Continue,
        clock,
        guard,
        ready_key,
        reading,
        recorder,
    };
    // A bug in one handler must not take the connection (or the node) down: the
    // client gets an error and the panic is logged with the command's name.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (cmd.handler)(&mut ctx, argv)
    }))
    .unwrap_or_else(|_| {
        tracing::error!(command = cmd.spec.name, "command handler panicked");
        Err(Reject::from(
            "ERR internal error while executing the command",
        ))
    });
    let flow = ctx.flow;
    let mut recorder = std::mem::take(&mut ctx.recorder);
    if let Some(ks) = ctx.guard.as_mut() {
        ks.dbs[db].reading = false;
        if srv.repl.is_active() {
            if result.is_err() {
                // A failed command changed nothing; only expiries it caused count.
                recorder.replacement = Some(Vec::new());
            }
            recorder.after_command(srv, ks, db, cmd.spec, argv, &ctx.out.buf[mark..], now_ms);
        }
        if ks.dbs.iter().any(|d| d.has_events()) {
            // What the lookups recorded (a miss, an expiry) happened before the
            // reply was written: a client subscribed to its own events gets those
            // pushes first, as from Redis.
            let me = ctx.client.handle.id;
            let mut early = ReplyBuf::new(ctx.out.protocol());
            crate::notify::publish_recorded(srv, settings, ks, Some(&mut early), me, now_ms);
            if !early.is_empty() {
                let reply = ctx.out.buf.split_off(mark);
                ctx.out.buf.extend_from_slice(&early.buf);
                ctx.out.buf.extend_from_slice(&reply);
            }
        }
    }
    let elapsed = ctx.clock.lap();
    let stats = &srv.stats.commands;
    stats.calls[stat].fetch_add(1, Relaxed);
    stats.usec[stat].fetch_add(elapsed / 1000, Relaxed);
    stats.latency[stat].record(elapsed);
    let failed = result.is_err();
    if let Err(Reject(msg)) = result {
        stats.failed[stat].fetch_add(1, Relaxed);
        srv.stats.record_error(msg.as_bytes());
        out.error(msg.as_bytes());
    }
    (flow, failed)
}

/// Resolves a queued command again at EXEC time.
pub fn resolve_queued(argv: &[&[u8]]) -> Option<(&'static Command, usize)> {
    resolve(argv).ok()
}

/// Leaves MULTI and drops every WATCH, without replying.
fn abort_exec<'s>(
    srv: &'s Shared,
    guard: &mut Option<MutexGuard<'s, Keyspace>>,
    client: &mut Client,
) {
    client.multi = None;
    client.handle.multi.store(0, Relaxed);
    let ks = guard.get_or_insert_with(|| srv.keyspace.lock());
    for (db, key, _) in client.watched.drain(..) {
        ks.dbs[db].unwatch(&key, &client.watch_flag);
    }
    client.watch_flag.clear();
}

/// Starts a transaction (MULTI).
pub fn begin_multi(client: &mut Client) {
    client.multi = Some(Multi::default());
}
