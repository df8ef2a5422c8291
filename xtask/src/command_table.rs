//! `cargo xtask command-table`: regenerates the command table in
//! `crates/commands/src/table.rs` from a live redis-server's `COMMAND INFO` and
//! `COMMAND DOCS`, so that every fact in it (arity, flags, key specs, ACL categories,
//! tips, docs) is what Redis itself reports.
//!
//! The table keeps hand-written code (helpers, index, tests) around one generated
//! region between the `BEGIN GENERATED` and `END GENERATED` lines; only that region
//! is rewritten. Which commands it holds is read back from the table itself, so a
//! later issue adds commands with `--add hset hget` and a plain run refreshes them.

use anyhow::{anyhow, bail, Context, Result};
use ferrocache_resp::Frame;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Marks the start of the generated region (the rest of the line is free text).
const BEGIN: &str = "// BEGIN GENERATED";
/// Marks its end.
const END: &str = "// END GENERATED";

/// Groups in the order the table lists them; groups not named here follow, sorted.
const GROUP_ORDER: &[&str] = &[
    "connection",
    "server",
    "generic",
    "string",
    "bitmap",
    "list",
    "set",
    "sorted-set",
    "hash",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "transactions",
    "scripting",
    "cluster",
    "sentinel",
];

/// Command flags `COMMAND INFO` may show, and the constants in
/// `crates/commands/src/flags.rs` that stand for them.
const FLAGS: &[(&str, &str)] = &[
    ("write", "WRITE"),
    ("readonly", "READONLY"),
    ("denyoom", "DENYOOM"),
    ("module", "MODULE"),
    ("admin", "ADMIN"),
    ("pubsub", "PUBSUB"),
    ("noscript", "NOSCRIPT"),
    ("blocking", "BLOCKING"),
    ("loading", "LOADING"),
    ("stale", "STALE"),
    ("skip_monitor", "SKIP_MONITOR"),
    ("skip_slowlog", "SKIP_SLOWLOG"),
    ("asking", "ASKING"),
    ("fast", "FAST"),
    ("no_auth", "NO_AUTH"),
    ("no_mandatory_keys", "NO_MANDATORY_KEYS"),
    ("no_async_loading", "NO_ASYNC_LOADING"),
    ("no_multi", "NO_MULTI"),
    ("movablekeys", "MOVABLE_KEYS"),
    ("allow_busy", "ALLOW_BUSY"),
    // Hidden by Redis; see `HIDDEN_FLAGS`.
    ("may_replicate", "MAY_REPLICATE"),
];

/// Flags Redis sets but keeps out of `COMMAND INFO`, so they cannot be fetched: by
/// full command name, from Redis 7.0's `src/commands/*.json`. The node needs
/// `may_replicate` (CLIENT PAUSE WRITE holds these commands back like writes).
/// Add a line when a command that has one joins the table (EVAL, EVALSHA, FCALL,
/// FUNCTION DELETE/FLUSH/LOAD/RESTORE, SCRIPT FLUSH/LOAD, SPUBLISH, PFCOUNT).
const HIDDEN_FLAGS: &[(&str, &str)] = &[("publish", "may_replicate")];

/// Key-spec flags and their constants in `ferrocache_commands::ks`.
const KEY_FLAGS: &[(&str, &str)] = &[
    ("RO", "RO"),
    ("RW", "RW"),
    ("OW", "OW"),
    ("RM", "RM"),
    ("access", "ACCESS"),
    ("update", "UPDATE"),
    ("insert", "INSERT"),
    ("delete", "DELETE"),
    ("not_key", "NOT_KEY"),
    ("incomplete", "INCOMPLETE"),
    ("variable_flags", "VARIABLE_FLAGS"),
];

/// Lines longer than this get their last argument moved to a line of its own.
const WIDTH: usize = 100;

/// Arguments of `cargo xtask command-table`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Query the redis-server already listening on this port instead of starting one.
    #[arg(long)]
    pub port: Option<u16>,
    /// The redis-server binary to start when no --port is given.
    #[arg(long, default_value = "redis-server")]
    pub redis_server: String,
    /// Commands to add to the table (`hset`, or `client|getname` for one subcommand).
    #[arg(long, num_args = 1..)]
    pub add: Vec<String>,
    /// Fail if the table differs from what Redis reports, instead of rewriting it.
    #[arg(long)]
    pub check: bool,
    /// The table file (default: crates/commands/src/table.rs in this workspace).
    #[arg(long)]
    pub table: Option<PathBuf>,
}

