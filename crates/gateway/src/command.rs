//! What the gateway must know about a client's command before forwarding it: whether
//! it answers it itself (AUTH, QUIT), whether it changes the connection state that a
//! switch must replay (SELECT, HELLO, SETNAME, subscriptions …), whether it opens or
//! closes a transaction, and whether it may block.

/// The gateway's view of one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Auth,
    Hello,
    Quit,
    Reset,
    Select,
    ClientSetName,
    /// `CLIENT MAINT_NOTIFICATIONS …`: the opt-in to maintenance push frames.
    ClientMaint,
    /// `CLIENT REPLY`: would make reply counting impossible.
    ClientReply,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
    Subscribe(Sub),
    Unsubscribe(Sub),
    Monitor,
    /// May block the connection on the server (BLPOP, XREAD BLOCK, WAIT …).
    Blocking,
    Other,
}

/// The three kinds of subscription, each its own set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    Channel,
    Pattern,
    Shard,
}

impl Sub {
    pub const ALL: [Sub; 3] = [Sub::Channel, Sub::Pattern, Sub::Shard];

    /// The command that subscribes (for replay).
    pub fn subscribe_command(self) -> &'static [u8] {
        match self {
            Sub::Channel => b"SUBSCRIBE",
            Sub::Pattern => b"PSUBSCRIBE",
            Sub::Shard => b"SSUBSCRIBE",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Names of the blocking commands, for those the command table may not list.
const BLOCKING: &[&str] = &[
    "blpop",
    "brpop",
    "brpoplpush",
    "blmove",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "wait",
    "waitaof",
];

fn is(name: &[u8], s: &str) -> bool {
    name.eq_ignore_ascii_case(s.as_bytes())
}

/// Classifies a request by its arguments (the name first).
pub fn classify(args: &[&[u8]]) -> Cmd {
    let Some(&name) = args.first() else {
        return Cmd::Other;
    };
    // Most commands are none of the special ones: check the first letter before
    // comparing names, so the common path costs a few byte comparisons.
    let first = name.first().map(u8::to_ascii_lowercase).unwrap_or(0);
    if !matches!(
        first,
        b'a' | b'b'
            | b'c'
            | b'd'
            | b'e'
            | b'h'
            | b'm'
            | b'p'
            | b'q'
            | b'r'
            | b's'
            | b'u'
            | b'w'
            | b'x'
    ) {
        return Cmd::Other;
    }
    let sub = |k: Sub, unsub: bool| {
        if unsub {
            Cmd::Unsubscribe(k)
        } else {
            Cmd::Subscribe(k)
        }
    };
    match name.len() {
        4 if is(name, "auth") => Cmd::Auth,
        4 if is(name, "quit") => Cmd::Quit,
        5 if is(name, "hello") => Cmd::Hello,
        5 if is(name, "reset") => Cmd::Reset,
        5 if is(name, "multi") => Cmd::Multi,
        4 if is(name, "exec") => Cmd::Exec,
        7 if is(name, "discard") => Cmd::Discard,
        5 if is(name, "watch") => Cmd::Watch,
        7 if is(name, "unwatch") => Cmd::Unwatch,
        6 if is(name, "select") => Cmd::Select,
        7 if is(name, "monitor") => Cmd::Monitor,
        9 if is(name, "subscribe") => sub(Sub::Channel, false),
        10 if is(name, "psubscribe") => sub(Sub::Pattern, false),
        10 if is(name, "ssubscribe") => sub(Sub::Shard, false),
        11 if is(name, "unsubscribe") => sub(Sub::Channel, true),
        12 if is(name, "punsubscribe") => sub(Sub::Pattern, true),
        12 if is(name, "sunsubscribe") => sub(Sub::Shard, true),
        6 if is(name, "client") => match args.get(1) {
            Some(s) if is(s, "setname") => Cmd::ClientSetName,
            Some(s) if is(s, "maint_notifications") => Cmd::ClientMaint,
            Some(s) if is(s, "reply") => Cmd::ClientReply,
            _ => Cmd::Other,
        },
        // XREAD/XREADGROUP block only with a BLOCK option.
        5 | 10 if is(name, "xread") || is(name, "xreadgroup") => {
            if args.iter().skip(1).any(|a| is(a, "block")) {
                Cmd::Blocking
            } else {
                Cmd::Other
            }
        }
        _ if BLOCKING.iter().any(|b| is(name, b)) => Cmd::Blocking,
        _ => match ferrocache_commands::lookup(name) {
            Some(spec) if spec.has(ferrocache_commands::BLOCKING) => Cmd::Blocking,
            _ => Cmd::Other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(args: &[&str]) -> Cmd {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        classify(&a)
    }

    #[test]
    fn special_commands_in_any_case() {
        assert_eq!(c(&["get", "k"]), Cmd::Other);
        assert_eq!(c(&["AUTH", "x"]), Cmd::Auth);
        assert_eq!(c(&["Select", "1"]), Cmd::Select);
        assert_eq!(c(&["client", "SETNAME", "n"]), Cmd::ClientSetName);
        assert_eq!(c(&["client", "id"]), Cmd::Other);
        assert_eq!(c(&["punsubscribe"]), Cmd::Unsubscribe(Sub::Pattern));
        assert_eq!(c(&["blpop", "k", "0"]), Cmd::Blocking);
        assert_eq!(c(&["XREAD", "COUNT", "1", "STREAMS", "s", "0"]), Cmd::Other);
        assert_eq!(
            c(&["xread", "block", "0", "streams", "s", "$"]),
            Cmd::Blocking
        );
        assert_eq!(c(&[]), Cmd::Other);
    }
}
