//! Real clients through the endpoint, plain and TLS: the `redis` crate, `redis-cli`
//! and redis-py; authentication with either access key in Redis's own words; and
//! direct node ports that reach only their own node.

mod common;

use common::{bulk, ok, show, Frame, Pair, TestGateway};
use ferrocache_testkit::{RedisServer, RespConn, Server, TempDir};
use std::net::SocketAddr;
use std::process::Command;

const KEY1: &str = "primary-key";
const KEY2: &str = "secondary-key";

fn gateway(pair: &Pair, dir: &TempDir) -> TestGateway {
    let mut cfg = common::with_tls(common::config(pair.nodes()), dir);
    cfg.auth_keys = vec![KEY1.into(), KEY2.into()];
    TestGateway::start(cfg)
}

/// Runs `redis-cli` and returns its stdout; panics if it fails.
fn redis_cli(addr: SocketAddr, extra: &[&str], args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &addr.port().to_string()])
        .args(["--no-auth-warning", "-a", KEY2])
        .args(extra)
        .args(args)
        .output()
        .expect("redis-cli (Debian's redis-tools) is installed");
    assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn redis_crate_with_either_key_and_wrong_key_refused() {
    let (pair, dir) = (Pair::start(), TempDir::new("gw").unwrap());
    let gw = gateway(&pair, &dir);
    for key in [KEY1, KEY2] {
        let client = redis::Client::open(format!("redis://:{key}@{}/", gw.endpoint())).unwrap();
        let mut c = client.get_connection().expect("connect with an access key");
        let _: () = redis::cmd("SET").arg("rs").arg(key).query(&mut c).unwrap();
        let got: String = redis::cmd("GET").arg("rs").query(&mut c).unwrap();
        assert_eq!(got, key);
        let (a, b): (i64, i64) = redis::pipe()
            .incr("n", 1)
            .incr("n", 1)
            .query(&mut c)
            .unwrap();
        assert_eq!(b, a + 1);
    }
    let client = redis::Client::open(format!("redis://:nope@{}/", gw.endpoint())).unwrap();
    let Err(err) = client.get_connection() else {
        panic!("a wrong key was accepted");
    };
    // The crate turns Redis's WRONGPASS into its own authentication error.
    assert!(err.to_string().contains("authentication failed"), "{err}");
}

/// The gateway answers AUTH and HELLO … AUTH itself: the same replies as a
/// redis-server with `requirepass` (whose password is one of the two keys).
#[test]
fn auth_replies_match_redis_server() {
    let (pair, dir) = (Pair::start(), TempDir::new("gw").unwrap());
    let gw = gateway(&pair, &dir);
    let reference = RedisServer::start_with(&["--requirepass", KEY1]).unwrap();
    let script: &[&[&str]] = &[
        &["GET", "x"],
        &["HELLO", "3"],
        &["AUTH", "wrong"],
        &["AUTH", "default", "wrong"],
        &["AUTH", "someone", KEY1],
        &["AUTH"],
        &["AUTH", "a", "b", "c"],
        &["AUTH", KEY1],
        &["PING"],
    ];
    let mut g = gw.connect();
    let mut r = reference.connect().unwrap();
    for cmd in script {
        let (got, want) = (g.cmd(cmd).unwrap(), r.cmd(cmd).unwrap());
        assert_eq!(
            got,
            want,
            "{cmd:?}: gateway {} redis {}",
            show(&got),
            show(&want)
        );
    }
    // HELLO 3 AUTH with either key: a RESP3 map, and the connection is authenticated.
    for key in [KEY1, KEY2] {
        let mut c = gw.connect();
        let hello = c.cmd(&["HELLO", "3", "AUTH", "default", key]).unwrap();
        let Frame::Map(fields) = &hello else {
            panic!("HELLO 3 AUTH: {}", show(&hello))
        };
        assert!(
            fields.contains(&(bulk("proto"), Frame::Integer(3))),
            "{}",
            show(&hello)
        );
        assert_eq!(c.cmd(&["SET", "h", "1"]).unwrap(), ok());
    }
    let mut c = gw.connect();
    let wrong = c.cmd(&["HELLO", "3", "AUTH", "default", "nope"]).unwrap();
    let want = r.cmd(&["HELLO", "3", "AUTH", "default", "nope"]).unwrap();
    assert_eq!(wrong, want, "{}", show(&wrong));
}

