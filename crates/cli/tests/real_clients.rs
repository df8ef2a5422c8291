//! Real clients that no one here wrote — `redis-cli`, `redis-benchmark`, the `redis`
//! crate and redis-py — against `ferrocache node`. Each test starts its own node on
//! 127.0.0.1 and bounds every wait. With `FERRO_DIFF_SELF=1` they run against a
//! redis-server instead (to check the tests themselves).

use ferrocache_testkit::{FerroNode, RedisServer, RespConn, Server, SIGINT, SIGTERM};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

fn start() -> Box<dyn Server> {
    if std::env::var("FERRO_DIFF_SELF").is_ok_and(|v| !v.is_empty() && v != "0") {
        Box::new(RedisServer::start().expect("start redis-server"))
    } else {
        let bin = Path::new(env!("CARGO_BIN_EXE_ferrocache"));
        Box::new(FerroNode::start(bin, &[]).expect("start ferrocache node"))
    }
}

struct Output {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

impl Output {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs a program with `stdin` fed from a thread, killing it if it outlives `timeout`.
fn run(program: &str, args: &[&str], stdin: &[u8], timeout: Duration) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {program} (is it installed?): {e}"));
    let mut input = child.stdin.take().expect("piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut err = child.stderr.take().expect("piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} {args:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    Output {
        status,
        stdout: reader.join().expect("reader"),
        stderr: err_reader.join().expect("reader"),
    }
}

fn cli(server: &dyn Server, args: &[&str]) -> String {
    cli_stdin(server, args, b"")
}

fn cli_stdin(server: &dyn Server, args: &[&str], stdin: &[u8]) -> String {
    let port = server.port().to_string();
    let mut all = vec!["-h", "127.0.0.1", "-p", &port];
    all.extend_from_slice(args);
    let out = run("redis-cli", &all, stdin, Duration::from_secs(30));
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {} {}",
        out.status,
        out.stderr
    );
    out.text()
}

#[test]
fn redis_cli_one_shot_commands() {
    let s = start();
    let s = s.as_ref();
    assert_eq!(cli(s, &["PING"]), "PONG\n");
    assert_eq!(cli(s, &["SET", "greeting", "hello world"]), "OK\n");
    assert_eq!(cli(s, &["GET", "greeting"]), "hello world\n");
    assert_eq!(
        cli(s, &["--no-raw", "GET", "greeting"]),
        "\"hello world\"\n"
    );
    assert_eq!(cli(s, &["--no-raw", "GET", "missing"]), "(nil)\n");
    assert_eq!(cli(s, &["--no-raw", "INCR", "counter"]), "(integer) 1\n");
    assert_eq!(cli(s, &["-r", "3", "INCR", "counter"]), "2\n3\n4\n");
    assert_eq!(cli(s, &["MSET", "a", "1", "b", "2"]), "OK\n");
    assert_eq!(cli(s, &["MGET", "a", "b", "nope"]), "1\n2\n\n");
    assert_eq!(
        cli(s, &["--no-raw", "MGET", "a", "nope"]),
        "1) \"1\"\n2) (nil)\n"
    );
    assert_eq!(cli(s, &["-n", "3", "SET", "in3", "x"]), "OK\n");
    assert_eq!(cli(s, &["-n", "3", "GET", "in3"]), "x\n");
    assert_eq!(cli(s, &["-n", "0", "EXISTS", "in3"]), "0\n");
    assert_eq!(cli(s, &["DBSIZE"]), "4\n");
    assert_eq!(cli(s, &["EXPIRE", "greeting", "1000"]), "1\n");
    let ttl: i64 = cli(s, &["TTL", "greeting"])
        .trim()
        .parse()
        .expect("TTL is an integer");
    assert!((998..=1000).contains(&ttl), "TTL {ttl}");
    // An error reply is printed (and with -e, exits non-zero).
    let out = cli(s, &["NOSUCH", "a"]);
    assert_eq!(
        out.trim_end_matches('\n'),
        "ERR unknown command 'NOSUCH', with args beginning with: 'a' "
    );
    let port = s.port().to_string();
    let failed = run(
        "redis-cli",
        &["-p", &port, "-e", "INCR", "greeting"],
        b"",
        Duration::from_secs(30),
    );
    assert!(!failed.status.success());
    assert!(
        failed
            .stderr
            .contains("ERR value is not an integer or out of range"),
        "{}",
        failed.stderr
    );
    // -x: the last argument from stdin, binary-safe.
    let blob: Vec<u8> = (0u8..=255).cycle().take(5000).collect();
    assert_eq!(cli_stdin(s, &["-x", "SET", "blob"], &blob), "OK\n");
    assert_eq!(cli(s, &["STRLEN", "blob"]), "5000\n");
    let mut c = s.connect().unwrap();
    assert_eq!(
        c.cmd(&["GET", "blob"]).unwrap(),
        ferrocache_testkit::Frame::Bulk(blob.into())
    );
    // INFO parsed by a human-facing tool.
    let info = cli(s, &["INFO", "keyspace"]);
    assert!(info.contains("# Keyspace"), "{info}");
    assert!(info.contains("db0:keys=5,expires=1"), "{info}");
    assert!(info.contains("db3:keys=1,expires=0"), "{info}");
}

#[test]
fn redis_cli_reads_commands_from_stdin() {
    let s = start();
    let out = cli_stdin(
        s.as_ref(),
        &[],
        b"SET a 1\nINCR a\nGET a\nPING\nSET q \"x y\"\nGET q\nDEL a q\n",
    );
    assert_eq!(out, "OK\n2\n2\nPONG\nOK\nx y\n2\n");
}

#[test]
fn redis_cli_pipe_mass_insertion() {
    let s = start();
    let mut input = Vec::new();
    for i in 0..10_000 {
        let (k, v) = (format!("key:{i}"), format!("value:{i}"));
        input.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{v}\r\n",
                k.len(),
                v.len()
            )
            .as_bytes(),
        );
    }
    let out = cli_stdin(s.as_ref(), &["--pipe"], &input);
    assert!(out.contains("errors: 0, replies: 10000"), "{out}");
    let mut c = s.connect().unwrap();
    assert_eq!(
        c.cmd(&["DBSIZE"]).unwrap(),
        ferrocache_testkit::Frame::Integer(10_000)
    );
    assert_eq!(
        c.cmd(&["GET", "key:9999"]).unwrap(),
        ferrocache_testkit::Frame::Bulk("value:9999".into())
    );
}

