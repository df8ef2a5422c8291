//! Channel and pattern subscriptions, and delivery of published messages to the
//! subscribers' connection tasks with an output-buffer limit per subscriber.

use crate::clients::{ClientHandle, Delivery};
use crate::config::OutputLimit;
use bytes::Bytes;
use ferrocache_keyspace::glob;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

#[derive(Default)]
pub struct PubSub {
    channels: HashMap<Bytes, BTreeMap<u64, Arc<ClientHandle>>>,
    patterns: BTreeMap<Bytes, BTreeMap<u64, Arc<ClientHandle>>>,
}

/// Bytes a queued message is charged against the output buffer limit
/// (payload plus framing, roughly what it will occupy once encoded).
pub fn cost(channel: &[u8], payload: &[u8], pattern: Option<&[u8]>) -> usize {
    channel.len() + payload.len() + pattern.map_or(0, <[u8]>::len) + 48
}

impl PubSub {
    /// Returns true if the client was not subscribed to the channel yet.
    pub fn subscribe(&mut self, channel: &[u8], client: &Arc<ClientHandle>) -> bool {
        self.channels
            .entry(Bytes::copy_from_slice(channel))
            .or_default()
            .insert(client.id, client.clone())
            .is_none()
    }
    pub fn unsubscribe(&mut self, channel: &[u8], client_id: u64) -> bool {
        let Some(subs) = self.channels.get_mut(channel) else {
            return false;
        };
        let removed = subs.remove(&client_id).is_some();
        if subs.is_empty() {
            self.channels.remove(channel);
        }
        removed
    }
    pub fn psubscribe(&mut self, pattern: &[u8], client: &Arc<ClientHandle>) -> bool {
        self.patterns
            .entry(Bytes::copy_from_slice(pattern))
            .or_default()
            .insert(client.id, client.clone())
            .is_none()
    }
    pub fn punsubscribe(&mut self, pattern: &[u8], client_id: u64) -> bool {
        let Some(subs) = self.patterns.get_mut(pattern) else {
            return false;
        };
        let removed = subs.remove(&client_id).is_some();
        if subs.is_empty() {
            self.patterns.remove(pattern);
        }
        removed
    }

    /// Delivers a message; returns how many clients received it. Subscribers over
    /// their output buffer limit are disconnected instead of buffering without bound.
    /// Deliveries to the publisher itself (`me`, possible in RESP3) are not queued but
    /// returned — as the pattern they matched, None for the channel itself — so the
    /// caller writes them before its reply, in the order Redis does.
    pub fn publish(
        &self,
        channel: &[u8],
        payload: &[u8],
        limit: &OutputLimit,
        now_ms: u64,
        me: u64,
    ) -> (usize, Vec<Option<Bytes>>) {
        let mut receivers = 0;
        let mut to_me = Vec::new();
        let channel_b = Bytes::copy_from_slice(channel);
        let payload_b = Bytes::copy_from_slice(payload);
        if let Some(subs) = self.channels.get(channel) {
            for c in subs.values() {
                if c.id == me {
                    to_me.push(None);
                    receivers += 1;
                } else if deliver(c, None, &channel_b, &payload_b, limit, now_ms) {
                    receivers += 1;
                }
            }
        }
        for (pattern, subs) in &self.patterns {
            if glob::matches(pattern, channel, false) {
                for c in subs.values() {
                    if c.id == me {
                        to_me.push(Some(pattern.clone()));
                        receivers += 1;
                    } else if deliver(c, Some(pattern), &channel_b, &payload_b, limit, now_ms) {
                        receivers += 1;
                    }
                }
            }
        }
        (receivers, to_me)
    }

    /// PUBSUB CHANNELS [pattern]
    pub fn channels(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let mut v: Vec<Bytes> = self
            .channels
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob::matches(p, c, false)))
            .cloned()
            .collect();
        v.sort();
        v
    }
    pub fn numsub(&self, channel: &[u8]) -> usize {
        self.channels.get(channel).map_or(0, BTreeMap::len)
    }
    pub fn numpat(&self) -> usize {
        self.patterns.len()
    }
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
}

fn deliver(
    c: &Arc<ClientHandle>,
    pattern: Option<&Bytes>,
    channel: &Bytes,
    payload: &Bytes,
    limit: &OutputLimit,
    now_ms: u64,
) -> bool {
    if c.killed.load(Relaxed) {
        return false;
    }
    let size = cost(channel, payload, pattern.map(|p| &p[..]));
    let queued = c.queued_bytes.fetch_add(size, Relaxed) + size;
    if limit.hard > 0 && queued as u64 > limit.hard {
        tracing::warn!(
            client = c.id,
            queued,
            "pub/sub client over hard output limit: disconnecting"
        );
        c.request_kill();
        return true;
    }
    if limit.soft > 0 && queued as u64 > limit.soft {
        let since = c.soft_limit_since_ms.load(Relaxed);
        if since == 0 {
            c.soft_limit_since_ms.store(now_ms, Relaxed);
        } else if now_ms.saturating_sub(since) >= limit.soft_seconds * 1000 {
            tracing::warn!(
                client = c.id,
                queued,
                "pub/sub client over soft output limit: disconnecting"
            );
            c.request_kill();
            return true;
        }
    } else {
        c.soft_limit_since_ms.store(0, Relaxed);
    }
    let msg = Delivery::Message {
        pattern: pattern.cloned(),
        channel: channel.clone(),
        payload: payload.clone(),
    };
    let _ = c.tx.send(msg);
    true
}
