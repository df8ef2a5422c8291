//! A server process under benchmark: spawned on a loopback port, ready once it
//! answers PING, killed when the handle is dropped so no run leaves one behind.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How often readiness and liveness are polled.
const POLL: Duration = Duration::from_millis(20);

/// A running server. Its stdout and stderr go to a log file, quoted in errors.
pub struct Server {
    name: String,
    addr: SocketAddr,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Starts `cmd` (which must listen on `addr`), logging to `log`.
    pub fn spawn(name: &str, mut cmd: Command, addr: SocketAddr, log: &Path) -> Result<Server> {
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().context("duplicating the log file handle")?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {name}: {cmd:?}"))?;
        Ok(Server {
            name: name.to_string(),
            addr,
            child,
            log: log.to_path_buf(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time (user + system) the process has used so far, in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        let pid = self.pid();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        // The command name may hold spaces: the fields counted from after its ')'.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| -> Result<f64> {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .ok_or_else(|| anyhow::anyhow!("unexpected /proc/{pid}/stat: {stat}"))
        };
        // utime and stime are fields 14 and 15 of stat(5), 11 and 12 after ')'.
        Ok((ticks(11)? + ticks(12)?) / clock_ticks_per_second())
    }

    /// Waits until the server answers PING with +PONG, or fails at the deadline
    /// or as soon as the process exits.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive()?;
            if ping(self.addr).unwrap_or(false) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not answer PING on {} within {timeout:?}{}",
                    self.name,
                    self.addr,
                    self.log_tail()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Fails if the process has exited, quoting the end of its log.
    pub fn check_alive(&mut self) -> Result<()> {
        match self
            .child
            .try_wait()
            .with_context(|| format!("polling {}", self.name))?
        {
            None => Ok(()),
            Some(status) => bail!("{} exited ({status}){}", self.name, self.log_tail()),
        }
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            // A log that cannot be read just leaves the message without it.
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n  ");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; its output ended:\n  {tail}")
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Errors here mean the process is already gone, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one PING; true on +PONG. An error means not listening (yet).
fn ping(addr: SocketAddr) -> std::io::Result<bool> {
    let timeout = Duration::from_millis(500);
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.write_all(b"*1\r\n$4\r\nPING\r\n")?;
    let want = b"+PONG\r\n";
    let mut got = Vec::with_capacity(want.len());
    let mut buf = [0u8; 64];
    while got.len() < want.len() {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(got.starts_with(want))
}

/// `n` distinct free loopback ports. All listeners are held until every port is
/// chosen, so the kernel cannot hand out the same one twice.
pub fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<std::io::Result<Vec<_>>>()
        .context("binding 127.0.0.1:0 to find a free port")?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr().context("reading a bound port")?.port()))
        .collect()
}

/// The kernel's clock tick (`getconf CLK_TCK`), 100 where it cannot be asked.
fn clock_ticks_per_second() -> f64 {
    static TCK: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}