#[test]
fn redis_cli_plain_and_tls() {
    let (pair, dir) = (Pair::start(), TempDir::new("gw").unwrap());
    let gw = gateway(&pair, &dir);
    let tls = gw.addrs.tls_endpoint.expect("a TLS endpoint");
    assert_eq!(
        redis_cli(gw.endpoint(), &[], &["SET", "cli", "plain"]),
        "OK"
    );
    assert_eq!(
        redis_cli(tls, &["--tls", "--insecure"], &["GET", "cli"]),
        "plain"
    );
    assert_eq!(
        redis_cli(tls, &["--tls", "--insecure"], &["SET", "cli", "tls"]),
        "OK"
    );
    assert_eq!(redis_cli(gw.endpoint(), &[], &["GET", "cli"]), "tls");
    // Pipelined input through TLS: many commands in one stream, every reply in order.
    let mut input = String::new();
    for i in 0..200 {
        input += &format!("SET p{i} {i}\nGET p{i}\n");
    }
    let mut child = Command::new("redis-cli")
        .args([
            "-p",
            &tls.port().to_string(),
            "--tls",
            "--insecure",
            "--no-auth-warning",
        ])
        .args(["-a", KEY1])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    let want: Vec<String> = (0..200)
        .flat_map(|i| ["OK".to_string(), i.to_string()])
        .collect();
    assert_eq!(lines, want);
}

#[test]
fn redis_py_plain_tls_and_resp3() {
    let (pair, dir) = (Pair::start(), TempDir::new("gw").unwrap());
    let gw = gateway(&pair, &dir);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/gateway_clients.py");
    let tls = gw.addrs.tls_endpoint.unwrap();
    let out = Command::new("python3")
        .args([script, "127.0.0.1", &gw.endpoint().port().to_string()])
        .args([&tls.port().to_string(), KEY1, KEY2])
        .output()
        .expect("python3 with redis-py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("all checks passed"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn direct_node_ports_reach_only_their_node() {
    let (pair, dir) = (Pair::start(), TempDir::new("gw").unwrap());
    let gw = gateway(&pair, &dir);
    let role = |c: &mut RespConn| match c.cmd(&["ROLE"]).unwrap() {
        Frame::Array(items) => items[0].clone(),
        other => panic!("ROLE: {}", show(&other)),
    };
    let mut n0 = RespConn::connect(gw.addrs.nodes[0]).unwrap();
    let mut n1 = RespConn::connect(gw.addrs.nodes[1]).unwrap();
    assert_eq!(
        n0.cmd(&["GET", "x"]).unwrap(),
        Frame::Error("NOAUTH Authentication required.".into())
    );
    for c in [&mut n0, &mut n1] {
        assert_eq!(c.cmd(&["AUTH", KEY1]).unwrap(), ok());
    }
    assert_eq!(role(&mut n0), bulk("master"));
    assert_eq!(role(&mut n1), bulk("slave"));
    let refused = n1.cmd(&["SET", "x", "1"]).unwrap();
    assert!(
        matches!(&refused, Frame::Error(e) if e.starts_with(b"READONLY")),
        "{}",
        show(&refused)
    );
    let port = |s: &RedisServer| s.port().to_string();
    let cfg = |c: &mut RespConn| c.cmd(&["CONFIG", "GET", "port"]).unwrap();
    assert_eq!(
        cfg(&mut n0),
        Frame::Array(vec![bulk("port"), bulk(&port(&pair.primary))])
    );
    assert_eq!(
        cfg(&mut n1),
        Frame::Array(vec![bulk("port"), bulk(&port(&pair.replica))])
    );
    let tls1 = gw.addrs.tls_nodes[1];
    assert_eq!(
        redis_cli(tls1, &["--tls", "--insecure"], &["CONFIG", "GET", "port"]),
        format!("port\n{}", port(&pair.replica))
    );
}