/// Runs the chore: asks Redis about every command in the table plus `--add`, then
/// rewrites the table's generated region (or, with `--check`, compares it, text and
/// compiled values both).
pub fn run(args: Args) -> Result<()> {
    let path = args.table.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/commands/src/table.rs")
    });
    let mut names = table_names();
    for name in &args.add {
        let name = name.to_ascii_lowercase();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let _server; // Kept alive (and the server running) until the end of `run`.
    let port = match args.port {
        Some(port) => port,
        None => {
            let server = Server::start(&args.redis_server)?;
            let port = server.port;
            _server = server;
            port
        }
    };
    let entries = generate(port, &names)?;
    let old =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let new = splice(&old, &entries)?;
    if args.check {
        // Compares values too: the text can match while a builder misplaces a field.
        check_values(port)?;
        if old != new {
            bail!(
                "{} is out of date with redis-server; run `cargo xtask command-table`",
                path.display()
            );
        }
        println!("{}: up to date ({} names)", path.display(), names.len());
    } else if old != new {
        std::fs::write(&path, new).with_context(|| format!("writing {}", path.display()))?;
        println!("{}: rewritten ({} names)", path.display(), names.len());
    } else {
        println!("{}: unchanged", path.display());
    }
    Ok(())
}

/// The names the table holds now: every top-level command, and `container|sub` for
/// every subcommand (so that a container keeps exactly the subcommands it has).
pub fn table_names() -> Vec<String> {
    let mut names = Vec::new();
    for c in ferrocache_commands::COMMANDS {
        names.push(c.name.to_string());
        for s in c.subcommands {
            names.push(format!("{}|{}", c.name, s.name));
        }
    }
    names
}

/// Asks the redis-server on 127.0.0.1:`port` about `names` and renders the table's
/// generated region: one entry per command, grouped by Redis group under a heading
/// comment, sorted by name within a group.
///
/// A name is a command (`get`), which brings all its subcommands, or `container|sub`,
/// which brings that subcommand; a container named both ways keeps only the
/// subcommands named. Names are case-insensitive.
pub fn generate(port: u16, names: &[&str]) -> Result<String> {
    let mut conn = Conn::connect(port)?;
    let (version, mut cmds) = fetch(&mut conn, names)?;
    add_hidden_flags(&mut cmds);
    render(&version, &cmds)
}

/// Compares the compiled table, value by value, with what the redis-server on
/// 127.0.0.1:`port` reports for the same names; the error lists every difference.
/// This catches what a text comparison cannot: a builder that stores an argument in
/// the wrong field.
pub fn check_values(port: u16) -> Result<()> {
    let names = table_names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut conn = Conn::connect(port)?;
    let (version, mut redis) = fetch(&mut conn, &names)?;
    add_hidden_flags(&mut redis);
    let mut diffs = Vec::new();
    for want in &redis {
        let Some(spec) = ferrocache_commands::COMMANDS
            .iter()
            .find(|c| c.name == want.name)
        else {
            diffs.push(format!("{}: missing from the table", want.name));
            continue;
        };
        let have = Cmd::from_spec(spec);
        if have != *want {
            diffs.push(format!(
                "{}:
  table: {have:?}
  redis: {want:?}",
                want.name
            ));
        }
    }
    if !diffs.is_empty() {
        bail!(
            "the table differs from redis-server {version}:\n{}",
            diffs.join("\n")
        );
    }
    Ok(())
}

