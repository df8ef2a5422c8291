//! Which arguments of a command are keys: Redis 7 key specs (where the keys begin,
//! then how to find the rest) and the extraction that walks them over a request.

use crate::CommandSpec;

/// Key-spec flags, as Redis reports them in `COMMAND INFO` (what the command does
/// to the keys a spec finds).
pub mod ks {
    /// Read-only: reads the value but does not change it.
    pub const RO: u32 = 1 << 0;
    /// Read-write: reads and modifies the value.
    pub const RW: u32 = 1 << 1;
    /// Overwrite: replaces the value without reading it.
    pub const OW: u32 = 1 << 2;
    /// Remove: deletes the key.
    pub const RM: u32 = 1 << 3;
    /// Returns, copies or uses user data from the value.
    pub const ACCESS: u32 = 1 << 4;
    /// Updates the value (as opposed to only inserting or deleting data).
    pub const UPDATE: u32 = 1 << 5;
    /// Only adds data to the value.
    pub const INSERT: u32 = 1 << 6;
    /// Only deletes data from the value.
    pub const DELETE: u32 = 1 << 7;
    /// The argument is not a key, but must route like one (e.g. a shard channel).
    pub const NOT_KEY: u32 = 1 << 8;
    /// The spec may miss keys; the command needs its own key finder.
    pub const INCOMPLETE: u32 = 1 << 9;
    /// The flags depend on the arguments (e.g. `SET ... GET`).
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    /// Names in the order Redis lists them.
    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// One Redis 7 key spec: where the search for keys begins, then how keys are found
/// from there. A command has one spec per distinct role its keys play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Free-text notes Redis attaches to the spec (usually empty).
    pub notes: &'static str,
    /// Bitwise OR of the `ks` constants.
    pub flags: u32,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

/// Where the search for a spec's keys begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index (0 = the command name).
    Index(i32),
    /// One past the first argument equal (ignoring case) to `keyword`, searching from
    /// `startfrom` (negative: counted from the end, searching backwards).
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    /// Only the command's own key finder knows.
    Unknown,
}

/// How a spec's keys are found once the search has begun at index `first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys from `first` to `first + lastkey` (negative: counted from the end), every
    /// `keystep`-th; with a negative `lastkey` and non-zero `limit`, only the first
    /// 1/`limit` of the remaining arguments.
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    /// The argument at `first + keynumidx` says how many keys there are; they start
    /// at `first + firstkey`, every `keystep`-th.
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
    /// Only the command's own key finder knows.
    Unknown,
}

/// Indexes into `args` (0 = the command name; for a subcommand, 0 is the container's
/// name and 1 the subcommand's) that hold keys, in key-spec order.
///
/// Follows Redis's `COMMAND GETKEYS`: specs flagged `NOT_KEY` are skipped, positions
/// beyond the arguments given are left out (the arity check reports those), and a
/// spec that cannot be evaluated (a bad key count) yields no keys at all. Commands
/// without key specs fall back to the legacy first/last/step triple. Commands whose
/// specs are `INCOMPLETE` need their own key finder; none in the table is.
pub fn key_indexes(spec: &CommandSpec, args: &[&[u8]]) -> Vec<usize> {
    let argc = args.len() as i64;
    let mut out = Vec::new();
    if spec.key_specs.is_empty() {
        let (first, last, step) = (
            spec.first_key as i64,
            spec.last_key as i64,
            spec.step as i64,
        );
        if first > 0 {
            let last = if last < 0 { argc + last } else { last };
            push_range(&mut out, first, last, step, argc);
        }
        return out;
    }
    for ks in spec.key_specs {
        if ks.flags & ks::NOT_KEY != 0 {
            continue;
        }
        match spec_range(ks, args) {
            Some(Some((first, last, step))) => push_range(&mut out, first, last, step, argc),
            Some(None) => {}
            None => return Vec::new(),
        }
    }
    out
}

