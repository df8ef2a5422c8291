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
        let mut s = String::new();
        if self.0 & ALL == ALL {
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
    }
}