/// Asks Redis about `names` (see `generate`): its version, and the commands sorted
/// by name.
fn fetch(conn: &mut Conn, names: &[&str]) -> Result<(String, Vec<Cmd>)> {
    // container -> the subcommands asked for (empty: all of them).
    let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in names {
        let name = name.to_ascii_lowercase();
        match name.split_once('|') {
            Some((cmd, sub)) => wanted
                .entry(cmd.to_string())
                .or_default()
                .push(sub.to_string()),
            None => {
                wanted.entry(name).or_default();
            }
        }
    }
    if wanted.is_empty() {
        bail!("no command names given");
    }
    let version = server_version(conn)?;

    let mut request = vec!["COMMAND", "INFO"];
    request.extend(wanted.keys().map(String::as_str));
    let infos = conn.call(&request)?;
    let infos = array(&infos).context("COMMAND INFO reply")?;
    request[1] = "DOCS";
    let docs = conn.call(&request)?;
    let docs: BTreeMap<String, &Frame> = pairs(&docs)
        .context("COMMAND DOCS reply")?
        .into_iter()
        .collect();

    let mut cmds = Vec::new();
    for ((name, subs), info) in wanted.iter().zip(infos) {
        if matches!(info, Frame::Null | Frame::NullArray) {
            bail!("redis-server {version} does not know the command {name:?}");
        }
        let doc = docs
            .get(name)
            .copied()
            .with_context(|| format!("no COMMAND DOCS for {name}"))?;
        let mut cmd = Cmd::parse(info, doc, None).with_context(|| format!("parsing {name}"))?;
        if !subs.is_empty() {
            for sub in subs {
                if !cmd.subcommands.iter().any(|s| &s.name == sub) {
                    bail!("redis-server {version} has no subcommand {name}|{sub}");
                }
            }
            cmd.subcommands.retain(|s| subs.contains(&s.name));
        }
        cmds.push(cmd);
    }
    Ok((version, cmds))
}

/// Appends the `HIDDEN_FLAGS` of each command (and subcommand).
fn add_hidden_flags(cmds: &mut [Cmd]) {
    fn walk(cmd: &mut Cmd, full: &str) {
        for (name, flag) in HIDDEN_FLAGS {
            if *name == full && !cmd.flags.iter().any(|f| f == flag) {
                cmd.flags.push(flag.to_string());
            }
        }
        for sub in &mut cmd.subcommands {
            let sub_full = format!("{full}|{}", sub.name);
            walk(sub, &sub_full);
        }
    }
    for cmd in cmds {
        let full = cmd.name.clone();
        walk(cmd, &full);
    }
}

/// Renders the generated region: groups in `GROUP_ORDER`, commands sorted by name.
fn render(version: &str, cmds: &[Cmd]) -> Result<String> {
    let mut groups: BTreeMap<&str, Vec<&Cmd>> = BTreeMap::new();
    for cmd in cmds {
        groups.entry(cmd.doc.group.as_str()).or_default().push(cmd);
    }
    let mut order: Vec<&str> = groups.keys().copied().collect();
    order.sort_by_key(|g| {
        (
            GROUP_ORDER
                .iter()
                .position(|o| o == g)
                .unwrap_or(usize::MAX),
            *g,
        )
    });
    let mut out = String::new();
    writeln!(
        out,
        "    {BEGIN} by `cargo xtask command-table` from redis-server {version}."
    )?;
    for (i, group) in order.into_iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "    // ---- {group} ----")?;
        let mut cmds = groups.get(group).cloned().unwrap_or_default();
        cmds.sort_by(|a, b| a.name.cmp(&b.name));
        for cmd in cmds {
            cmd.render(&mut out, 1)?;
        }
    }
    writeln!(out, "    {END}")?;
    Ok(out)
}

/// Replaces the generated region of `file` (its `BEGIN`..=`END` lines) with `entries`.
pub fn splice(file: &str, entries: &str) -> Result<String> {
    let begin = file
        .find(BEGIN)
        .context("no BEGIN GENERATED line in the table")?;
    let begin = file[..begin].rfind('\n').map_or(0, |i| i + 1);
    let end = file[begin..]
        .find(END)
        .context("no END GENERATED line in the table")?
        + begin;
    let end = file[end..].find('\n').map_or(file.len(), |i| end + i + 1);
    Ok(format!("{}{}{}", &file[..begin], entries, &file[end..]))
}

fn server_version(conn: &mut Conn) -> Result<String> {
    let info = conn.call(&["INFO", "server"])?;
    let text = info.as_bytes().context("INFO reply is not a string")?;
    let text = String::from_utf8_lossy(text);
    text.lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .map(|v| v.trim().to_string())
        .context("INFO server has no redis_version")
}

/// One command as Redis reports it (or as the table holds it), ready to render or
/// compare. Flags are Redis's names; subcommands are sorted by name.
#[derive(Debug, PartialEq)]
struct Cmd {
    name: String,
    arity: i64,
    flags: Vec<String>,
    first_key: i64,
    last_key: i64,
    step: i64,
    acl: Vec<String>,
    tips: Vec<String>,
    key_specs: Vec<Spec>,
    subcommands: Vec<Cmd>,
    doc: Doc,
}