/// Evaluates one spec to `(first, last, step)`: `Some(None)` when it finds no keys in
/// these arguments, `None` when the arguments make it invalid.
fn spec_range(spec: &KeySpec, args: &[&[u8]]) -> Option<Option<(i64, i64, i64)>> {
    let argc = args.len() as i64;
    let first = match spec.begin_search {
        BeginSearch::Index(i) => i as i64,
        BeginSearch::Keyword { keyword, startfrom } => {
            let startfrom = startfrom as i64;
            let (start, end) = if startfrom > 0 {
                (startfrom, argc - 1)
            } else {
                (argc + startfrom, 0)
            };
            // Like Redis, the search stops before `end`: a keyword in the last argument
            // would have no key after it.
            let mut i = start;
            let mut found = None;
            while i != end && (1..argc).contains(&i) {
                if arg(args, i).is_some_and(|a| a.eq_ignore_ascii_case(keyword.as_bytes())) {
                    found = Some(i + 1);
                    break;
                }
                i += if start <= end { 1 } else { -1 };
            }
            match found {
                Some(f) => f,
                None => return Some(None),
            }
        }
        BeginSearch::Unknown => return None,
    };
    match spec.find_keys {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => {
            let (lastkey, limit) = (lastkey as i64, limit as i64);
            let last = if lastkey >= 0 {
                first + lastkey
            } else if limit == 0 {
                argc + lastkey
            } else {
                first + ((argc - first) / limit + lastkey)
            };
            Some(Some((first, last, keystep as i64)))
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => {
            let numkeys: i64 = arg(args, first + keynumidx as i64)
                .and_then(|a| std::str::from_utf8(a).ok())
                .and_then(|s| s.parse().ok())
                .filter(|&n| n >= 0)?;
            let first = first + firstkey as i64;
            Some(Some((
                first,
                first.saturating_add(numkeys) - 1,
                keystep as i64,
            )))
        }
        FindKeys::Unknown => None,
    }
}

fn arg<'a>(args: &[&'a [u8]], i: i64) -> Option<&'a [u8]> {
    usize::try_from(i).ok().and_then(|i| args.get(i).copied())
}

