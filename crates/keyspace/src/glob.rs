//! Redis's glob matching (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET): `*`, `?`,
//! `[abc]`, `[^a-z]`, and `\` escapes, byte-wise, optionally case-insensitive.

/// Whether `s` matches `pattern`.
pub fn matches(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    match_at(pattern, s, nocase, 0)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn match_at(mut p: &[u8], mut s: &[u8], nocase: bool, depth: usize) -> bool {
    // Deep star nesting would recurse too far; Redis caps it the same way.
    if depth > 1000 {
        return false;
    }
    while let Some(&pc) = p.first() {
        match pc {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..=s.len() {
                    if match_at(&p[1..], &s[i..], nocase, depth + 1) {
                        return true;
                    }
                }
                return false;
            }
            b'?' => {
                if s.is_empty() {
                    return false;
                }
                s = &s[1..];
            }
            b'[' => {
                let Some(&c) = s.first() else { return false };
                p = &p[1..];
                let not = p.first() == Some(&b'^');
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    match p.first() {
                        None => break,
                        Some(b']') => break,
                        Some(b'\\') if p.len() >= 2 => {
                            p = &p[1..];
                            if eq(p[0], c, nocase) {
                                matched = true;
                            }
                        }
                        Some(&start) if p.len() >= 3 && p[1] == b'-' => {
                            let end = p[2];
                            let (lo, hi) = if start > end {
                                (end, start)
                            } else {
                                (start, end)
                            };
                            let cc = if nocase { c.to_ascii_lowercase() } else { c };
                            let (lo2, hi2) = if nocase {
                                (lo.to_ascii_lowercase(), hi.to_ascii_lowercase())
                            } else {
                                (lo, hi)
                            };
                            if (lo2..=hi2).contains(&cc) || (lo..=hi).contains(&c) {
                                matched = true;
                            }
                            p = &p[2..];
                        }
                        Some(&x) => {
                            if eq(x, c, nocase) {
                                matched = true;
                            }
                        }
                    }
                    p = &p[1..];
                }
                if p.is_empty() {
                    // Unterminated class: Redis treats the end of pattern as the close.
                    if not == matched {
                        return false;
                    }
                    s = &s[1..];
                    return s.is_empty();
                }
                if not == matched {
                    return false;
                }
                s = &s[1..];
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                match s.first() {
                    Some(&c) if eq(p[0], c, nocase) => s = &s[1..],
                    _ => return false,
                }
            }
            _ => match s.first() {
                Some(&c) if eq(pc, c, nocase) => s = &s[1..],
                _ => return false,
            },
        }
        p = &p[1..];
    }
    s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches(b"*", b"", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"a\\*b", b"a*b", false));
        assert!(!matches(b"a\\*b", b"axb", false));
        assert!(matches(b"MAXMEM*", b"maxmemory", true));
        assert!(!matches(b"foo", b"foobar", false));
    }
}
