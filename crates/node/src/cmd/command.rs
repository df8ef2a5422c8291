//! COMMAND: the command table as clients see it (COUNT, INFO, DOCS, LIST, GETKEYS),
//! rendered from the declarative table in the same shapes Redis 7 replies with.

use super::*;
use crate::dispatch::Reject;
use ferrocache_commands::{self as commands, ks, BeginSearch, CommandSpec, FindKeys, COMMANDS};
use ferrocache_resp::ReplyBuf;

fn full_name(parent: Option<&CommandSpec>, spec: &CommandSpec) -> String {
    match parent {
        Some(p) => format!("{}|{}", p.name, spec.name),
        None => spec.name.to_string(),
    }
}

fn write_info(out: &mut ReplyBuf, parent: Option<&CommandSpec>, spec: &CommandSpec) {
    out.array(10);
    out.bulk(full_name(parent, spec));
    out.int(spec.arity as i64);
    let flags: Vec<&str> = commands::flag_names(spec.flags).collect();
    out.set(flags.len());
    flags.iter().for_each(|f| out.simple(f));
    out.int(spec.first_key as i64);
    out.int(spec.last_key as i64);
    out.int(spec.step as i64);
    out.set(spec.acl.len());
    spec.acl.iter().for_each(|a| out.simple(format!("@{a}")));
    out.set(spec.tips.len());
    spec.tips.iter().for_each(|t| out.bulk(t));
    out.set(spec.key_specs.len());
    for k in spec.key_specs {
        let fields = if k.notes.is_empty() { 3 } else { 4 };
        out.map(fields);
        if !k.notes.is_empty() {
            out.bulk("notes");
            out.bulk(k.notes);
        }
        out.bulk("flags");
        let names: Vec<&str> = ks::NAMES
            .iter()
            .filter(|(b, _)| k.flags & b != 0)
            .map(|(_, n)| *n)
            .collect();
        out.set(names.len());
        names.iter().for_each(|n| out.simple(n));
        out.bulk("begin_search");
        out.map(2);
        out.bulk("type");
        match k.begin_search {
            BeginSearch::Index(i) => {
                out.bulk("index");
                out.bulk("spec");
                out.map(1);
                out.bulk("index");
                out.int(i as i64);
            }
            BeginSearch::Keyword { keyword, startfrom } => {
                out.bulk("keyword");
                out.bulk("spec");
                out.map(2);
                out.bulk("keyword");
                out.bulk(keyword);
                out.bulk("startfrom");
                out.int(startfrom as i64);
            }
            BeginSearch::Unknown => {
                out.bulk("unknown");
                out.bulk("spec");
                out.map(0);
            }
        }
        out.bulk("find_keys");
        out.map(2);
        out.bulk("type");
        match k.find_keys {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                out.bulk("range");
                out.bulk("spec");
                out.map(3);
                out.bulk("lastkey");
                out.int(lastkey as i64);
                out.bulk("keystep");
                out.int(keystep as i64);
                out.bulk("limit");
                out.int(limit as i64);
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                out.bulk("keynum");
                out.bulk("spec");
                out.map(3);
                out.bulk("keynumidx");
                out.int(keynumidx as i64);
                out.bulk("firstkey");
                out.int(firstkey as i64);
                out.bulk("keystep");
                out.int(keystep as i64);
            }
            FindKeys::Unknown => {
                out.bulk("unknown");
                out.bulk("spec");
                out.map(0);
            }
        }
    }
    out.set(spec.subcommands.len());
    for s in spec.subcommands {
        write_info(out, Some(spec), s);
    }
}

fn write_docs(out: &mut ReplyBuf, spec: &CommandSpec) {
    let mut fields = 4;
    fields += usize::from(!spec.doc_flags.is_empty());
    fields += usize::from(!spec.deprecated_since.is_empty());
    fields += usize::from(!spec.replaced_by.is_empty());
    fields += usize::from(!spec.history.is_empty());
    fields += usize::from(!spec.subcommands.is_empty());
    out.map(fields);
    out.bulk("summary");
    out.bulk(spec.summary);
    out.bulk("since");
    out.bulk(spec.since);
    out.bulk("group");
    out.bulk(spec.group);
    out.bulk("complexity");
    out.bulk(spec.complexity);
    if !spec.doc_flags.is_empty() {
        out.bulk("doc_flags");
        out.set(spec.doc_flags.len());
        spec.doc_flags.iter().for_each(|f| out.simple(f));
    }
    if !spec.deprecated_since.is_empty() {
        out.bulk("deprecated_since");
        out.bulk(spec.deprecated_since);
    }
    if !spec.replaced_by.is_empty() {
        out.bulk("replaced_by");
        out.bulk(spec.replaced_by);
    }
    if !spec.history.is_empty() {
        out.bulk("history");
        out.array(spec.history.len());
        for (version, what) in spec.history {
            out.array(2);
            out.bulk(version);
            out.bulk(what);
        }
    }
    if !spec.subcommands.is_empty() {
        out.bulk("subcommands");
        out.map(spec.subcommands.len());
        for s in spec.subcommands {
            out.bulk(full_name(Some(spec), s));
            write_docs(out, s);
        }
    }
}

