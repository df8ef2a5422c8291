//! Stored values. Strings keep Redis's three encodings (int, embstr, raw) because
//! OBJECT ENCODING reports them and clients and tools look at it.

use crate::types::{Hash, List, Set, ZSet};
use std::sync::Arc;

/// A stored value. Everything behind a pointer is reference-counted and copied on
/// write (`Arc::make_mut`): cloning a value, as a point-in-time snapshot does for
/// every key, costs a count increment, and a write during the snapshot copies only
/// the value it changes, once. The pointers also keep the common case, a string,
/// at 32 bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string that is the canonical text of an i64 ("int" encoding).
    Int(i64),
    /// An immutable string as written by SET ("embstr" up to 44 bytes, else "raw").
    Str(crate::SharedBytes),
    /// A string grown in place by APPEND, SETRANGE or SETBIT ("raw").
    Raw(Arc<Vec<u8>>),
    List(Arc<List>),
    Hash(Arc<Hash>),
    Set(Arc<Set>),
    ZSet(Arc<ZSet>),
}

/// The reply to an operation on a key of another type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

/// An aggregate type stored in a `Value`: lets `Db` hand out a typed reference and
/// check the type in one place.
pub trait Collection: Default + Sized {
    fn of(v: &Value) -> Option<&Self>;
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
    fn into_value(self) -> Value;
}

macro_rules! collection {
    ($ty:ident) => {
        impl Collection for $ty {
            fn of(v: &Value) -> Option<&Self> {
                match v {
                    Value::$ty(c) => Some(c),
                    _ => None,
                }
            }
            fn of_mut(v: &mut Value) -> Option<&mut Self> {
                match v {
                    Value::$ty(c) => Some(Arc::make_mut(c)),
                    _ => None,
                }
            }
            fn into_value(self) -> Value {
                Value::$ty(Arc::new(self))
            }
        }
    };
}
collection!(List);
collection!(Hash);
collection!(Set);
collection!(ZSet);

/// Redis stores short strings inline with their object header up to this size.
const EMBSTR_MAX: usize = 44;

impl Value {
    /// A string value with the encoding Redis would pick for it on SET.
    pub fn string(bytes: &[u8]) -> Value {
        if bytes.len() <= 20 {
            if let Some(i) = parse_i64(bytes) {
                return Value::Int(i);
            }
        }
        Value::Str(crate::SharedBytes::copy_of(bytes))
    }

    /// A string built by an in-place edit ("raw" encoding).
    pub fn raw(bytes: Vec<u8>) -> Value {
        Value::Raw(Arc::new(bytes))
    }

    /// Whether string commands may operate on this value.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str(_) | Value::Raw(_))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Raw(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_MAX => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// An aggregate left with no elements: Redis deletes such keys.
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            _ => false,
        }
    }

    /// The string's bytes, formatting an integer into `scratch` when needed.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa_buf::Buf) -> &'a [u8] {
        match self {
            Value::Int(i) => scratch.format(*i),
            Value::Str(s) => s,
            Value::Raw(v) => v,
            _ => b"",
        }
    }

    /// Length of the string form.
    pub fn str_len(&self) -> usize {
        match self {
            Value::Int(i) => itoa_buf::Buf::default().format(*i).len(),
            Value::Str(s) => s.len(),
            Value::Raw(v) => v.len(),
            _ => 0,
        }
    }

    /// Turns the string into a growable buffer for in-place edits.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Value::Raw(_)) {
            let bytes = match self {
                Value::Int(i) => itoa_buf::Buf::default().format(*i).to_vec(),
                Value::Str(s) => std::mem::replace(s, crate::SharedBytes::copy_of(b"")).into_vec(),
                _ => Vec::new(),
            };
            *self = Value::raw(bytes);
        }
        match self {
            Value::Raw(v) => Arc::make_mut(v),
            _ => unreachable!("converted above"),
        }
    }

    /// Asks for the first cache line of the value's heap part, for a loop that will
    /// read values one after another (a snapshot's serialisation): their misses
    /// then overlap instead of coming one at a time.
    #[inline]
    pub fn prefetch(&self) {
        match self {
            Value::Int(_) => {}
            Value::Str(s) => {
                if s.heap_size() > 0 {
                    crate::table::prefetch_line(s.as_ptr());
                }
            }
            Value::Raw(v) => crate::table::prefetch_line(Arc::as_ptr(v)),
            Value::List(c) => crate::table::prefetch_line(Arc::as_ptr(c)),
            Value::Hash(c) => crate::table::prefetch_line(Arc::as_ptr(c)),
            Value::Set(c) => crate::table::prefetch_line(Arc::as_ptr(c)),
            Value::ZSet(c) => crate::table::prefetch_line(Arc::as_ptr(c)),
        }
    }

    /// Approximate heap bytes used, for MEMORY USAGE and INFO.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str(s) => s.heap_size(),
            Value::Raw(v) => v.capacity() + std::mem::size_of::<Vec<u8>>(),
            Value::List(l) => std::mem::size_of::<List>() + l.heap_size(),
            Value::Hash(h) => std::mem::size_of::<Hash>() + h.heap_size(),
            Value::Set(s) => std::mem::size_of::<Set>() + s.heap_size(),
            Value::ZSet(z) => std::mem::size_of::<ZSet>() + z.heap_size(),
        }
    }
}

/// Parses an integer exactly as Redis's `string2ll` does: no spaces, no '+',
/// no leading zeros (except "0" itself), within i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// A stack buffer for formatting integers without allocating.
pub mod itoa_buf {
    #[derive(Default)]
    pub struct Buf {
        bytes: [u8; 20],
        len: usize,
    }
    impl Buf {
        pub fn format(&mut self, i: i64) -> &[u8] {
            let mut n = i.unsigned_abs();
            let mut pos = self.bytes.len();
            loop {
                pos -= 1;
                self.bytes[pos] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            if i < 0 {
                pos -= 1;
                self.bytes[pos] = b'-';
            }
            self.len = self.bytes.len() - pos;
            &self.bytes[pos..]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_like_string2ll() {
        assert_eq!(parse_i64(b"123"), Some(123));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"012"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(
            itoa_buf::Buf::default().format(i64::MIN),
            b"-9223372036854775808"
        );
    }

    #[test]
    fn encodings() {
        assert_eq!(Value::string(b"42").encoding(), "int");
        assert_eq!(Value::string(b"hello").encoding(), "embstr");
        assert_eq!(Value::string(&[b'x'; 45]).encoding(), "raw");
        let mut v = Value::string(b"7");
        v.make_raw().push(b'1');
        assert_eq!(v, Value::raw(b"71".to_vec()));
        assert_eq!(v.encoding(), "raw");
    }

    #[test]
    fn a_clone_is_shared_until_written() {
        let mut list = List::default();
        list.push(crate::types::list::End::Tail, b"a");
        let mut v = list.into_value();
        let snapshot = v.clone();
        List::of_mut(&mut v)
            .unwrap()
            .push(crate::types::list::End::Tail, b"b");
        assert_eq!(List::of(&snapshot).unwrap().len(), 1);
        assert_eq!(List::of(&v).unwrap().len(), 2);

        let mut s = Value::string(&[b'x'; 100]);
        let before = s.clone();
        s.make_raw().push(b'y');
        assert_eq!(before.str_len(), 100);
        assert_eq!(s.str_len(), 101);
    }
}
