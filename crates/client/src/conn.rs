//! One physical connection: a TCP socket we open ourselves (so keepalive and
//! `TCP_USER_TIMEOUT` are set, and every byte read is seen), the `redis` crate's
//! multiplexed connection over it, and a driver task we can cancel, so that closing a
//! connection really closes its socket whatever clones are still around.

use crate::options::Options;
use redis::aio::MultiplexedConnection;
use redis::io::tcp::socket2::{SockRef, TcpKeepalive};
use redis::{AsyncConnectionConfig, RedisConnectionInfo, RedisResult};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What we know of a socket without asking the OS: when it last delivered bytes,
/// when we last wrote, and whether it has failed.
#[derive(Debug)]
pub(crate) struct IoState {
    epoch: Instant,
    last_read_us: AtomicU64,
    last_write_us: AtomicU64,
    /// When the oldest command still waiting for a reply after a timeout was sent
    /// (`u64::MAX`: none); replies come in order, so nothing later can be answered first.
    stuck_since_us: AtomicU64,
    dead: AtomicBool,
    /// Told when the socket fails, so the connector replaces it at once.
    wake: Arc<Notify>,
}

impl IoState {
    pub(crate) fn new(wake: Arc<Notify>) -> Arc<IoState> {
        Arc::new(IoState {
            epoch: Instant::now(),
            last_read_us: AtomicU64::new(0),
            last_write_us: AtomicU64::new(0),
            stuck_since_us: AtomicU64::new(u64::MAX),
            dead: AtomicBool::new(false),
            wake,
        })
    }

    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    fn at(&self, us: u64) -> Instant {
        self.epoch + Duration::from_micros(us)
    }

    /// The last moment anything moved either way.
    pub(crate) fn last_io(&self) -> Instant {
        let r = self.last_read_us.load(Ordering::Relaxed);
        let w = self.last_write_us.load(Ordering::Relaxed);
        self.at(r.max(w))
    }

    /// A command sent at `sent_at` timed out: since when has this connection been
    /// silent while owing a reply? (The later of the last read and the send time of
    /// the oldest command that timed out since that read.)
    pub(crate) fn quiet_since_on_timeout(&self, sent_at: Instant) -> Instant {
        let sent_us = sent_at.saturating_duration_since(self.epoch).as_micros() as u64;
        let read_us = self.last_read_us.load(Ordering::Relaxed);
        let stuck = self.stuck_since_us.load(Ordering::Relaxed);
        let stuck = if stuck == u64::MAX || stuck < read_us {
            self.stuck_since_us.store(sent_us, Ordering::Relaxed);
            sent_us
        } else {
            stuck.min(sent_us)
        };
        self.at(read_us.max(stuck))
    }

    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    pub(crate) fn mark_dead(&self) {
        if !self.dead.swap(true, Ordering::AcqRel) {
            self.wake.notify_one();
        }
    }
}

