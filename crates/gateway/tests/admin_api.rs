//! The admin API refuses bad requests with a 4xx status and a JSON `error` that says
//! what is wrong, and never changes anything when it does.

mod common;

use common::{Pair, TestGateway};

#[test]
fn bad_requests_get_4xx_with_a_json_error() {
    let pair = Pair::start();
    let gw = TestGateway::start(common::config(pair.nodes()));
    let [p, r] = [&pair.nodes()[0], &pair.nodes()[1]];
    let topo = |epoch: u64, primary: &str| {
        format!(r#"{{"epoch":{epoch},"nodes":["{p}","{r}"],"shards":[{{"primary":"{primary}"}}]}}"#)
    };
    let cases: Vec<(&str, &str, Option<String>, u16, &str)> = vec![
        ("GET", "/nowhere", None, 404, "no such route"),
        ("DELETE", "/topology", None, 405, "method not allowed"),
        ("PUT", "/topology", None, 400, "must be JSON"),
        (
            "PUT",
            "/topology",
            Some("{not json".into()),
            400,
            "expected",
        ),
        (
            "PUT",
            "/topology",
            Some(r#"{"epoch":1}"#.into()),
            400,
            "missing field",
        ),
        (
            "PUT",
            "/topology",
            Some(topo(1, "127.0.0.1:1")),
            400,
            "not one of the nodes",
        ),
        ("POST", "/switch/start", Some("{}".into()), 400, "target"),
        (
            "POST",
            "/switch/start",
            Some(format!(r#"{{"target":"{p}"}}"#)),
            400,
            "already the primary",
        ),
        (
            "POST",
            "/switch/start",
            Some(r#"{"target":"127.0.0.1:1"}"#.into()),
            400,
            "not a replica",
        ),
        (
            "POST",
            "/switch/start",
            Some(format!(r#"{{"shard":3,"target":"{r}"}}"#)),
            400,
            "no shard 3",
        ),
        (
            "POST",
            "/switch/finish",
            Some(r#"{"epoch":1}"#.into()),
            409,
            "no switch",
        ),
        ("POST", "/switch/abort", None, 409, "no switch"),
        (
            "POST",
            "/switch/abort",
            Some(r#"{"shard":"x"}"#.into()),
            400,
            "expected",
        ),
    ];
    for (method, path, body, status, text) in cases {
        let (got, json) = gw.http(method, path, body.as_deref());
        let error = json["error"].as_str().unwrap_or_default();
        assert_eq!(got, status, "{method} {path} {body:?}: {json}");
        assert!(
            error.contains(text),
            "{method} {path} {body:?}: {error:?} lacks {text:?}"
        );
    }

    // During a switch: a second start, a topology change and a stale finish conflict.
    let (s, _) = gw.post("/switch/start", &format!(r#"{{"target":"{r}"}}"#));
    assert_eq!(s, 200);
    let (s, j) = gw.post("/switch/start", &format!(r#"{{"target":"{r}"}}"#));
    assert_eq!(
        (
            s,
            j["error"].as_str().unwrap().contains("already in progress")
        ),
        (409, true),
        "{j}"
    );
    let (s, j) = gw.http("PUT", "/topology", Some(&topo(1, r)));
    assert_eq!(
        (s, j["error"].as_str().unwrap().contains("in progress")),
        (409, true),
        "{j}"
    );
    let (s, j) = gw.post("/switch/finish", r#"{"epoch":0}"#);
    assert_eq!(
        (
            s,
            j["error"].as_str().unwrap().contains("above the current")
        ),
        (409, true),
        "{j}"
    );
    let (s, _) = gw.http("POST", "/switch/abort", None);
    assert_eq!(s, 200);

    // Nothing above changed the topology.
    let (s, t) = gw.http("GET", "/topology", None);
    assert_eq!(s, 200);
    assert_eq!(
        (t["epoch"].as_u64(), t["shards"][0]["primary"].as_str()),
        (Some(0), Some(p.as_str()))
    );
    let (s, h) = gw.http("GET", "/health", None);
    assert_eq!((s, h["status"].as_str()), (200, Some("ok")));
}
