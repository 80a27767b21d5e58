//! Glob-style pattern matching with exactly Redis's `stringmatchlen` rules (KEYS, SCAN
//! MATCH, PSUBSCRIBE, PUBSUB CHANNELS): `*`, `?`, `[abc]`, `[^a]`, `[a-z]` (reversed
//! ranges allowed), `\` escapes, and its treatment of malformed patterns (an unclosed `[`
//! matches as if closed at the end; a trailing `\` matches a literal `\`).

/// Whether `string` matches `pattern`.
pub fn matches(pattern: &[u8], string: &[u8]) -> bool {
    matches_case(pattern, string, false)
}

/// Whether `string` matches `pattern`, ignoring ASCII case if `nocase`.
pub fn matches_case(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn lower(c: u8, nocase: bool) -> u8 {
    if nocase { c.to_ascii_lowercase() } else { c }
}

/// Redis reads one byte past the pattern's end (its NUL terminator) in a few places; `at`
/// reproduces that by answering 0 beyond the end.
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

fn match_impl(
    pat: &[u8],
    string: &[u8],
    nocase: bool,
    skip_longer: &mut bool,
    nesting: u32,
) -> bool {
    // Protection against abusive patterns, as Redis.
    if nesting > 1000 {
        return false;
    }
    let (mut p, mut s) = (0usize, 0usize);
    let (mut plen, mut slen) = (pat.len(), string.len());
    while plen > 0 && slen > 0 {
        match pat[p] {
            b'*' => {
                while plen > 0 && at(pat, p + 1) == b'*' {
                    p += 1;
                    plen -= 1;
                }
                if plen == 1 {
                    return true;
                }
                while slen > 0 {
                    if match_impl(
                        &pat[p + 1..p + plen],
                        &string[s..s + slen],
                        nocase,
                        skip_longer,
                        nesting + 1,
                    ) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s += 1;
                    slen -= 1;
                }
                // No match for the rest of the pattern anywhere in the rest of the string:
                // earlier stars cannot help either.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s += 1;
                slen -= 1;
            }
            b'[' => {
                p += 1;
                plen -= 1;
                let not = at(pat, p) == b'^';
                if not {
                    p += 1;
                    plen = plen.saturating_sub(1);
                }
                let c = string[s];
                let mut matched = false;
                loop {
                    if at(pat, p) == b'\\' && plen >= 2 {
                        p += 1;
                        plen -= 1;
                        if at(pat, p) == c {
                            matched = true;
                        }
                    } else if at(pat, p) == b']' && plen > 0 {
                        break;
                    } else if plen == 0 {
                        p -= 1;
                        plen += 1;
                        break;
                    } else if plen >= 3 && at(pat, p + 1) == b'-' {
                        let (mut start, mut end) = (at(pat, p), at(pat, p + 2));
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let (start, end, cc) =
                            (lower(start, nocase), lower(end, nocase), lower(c, nocase));
                        p += 2;
                        plen -= 2;
                        if cc >= start && cc <= end {
                            matched = true;
                        }
                    } else if lower(at(pat, p), nocase) == lower(c, nocase) {
                        matched = true;
                    }
                    p += 1;
                    plen -= 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
                slen -= 1;
            }
            first => {
                let mut pc = first;
                if first == b'\\' && plen >= 2 {
                    p += 1;
                    plen -= 1;
                    pc = pat[p];
                }
                if lower(pc, nocase) != lower(string[s], nocase) {
                    return false;
                }
                s += 1;
                slen -= 1;
            }
        }
        p += 1;
        plen -= 1;
        if slen == 0 {
            while plen > 0 && pat[p] == b'*' {
                p += 1;
                plen -= 1;
            }
            break;
        }
    }
    plen == 0 && slen == 0
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_examples() {
        assert!(matches(b"h?llo", b"hello"));
        assert!(matches(b"h*llo", b"heeeello"));
        assert!(matches(b"h[ae]llo", b"hallo"));
        assert!(!matches(b"h[ae]llo", b"hillo"));
        assert!(matches(b"h[^e]llo", b"hallo"));
        assert!(!matches(b"h[^e]llo", b"hello"));
        assert!(matches(b"h[a-b]llo", b"hbllo"));
        assert!(matches(b"h[b-a]llo", b"hallo"));
        // stringmatchlen never matches an empty string against `*` (KEYS special-cases it).
        assert!(!matches(b"*", b""));
        assert!(matches(b"", b""));
        assert!(!matches(b"", b"a"));
        assert!(matches(b"a*", b"a"));
        assert!(matches(b"\\*", b"*"));
        assert!(!matches(b"\\*", b"a"));
        assert!(matches(b"events:*", b"events:user"));
        assert!(!matches(b"a[", b"a["));
        assert!(!matches(b"a[", b"ab"));
        assert!(matches(b"[abc", b"a"));
        assert!(matches(b"a\\", b"a\\"));
        assert!(matches(b"*a*b*c*", b"xxaxxbxxcxx"));
        assert!(!matches(b"*a*b*c*", b"xxaxxcxxbxx"));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let s = vec![b'a'; 50];
        let p = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        assert!(!matches(p, &s));
    }
}
