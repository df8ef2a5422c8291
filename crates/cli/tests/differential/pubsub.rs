//! Hand-written differential cases for pub/sub in RESP2 and RESP3, including the
//! subscribe-mode restrictions and the output-buffer limit for slow subscribers.

use super::harness::Differ;
use ferrocache_testkit::{poll_until, Frame};
use std::time::Duration;

const SUB: usize = 0;
const PUB: usize = 1;

#[test]
fn subscribe_publish_resp2() {
    let mut d = Differ::new("pubsub/resp2");
    d.check_on(PUB, "PUBLISH nobody hi");
    d.check_on(PUB, "PUBSUB CHANNELS");
    d.check_on(PUB, "PUBSUB NUMPAT");
    d.check_on(PUB, "PUBSUB NUMSUB");
    d.check_frames_on(SUB, "SUBSCRIBE ch1 ch2 ch1", 3);
    d.check_frames_on(SUB, "PSUBSCRIBE ch* news.?", 2);
    d.check_on(PUB, "PUBLISH ch1 hello");
    d.read_on(SUB, 2, "message then pmessage for ch1");
    d.check_on(PUB, "PUBLISH news.a \"bin\\x00\\r\\nary\"");
    d.read_on(SUB, 1, "pmessage for news.a");
    d.check_on(PUB, "PUBLISH other x");
    d.check_on(PUB, "PUBSUB NUMSUB ch1 ch2 ch3 ch1");
    d.check_on(PUB, "PUBSUB CHANNELS");
    d.check_on(PUB, "PUBSUB CHANNELS ch1*");
    d.check_on(PUB, "PUBSUB CHANNELS nomatch*");
    d.check_on(PUB, "PUBSUB NUMPAT");
    d.check_on(PUB, "PUBSUB NUMPAT extra");
    d.check_on(PUB, "PUBSUB CHANNELS a b");
    d.check_on(PUB, "PUBSUB");
    d.check_on(PUB, "PUBLISH");
    d.check_on(PUB, "PUBLISH ch1");
    // Subscribe mode in RESP2 allows only a few commands.
    d.check_on(SUB, "GET k");
    d.check_on(SUB, "SET k v");
    d.check_on(SUB, "PUBLISH ch1 x");
    d.check_on(SUB, "SELECT 1");
    d.check_on(SUB, "PING");
    d.check_on(SUB, "PING hello");
    d.check_on(SUB, "PING a b");
    d.check_on(SUB, "NOSUCH cmd");
    d.check_on(SUB, "SUBSCRIBE");
    d.check_frames_on(SUB, "UNSUBSCRIBE ch1 nosuch", 2);
    d.check_frames_on(SUB, "PUNSUBSCRIBE news.?", 1);
    d.check_on(PUB, "PUBLISH ch1 after");
    d.read_on(SUB, 1, "pmessage only, ch1 unsubscribed");
    d.check_frames_on(SUB, "SUBSCRIBE a b c", 3);
    d.check_frames_on(SUB, "UNSUBSCRIBE", 4);
    d.check_frames_on(SUB, "PUNSUBSCRIBE", 1);
    // Out of subscribe mode: ordinary commands again.
    d.check_on(SUB, "GET k");
    d.check_on(SUB, "PING");
    d.check_frames_on(SUB, "UNSUBSCRIBE", 1);
    d.check_frames_on(SUB, "PUNSUBSCRIBE", 1);
    d.check_frames_on(SUB, "UNSUBSCRIBE x y", 2);
    d.check_on(PUB, "PUBSUB NUMSUB ch1 ch2");
    d.check_on(PUB, "PUBSUB NUMPAT");
    // Two subscribers and a pattern: PUBLISH counts receivers.
    d.check_frames_on(2, "SUBSCRIBE shared", 1);
    d.check_frames_on(3, "SUBSCRIBE shared", 1);
    d.check_frames_on(3, "PSUBSCRIBE sh*", 1);
    d.check_on(PUB, "PUBLISH shared m");
    d.read_on(2, 1, "message on subscriber 2");
    d.read_on(3, 2, "message and pmessage on subscriber 3");
    d.check_on(PUB, "PUBSUB NUMSUB shared");
    // Inside MULTI, and a client that quits while subscribed.
    d.check_on(4, "MULTI");
    d.check_on(4, "SUBSCRIBE x");
    d.check_on(4, "PUBLISH shared multi");
    d.check_on(4, "EXEC");
    d.read_on(2, 1, "message published inside MULTI");
    d.read_on(3, 2, "message published inside MULTI");
    d.check_on(3, "QUIT");
    d.check_closed(3, Duration::from_secs(5), "QUIT while subscribed");
    d.each("PUBSUB NUMSUB falls to 1 once the subscriber quit", |s| {
        let mut c = s.connect().unwrap();
        let ok = poll_until(Duration::from_secs(5), || {
            let r = c.cmd(&["PUBSUB", "NUMSUB", "shared"]).unwrap();
            matches!(r, Frame::Array(v) if v.get(1) == Some(&Frame::Integer(1)))
        });
        format!("{ok}")
    });
    d.finish();
}

#[test]
fn subscribe_publish_resp3() {
    let mut d = Differ::new("pubsub/resp3");
    d.check_on(SUB, "HELLO 3");
    d.check_frames_on(SUB, "SUBSCRIBE a b", 2);
    d.check_frames_on(SUB, "PSUBSCRIBE p*", 1);
    d.check_on(PUB, "PUBLISH a one");
    d.read_on(SUB, 1, "push message");
    d.check_on(PUB, "PUBLISH pq two");
    d.read_on(SUB, 1, "push pmessage");
    // RESP3 subscribers may run any command.
    d.check_on(SUB, "SET k v");
    d.check_on(SUB, "GET k");
    d.check_on(SUB, "PING");
    d.check_on(SUB, "PING x");
    d.check_on(SUB, "PUBLISH b self");
    d.read_on(SUB, 1, "own message");
    d.check_frames_on(SUB, "UNSUBSCRIBE a", 1);
    d.check_frames_on(SUB, "UNSUBSCRIBE", 1);
    d.check_frames_on(SUB, "PUNSUBSCRIBE", 1);
    d.check_frames_on(SUB, "UNSUBSCRIBE", 1);
    d.check_on(SUB, "PING");
    d.finish();
}

/// A subscriber that never reads is disconnected by the output-buffer limit instead
/// of making the server grow without bound; the publisher is not affected.
#[test]
fn slow_subscriber_is_disconnected() {
    let mut d = Differ::new("pubsub/slow-subscriber");
    d.each("64 MiB published to a subscriber that never reads", |s| {
        let mut sub = s.connect().unwrap();
        sub.cmd(&["SUBSCRIBE", "firehose"]).unwrap();
        let mut publisher = s.connect().unwrap();
        let payload = vec![b'x'; 1 << 20];
        for _ in 0..64 {
            publisher
                .send(&[&b"PUBLISH"[..], b"firehose", &payload])
                .unwrap();
        }
        let gone = poll_until(Duration::from_secs(5), || {
            let r = publisher.cmd(&["PUBSUB", "NUMSUB", "firehose"]).unwrap();
            matches!(r, Frame::Array(v) if v.get(1) == Some(&Frame::Integer(0)))
        });
        let publisher_ok = publisher.cmd(&["PING"]).unwrap() == Frame::Simple("PONG".into());
        format!("subscriber dropped: {gone}; publisher fine: {publisher_ok}")
    });
    d.finish();
}