#[test]
fn redis_cli_scan_and_resp3() {
    let s = start();
    let s = s.as_ref();
    let mut c = s.connect().unwrap();
    for i in 0..250 {
        c.cmd(&["SET", &format!("user:{i}"), "x"]).unwrap();
        c.cmd(&["SET", &format!("other:{i}"), "y"]).unwrap();
    }
    let out = cli(s, &["--scan", "--pattern", "user:*"]);
    let mut keys: Vec<&str> = out.lines().collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 250);
    assert!(keys.iter().all(|k| k.starts_with("user:")));
    // RESP3 session: doubles, maps and nulls as redis-cli prints them.
    assert_eq!(cli(s, &["-3", "--no-raw", "GET", "nope"]), "(nil)\n");
    assert_eq!(
        cli(s, &["-3", "--no-raw", "INCRBYFLOAT", "f", "1.5"]),
        "\"1.5\"\n"
    );
    assert_eq!(
        cli(s, &["-3", "--no-raw", "CONFIG", "GET", "maxclients"]),
        "1# \"maxclients\" => \"10000\"\n"
    );
    let hello = cli(s, &["-3", "--no-raw", "HELLO", "3"]);
    assert!(hello.contains("\"proto\" => (integer) 3"), "{hello}");
    assert_eq!(
        cli(s, &["-2", "--no-raw", "CONFIG", "GET", "maxclients"]),
        "1) \"maxclients\"\n2) \"10000\"\n"
    );
}

#[test]
fn redis_benchmark_smoke() {
    let s = start();
    let port = s.port().to_string();
    let out = run(
        "redis-benchmark",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-n",
            "2000",
            "-c",
            "10",
            "-P",
            "4",
            "-t",
            "ping,set,get,incr,mset",
            "-q",
        ],
        b"",
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{} {}", out.status, out.stderr);
    let text = out.text();
    for t in [
        "PING_INLINE: ",
        "PING_MBULK: ",
        "SET: ",
        "GET: ",
        "INCR: ",
        "MSET (10 keys): ",
    ] {
        assert!(text.contains(t), "no {t} line in:\n{text}");
    }
    assert_eq!(text.matches("requests per second").count(), 6, "{text}");
    // Every connection is gone afterwards, and the server still answers.
    let mut c = s.connect().unwrap();
    assert_eq!(
        c.cmd(&["PING"]).unwrap(),
        ferrocache_testkit::Frame::Simple("PONG".into())
    );
}

