//! SIGKILL under concurrent writers: with `appendfsync always` every acknowledged
//! write survives; with `everysec` at most about a second of them is lost (the
//! test asserts only that every write acknowledged more than 2 s before the kill
//! survives).

use super::common::{assert_present, Writers};
use super::data::node_on;
use ferrocache_testkit::{poll_until, Server, TempDir};
use std::time::{Duration, Instant};

const SIGKILL: i32 = 9;

#[test]
fn kill_9_with_appendfsync_always_loses_no_acknowledged_write() {
    let dir = TempDir::new("aof-always").unwrap();
    let args = ["--set", "appendonly=yes", "--set", "appendfsync=always"];
    let node = node_on(dir.path(), &args).unwrap();
    let writers = Writers::start(node.addr(), 8);
    assert!(
        poll_until(Duration::from_secs(60), || writers.total() >= 3000),
        "writers made too little progress: {}",
        writers.total()
    );
    // Killed while the writers are in full flight.
    node.stop_with_signal(SIGKILL).unwrap();
    let acked = writers.finish();

    let node = node_on(dir.path(), &args).unwrap();
    let mut c = node.connect().unwrap();
    for (w, times) in acked.iter().enumerate() {
        assert_present(&mut c, w, times.len());
    }
}

#[test]
fn kill_9_with_appendfsync_everysec_loses_at_most_about_a_second() {
    let dir = TempDir::new("aof-everysec").unwrap();
    let args = ["--set", "appendonly=yes", "--set", "appendfsync=everysec"];
    let node = node_on(dir.path(), &args).unwrap();
    let writers = Writers::start(node.addr(), 4);
    // Run long enough that some writes are older than the 2 s bound.
    let started = Instant::now();
    assert!(poll_until(Duration::from_secs(60), || {
        started.elapsed() >= Duration::from_secs(3) && writers.total() > 0
    }));
    let killed_at = Instant::now();
    node.stop_with_signal(SIGKILL).unwrap();
    let acked = writers.finish();

    let node = node_on(dir.path(), &args).unwrap();
    let mut c = node.connect().unwrap();
    let bound = killed_at - Duration::from_secs(2);
    let mut checked = 0;
    for (w, times) in acked.iter().enumerate() {
        let safe = times.iter().take_while(|t| **t <= bound).count();
        assert_present(&mut c, w, safe);
        checked += safe;
    }
    assert!(checked > 0, "no write was older than the bound");
}