#[derive(Debug, PartialEq, Default)]
struct Doc {
    group: String,
    summary: String,
    since: String,
    complexity: String,
    doc_flags: Vec<String>,
    deprecated_since: String,
    replaced_by: String,
    history: Vec<(String, String)>,
}

#[derive(Debug, PartialEq)]
struct Spec {
    notes: String,
    flags: Vec<String>,
    begin: Begin,
    find: Find,
}

#[derive(Debug, PartialEq)]
enum Begin {
    Index(i64),
    Keyword(String, i64),
    Unknown,
}

#[derive(Debug, PartialEq)]
enum Find {
    Range(i64, i64, i64),
    Keynum(i64, i64, i64),
    Unknown,
}

impl Cmd {
    /// Parses a `COMMAND INFO` entry and its `COMMAND DOCS` map; `parent` is the
    /// container's name for a subcommand.
    fn parse(info: &Frame, doc: &Frame, parent: Option<&str>) -> Result<Cmd> {
        let info = array(info)?;
        let field = |i: usize| {
            info.get(i)
                .with_context(|| format!("COMMAND INFO entry has no field {i}"))
        };
        let full = text(field(0)?)?;
        let name = match parent {
            Some(p) => full
                .strip_prefix(&format!("{p}|"))
                .with_context(|| format!("subcommand {full} not under {p}"))?
                .to_string(),
            None => full.clone(),
        };
        let doc_map: BTreeMap<String, &Frame> = pairs(doc)?.into_iter().collect();
        let mut subcommands = Vec::new();
        if let Some(subs) = info.get(9) {
            let sub_docs: BTreeMap<String, &Frame> = match doc_map.get("subcommands") {
                Some(f) => pairs(f)?.into_iter().collect(),
                None => BTreeMap::new(),
            };
            for sub in array(subs)? {
                let sub_name = array(sub)?
                    .first()
                    .map(text)
                    .transpose()?
                    .unwrap_or_default();
                let sub_doc = sub_docs
                    .get(&sub_name)
                    .copied()
                    .with_context(|| format!("no COMMAND DOCS for {sub_name}"))?;
                subcommands.push(Cmd::parse(sub, sub_doc, Some(&full))?);
            }
            subcommands.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let key_specs = match info.get(8) {
            Some(f) => array(f)?.iter().map(Spec::parse).collect::<Result<_>>()?,
            None => Vec::new(),
        };
        Ok(Cmd {
            name,
            arity: int(field(1)?)?,
            flags: texts(field(2)?)?,
            first_key: int(field(3)?)?,
            last_key: int(field(4)?)?,
            step: int(field(5)?)?,
            acl: texts(field(6)?)?
                .into_iter()
                .map(|c| c.trim_start_matches('@').to_string())
                .collect(),
            tips: match info.get(7) {
                Some(f) => texts(f)?,
                None => Vec::new(),
            },
            key_specs,
            subcommands,
            doc: Doc::parse(&doc_map)?,
        })
    }

    /// The same model built from the compiled table.
    fn from_spec(c: &ferrocache_commands::CommandSpec) -> Cmd {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut subcommands: Vec<Cmd> = c.subcommands.iter().map(Cmd::from_spec).collect();
        subcommands.sort_by(|a, b| a.name.cmp(&b.name));
        Cmd {
            name: c.name.to_string(),
            arity: c.arity.into(),
            flags: ferrocache_commands::flag_names(c.flags)
                .map(String::from)
                // Hidden flags come last, as `add_hidden_flags` puts them.
                .chain(
                    c.has(ferrocache_commands::MAY_REPLICATE)
                        .then(|| "may_replicate".into()),
                )
                .collect(),
            first_key: c.first_key.into(),
            last_key: c.last_key.into(),
            step: c.step.into(),
            acl: strings(c.acl),
            tips: strings(c.tips),
            key_specs: c.key_specs.iter().map(Spec::from_key_spec).collect(),
            subcommands,
            doc: Doc {
                group: c.group.to_string(),
                summary: c.summary.to_string(),
                since: c.since.to_string(),
                complexity: c.complexity.to_string(),
                doc_flags: strings(c.doc_flags),
                deprecated_since: c.deprecated_since.to_string(),
                replaced_by: c.replaced_by.to_string(),
                history: c
                    .history
                    .iter()
                    .map(|(v, h)| (v.to_string(), h.to_string()))
                    .collect(),
            },
        }
    }

    /// Renders this command as a builder expression followed by a comma.
    fn render(&self, out: &mut String, depth: usize) -> Result<()> {
        let pad = "    ".repeat(depth);
        let chain = format!("{pad}    ");
        let cont = format!("{pad}        ");
        out.push_str(&layout(
            &pad,
            "cmd(",
            &[
                lit(&self.name),
                self.arity.to_string(),
                consts(&self.flags, FLAGS, "")?,
                self.first_key.to_string(),
                self.last_key.to_string(),
                self.step.to_string(),
                format!("&[{}]", str_list(&self.acl)),
            ],
            ")",
            &cont,
        ));
        let d = &self.doc;
        out.push_str(&layout(
            &chain,
            ".docs(",
            &[
                lit(&d.group),
                lit(&d.since),
                lit(&d.complexity),
                lit(&d.summary),
            ],
            ")",
            &cont,
        ));
        if !d.doc_flags.is_empty() {
            writeln!(out, "{chain}.doc_flags(&[{}])", str_list(&d.doc_flags))?;
        }
        if !d.deprecated_since.is_empty() || !d.replaced_by.is_empty() {
            out.push_str(&layout(
                &chain,
                ".deprecated(",
                &[lit(&d.deprecated_since), lit(&d.replaced_by)],
                ")",
                &cont,
            ));
        }
        if !d.history.is_empty() {
            writeln!(out, "{chain}.history(&[")?;
            for (version, change) in &d.history {
                let args = [lit(version), lit(change)];
                out.push_str(&layout(&cont, "(", &args, "),", &format!("{cont} ")));
            }
            writeln!(out, "{chain}])")?;
        }
        if !self.tips.is_empty() {
            writeln!(out, "{chain}.tips(&[{}])", str_list(&self.tips))?;
        }
        let specs = self
            .key_specs
            .iter()
            .map(Spec::render)
            .collect::<Result<Vec<_>>>()?;
        match specs.as_slice() {
            [] => {}
            [(spec, None)] if chain.len() + spec.len() + ".keys(&[])".len() <= WIDTH => {
                writeln!(out, "{chain}.keys(&[{spec}])")?;
            }
            _ => {
                writeln!(out, "{chain}.keys(&[")?;
                for (spec, notes) in &specs {
                    match notes {
                        None => writeln!(out, "{cont}{spec},")?,
                        Some(notes) => {
                            writeln!(out, "{cont}{spec}")?;
                            let indent = format!("{cont}    ");
                            let notes_cont = format!("{cont}        ");
                            out.push_str(&layout(
                                &indent,
                                ".notes(",
                                &[lit(notes)],
                                "),",
                                &notes_cont,
                            ));
                        }
                    }
                }
                writeln!(out, "{chain}])")?;
            }
        }
        if !self.subcommands.is_empty() {
            writeln!(out, "{chain}.subcommands(&[")?;
            for sub in &self.subcommands {
                sub.render(out, depth + 2)?;
            }
            writeln!(out, "{chain}])")?;
        }
        // The entry's trailing comma goes at the end of its last line.
        if out.ends_with('\n') {
            out.pop();
        }
        out.push_str(",\n");
        Ok(())
    }
}

/// `indent` `open` `args` `close` on one line when it fits in `WIDTH`; otherwise the
/// arguments fill lines that start with `cont`, and string literals too long for a
/// line of their own are wrapped.
fn layout(indent: &str, open: &str, args: &[String], close: &str, cont: &str) -> String {
    let one = format!("{indent}{open}{}{close}", args.join(", "));
    if one.len() <= WIDTH {
        return one + "\n";
    }
    let mut out = format!("{indent}{open}");
    let mut col = out.len();
    for (i, arg) in args.iter().enumerate() {
        let end = if i + 1 == args.len() { close } else { "," };
        let sep = if i == 0 { "" } else { " " };
        if col + sep.len() + arg.len() + end.len() <= WIDTH {
            out.push_str(sep);
            out.push_str(arg);
            col += sep.len() + arg.len();
        } else {
            if i > 0 {
                out.push('\n');
                out.push_str(cont);
                col = cont.len();
            }
            let wrapped = wrap_literal(arg, col, end.len(), &format!("{cont} "));
            // After a wrapped literal, the next argument starts a line of its own.
            col = if wrapped.contains('\n') {
                WIDTH
            } else {
                col + wrapped.len()
            };
            out.push_str(&wrapped);
        }
        out.push_str(end);
        col += end.len();
    }
    out + "\n"
}

/// Breaks a string literal that would run past `WIDTH` (starting at column `col`,
/// with `reserve` more characters to follow it) into `\`-continued lines that start with `cont`. Breaks only after a space that is
/// followed by a non-space, since a continuation swallows the next line's leading
/// whitespace (and escapes never contain spaces). Anything that is not a string
/// literal is returned as is.
fn wrap_literal(arg: &str, col: usize, reserve: usize, cont: &str) -> String {
    if !arg.starts_with('"') || col + arg.len() + reserve <= WIDTH {
        return arg.to_string();
    }
    let bytes = arg.as_bytes();
    let mut words = Vec::new();
    let mut start = 0;
    for i in 1..bytes.len().saturating_sub(1) {
        if bytes[i] == b' ' && bytes[i + 1] != b' ' {
            words.push(&arg[start..=i]);
            start = i + 1;
        }
    }
    words.push(&arg[start..]);
    let mut out = String::new();
    let mut len = col;
    let last = words.len() - 1;
    for (i, word) in words.into_iter().enumerate() {
        // Room for the word and what follows it: the `\` of a line that continues,
        // or `reserve` after the last word.
        let after = if i == last { reserve } else { 1 };
        if !out.is_empty() && len + word.len() + after > WIDTH {
            out.push_str("\\\n");
            out.push_str(cont);
            len = cont.len();
        }
        out.push_str(word);
        len += word.len();
    }
    out
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

impl Doc {
    fn parse(map: &BTreeMap<String, &Frame>) -> Result<Doc> {
        let get = |k: &str| -> Result<String> {
            map.get(k)
                .map(|f| text(f))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let mut history = Vec::new();
        if let Some(h) = map.get("history") {
            for entry in array(h)? {
                match array(entry)? {
                    [version, change] => history.push((text(version)?, text(change)?)),
                    _ => bail!("history entry is not a [version, change] pair"),
                }
            }
        }
        Ok(Doc {
            group: get("group")?,
            summary: get("summary")?,
            since: get("since")?,
            complexity: get("complexity")?,
            doc_flags: match map.get("doc_flags") {
                Some(f) => texts(f)?,
                None => Vec::new(),
            },
            deprecated_since: get("deprecated_since")?,
            replaced_by: get("replaced_by")?,
            history,
        })
    }
}

impl Spec {
    fn parse(f: &Frame) -> Result<Spec> {
        let map: BTreeMap<String, &Frame> = pairs(f)?.into_iter().collect();
        let get = |k: &str| {
            map.get(k)
                .copied()
                .with_context(|| format!("key spec has no {k}"))
        };
        let part = |k: &str| -> Result<(String, BTreeMap<String, &Frame>)> {
            let m: BTreeMap<String, &Frame> = pairs(get(k)?)?.into_iter().collect();
            let kind = m
                .get("type")
                .map(|f| text(f))
                .transpose()?
                .unwrap_or_default();
            let spec = match m.get("spec") {
                Some(s) => pairs(s)?.into_iter().collect(),
                None => BTreeMap::new(),
            };
            Ok((kind, spec))
        };
        let num = |m: &BTreeMap<String, &Frame>, k: &str| -> Result<i64> {
            int(m
                .get(k)
                .copied()
                .with_context(|| format!("key spec has no {k}"))?)
        };
        let (kind, s) = part("begin_search")?;
        let begin = match kind.as_str() {
            "index" => Begin::Index(num(&s, "index")?),
            "keyword" => Begin::Keyword(
                text(
                    s.get("keyword")
                        .copied()
                        .context("key spec has no keyword")?,
                )?,
                num(&s, "startfrom")?,
            ),
            "unknown" => Begin::Unknown,
            other => bail!("unknown begin_search type {other:?}"),
        };
        let (kind, s) = part("find_keys")?;
        let find = match kind.as_str() {
            "range" => Find::Range(num(&s, "lastkey")?, num(&s, "keystep")?, num(&s, "limit")?),
            "keynum" => Find::Keynum(
                num(&s, "keynumidx")?,
                num(&s, "firstkey")?,
                num(&s, "keystep")?,
            ),
            "unknown" => Find::Unknown,
            other => bail!("unknown find_keys type {other:?}"),
        };
        Ok(Spec {
            notes: map
                .get("notes")
                .map(|f| text(f))
                .transpose()?
                .unwrap_or_default(),
            flags: texts(get("flags")?)?,
            begin,
            find,
        })
    }

    fn from_key_spec(k: &ferrocache_commands::KeySpec) -> Spec {
        use ferrocache_commands::{BeginSearch, FindKeys};
        Spec {
            notes: k.notes.to_string(),
            flags: ferrocache_commands::ks::NAMES
                .iter()
                .filter(|(bit, _)| k.flags & bit != 0)
                .map(|(_, name)| name.to_string())
                .collect(),
            begin: match k.begin_search {
                BeginSearch::Index(i) => Begin::Index(i.into()),
                BeginSearch::Keyword { keyword, startfrom } => {
                    Begin::Keyword(keyword.to_string(), startfrom.into())
                }
                BeginSearch::Unknown => Begin::Unknown,
            },
            find: match k.find_keys {
                FindKeys::Range {
                    lastkey,
                    keystep,
                    limit,
                } => Find::Range(lastkey.into(), keystep.into(), limit.into()),
                FindKeys::Keynum {
                    keynumidx,
                    firstkey,
                    keystep,
                } => Find::Keynum(keynumidx.into(), firstkey.into(), keystep.into()),
                FindKeys::Unknown => Find::Unknown,
            },
        }
    }

    /// The `key(..)` expression, and the notes to attach with `.notes(..)`.
    fn render(&self) -> Result<(String, Option<String>)> {
        let flags = consts(&self.flags, KEY_FLAGS, "ks::")?;
        let begin = match &self.begin {
            Begin::Index(i) => format!("index({i})"),
            Begin::Keyword(k, from) => format!("keyword({k:?}, {from})"),
            Begin::Unknown => "BeginSearch::Unknown".to_string(),
        };
        let find = match &self.find {
            Find::Range(last, step, limit) => format!("range({last}, {step}, {limit})"),
            Find::Keynum(idx, first, step) => format!("keynum({idx}, {first}, {step})"),
            Find::Unknown => "FindKeys::Unknown".to_string(),
        };
        let notes = (!self.notes.is_empty()).then(|| self.notes.clone());
        Ok((format!("key({flags}, {begin}, {find})"), notes))
    }
}

/// `A | B | C` for the flag names, via `table`; `0` for none.
fn consts(names: &[String], table: &[(&str, &str)], prefix: &str) -> Result<String> {
    if names.is_empty() {
        return Ok("0".to_string());
    }
    let consts = names
        .iter()
        .map(|n| {
            table
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, c)| format!("{prefix}{c}"))
                .ok_or_else(|| anyhow!("flag {n:?} has no constant yet: add one to crates/commands and to this file"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(consts.join(" | "))
}

fn str_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn array(f: &Frame) -> Result<&[Frame]> {
    match f {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => Ok(v),
        Frame::Error(e) => bail!("redis-server replied {}", String::from_utf8_lossy(e)),
        other => bail!("expected an array, got {other:?}"),
    }
}

/// A map's entries, whether it came as a RESP3 map or a RESP2 flat array.
fn pairs(f: &Frame) -> Result<Vec<(String, &Frame)>> {
    match f {
        Frame::Map(m) => m.iter().map(|(k, v)| Ok((text(k)?, v))).collect(),
        _ => {
            let items = array(f)?;
            if items.len() % 2 != 0 {
                bail!("expected a map, got an array of odd length {}", items.len());
            }
            items
                .chunks(2)
                .map(|kv| Ok((text(&kv[0])?, &kv[1])))
                .collect()
        }
    }
}

fn text(f: &Frame) -> Result<String> {
    match f {
        Frame::Integer(i) => Ok(i.to_string()),
        _ => f
            .as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .with_context(|| format!("expected a string, got {f:?}")),
    }
}

fn texts(f: &Frame) -> Result<Vec<String>> {
    array(f)?.iter().map(text).collect()
}

fn int(f: &Frame) -> Result<i64> {
    match f {
        Frame::Integer(i) => Ok(*i),
        other => bail!("expected an integer, got {other:?}"),
    }
}

/// A blocking RESP connection: enough for a handful of requests.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn connect(port: u16) -> Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .with_context(|| format!("connecting to redis-server on 127.0.0.1:{port}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    fn call(&mut self, args: &[&str]) -> Result<Frame> {
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            write!(req, "${}\r\n{a}\r\n", a.len())?;
        }
        self.stream.write_all(req.as_bytes())?;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if let Some((frame, used)) = ferrocache_resp::decode(&self.buf)? {
                self.buf.drain(..used);
                if let Frame::Error(e) = &frame {
                    bail!(
                        "{args:?}: redis-server replied {}",
                        String::from_utf8_lossy(e)
                    );
                }
                return Ok(frame);
            }
            let n = self
                .stream
                .read(&mut chunk)
                .context("reading from redis-server")?;
            if n == 0 {
                bail!("redis-server closed the connection");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// A throwaway redis-server on a free local port, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(binary: &str) -> Result<Server> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {binary}"))?;
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("{binary} did not start listening on port {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_the_generated_region() {
        let file = "head\n    // BEGIN GENERATED old\n    old,\n    // END GENERATED\ntail\n";
        let entries = "    // BEGIN GENERATED new\n    new,\n    // END GENERATED\n";
        assert_eq!(
            splice(file, entries).unwrap(),
            "head\n    // BEGIN GENERATED new\n    new,\n    // END GENERATED\ntail\n"
        );
        assert!(splice("no markers", entries).is_err());
    }

    #[test]
    fn pairs_reads_resp2_and_resp3_maps() {
        let k = |s: &str| Frame::Bulk(s.as_bytes().to_vec().into());
        let flat = Frame::Array(vec![k("a"), Frame::Integer(1)]);
        let map = Frame::Map(vec![(k("a"), Frame::Integer(1))]);
        assert_eq!(pairs(&flat).unwrap()[0].0, "a");
        assert_eq!(pairs(&map).unwrap()[0].0, "a");
        assert!(pairs(&Frame::Array(vec![k("a")])).is_err());
    }

    /// What the Rust compiler makes of a `\`-continued literal: the continuation and
    /// the next line's leading whitespace vanish.
    fn unwrap_literal(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some((head, tail)) = rest.split_once("\\\n") {
            out.push_str(head);
            rest = tail.trim_start();
        }
        out + rest
    }

    #[test]
    fn wrapped_literals_keep_their_text_and_width() {
        let text = "O(N) where N is  the number of keys that will be removed. When a key to \
                    remove holds a value other than a string, the individual complexity \
                    for this key is O(M) where M is the number of elements in the list.";
        for col in [0, 10, 40, 90] {
            let wrapped = wrap_literal(&lit(text), col, 2, "        ");
            assert_eq!(unwrap_literal(&wrapped), lit(text), "col {col}");
            let mut lines = wrapped.lines();
            assert!(col + lines.next().unwrap().len() <= WIDTH || col >= 90);
            assert!(lines.all(|l| l.len() <= WIDTH), "{wrapped}");
        }
        assert_eq!(wrap_literal("\"short\"", 0, 0, ""), "\"short\"");
        assert_eq!(wrap_literal(&"x".repeat(200), 0, 0, ""), "x".repeat(200));
    }

    #[test]
    fn layout_keeps_short_calls_on_one_line() {
        let args = ["1".to_string(), lit("a")];
        assert_eq!(
            layout("    ", ".f(", &args, ")", "        "),
            "    .f(1, \"a\")\n"
        );
        let long = lit(&"word ".repeat(40));
        let out = layout(
            "    ",
            ".f(",
            &["1".to_string(), long.clone()],
            ")",
            "        ",
        );
        assert!(
            out.lines().count() > 2 && out.lines().all(|l| l.len() <= WIDTH),
            "{out}"
        );
    }

    #[test]
    fn unknown_flags_are_refused() {
        assert_eq!(consts(&[], FLAGS, "").unwrap(), "0");
        assert_eq!(
            consts(&["write".into(), "fast".into()], FLAGS, "").unwrap(),
            "WRITE | FAST"
        );
        assert!(consts(&["brand_new".into()], FLAGS, "").is_err());
    }
}
