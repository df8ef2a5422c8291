//! The heart of the endpoint: a planned switch of the primary under continuous
//! pipelined load from many connections — writers, readers, MULTI/EXEC, pub/sub
//! subscribers and a blocked BLPOP — costs clients no error, no misdelivered reply
//! and no acknowledged write.

mod common;

use common::{bulk, direct, ok, planned_switch, show, Frame, Pair, TestGateway, DEADLINE};
use ferrocache_testkit::{poll_until, RespConn, Server};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

const WRITERS: usize = 8;
const READERS: usize = 3;
const TRANSACTIONS: usize = 2;
const SUBSCRIBERS: usize = 3;
/// Pipelines every load thread completes before the switch starts, and after it
/// finishes before it may stop: the switch happens in the middle of the load.
const ROUNDS_BEFORE: usize = 20;
const ROUNDS_AFTER: usize = 20;
const READ_KEYS: usize = 100;

/// Shared by the load threads: when the switch has finished, how many threads have
/// done their rounds after it, and when to stop.
#[derive(Default)]
struct Phase {
    started: AtomicUsize,
    switched: AtomicBool,
    done_after: AtomicUsize,
    stop: AtomicBool,
}

impl Phase {
    /// Called after each pipeline; returns whether the thread should stop.
    fn round(&self, rounds_after: &mut usize, rounds_before: &mut usize) -> bool {
        *rounds_before += 1;
        if *rounds_before == ROUNDS_BEFORE {
            self.started.fetch_add(1, Ordering::SeqCst);
        }
        if self.switched.load(Ordering::SeqCst) {
            *rounds_after += 1;
            if *rounds_after == ROUNDS_AFTER {
                self.done_after.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.stop.load(Ordering::SeqCst)
    }
}

fn cmd(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

/// Runs pipelines from `build(round)` and checks each reply with `check`, until the
/// phase says stop or something fails.
fn load(
    endpoint: SocketAddr,
    phase: Arc<Phase>,
    mut step: impl FnMut(&mut RespConn, usize) -> Result<(), String> + Send + 'static,
) -> JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut errors = Vec::new();
        let mut c = match RespConn::connect(endpoint) {
            Ok(c) => c,
            Err(e) => return vec![format!("connect: {e:#}")],
        };
        let (mut after, mut before) = (0, 0);
        for round in 0.. {
            if let Err(e) = step(&mut c, round) {
                errors.push(e);
                // Don't make the main thread wait for this one.
                phase.started.fetch_add(1, Ordering::SeqCst);
                phase.done_after.fetch_add(1, Ordering::SeqCst);
                break;
            }
            if phase.round(&mut after, &mut before) {
                break;
            }
        }
        errors
    })
}

fn expect(got: &Frame, want: &Frame, what: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {}, want {}", show(got), show(want)))
    }
}

/// Pipelines of `SET w:{id}:{i} v{i}`, `GET` of the same key and `INCR c:{id}`: each
/// GET must return its own key's value and each INCR the next number, or a reply was
/// delivered to the wrong request.
fn writer(
    endpoint: SocketAddr,
    phase: Arc<Phase>,
    id: usize,
    acked: Arc<AtomicUsize>,
) -> JoinHandle<Vec<String>> {
    load(endpoint, phase, move |c, round| {
        let per = 5;
        let mut cmds = Vec::new();
        for j in 0..per {
            let i = round * per + j;
            let (k, v) = (format!("w:{id}:{i}"), format!("v{i}"));
            cmds.push(cmd(&["SET", &k, &v]));
            cmds.push(cmd(&["GET", &k]));
            cmds.push(cmd(&["INCR", &format!("c:{id}")]));
        }
        let replies = c
            .pipeline(&cmds)
            .map_err(|e| format!("writer {id}: {e:#}"))?;
        for (j, r) in replies.chunks(3).enumerate() {
            let i = round * per + j;
            expect(&r[0], &ok(), &format!("writer {id} SET {i}"))?;
            expect(
                &r[1],
                &bulk(&format!("v{i}")),
                &format!("writer {id} GET {i}"),
            )?;
            expect(
                &r[2],
                &Frame::Integer(i as i64 + 1),
                &format!("writer {id} INCR"),
            )?;
            acked.store(i + 1, Ordering::SeqCst);
        }
        Ok(())
    })
}