/// Pushes `first..=last` by `step`, stopping at the end of the arguments. Index 0 (the
/// command name) is never a key.
fn push_range(out: &mut Vec<usize>, first: i64, last: i64, step: i64, argc: i64) {
    let step = step.max(1);
    let mut i = first;
    if i < 1 {
        // Skip ahead, keeping the stride, rather than walking up from far below.
        i += (1 - i + step - 1) / step * step;
    }
    while i <= last && i < argc {
        out.push(i as usize);
        i += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup;

    /// A command that has only `specs`, for exercising spec kinds the table lacks.
    fn with_specs(specs: &'static [KeySpec]) -> CommandSpec {
        CommandSpec {
            key_specs: specs,
            ..*lookup(b"get").unwrap()
        }
    }

    fn keys(spec: &CommandSpec, line: &str) -> Vec<usize> {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        key_indexes(spec, &args)
    }

    const fn spec(flags: u32, begin_search: BeginSearch, find_keys: FindKeys) -> KeySpec {
        KeySpec {
            notes: "",
            flags,
            begin_search,
            find_keys,
        }
    }

    #[test]
    fn keyword_search_forward_and_backward() {
        // Like XREAD ... STREAMS k1 k2 id1 id2: half of what follows the keyword.
        static STREAMS: &[KeySpec] = &[spec(
            ks::RO,
            BeginSearch::Keyword {
                keyword: "STREAMS",
                startfrom: 1,
            },
            FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 2,
            },
        )];
        let c = with_specs(STREAMS);
        assert_eq!(keys(&c, "xread COUNT 2 streams a b 0 0"), [4, 5]);
        assert_eq!(keys(&c, "xread COUNT 2"), Vec::<usize>::new());
        // A keyword in the last argument has nothing after it and is not searched.
        assert_eq!(keys(&c, "xread STREAMS"), Vec::<usize>::new());

        // Like MIGRATE ... KEYS k1 k2, searched from the end.
        static KEYS: &[KeySpec] = &[spec(
            ks::RW,
            BeginSearch::Keyword {
                keyword: "KEYS",
                startfrom: -2,
            },
            FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 0,
            },
        )];
        let c = with_specs(KEYS);
        assert_eq!(keys(&c, "migrate h p \"\" 0 5 KEYS a b"), [7, 8]);
        assert_eq!(keys(&c, "migrate h p k 0 5"), Vec::<usize>::new());
    }

    #[test]
    fn keynum_counts_keys_and_rejects_bad_counts() {
        // Like ZUNIONSTORE dest numkeys k1 k2 ...: a destination, then counted keys.
        static ZUNION: &[KeySpec] = &[
            spec(
                ks::OW,
                BeginSearch::Index(1),
                FindKeys::Range {
                    lastkey: 0,
                    keystep: 1,
                    limit: 0,
                },
            ),
            spec(
                ks::RO,
                BeginSearch::Index(2),
                FindKeys::Keynum {
                    keynumidx: 0,
                    firstkey: 1,
                    keystep: 1,
                },
            ),
        ];
        let c = with_specs(ZUNION);
        assert_eq!(keys(&c, "zunionstore d 2 a b WEIGHTS 1 2"), [1, 3, 4]);
        assert_eq!(keys(&c, "zunionstore d 0"), [1]);
        // More keys announced than given: only those present.
        assert_eq!(keys(&c, "zunionstore d 5 a"), [1, 3]);
        assert_eq!(
            keys(&c, "zunionstore d 9223372036854775807 a"),
            [1, 3],
            "a huge count neither overflows nor walks past the arguments"
        );
        for bad in ["zunionstore d x a", "zunionstore d -1 a", "zunionstore d"] {
            assert_eq!(keys(&c, bad), Vec::<usize>::new(), "{bad}");
        }
    }

    #[test]
    fn not_key_and_unknown_specs() {
        static NOT_KEY: &[KeySpec] = &[spec(
            ks::NOT_KEY,
            BeginSearch::Index(1),
            FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 0,
            },
        )];
        assert_eq!(
            keys(&with_specs(NOT_KEY), "spublish ch msg"),
            Vec::<usize>::new()
        );
        static UNKNOWN: &[KeySpec] = &[spec(ks::RW, BeginSearch::Unknown, FindKeys::Unknown)];
        assert_eq!(keys(&with_specs(UNKNOWN), "x a b"), Vec::<usize>::new());
    }

    #[test]
    fn hostile_specs_do_not_panic_or_spin() {
        static ODD: &[KeySpec] = &[
            // A zero step counts as one rather than looping forever.
            spec(
                ks::RO,
                BeginSearch::Index(1),
                FindKeys::Range {
                    lastkey: -1,
                    keystep: 0,
                    limit: 0,
                },
            ),
            // Far outside the arguments either way: nothing, and no overflow.
            spec(
                ks::RO,
                BeginSearch::Index(i32::MIN),
                FindKeys::Range {
                    lastkey: i32::MAX,
                    keystep: 0,
                    limit: 0,
                },
            ),
            spec(
                ks::RO,
                BeginSearch::Index(i32::MAX),
                FindKeys::Range {
                    lastkey: i32::MIN,
                    keystep: i32::MIN,
                    limit: -3,
                },
            ),
        ];
        let c = with_specs(ODD);
        assert_eq!(keys(&c, "x a b"), [1, 2]);
        assert_eq!(key_indexes(&c, &[]), Vec::<usize>::new());
    }

    #[test]
    fn legacy_triple_is_used_without_key_specs() {
        let c = CommandSpec {
            first_key: 1,
            last_key: -2,
            step: 2,
            ..with_specs(&[])
        };
        assert_eq!(keys(&c, "x k1 v1 k2 v2 tail"), [1, 3]);
    }
}