/// The socket with bookkeeping: every successful read stamps `last_read`; end of file
/// or an error marks the connection dead.
struct Tracked {
    inner: TcpStream,
    io: Arc<IoState>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        match &r {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                let now = self.io.now_us();
                self.io.last_read_us.store(now, Ordering::Relaxed);
            }
            Poll::Ready(_) => self.io.mark_dead(),
            Poll::Pending => {}
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        match &r {
            Poll::Ready(Ok(_)) => {
                let now = self.io.now_us();
                self.io.last_write_us.store(now, Ordering::Relaxed);
            }
            Poll::Ready(Err(_)) => self.io.mark_dead(),
            Poll::Pending => {}
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Opens a TCP connection with the socket options, bounded by nothing (the caller
/// bounds the whole connect).
pub(crate) async fn open_socket(
    host: &str,
    port: u16,
    opts: &Options,
    wake: Arc<Notify>,
) -> io::Result<(
    impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    Arc<IoState>,
)> {
    let stream = TcpStream::connect((host, port)).await?;
    configure_socket(&stream, opts)?;
    let io = IoState::new(wake);
    Ok((
        Tracked {
            inner: stream,
            io: io.clone(),
        },
        io,
    ))
}

/// Sets `TCP_NODELAY`, keepalive and `TCP_USER_TIMEOUT` as the options ask.
pub(crate) fn configure_socket(stream: &TcpStream, opts: &Options) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let sock = SockRef::from(stream);
    if let Some(idle) = opts.tcp_keepalive {
        let ka = TcpKeepalive::new()
            .with_time(idle)
            .with_interval(opts.tcp_keepalive_interval)
            .with_retries(opts.tcp_keepalive_retries);
        sock.set_tcp_keepalive(&ka)?;
    }
    #[cfg(target_os = "linux")]
    sock.set_tcp_user_timeout(opts.tcp_user_timeout)?;
    Ok(())
}

const LIVE: u8 = 0;
const STALE: u8 = 1;
const DEAD: u8 = 2;

/// One data connection. Cheap to share (`Arc<Conn>`); commands go through clones of
/// the multiplexed connection.
pub(crate) struct Conn {
    pub id: u64,
    pub mc: MultiplexedConnection,
    pub io: Arc<IoState>,
    state: AtomicU8,
    cancel: CancellationToken,
    /// Whether its end was announced as an event (once only).
    announced: AtomicBool,
}

impl Conn {
    /// Connects, runs the handshake the connection info asks for (AUTH, HELLO, SELECT),
    /// checks the server answers a PING, and opts in to maintenance pushes if asked.
    /// The caller bounds it with the connect timeout; if the future is dropped half
    /// way, the socket is closed.
    pub(crate) async fn open(
        id: u64,
        host: &str,
        port: u16,
        info: &RedisConnectionInfo,
        opts: &Options,
        wake: Arc<Notify>,
        push: Option<Arc<dyn redis::aio::AsyncPushSender>>,
    ) -> RedisResult<(Conn, Option<redis::RedisError>)> {
        let (stream, io) = open_socket(host, port, opts, wake).await?;
        // Timeouts are ours (per attempt, relaxed during maintenance), not the crate's.
        let mut cfg = AsyncConnectionConfig::new()
            .set_response_timeout(None)
            .set_connection_timeout(None);
        if let Some(p) = push {
            cfg = cfg.set_push_sender(p);
        }
        let (mut mc, driver) = MultiplexedConnection::new_with_config(info, stream, cfg).await?;
        let cancel = CancellationToken::new();
        // Until this connect succeeds, dropping the guard closes the socket.
        let guard = cancel.clone().drop_guard();
        let (token, io2) = (cancel.clone(), io.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = driver => {}
                _ = token.cancelled() => {}
            }
            // The driver (and with it the socket) is gone.
            io2.mark_dead();
        });
        let pong = mc.send_packed_command(&redis::cmd("PING")).await?;
        if let redis::Value::ServerError(e) = pong {
            return Err(e.into());
        }
        let mut refused = None;
        if opts.maint_notifications {
            let mut c = redis::cmd("CLIENT");
            c.arg("MAINT_NOTIFICATIONS").arg("ON");
            match mc.send_packed_command(&c).await {
                Ok(redis::Value::ServerError(e)) => refused = Some(e.into()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        guard.disarm();
        Ok((
            Conn {
                id,
                mc,
                io,
                state: AtomicU8::new(LIVE),
                cancel,
                announced: AtomicBool::new(false),
            },
            refused,
        ))
    }

    /// Usable for new commands.
    pub(crate) fn is_live(&self) -> bool {
        self.state.load(Ordering::Acquire) == LIVE && !self.io.is_dead()
    }

    pub(crate) fn is_dead(&self) -> bool {
        self.state.load(Ordering::Acquire) == DEAD || self.io.is_dead()
    }

    /// No new commands; the ones in flight may finish. Closed after `grace`.
    /// Returns false if it was not live.
    pub(crate) fn retire(&self, grace: Duration) -> bool {
        let was = self
            .state
            .compare_exchange(LIVE, STALE, Ordering::AcqRel, Ordering::Acquire);
        if was.is_ok() {
            let token = self.cancel.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::time::sleep(grace) => token.cancel(),
                    _ = token.cancelled() => {}
                }
            });
            // The connector must take a fresh one.
            self.io.wake.notify_one();
        }
        was.is_ok()
    }

    /// True the first time it is called: whoever gets true announces the end.
    pub(crate) fn take_announcement(&self) -> bool {
        !self.announced.swap(true, Ordering::AcqRel)
    }

    /// Closes the socket now; commands in flight fail. Returns false if it was already
    /// dead.
    pub(crate) fn kill(&self) -> bool {
        let was = self.state.swap(DEAD, Ordering::AcqRel);
        self.cancel.cancel();
        self.io.mark_dead();
        was != DEAD
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Old connections are always closed: nothing may keep the socket open once the
        // client forgets the connection.
        self.cancel.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn socket_options_are_set() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stream = TcpStream::connect(addr).await.unwrap();
        let opts = Options {
            tcp_keepalive: Some(Duration::from_secs(7)),
            tcp_keepalive_interval: Duration::from_secs(2),
            tcp_keepalive_retries: 4,
            tcp_user_timeout: Some(Duration::from_secs(9)),
            ..Options::default()
        };
        configure_socket(&stream, &opts).unwrap();
        let s = SockRef::from(&stream);
        assert!(s.keepalive().unwrap());
        assert_eq!(s.tcp_keepalive_time().unwrap(), Duration::from_secs(7));
        assert_eq!(s.tcp_keepalive_interval().unwrap(), Duration::from_secs(2));
        assert_eq!(s.tcp_keepalive_retries().unwrap(), 4);
        assert_eq!(s.tcp_user_timeout().unwrap(), Some(Duration::from_secs(9)));
        assert!(stream.nodelay().unwrap());
    }
}