mod redis_crate {
    //! The `redis` crate's sync API: commands, pipelines, transactions, pub/sub.

    use super::start;
    use redis::{Commands, PushKind, Value};
    use std::time::Duration;

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn connect(s: &dyn ferrocache_testkit::Server, resp3: bool) -> redis::Connection {
        let url = format!(
            "redis://{}/{}",
            s.addr(),
            if resp3 { "?protocol=resp3" } else { "" }
        );
        let client = redis::Client::open(url).expect("client");
        let con = client
            .get_connection_with_timeout(TIMEOUT)
            .expect("connect");
        con.set_read_timeout(Some(TIMEOUT)).unwrap();
        con.set_write_timeout(Some(TIMEOUT)).unwrap();
        con
    }

    fn basic_commands(con: &mut redis::Connection) {
        let _: () = con.set("k", "v").unwrap();
        assert_eq!(con.get::<_, String>("k").unwrap(), "v");
        assert_eq!(con.get::<_, Option<String>>("missing").unwrap(), None);
        let _: () = con.mset(&[("a", "1"), ("b", "2")]).unwrap();
        let got: Vec<Option<String>> = con.mget(&["a", "b", "missing"]).unwrap();
        assert_eq!(got, vec![Some("1".into()), Some("2".into()), None]);
        assert_eq!(con.incr::<_, _, i64>("n", 5).unwrap(), 5);
        assert_eq!(con.incr::<_, _, f64>("f", 1.5).unwrap(), 1.5);
        let bin: Vec<u8> = vec![0, 1, b'\r', b'\n', 255];
        let _: () = con.set(&bin[..], &bin[..]).unwrap();
        assert_eq!(con.get::<_, Vec<u8>>(&bin[..]).unwrap(), bin);
        let _: () = con.set_ex("ttl", "v", 1000).unwrap();
        let ttl: i64 = con.ttl("ttl").unwrap();
        assert!((998..=1000).contains(&ttl), "TTL {ttl}");
        // Error replies keep their code and text.
        let err = con.incr::<_, _, i64>("k", 1).unwrap_err();
        assert_eq!(err.code(), Some("ERR"), "{err}");
        assert!(
            err.to_string()
                .contains("value is not an integer or out of range"),
            "{err}"
        );
        let exists: bool = con.exists("k").unwrap();
        assert!(exists);
        let deleted: i64 = con.del(&["k", "a", "b"]).unwrap();
        assert_eq!(deleted, 3);
    }

    #[test]
    fn commands_resp2_and_resp3() {
        let s = start();
        basic_commands(&mut connect(s.as_ref(), false));
        let mut con = connect(s.as_ref(), true);
        let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
        basic_commands(&mut con);
        let hello: Value = redis::cmd("HELLO").arg(3).query(&mut con).unwrap();
        assert!(matches!(hello, Value::Map(_)), "{hello:?}");
    }

    #[test]
    fn pipelines_and_transactions() {
        let s = start();
        let mut con = connect(s.as_ref(), false);
        let mut pipe = redis::pipe();
        for i in 0..500 {
            pipe.set(format!("p{i}"), i).ignore();
        }
        pipe.get("p499").incr("p0", 10).cmd("DBSIZE");
        let (last, incremented, size): (i64, i64, i64) = pipe.query(&mut con).unwrap();
        assert_eq!((last, incremented, size), (499, 10, 500));

        // MULTI/EXEC pipeline.
        let (a, b): (i64, i64) = redis::pipe()
            .atomic()
            .incr("t", 1)
            .incr("t", 2)
            .query(&mut con)
            .unwrap();
        assert_eq!((a, b), (1, 3));

        // WATCH-based transaction that is retried after another client's write.
        let mut other = connect(s.as_ref(), false);
        let mut attempts = 0;
        let (value,): (i64,) = redis::transaction(&mut con, &["w"], |con, pipe| {
            attempts += 1;
            let current: Option<i64> = con.get("w")?;
            if attempts == 1 {
                let _: () = other.set("w", 100)?;
            }
            pipe.set("w", current.unwrap_or(0) + 1)
                .ignore()
                .get("w")
                .query(con)
        })
        .unwrap();
        assert_eq!(value, 101);
        assert_eq!(attempts, 2, "the first EXEC must abort because 'w' changed");
    }