pub fn command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let out = &mut *ctx.out;
    if args.len() == 1 {
        out.array(COMMANDS.len());
        COMMANDS.iter().for_each(|c| write_info(out, None, c));
        return Ok(());
    }
    let sub = args[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"count" => out.int(COMMANDS.len() as i64),
        b"info" => {
            let names: Vec<&[u8]> = args[2..].to_vec();
            if names.is_empty() {
                out.array(COMMANDS.len());
                COMMANDS.iter().for_each(|c| write_info(out, None, c));
            } else {
                out.array(names.len());
                for n in names {
                    match find(n) {
                        Some((parent, spec)) => write_info(out, parent, spec),
                        None => out.null(),
                    }
                }
            }
        }
        b"docs" => {
            let found: Vec<(Option<&CommandSpec>, &CommandSpec)> = if args.len() == 2 {
                COMMANDS.iter().map(|c| (None, c)).collect()
            } else {
                args[2..].iter().filter_map(|n| find(n)).collect()
            };
            out.map(found.len());
            for (parent, spec) in found {
                out.bulk(full_name(parent, spec));
                write_docs(out, spec);
            }
        }
        b"list" => {
            let mut names: Vec<String> = Vec::new();
            for c in COMMANDS {
                names.push(c.name.to_string());
                names.extend(c.subcommands.iter().map(|s| full_name(Some(c), s)));
            }
            if args.len() > 2 {
                if args.len() != 5 || !eq(args[2], "filterby") {
                    return Err(ERR_SYNTAX.into());
                }
                let value = args[4];
                if eq(args[3], "pattern") {
                    names.retain(|n| ferrocache_keyspace::glob::matches(value, n.as_bytes(), true));
                } else if eq(args[3], "aclcat") {
                    let cat = lossy(value).to_ascii_lowercase();
                    names.retain(|n| {
                        find(n.as_bytes()).is_some_and(|(_, s)| s.acl.contains(&cat.as_str()))
                    });
                } else if eq(args[3], "module") {
                    names.clear();
                } else {
                    return Err(ERR_SYNTAX.into());
                }
            }
            out.array(names.len());
            names.iter().for_each(|n| out.bulk(n));
        }
        b"getkeys" | b"getkeysandflags" => {
            let target = &args[2..];
            let Some(spec) = commands::lookup(target[0]) else {
                return Err("ERR Invalid command specified".into());
            };
            let spec = match (spec.is_container(), target.get(1)) {
                (true, Some(s)) => spec.subcommand(s).unwrap_or(spec),
                _ => spec,
            };
            if !spec.arity_ok(target.len()) {
                return Err("ERR Invalid number of arguments specified for command".into());
            }
            let keys = commands::key_indexes(spec, target);
            if keys.is_empty() {
                return Err(Reject::from("ERR The command has no key arguments"));
            }
            out.array(keys.len());
            for i in keys {
                out.bulk(target[i]);
            }
        }
        _ => {
            return super::server::help(
                ctx,
                "COMMAND",
                &[
                    "(no subcommand)",
                    "    Return details about all Redis commands.",
                    "COUNT",
                    "    Return the total number of commands in this Redis server.",
                    "LIST",
                    "    Return a list of all commands in this Redis server.",
                    "INFO [<command-name> ...]",
                    "    Return details about multiple Redis commands.",
                    "    If no command names are given, documentation details for all",
                    "    commands are returned.",
                    "DOCS [<command-name> ...]",
                    "    Return documentation details about multiple Redis commands.",
                    "    If no command names are given, documentation details for all",
                    "    commands are returned.",
                    "GETKEYS <full-command>",
                    "    Return the keys from a full Redis command.",
                    "GETKEYSANDFLAGS <full-command>",
                    "    Return the keys and the access flags from a full Redis command.",
                ],
            )
        }
    }
    Ok(())
}

/// Finds `name` or `container|sub`.
fn find(name: &[u8]) -> Option<(Option<&'static CommandSpec>, &'static CommandSpec)> {
    match name.iter().position(|&c| c == b'|') {
        Some(bar) => {
            let parent = commands::lookup(&name[..bar])?;
            let sub = parent.subcommand(&name[bar + 1..])?;
            Some((Some(parent), sub))
        }
        None => commands::lookup(name).map(|s| (None, s)),
    }
}
