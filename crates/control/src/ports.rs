//! Choosing free loopback ports for a cache when its spec leaves them at 0. They are
//! chosen once, at creation, and stored, so the cache keeps its addresses across
//! restarts.

use std::net::TcpListener;

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn bindable(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A base B such that B..B+n are all free now.
pub fn free_base(n: usize) -> anyhow::Result<u16> {
    for _ in 0..200 {
        let b = free_port()?;
        if (b as usize) + n < 65_000 && (0..n as u16).all(|i| bindable(b + i)) {
            return Ok(b);
        }
    }
    anyhow::bail!("no {n} consecutive free ports found")
}
