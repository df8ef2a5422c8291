//! Framed messages with an optional socket attached, over a tokio `UnixStream`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use tokio::io::Interest;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// `[u32 header length][u32 payload length][u8 flags]`.
const PREFIX: usize = 9;
const FLAG_FD: u8 = 1;
/// A header beyond this is a broken peer, not a message.
const MAX_HEADER: usize = 1 << 20;
/// Input a connection may bring along (the node's own query buffer limit is 1 GB;
/// the gateway stops reading a client at 16 MB).
const MAX_PAYLOAD: usize = 1 << 30;
/// Descriptors one `recvmsg` can bring.
const MAX_FDS: usize = 32;
const READ_CHUNK: usize = 64 * 1024;

/// One end of a handoff connection.
pub struct Link;

impl Link {
    pub fn split(stream: UnixStream) -> (LinkReader, LinkWriter) {
        let (r, w) = stream.into_split();
        (
            LinkReader {
                rd: r,
                buf: Vec::new(),
                fds: VecDeque::new(),
            },
            LinkWriter { wr: w },
        )
    }
}

/// A received message, its payload, and the socket it carried.
#[derive(Debug)]
pub struct Received<M> {
    pub msg: M,
    pub payload: Vec<u8>,
    pub fd: Option<OwnedFd>,
}

pub struct LinkWriter {
    wr: OwnedWriteHalf,
}

