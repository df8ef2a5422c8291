//! Keyspace notifications (`notify-keyspace-events`): after a command changes a
//! key, an event on `__keyspace@<db>__:<key>` (message: the event name) and/or
//! `__keyevent@<db>__:<event>` (message: the key), for the classes enabled.

/// Event classes, one bit each, as Redis's configuration letters name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Class {
    Generic = 1 << 0,
    String = 1 << 1,
    List = 1 << 2,
    Set = 1 << 3,
    Hash = 1 << 4,
    ZSet = 1 << 5,
    Expired = 1 << 6,
    Evicted = 1 << 7,
    Stream = 1 << 8,
    Module = 1 << 9,
    New = 1 << 10,
    KeyMiss = 1 << 11,
}

const KEYSPACE: u16 = 1 << 12;
const KEYEVENT: u16 = 1 << 13;

/// The letters in the order Redis prints them, and what `A` stands for.
const LETTERS: &[(char, Class)] = &[
    ('g', Class::Generic),
    ('$', Class::String),
    ('l', Class::List),
    ('s', Class::Set),
    ('h', Class::Hash),
    ('z', Class::ZSet),
    ('x', Class::Expired),
    ('e', Class::Evicted),
    ('t', Class::Stream),
    ('d', Class::Module),
    ('n', Class::New),
];
const ALL: u16 = Class::Generic as u16
    | Class::String as u16
    | Class::List as u16
    | Class::Set as u16
    | Class::Hash as u16
    | Class::ZSet as u16
    | Class::Expired as u16
    | Class::Evicted as u16
    | Class::Stream as u16
    | Class::Module as u16;

/// The enabled classes and channel kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags(u16);

impl Flags {
    /// Parses the configuration string; the error is Redis's CONFIG SET reason.
    pub fn parse(s: &str) -> Result<Flags, String> {
        let mut bits = 0;
        for c in s.chars() {
            bits |= match c {
                'A' => ALL,
                'K' => KEYSPACE,
                'E' => KEYEVENT,
                'm' => Class::KeyMiss as u16,
                _ => match LETTERS.iter().find(|(l, _)| *l == c) {
                    Some((_, class)) => *class as u16,
                    None => {
                        return Err(
                            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string()
                        )
                    }
                },
            };
        }
        Ok(Flags(bits))
    }

    /// The canonical string CONFIG GET shows.
    pub fn render(self) -> String {
        self.letters(true)
    }

    /// Every enabled bit as its own letter: what the configuration stores, since
    /// Redis's display form drops `n` next to `A` while the flag stays on.
    pub fn store(self) -> String {
        self.letters(false)
    }

    /// The flags as letters in Redis's order; `A` for the whole set when `all`.
    fn letters(self, all: bool) -> String {
        let mut s = String::new();
        if all && self.0 & ALL == ALL {
            s.push('A');
        } else {
            for (letter, class) in LETTERS {
                if self.0 & *class as u16 != 0 {
                    s.push(*letter);
                }
            }
        }
        for (bit, letter) in [
            (KEYSPACE, 'K'),
            (KEYEVENT, 'E'),
            (Class::KeyMiss as u16, 'm'),
        ] {
            if self.0 & bit != 0 {
                s.push(letter);
            }
        }
        s
    }

    /// Whether an event of `class` is published at all.
    pub fn wants(self, class: Class) -> bool {
        self.0 & class as u16 != 0 && self.0 & (KEYSPACE | KEYEVENT) != 0
    }

    /// The (channel, message) pairs to publish for one event.
    pub fn messages(self, db: usize, event: &str, key: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::with_capacity(2);
        if self.0 & KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{db}__:").into_bytes();
            ch.extend_from_slice(key);
            out.push((ch, event.as_bytes().to_vec()));
        }
        if self.0 & KEYEVENT != 0 {
            let ch = format!("__keyevent@{db}__:{event}").into_bytes();
            out.push((ch, key.to_vec()));
        }
        out
    }
}

/// Publishes one event; deliveries to the client `me` itself (RESP3 clients can be
/// subscribed while running commands) are written into `out` before its reply,
/// in the order Redis writes them.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    srv: &crate::server::Shared,
    settings: &crate::config::Settings,
    out: Option<&mut ferrocache_resp::ReplyBuf>,
    me: u64,
    now_ms: u64,
    db: usize,
    class: Class,
    event: &str,
    key: &[u8],
) {
    let flags = settings.notify;
    if !flags.wants(class) {
        return;
    }
    let limit = settings.output_limits.pubsub;
    let mut out = out;
    for (channel, message) in flags.messages(db, event, key) {
        let (_, to_me) = srv
            .pubsub
            .lock()
            .publish(&channel, &message, &limit, now_ms, me);
        if let Some(out) = out.as_deref_mut() {
            for pattern in to_me {
                crate::connection::encode_message(out, pattern.as_deref(), &channel, &message);
            }
        }
    }
}

/// Publishes the events the keyspace recorded on its own (keys that expired,
/// keys created), oldest first, and keeps the recording in step with the
/// configuration.
pub fn publish_recorded(
    srv: &crate::server::Shared,
    settings: &crate::config::Settings,
    ks: &mut ferrocache_keyspace::Keyspace,
    mut out: Option<&mut ferrocache_resp::ReplyBuf>,
    me: u64,
    now_ms: u64,
) {
    use ferrocache_keyspace::KeyEvent;
    let flags = settings.notify;
    ks.record(
        flags.wants(Class::Expired),
        flags.wants(Class::New),
        flags.wants(Class::KeyMiss),
    );
    for db in 0..ks.dbs.len() {
        if !ks.dbs[db].has_events() {
            continue;
        }
        for (event, key) in ks.dbs[db].take_events() {
            let (class, name) = match event {
                KeyEvent::Expired => (Class::Expired, "expired"),
                KeyEvent::New => (Class::New, "new"),
                KeyEvent::Miss => (Class::KeyMiss, "keymiss"),
            };
            publish(
                srv,
                settings,
                out.as_deref_mut(),
                me,
                now_ms,
                db,
                class,
                name,
                &key,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render_like_redis() {
        let r = |s: &str| Flags::parse(s).unwrap().render();
        assert_eq!(r("nA"), "A");
        assert_eq!(r("Ex"), "xE");
        assert_eq!(r("Kn"), "nK");
        assert_eq!(r("m"), "m");
        assert_eq!(r("gl$shzxetdK"), "AK");
        assert_eq!(r(""), "");
        assert!(Flags::parse("q").is_err());
        assert!(!Flags::parse("g").unwrap().wants(Class::Generic));
        assert!(Flags::parse("gK").unwrap().wants(Class::Generic));
        let stored = Flags::parse("KEAnm").unwrap().store();
        assert!(Flags::parse(&stored).unwrap().wants(Class::New));
        assert_eq!(Flags::parse(&stored).unwrap().render(), "AKEm");
    }
}