    #[test]
    fn pubsub_resp2() {
        let s = start();
        let mut sub_con = connect(s.as_ref(), false);
        let mut publisher = connect(s.as_ref(), false);
        let mut sub = sub_con.as_pubsub();
        sub.set_read_timeout(Some(TIMEOUT)).unwrap();
        sub.subscribe("news").unwrap();
        sub.psubscribe("sport.*").unwrap();
        assert_eq!(publisher.publish::<_, _, i64>("news", "hello").unwrap(), 1);
        assert_eq!(
            publisher
                .publish::<_, _, i64>("sport.tennis", &b"\0bin"[..])
                .unwrap(),
            1
        );
        let m = sub.get_message().unwrap();
        assert_eq!(
            (m.get_channel_name(), m.get_payload::<String>().unwrap()),
            ("news", "hello".into())
        );
        let m = sub.get_message().unwrap();
        assert_eq!(m.get_channel_name(), "sport.tennis");
        assert_eq!(m.get_pattern::<String>().unwrap(), "sport.*");
        assert_eq!(m.get_payload_bytes(), b"\0bin");
        sub.unsubscribe("news").unwrap();
        sub.punsubscribe("sport.*").unwrap();
        drop(sub);
        // Back to normal commands on the same connection.
        let _: () = sub_con.set("after", "pubsub").unwrap();
        assert_eq!(sub_con.get::<_, String>("after").unwrap(), "pubsub");
    }

    #[test]
    fn pubsub_resp3_push() {
        let s = start();
        let mut sub = connect(s.as_ref(), true);
        let (tx, rx) = std::sync::mpsc::channel();
        sub.set_push_sender(tx);
        sub.subscribe_resp3("ch").unwrap();
        let mut publisher = connect(s.as_ref(), false);
        assert_eq!(publisher.publish::<_, _, i64>("ch", "pushed").unwrap(), 1);
        // Pushes are read along with replies: a PING collects the message.
        let _: String = redis::cmd("PING").query(&mut sub).unwrap();
        let deadline = std::time::Instant::now() + TIMEOUT;
        let mut kinds = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let push = rx
                .recv_timeout(left)
                .expect("push message within the deadline");
            kinds.push(push.kind.clone());
            if push.kind == PushKind::Message {
                assert_eq!(push.data[1], Value::BulkString(b"pushed".to_vec()));
                break;
            }
        }
        assert_eq!(kinds, vec![PushKind::Subscribe, PushKind::Message]);
    }
}

/// redis-py: skipped only when it is not installed and CI is not set (in CI the test
/// command must install it).
#[test]
fn redis_py_client() {
    let probe = Command::new("python3")
        .args(["-c", "import redis"])
        .output();
    let available = matches!(&probe, Ok(o) if o.status.success());
    if !available {
        if std::env::var_os("CI").is_some() {
            panic!("redis-py is not installed, and CI is set: the test command must install it (pip install redis)");
        }
        eprintln!("SKIPPED redis_py_client: python3 cannot `import redis` (pip install redis); set CI=1 to make this a failure");
        return;
    }
    let s = start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/client_check.py");
    let port = s.port().to_string();
    let out = run(
        "python3",
        &[script, "127.0.0.1", &port],
        b"",
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "redis-py check failed ({}):\n{}\n{}",
        out.status,
        out.text(),
        out.stderr
    );
    assert!(
        out.text().contains("redis-py: all checks passed"),
        "{}",
        out.text()
    );
}

#[test]
fn node_stops_cleanly_on_sigterm_and_sigint() {
    if std::env::var("FERRO_DIFF_SELF").is_ok_and(|v| !v.is_empty() && v != "0") {
        return;
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_ferrocache"));
    for sig in [SIGTERM, SIGINT] {
        let node = FerroNode::start(bin, &[]).expect("start node");
        let mut c = RespConn::connect(node.addr()).unwrap();
        assert_eq!(
            c.cmd(&["SET", "k", "v"]).unwrap(),
            ferrocache_testkit::Frame::Simple("OK".into())
        );
        let status = node
            .stop_with_signal(sig)
            .expect("node exits within the deadline");
        assert!(status.success(), "exit status after signal {sig}: {status}");
        assert!(
            c.wait_closed(Duration::from_secs(5)).unwrap(),
            "client connection closed at shutdown"
        );
    }
}
