//! The client's two halves: a plain TCP socket's own halves (so that the socket can
//! be handed over to a node whole), or a TLS stream's, which cannot.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

pub enum ClientRead {
    Tcp(OwnedReadHalf),
    Other(Box<dyn AsyncRead + Send + Unpin>),
}

pub enum ClientWrite {
    Tcp(OwnedWriteHalf),
    Other(Box<dyn AsyncWrite + Send + Unpin>),
}

impl AsyncRead for ClientRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientRead::Tcp(r) => Pin::new(r).poll_read(cx, buf),
            ClientRead::Other(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientWrite::Tcp(w) => Pin::new(w).poll_write(cx, buf),
            ClientWrite::Other(w) => Pin::new(w).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientWrite::Tcp(w) => Pin::new(w).poll_flush(cx),
            ClientWrite::Other(w) => Pin::new(w).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientWrite::Tcp(w) => Pin::new(w).poll_shutdown(cx),
            ClientWrite::Other(w) => Pin::new(w).poll_shutdown(cx),
        }
    }
}

/// Takes the plain socket back whole out of its halves (leaving inert ones behind),
/// without shutting it down; `None` for TLS.
pub fn take_tcp(rd: &mut ClientRead, wr: &mut ClientWrite) -> Option<std::net::TcpStream> {
    if !matches!((&*rd, &*wr), (ClientRead::Tcp(_), ClientWrite::Tcp(_))) {
        return None;
    }
    let ClientRead::Tcp(r) = std::mem::replace(rd, ClientRead::Other(Box::new(tokio::io::empty())))
    else {
        return None;
    };
    let ClientWrite::Tcp(w) =
        std::mem::replace(wr, ClientWrite::Other(Box::new(tokio::io::sink())))
    else {
        return None;
    };
    r.reunite(w).ok()?.into_std().ok()
}
