//! The maintenance events subscriber: its own connection subscribed to the events
//! channel (RESP2 pub/sub, so any server will do), kept alive with PINGs, rebuilt with
//! stagger and backoff when it breaks, feeding every message to the client in order.

use crate::core::Core;
use crate::events::Event;
use crate::stats::Counters;
use futures_util::StreamExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Runs until the client is dropped.
pub(crate) async fn run(core: Arc<Core>) {
    let mut failures: u32 = 0;
    let mut first = true;
    loop {
        if !first {
            // Backoff records are the data connection's; the subscriber draws its own.
            let delay = if failures == 0 {
                crate::backoff::uniform(core.opts.reconnect_stagger, &mut fastrand::Rng::new())
            } else {
                core.backoff()
                    .delay(failures - 1, &mut fastrand::Rng::new())
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = core.cancel.cancelled() => return,
            }
        }
        first = false;
        let opened = tokio::select! {
            r = tokio::time::timeout(core.opts.connect_timeout, open(&core)) => r,
            _ = core.cancel.cancelled() => return,
        };
        let (mut sink, mut stream) = match opened {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "events subscriber could not connect");
                failures = failures.saturating_add(1);
                continue;
            }
            Err(_) => {
                tracing::debug!("events subscriber connect timed out");
                failures = failures.saturating_add(1);
                continue;
            }
        };
        failures = 0;
        Counters::inc(&core.stats.subscriber_connects);
        core.subscribed.store(true, Ordering::Release);
        core.emit(Event::Subscribed);
        let idle = core.opts.idle_ping_interval.unwrap_or(Duration::MAX);
        loop {
            tokio::select! {
                msg = stream.next() => match msg {
                    Some(m) => core.on_channel_message(m.get_payload_bytes()),
                    None => break,
                },
                _ = sleep_or_forever(idle) => {
                    let timeout = core.maint.command_timeout(&core.opts);
                    let pong = tokio::time::timeout(timeout, sink.ping::<redis::Value>()).await;
                    if !matches!(pong, Ok(Ok(_))) {
                        tracing::info!("events subscriber connection silent: rebuilding it");
                        break;
                    }
                }
                _ = core.resubscribe.notified() => break,
                _ = core.cancel.cancelled() => return,
            }
        }
        core.subscribed.store(false, Ordering::Release);
    }
}

async fn sleep_or_forever(d: Duration) {
    if d == Duration::MAX {
        std::future::pending::<()>().await
    } else {
        tokio::time::sleep(d).await
    }
}

async fn open(
    core: &Core,
) -> redis::RedisResult<(redis::aio::PubSubSink, redis::aio::PubSubStream)> {
    // The subscriber's socket failures are seen by its own stream ending; its wake-up
    // is not the data connector's.
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stream, _io) = crate::conn::open_socket(&core.host, core.port, &core.opts, wake).await?;
    // Plain RESP2 pub/sub works with every server, whatever the data connection speaks.
    let info = core
        .info
        .clone()
        .set_protocol(redis::ProtocolVersion::RESP2);
    let pubsub = redis::aio::PubSub::new(&info, stream).await?;
    let (mut sink, stream) = pubsub.split();
    sink.subscribe(&core.opts.events_channel).await?;
    Ok((sink, stream))
}