/// Pipelined GETs of keys written before the load, each with its own value.
fn reader(endpoint: SocketAddr, phase: Arc<Phase>, id: usize) -> JoinHandle<Vec<String>> {
    load(endpoint, phase, move |c, round| {
        let keys: Vec<usize> = (0..10)
            .map(|j| (round * 7 + j * 13 + id) % READ_KEYS)
            .collect();
        let cmds: Vec<_> = keys
            .iter()
            .map(|k| cmd(&["GET", &format!("r:{k}")]))
            .collect();
        let replies = c
            .pipeline(&cmds)
            .map_err(|e| format!("reader {id}: {e:#}"))?;
        for (k, r) in keys.iter().zip(&replies) {
            expect(
                r,
                &bulk(&format!("rv{k}")),
                &format!("reader {id} GET r:{k}"),
            )?;
        }
        Ok(())
    })
}

/// `MULTI; INCR t:{id}; SET tk:{id}:{n} n; EXEC` in one write: EXEC answers both results.
fn transactions(
    endpoint: SocketAddr,
    phase: Arc<Phase>,
    id: usize,
    acked: Arc<AtomicUsize>,
) -> JoinHandle<Vec<String>> {
    load(endpoint, phase, move |c, round| {
        let n = (round + 1).to_string();
        let cmds = vec![
            cmd(&["MULTI"]),
            cmd(&["INCR", &format!("t:{id}")]),
            cmd(&["SET", &format!("tk:{id}:{n}"), &n]),
            cmd(&["EXEC"]),
        ];
        let r = c.pipeline(&cmds).map_err(|e| format!("tx {id}: {e:#}"))?;
        let queued = Frame::Simple("QUEUED".into());
        expect(&r[0], &ok(), "MULTI")?;
        expect(&r[1], &queued, "INCR in MULTI")?;
        expect(&r[2], &queued, "SET in MULTI")?;
        let exec = Frame::Array(vec![Frame::Integer(round as i64 + 1), ok()]);
        expect(&r[3], &exec, &format!("tx {id} EXEC"))?;
        acked.store(round + 1, Ordering::SeqCst);
        Ok(())
    })
}

/// A subscriber: every message must arrive, in order, until the publisher's "end".
fn subscriber(endpoint: SocketAddr, id: usize) -> (RespConn, JoinHandle<Result<usize, String>>) {
    let mut c = RespConn::connect(endpoint).expect("connect a subscriber");
    c.write_command(&["SUBSCRIBE", "news"]).expect("SUBSCRIBE");
    let confirm = c.read_frame().expect("confirmation");
    let want = Frame::Array(vec![bulk("subscribe"), bulk("news"), Frame::Integer(1)]);
    assert_eq!(confirm, want, "subscriber {id}: {}", show(&confirm));
    let probe = RespConn::connect(endpoint).expect("a spare connection");
    let handle = std::thread::spawn(move || {
        let mut next = 0usize;
        loop {
            let f = c
                .read_frame()
                .map_err(|e| format!("subscriber {id}: {e:#}"))?;
            let Frame::Array(items) = &f else {
                return Err(format!("subscriber {id}: not a message: {}", show(&f)));
            };
            let payload = match items.as_slice() {
                [kind, ch, Frame::Bulk(p)] if *kind == bulk("message") && *ch == bulk("news") => p,
                _ => return Err(format!("subscriber {id}: not a message: {}", show(&f))),
            };
            if &payload[..] == b"end" {
                return Ok(next);
            }
            if payload[..] != *next.to_string().as_bytes() {
                return Err(format!(
                    "subscriber {id}: message {} arrived where {next} was due",
                    String::from_utf8_lossy(payload)
                ));
            }
            next += 1;
        }
    });
    (probe, handle)
}

