//! Loading an AOF whose incremental file is larger than the loader's read chunk:
//! commands and transactions cut by chunk boundaries load whole, a value larger
//! than a chunk loads, a truncated tail is still cut back to the last whole
//! command, and corruption past the first chunk refuses the start with the file
//! and the exact offset.

mod common;

use common::*;
use ferrocache_testkit::{Frame, Server};
use std::io::Write;
use std::path::{Path, PathBuf};

const AOF: [(&str, &str); 2] = [("appendonly", "yes"), ("appendfsync", "no")];

/// A node that wrote several chunks' worth of commands (a 3 MB value, 40,000
/// small writes, transactions) and stopped cleanly; returns the incremental file.
fn written(dir: &Path) -> PathBuf {
    let node = InProcessNode::start(dir, &AOF).unwrap();
    let mut c = node.connect().unwrap();
    let big = vec![b'b'; 3 << 20];
    ok(c.send(&[&b"SET"[..], b"big", &big]).unwrap());
    let batch: Vec<Vec<Vec<u8>>> = (0..40_000)
        .flat_map(|i| {
            let mut cmds = vec![vec![
                b"SET".to_vec(),
                format!("k:{i}").into_bytes(),
                format!("value number {i}").into_bytes(),
            ]];
            if i % 1000 == 0 {
                cmds.push(vec![b"MULTI".to_vec()]);
                cmds.push(vec![b"INCR".to_vec(), b"tx".to_vec()]);
                cmds.push(vec![
                    b"RPUSH".to_vec(),
                    b"txlist".to_vec(),
                    i.to_string().into_bytes(),
                ]);
                cmds.push(vec![b"EXEC".to_vec()]);
            }
            cmds
        })
        .collect();
    let replies = c.pipeline(&batch).unwrap();
    assert!(replies.iter().all(|r| !matches!(r, Frame::Error(_))));
    drop(c);
    node.stop();
    let files = incr_files(dir);
    let incr = files.last().expect("an incremental file").clone();
    let len = std::fs::metadata(&incr).unwrap().len();
    assert!(len > 4 << 20, "the incremental file is only {len} bytes");
    incr
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

fn check_contents(node: &InProcessNode) {
    let mut c = node.connect().unwrap();
    assert_eq!(int(c.cmd(&["STRLEN", "big"]).unwrap()), 3 << 20);
    assert_eq!(text(c.cmd(&["GET", "k:0"]).unwrap()), "value number 0");
    assert_eq!(
        text(c.cmd(&["GET", "k:39999"]).unwrap()),
        "value number 39999"
    );
    assert_eq!(text(c.cmd(&["GET", "tx"]).unwrap()), "40");
    assert_eq!(int(c.cmd(&["LLEN", "txlist"]).unwrap()), 40);
    // 40,000 keys, big, tx, txlist.
    assert_eq!(int(c.cmd(&["DBSIZE"]).unwrap()), 40_003);
}

#[test]
fn a_file_of_many_chunks_with_a_truncated_tail_loads_and_is_cut_back() {
    let dir = tempdir("aof-load-trunc");
    let incr = written(dir.path());
    let good = std::fs::metadata(&incr).unwrap().len();
    // A transaction without its EXEC, then a command cut in its value.
    append(
        &incr,
        b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$5\r\nhalf1\r\n$1\r\n1\r\n",
    );
    append(&incr, b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$100\r\nxx");

    let refused = InProcessNode::start(dir.path(), &[AOF[0], AOF[1], ("aof-load-truncated", "no")]);
    let err = format!("{:#}", refused.err().expect("a refusal"));
    assert!(err.contains("Unexpected end of file"), "{err}");
    assert!(err.contains(&format!("at offset {good}")), "{err}");

    let node = InProcessNode::start(dir.path(), &AOF).unwrap();
    check_contents(&node);
    let mut c = node.connect().unwrap();
    assert_eq!(int(c.cmd(&["EXISTS", "half1", "lost"]).unwrap()), 0);
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), good);
}

#[test]
fn corruption_past_the_first_chunk_names_the_file_and_offset() {
    let dir = tempdir("aof-load-corrupt");
    let incr = written(dir.path());
    let good = std::fs::metadata(&incr).unwrap().len();
    append(&incr, b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\nnot a command\r\n");
    append(&incr, b"*2\r\n$3\r\nDEL\r\n$3\r\nbig\r\n");
    let bad = good + b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n".len() as u64;

    let refused = InProcessNode::start(dir.path(), &AOF);
    let err = format!("{:#}", refused.err().expect("a refusal"));
    assert!(err.contains("Bad file format"), "{err}");
    let name = incr.file_name().unwrap().to_string_lossy().into_owned();
    assert!(err.contains(&name), "{err}");
    assert!(err.contains(&format!("at offset {bad}:")), "{err}");
    // Nothing was cut.
    assert!(std::fs::metadata(&incr).unwrap().len() > bad);
}

#[test]
fn a_clean_file_of_many_chunks_loads_whole() {
    let dir = tempdir("aof-load-clean");
    let incr = written(dir.path());
    let len = std::fs::metadata(&incr).unwrap().len();
    let node = InProcessNode::start(dir.path(), &AOF).unwrap();
    check_contents(&node);
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), len);
}
