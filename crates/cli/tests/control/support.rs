//! Running `ferrocache up` on free ports in a temporary data directory, and talking to
//! it: the CLI's JSON output, a tiny HTTP GET, RESP through the endpoint.

use ferrocache_testkit::{free_port, poll_until, Frame, RespConn, TempDir};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_ferrocache");
pub const UP_DEADLINE: Duration = Duration::from_secs(60);

pub struct Up {
    pub child: Option<Child>,
    pub dir: PathBuf,
    pub args: Vec<String>,
    pub api: String,
    pub endpoint: u16,
    pub node_base: u16,
}

/// Free ports for: endpoint, TLS, API, and two bases of 2 consecutive ports.
fn ports() -> (u16, u16, u16, u16, u16) {
    loop {
        let p: Vec<u16> = (0..5).map(|_| free_port().unwrap()).collect();
        let free = |b: u16| std::net::TcpListener::bind(("127.0.0.1", b + 1)).is_ok();
        if free(p[3]) && free(p[4]) && p.iter().collect::<std::collections::HashSet<_>>().len() == 5
        {
            return (p[0], p[1], p[2], p[3], p[4]);
        }
    }
}

/// How a start that lost a port to a concurrent test fails: the API's bind, or a
/// node or the gateway exiting at start.
const PORT_RACE: [&str; 3] = [
    "Address already in use",
    "the gateway did not start",
    "exited at start",
];

impl Up {
    /// Starts `up` on free ports. Ports are chosen free but only bound later by the
    /// service's children, so a test running beside it can take one first; a start
    /// that fails for that reason is retried on other ports in a clean directory.
    pub fn start(dir: &TempDir, engine: &str, extra: &[&str]) -> Up {
        for attempt in 0.. {
            let mut up = Up::configure(dir, engine, extra);
            match up.try_restart() {
                Ok(()) => return up,
                Err(why) if attempt < 2 && PORT_RACE.iter().any(|m| why.contains(m)) => {
                    eprintln!("up lost a port race, retrying on other ports:\n{why}");
                    // It exited and stopped what it had started: nothing to drop.
                    std::mem::forget(up);
                    for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
                        let p = e.path();
                        let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
                    }
                }
                Err(why) => panic!("{why}"),
            }
        }
        unreachable!()
    }

    fn configure(dir: &TempDir, engine: &str, extra: &[&str]) -> Up {
        let (port, tls, api, nb, tnb) = ports();
        let mut args: Vec<String> = vec![
            "up".into(),
            "--data-dir".into(),
            dir.path().display().to_string(),
            "--port".into(),
            port.to_string(),
            "--tls-port".into(),
            tls.to_string(),
            "--api-addr".into(),
            format!("127.0.0.1:{api}"),
            "--node-port-base".into(),
            nb.to_string(),
            "--tls-node-port-base".into(),
            tnb.to_string(),
            "--engine".into(),
            engine.into(),
        ];
        if !extra.contains(&"--starting-lead") {
            args.extend(["--starting-lead", "300ms", "--start-lead", "100ms"].map(String::from));
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        Up {
            child: None,
            dir: dir.path().to_path_buf(),
            args,
            api: format!("127.0.0.1:{api}"),
            endpoint: port,
            node_base: nb,
        }
    }

    /// (Re)starts the service with the same flags and waits for its ready line.
    /// The ports stay the service's own across runs, but while it is down a test
    /// beside it can hold one for a moment (probing for a free port binds it), and
    /// the gateway's admin port is chosen free at start and bound later: a restart
    /// that lost such a race is tried again, on the same data directory, once the
    /// endpoint port can be bound.
    pub fn restart(&mut self) {
        for attempt in 0.. {
            match self.try_restart() {
                Ok(()) => return,
                Err(why) if attempt < 3 && PORT_RACE.iter().any(|m| why.contains(m)) => {
                    eprintln!("up lost a port race on restart, retrying:\n{why}");
                    self.stop();
                    let endpoint = self.endpoint;
                    poll_until(Duration::from_secs(30), || {
                        std::net::TcpListener::bind(("127.0.0.1", endpoint)).is_ok()
                    });
                }
                Err(why) => panic!("{why}"),
            }
        }
    }

    fn try_restart(&mut self) -> Result<(), String> {
        let n = std::fs::read_dir(&self.dir).map(|d| d.count()).unwrap_or(0);
        let out = self.dir.join(format!("up-{n}.out"));
        let child = Command::new(BIN)
            .args(&self.args)
            // The error, not a backtrace, is what the log tail must show.
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
            .stderr(Stdio::from(
                std::fs::File::create(self.dir.join(format!("up-{n}.err"))).unwrap(),
            ))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let child = self.child.as_mut().unwrap();
        let ok = poll_until(UP_DEADLINE, || {
            std::fs::read_to_string(&out).is_ok_and(|s| s.contains("ferrocache up ready"))
                || !matches!(child.try_wait(), Ok(None))
        }) && matches!(child.try_wait(), Ok(None));
        let status = child.try_wait();
        if ok {
            Ok(())
        } else {
            Err(format!(
                "up did not get ready ({status:?}):\n{}",
                self.log_tail()
            ))
        }
    }

    pub fn log_tail(&self) -> String {
        let mut s = String::new();
        for e in std::fs::read_dir(&self.dir).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "err" || x == "out") {
                let t = std::fs::read_to_string(&p).unwrap_or_default();
                let lines: Vec<&str> = t.lines().collect();
                s.push_str(&format!(
                    "--- {}\n{}\n",
                    p.display(),
                    lines[lines.len().saturating_sub(25)..].join("\n")
                ));
            }
        }
        s
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let ok = poll_until(Duration::from_secs(60), || {
                matches!(c.try_wait(), Ok(Some(_)))
            });
            if !ok {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }

    /// SIGKILL (the service only: its children live on).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn cli(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::new(BIN)
            .args(args)
            .args(["--json", "--api", &format!("http://{}", self.api)])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ferrocache {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn show(&self) -> serde_json::Value {
        self.cli(&["cache", "show", "local"])
    }

    pub fn key(&self, which: &str) -> String {
        self.cli(&["keys", "local"])[which]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn get(&self, path: &str) -> serde_json::Value {
        http_get(&self.api, path)
    }

    pub fn connect(&self) -> RespConn {
        let mut c = RespConn::connect(addr(self.endpoint)).unwrap();
        let key = self.key("primary");
        assert_eq!(c.cmd(&["AUTH", &key]).unwrap(), Frame::Simple("OK".into()));
        c
    }

    pub fn primary_pid(&self) -> (usize, u32) {
        let c = self.show();
        let n = c["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["role"] == "primary")
            .unwrap()
            .clone();
        (
            n["index"].as_u64().unwrap() as usize,
            n["pid"].as_u64().unwrap() as u32,
        )
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
        if self.child.is_none() {
            // Killed: start it once more so that it stops the children it adopts.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.restart())).is_err() {
                return;
            }
        }
        self.stop();
    }
}

pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

pub fn http_get(api: &str, path: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(api).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}