/// Publishes numbered messages; each PUBLISH must reach every subscriber.
fn publisher(
    endpoint: SocketAddr,
    phase: Arc<Phase>,
    published: Arc<AtomicUsize>,
) -> JoinHandle<Vec<String>> {
    load(endpoint, phase, move |c, round| {
        let r = c
            .cmd(&["PUBLISH", "news", &round.to_string()])
            .map_err(|e| format!("publisher: {e:#}"))?;
        expect(
            &r,
            &Frame::Integer(SUBSCRIBERS as i64),
            &format!("PUBLISH {round} receivers"),
        )?;
        published.store(round + 1, Ordering::SeqCst);
        Ok(())
    })
}

#[test]
fn planned_switch_under_pipelined_load_costs_no_error_and_no_write() {
    let pair = Pair::start();
    let gw = TestGateway::start(common::config(pair.nodes()));
    switch_under_load(&pair, &gw);
}

/// The same switch between two ferrocache nodes: the endpoint speaks only RESP to
/// its nodes, so what holds for redis-server holds for ours.
#[test]
fn planned_switch_over_ferrocache_nodes_costs_no_error_and_no_write() {
    let pair = Pair::builtin();
    let gw = TestGateway::start(common::config(pair.nodes()));
    switch_under_load(&pair, &gw);
}

/// The same again with connections handed over to the nodes: before the switch the
/// primary serves them directly; the switch takes them back (the blocked BLPOP
/// unrun), moves them, and they are handed over to the new primary afterwards.
#[test]
fn planned_switch_with_handed_over_connections_costs_no_error_and_no_write() {
    let pair = Pair::builtin();
    let gw = TestGateway::start(common::with_handoff(common::config(pair.nodes()), &pair));
    switch_under_load(&pair, &gw);
    let m = gw.metrics();
    let c = &m["connections"];
    assert!(c["handoffs"].as_u64().unwrap() > 0, "{m}");
    assert!(c["handbacks"].as_u64().unwrap() > 0, "{m}");
}