impl LinkWriter {
    /// Sends `msg` with `payload`, and `fd` attached if given. The descriptor is
    /// duplicated into the peer by the kernel; the caller still owns (and closes) its own.
    pub async fn send<M: Serialize>(
        &mut self,
        msg: &M,
        payload: &[u8],
        fd: Option<RawFd>,
    ) -> io::Result<()> {
        let header = serde_json::to_vec(msg).map_err(io::Error::other)?;
        let mut frame = Vec::with_capacity(PREFIX + header.len() + payload.len());
        frame.extend_from_slice(&(header.len() as u32).to_le_bytes());
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.push(if fd.is_some() { FLAG_FD } else { 0 });
        frame.extend_from_slice(&header);
        frame.extend_from_slice(payload);
        let stream: &UnixStream = self.wr.as_ref();
        let mut off = 0;
        let mut attach = fd;
        while off < frame.len() {
            stream.writable().await?;
            match stream.try_io(Interest::WRITABLE, || {
                send_with_fd(stream.as_raw_fd(), &frame[off..], attach)
            }) {
                Ok(n) => {
                    off += n;
                    attach = None;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

pub struct LinkReader {
    rd: OwnedReadHalf,
    buf: Vec<u8>,
    fds: VecDeque<OwnedFd>,
}

impl LinkReader {
    /// The next message, or `None` when the peer closed the link.
    pub async fn recv<M: DeserializeOwned>(&mut self) -> io::Result<Option<Received<M>>> {
        loop {
            if let Some(r) = self.take_frame()? {
                return Ok(Some(r));
            }
            let stream: &UnixStream = self.rd.as_ref();
            stream.readable().await?;
            let mut chunk = vec![0u8; READ_CHUNK];
            match stream.try_io(Interest::READABLE, || {
                recv_with_fds(stream.as_raw_fd(), &mut chunk, &mut self.fds)
            }) {
                Ok(0) => return Ok(None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn take_frame<M: DeserializeOwned>(&mut self) -> io::Result<Option<Received<M>>> {
        if self.buf.len() < PREFIX {
            return Ok(None);
        }
        let h = u32::from_le_bytes(self.buf[0..4].try_into().expect("4 bytes")) as usize;
        let p = u32::from_le_bytes(self.buf[4..8].try_into().expect("4 bytes")) as usize;
        let flags = self.buf[8];
        if h > MAX_HEADER || p > MAX_PAYLOAD {
            return Err(invalid(format!("a frame of {h} + {p} bytes")));
        }
        if self.buf.len() < PREFIX + h + p {
            return Ok(None);
        }
        let msg = serde_json::from_slice(&self.buf[PREFIX..PREFIX + h])
            .map_err(|e| invalid(format!("bad message: {e}")))?;
        let payload = self.buf[PREFIX + h..PREFIX + h + p].to_vec();
        self.buf.drain(..PREFIX + h + p);
        let fd = if flags & FLAG_FD != 0 {
            Some(
                self.fds
                    .pop_front()
                    .ok_or_else(|| invalid("a message without its socket".into()))?,
            )
        } else {
            None
        };
        Ok(Some(Received { msg, payload, fd }))
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Room for `MAX_FDS` descriptors in one control message.
fn cmsg_space() -> usize {
    // SAFETY: CMSG_SPACE only computes a size.
    unsafe { libc::CMSG_SPACE((MAX_FDS * std::mem::size_of::<RawFd>()) as u32) as usize }
}

fn send_with_fd(sock: RawFd, data: &[u8], fd: Option<RawFd>) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: zeroed msghdr is a valid "no name, no control" header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // u64 elements keep the control buffer aligned for cmsghdr.
    let mut control = [0u64; 8];
    if let Some(fd) = fd {
        // SAFETY: the buffer is large enough for one descriptor's control message
        // (CMSG_SPACE(4) is 24 bytes on Linux) and aligned; the header is filled in
        // before the kernel reads it.
        unsafe {
            let space = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
            msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = space as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, fd);
        }
    }
    // SAFETY: msg points at live buffers for the duration of the call.
    let n = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

fn recv_with_fds(sock: RawFd, buf: &mut [u8], fds: &mut VecDeque<OwnedFd>) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let space = cmsg_space();
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: zeroed msghdr is valid; the pointers below outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = space as _;
    // SAFETY: as above.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel filled `control` with `msg_controllen` bytes of well-formed
    // control messages; each SCM_RIGHTS one holds descriptors now owned by us.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg) as *const RawFd;
                let len = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                for i in 0..len / std::mem::size_of::<RawFd>() {
                    let fd = std::ptr::read_unaligned(data.add(i));
                    fds.push_back(OwnedFd::from_raw_fd(fd));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        return Err(invalid(
            "descriptors were lost (control data truncated)".into(),
        ));
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnState, ToGateway, ToNode, Via};
    use std::io::{Read, Write};

    #[tokio::test]
    async fn messages_carry_sockets_and_payloads_in_order() {
        let (a, b) = UnixStream::pair().unwrap();
        let (_ra, mut wa) = Link::split(a);
        let (mut rb, _wb) = Link::split(b);
        // Two TCP connections to pass, each with its far end kept here.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut far = Vec::new();
        let mut near = Vec::new();
        for _ in 0..2 {
            far.push(std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap());
            near.push(l.accept().unwrap().0);
        }
        let adopt = ToNode::Adopt {
            id: 7,
            via: Via::Endpoint,
            state: ConnState {
                db: 3,
                resp3: true,
                name: Some(b"n".to_vec()),
                ..Default::default()
            },
            keys: vec!["k".into()],
            idle_timeout_ms: 1000,
        };
        let big = vec![b'x'; 200_000];
        wa.send(&adopt, b"*1\r\n$4\r\nPING\r\n", Some(near[0].as_raw_fd()))
            .await
            .unwrap();
        wa.send(&ToNode::Lease { until_ms: 5 }, &big, None)
            .await
            .unwrap();
        wa.send(
            &ToGateway::Released {
                id: 1,
                via: Via::Direct,
                state: ConnState::default(),
            },
            b"",
            Some(near[1].as_raw_fd()),
        )
        .await
        .unwrap();
        drop(near); // our copies; the passed ones stay open

        let r: Received<ToNode> = rb.recv().await.unwrap().unwrap();
        assert_eq!(r.msg, adopt);
        assert_eq!(r.payload, b"*1\r\n$4\r\nPING\r\n");
        let mut s0 = std::net::TcpStream::from(r.fd.unwrap());
        let r: Received<ToNode> = rb.recv().await.unwrap().unwrap();
        assert_eq!(r.msg, ToNode::Lease { until_ms: 5 });
        assert_eq!(r.payload.len(), big.len());
        assert!(r.fd.is_none());
        let r: Received<ToGateway> = rb.recv().await.unwrap().unwrap();
        let mut s1 = std::net::TcpStream::from(r.fd.unwrap());

        // The passed sockets are the connections: bytes flow both ways.
        far[0].write_all(b"hello").unwrap();
        let mut got = [0u8; 5];
        s0.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
        s1.write_all(b"back").unwrap();
        let mut got = [0u8; 4];
        far[1].read_exact(&mut got).unwrap();
        assert_eq!(&got, b"back");
    }

    #[tokio::test]
    async fn a_closed_link_ends_and_garbage_is_an_error() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut rb, _wb) = Link::split(b);
        drop(a);
        assert!(rb.recv::<ToNode>().await.unwrap().is_none());

        let (a, b) = UnixStream::pair().unwrap();
        let (mut rb, _wb) = Link::split(b);
        let std_a = a.into_std().unwrap();
        (&std_a).write_all(&[0xff; 16]).unwrap();
        assert!(rb.recv::<ToNode>().await.is_err());
    }
}