fn switch_under_load<S: Server>(pair: &Pair<S>, gw: &TestGateway) {
    let ep = gw.endpoint();

    let mut setup = gw.connect();
    let mut cmds = Vec::new();
    for k in 0..READ_KEYS {
        cmds.push(cmd(&["SET", &format!("r:{k}"), &format!("rv{k}")]));
    }
    for r in setup.pipeline(&cmds).expect("seed the read keys") {
        assert_eq!(r, ok());
    }

    // A BLPOP blocked on the primary before the switch, served after it.
    let mut blocked = gw.connect();
    blocked
        .write_command(&["BLPOP", "queue", "0"])
        .expect("BLPOP");
    let is_blocked = poll_until(DEADLINE, || {
        let Frame::Bulk(list) = direct(pair.primary.addr(), &["CLIENT", "LIST"]) else {
            return false;
        };
        String::from_utf8_lossy(&list).contains("cmd=blpop")
    });
    assert!(is_blocked, "BLPOP never blocked on the primary");

    let subs: Vec<_> = (0..SUBSCRIBERS).map(|i| subscriber(ep, i)).collect();

    let phase = Arc::new(Phase::default());
    let mut threads = Vec::new();
    let mut writer_acks = Vec::new();
    for id in 0..WRITERS {
        let acked = Arc::new(AtomicUsize::new(0));
        threads.push(writer(ep, phase.clone(), id, acked.clone()));
        writer_acks.push(acked);
    }
    for id in 0..READERS {
        threads.push(reader(ep, phase.clone(), id));
    }
    let mut tx_acks = Vec::new();
    for id in 0..TRANSACTIONS {
        let acked = Arc::new(AtomicUsize::new(0));
        threads.push(transactions(ep, phase.clone(), id, acked.clone()));
        tx_acks.push(acked);
    }
    let published = Arc::new(AtomicUsize::new(0));
    threads.push(publisher(ep, phase.clone(), published.clone()));
    let n_threads = threads.len();

    // Switch only once every load thread is running, so the switch happens under load.
    assert!(poll_until(DEADLINE, || phase
        .started
        .load(Ordering::SeqCst)
        == n_threads));
    let (started, finished) = planned_switch(gw, pair, 1);
    phase.switched.store(true, Ordering::SeqCst);
    let went_on = poll_until(DEADLINE * 2, || {
        phase.done_after.load(Ordering::SeqCst) >= n_threads
    });
    phase.stop.store(true, Ordering::SeqCst);
    let errors: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("a load thread"))
        .collect();
    assert!(errors.is_empty(), "client-visible errors: {errors:#?}");
    assert!(went_on, "the load did not go on after the switch");

    // The blocked BLPOP moved with its connection and is served by the new primary.
    let mut pusher = gw.connect();
    assert_eq!(
        pusher.cmd(&["RPUSH", "queue", "job"]).unwrap(),
        Frame::Integer(1)
    );
    let served = blocked.read_frame().expect("the BLPOP reply");
    assert_eq!(
        served,
        Frame::Array(vec![bulk("queue"), bulk("job")]),
        "{}",
        show(&served)
    );

    // Every subscriber is still subscribed and got every message, in order.
    let total = published.load(Ordering::SeqCst);
    let r = pusher.cmd(&["PUBLISH", "news", "end"]).unwrap();
    assert_eq!(
        r,
        Frame::Integer(SUBSCRIBERS as i64),
        "subscribers after the switch"
    );
    for (i, (_probe, handle)) in subs.into_iter().enumerate() {
        let got = handle.join().expect("subscriber thread");
        assert_eq!(got, Ok(total), "subscriber {i}");
    }

    // No acknowledged write is missing on the new primary.
    let new_primary = pair.replica.addr();
    let mut check = RespConn::connect(new_primary).expect("connect to the new primary");
    for (id, acked) in writer_acks.iter().enumerate() {
        let n = acked.load(Ordering::SeqCst);
        assert!(n > 0, "writer {id} acknowledged nothing");
        let gets: Vec<_> = (0..n)
            .map(|i| cmd(&["GET", &format!("w:{id}:{i}")]))
            .collect();
        for (i, r) in check.pipeline(&gets).unwrap().iter().enumerate() {
            assert_eq!(
                *r,
                bulk(&format!("v{i}")),
                "writer {id} key {i} on the new primary"
            );
        }
        let counter = check.cmd(&["GET", &format!("c:{id}")]).unwrap();
        assert_eq!(counter, bulk(&n.to_string()), "writer {id} counter");
    }
    for (id, acked) in tx_acks.iter().enumerate() {
        let n = acked.load(Ordering::SeqCst);
        let t = check.cmd(&["GET", &format!("t:{id}")]).unwrap();
        assert_eq!(t, bulk(&n.to_string()), "transactions {id}");
    }

    let m = gw.metrics();
    println!(
        "planned switch under load: longest hold {} ms (mean {} ms over {} holds), \
         switch {} ms (drain {} ms, reattach {} ms), {} connections, {} requests held, \
         {} blocking re-issued; start {started}; finish {finished}",
        m["holds"]["max_ms"],
        m["holds"]["mean_ms"],
        m["holds"]["count"],
        m["switches"]["recent"][0]["duration_ms"],
        m["switches"]["recent"][0]["drain_ms"],
        m["switches"]["recent"][0]["reattach_ms"],
        m["switches"]["recent"][0]["connections"],
        m["requests"]["held"],
        m["requests"]["blocking_reissued"],
    );
    assert_eq!(m["requests"]["failed_backend_lost"], 0, "{m}");
    assert_eq!(m["requests"]["hold_timed_out"], 0, "{m}");
    assert_eq!(started["drained"], true, "{started}");
    assert_eq!(finished["reattached"], true, "{finished}");
}
