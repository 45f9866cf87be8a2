//! Quoting: how arbitrary bytes travel through a line of text, in both directions.
//!
//! Keys and values are arbitrary bytes, but the shell speaks in lines of space-separated tokens.
//! This module is the one place that bridges the two:
//!
//! - [`tokenize`] splits an input line into tokens. A token is either a run of raw bytes without
//!   spaces, tabs or `"` (taken exactly as they are, no escapes), or a double-quoted string in
//!   which a space is literal and `\\ \" \n \t \r \0 \xHH` are escapes.
//! - [`quote`] does the reverse for one reply token: a plain printable token is written bare, and
//!   anything else is written in quotes with escapes, so that the reply is always one line of
//!   printable ASCII that [`tokenize`] turns back into the same bytes.
//!
//! The syntax is deliberately small — far smaller than a POSIX shell's. There is exactly one way
//! to quote, and every error (an unterminated quote, an unknown escape, a quote glued to another
//! token) is refused rather than guessed at: a store should never receive a key that the user
//! did not mean.

use std::borrow::Cow;
use std::fmt;

/// Words the protocol itself uses as a whole reply or as a reply's first token. A key or value
/// equal to one of them is always quoted, so it can never be mistaken for the protocol word:
/// `(nil)` is what `get` answers for a missing key, and `ERR` starts an error reply (a scan entry
/// whose key is `ERR` would otherwise look like one).
pub const RESERVED_WORDS: [&[u8]; 2] = [b"(nil)", b"ERR"];

/// Why a line could not be split into tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenError {
    /// Byte offset in the line where the problem is.
    pub offset: usize,
    /// What the problem is.
    pub kind: TokenErrorKind,
}

/// The kinds of malformed input [`tokenize`] refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenErrorKind {
    /// A `"` opened a quoted token that the line never closes.
    UnterminatedQuote,
    /// A `\` inside quotes was followed by a byte that is not an escape we know.
    BadEscape(u8),
    /// A `\x` inside quotes was not followed by two hexadecimal digits.
    BadHexEscape,
    /// A closing `"` was followed by something other than a space, a tab or the end of the line.
    GluedQuote,
    /// A `"` appeared in the middle of an unquoted token.
    StrayQuote,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match self.kind {
            TokenErrorKind::UnterminatedQuote => {
                write!(f, "unterminated quote (opened at byte {at})")
            }
            TokenErrorKind::BadEscape(b) => write!(
                f,
                "unknown escape \\{} at byte {at} (known: \\\\ \\\" \\n \\t \\r \\0 \\xHH)",
                escape_byte(b)
            ),
            TokenErrorKind::BadHexEscape => {
                write!(f, "\\x at byte {at} must be followed by two hex digits")
            }
            TokenErrorKind::GluedQuote => write!(
                f,
                "closing quote at byte {at} must be followed by a space or the end of the line"
            ),
            TokenErrorKind::StrayQuote => write!(
                f,
                "quote at byte {at} inside an unquoted token (quote the whole token)"
            ),
        }
    }
}

impl std::error::Error for TokenError {}

/// True for the bytes that separate tokens: space and tab.
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Splits one line (without its line ending) into tokens.
///
/// Runs of spaces and tabs separate tokens; leading and trailing blanks are ignored, so a blank
/// line gives no tokens. See the [module documentation](self) for the syntax.
pub fn tokenize(line: &[u8]) -> Result<Vec<Vec<u8>>, TokenError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if is_blank(line[i]) {
            i += 1;
        } else if line[i] == b'"' {
            let (token, next) = quoted_token(line, i)?;
            tokens.push(token);
            i = next;
        } else {
            let start = i;
            while i < line.len() && !is_blank(line[i]) {
                if line[i] == b'"' {
                    return Err(TokenError {
                        offset: i,
                        kind: TokenErrorKind::StrayQuote,
                    });
                }
                i += 1;
            }
            tokens.push(line[start..i].to_vec());
        }
    }
    Ok(tokens)
}

/// Reads the quoted token whose opening `"` is at `open`. Returns the token and the offset just
/// after the closing quote.
fn quoted_token(line: &[u8], open: usize) -> Result<(Vec<u8>, usize), TokenError> {
    let mut token = Vec::new();
    let mut i = open + 1;
    loop {
        let Some(&b) = line.get(i) else {
            return Err(TokenError {
                offset: open,
                kind: TokenErrorKind::UnterminatedQuote,
            });
        };
        match b {
            b'"' => {
                let next = i + 1;
                if line.get(next).is_some_and(|&b| !is_blank(b)) {
                    return Err(TokenError {
                        offset: i,
                        kind: TokenErrorKind::GluedQuote,
                    });
                }
                return Ok((token, next));
            }
            b'\\' => {
                let Some(&e) = line.get(i + 1) else {
                    return Err(TokenError {
                        offset: open,
                        kind: TokenErrorKind::UnterminatedQuote,
                    });
                };
                let (byte, width) = match e {
                    b'\\' => (b'\\', 2),
                    b'"' => (b'"', 2),
                    b'n' => (b'\n', 2),
                    b't' => (b'\t', 2),
                    b'r' => (b'\r', 2),
                    b'0' => (0, 2),
                    b'x' => {
                        let hex = |k: usize| line.get(k).and_then(|&d| (d as char).to_digit(16));
                        match (hex(i + 2), hex(i + 3)) {
                            (Some(hi), Some(lo)) => ((hi * 16 + lo) as u8, 4),
                            _ => {
                                return Err(TokenError {
                                    offset: i,
                                    kind: TokenErrorKind::BadHexEscape,
                                });
                            }
                        }
                    }
                    other => {
                        return Err(TokenError {
                            offset: i,
                            kind: TokenErrorKind::BadEscape(other),
                        });
                    }
                };
                token.push(byte);
                i += width;
            }
            other => {
                token.push(other);
                i += 1;
            }
        }
    }
}

/// Parses a whole string as exactly one token (used for `--quoted` command-line arguments).
///
/// Blanks around the token are allowed; no token or more than one is an error.
pub fn parse_one(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut tokens = tokenize(text).map_err(|e| e.to_string())?;
    match tokens.len() {
        1 => Ok(tokens.remove(0)),
        0 => Err("expected one token, found none (write \"\" for the empty string)".into()),
        n => Err(format!(
            "expected one token, found {n} (put a token with spaces in double quotes)"
        )),
    }
}

/// True when `bytes` must be written in quotes: when it is empty, when it holds a byte outside
/// printable ASCII `0x21..=0x7E` (space included) or a `"` or `\`, or when it is one of the
/// [`RESERVED_WORDS`].
pub fn needs_quotes(bytes: &[u8]) -> bool {
    bytes.is_empty()
        || RESERVED_WORDS.contains(&bytes)
        || bytes
            .iter()
            .any(|&b| !(0x21..=0x7e).contains(&b) || b == b'"' || b == b'\\')
}

/// Writes `bytes` as one reply token: bare when it needs no quotes, quoted otherwise.
///
/// The result is always printable ASCII (`0x20..=0x7E`), one line, and [`tokenize`] reads it back
/// as exactly `bytes`. Inside quotes, `\\ \" \n \t \r \0` are used for those bytes, a space stays
/// a space, and every other byte outside `0x20..=0x7E` becomes `\xHH` in lowercase hex.
pub fn quote(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(plain) if !needs_quotes(bytes) => Cow::Borrowed(plain),
        _ => {
            let mut out = String::with_capacity(bytes.len() + 2);
            out.push('"');
            for &b in bytes {
                out.push_str(&escape_byte(b));
            }
            out.push('"');
            Cow::Owned(out)
        }
    }
}

/// How one byte is written inside quotes.
fn escape_byte(b: u8) -> Cow<'static, str> {
    match b {
        b'\\' => Cow::Borrowed("\\\\"),
        b'"' => Cow::Borrowed("\\\""),
        b'\n' => Cow::Borrowed("\\n"),
        b'\t' => Cow::Borrowed("\\t"),
        b'\r' => Cow::Borrowed("\\r"),
        0 => Cow::Borrowed("\\0"),
        0x20..=0x7e => Cow::Owned((b as char).to_string()),
        _ => Cow::Owned(format!("\\x{b:02x}")),
    }
}

/// Makes an arbitrary message safe to print as (part of) one line: control characters become
/// visible escapes such as `\n`, so an error reason can never split a reply in two.
pub fn one_line(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn toks(line: &[u8]) -> Vec<Vec<u8>> {
        tokenize(line).unwrap()
    }

    fn err(line: &[u8]) -> TokenErrorKind {
        tokenize(line).unwrap_err().kind
    }

    #[test]
    fn splits_on_runs_of_blanks() {
        assert_eq!(
            toks(b"  put \t k   v\t"),
            vec![b"put".to_vec(), b"k".to_vec(), b"v".to_vec()]
        );
        assert!(toks(b"").is_empty());
        assert!(toks(b" \t  ").is_empty());
    }

    #[test]
    fn unquoted_tokens_are_raw_bytes() {
        assert_eq!(toks(b"a\\nb"), vec![b"a\\nb".to_vec()]);
        assert_eq!(toks(b"\xff\x00\r"), vec![b"\xff\x00\r".to_vec()]);
    }

    #[test]
    fn every_escape() {
        let cases: [(&[u8], &[u8]); 11] = [
            (br#""\\""#, b"\\"),
            (br#""\"""#, b"\""),
            (br#""\n""#, b"\n"),
            (br#""\t""#, b"\t"),
            (br#""\r""#, b"\r"),
            (br#""\0""#, b"\0"),
            (br#""\x41""#, b"A"),
            (br#""\xfF""#, b"\xff"),
            (br#""\x00""#, b"\0"),
            (br#""a b""#, b"a b"),
            (br#""""#, b""),
        ];
        for (line, want) in cases {
            assert_eq!(
                toks(line),
                vec![want.to_vec()],
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn quoted_tokens_keep_raw_bytes_and_tabs() {
        assert_eq!(toks(b"\"a\tb\xff\""), vec![b"a\tb\xff".to_vec()]);
    }

    #[test]
    fn malformed_inputs() {
        assert_eq!(err(br#""abc"#), TokenErrorKind::UnterminatedQuote);
        assert_eq!(err(br#"""#), TokenErrorKind::UnterminatedQuote);
        assert_eq!(err(br#""abc\"#), TokenErrorKind::UnterminatedQuote);
        assert_eq!(err(br#""abc\""#), TokenErrorKind::UnterminatedQuote);
        assert_eq!(err(br#""\q""#), TokenErrorKind::BadEscape(b'q'));
        assert_eq!(err(br#""\ ""#), TokenErrorKind::BadEscape(b' '));
        assert_eq!(err(br#""\x4""#), TokenErrorKind::BadHexEscape);
        assert_eq!(err(br#""\xg0""#), TokenErrorKind::BadHexEscape);
        assert_eq!(err(br#""\x"#), TokenErrorKind::BadHexEscape);
        assert_eq!(err(br#""a"b"#), TokenErrorKind::GluedQuote);
        assert_eq!(err(br#""a""b""#), TokenErrorKind::GluedQuote);
        assert_eq!(err(br#"a"b"#), TokenErrorKind::StrayQuote);
        assert_eq!(err(br#"a""#), TokenErrorKind::StrayQuote);
    }

    #[test]
    fn error_messages_are_one_line() {
        let e = tokenize(b"\"\\\n\"").unwrap_err();
        assert_eq!(e.kind, TokenErrorKind::BadEscape(b'\n'));
        assert!(!e.to_string().contains('\n'), "{e}");
        assert_eq!(e.offset, 1);
    }

    #[test]
    fn quote_leaves_plain_tokens_bare() {
        assert_eq!(quote(b"abc~!"), "abc~!");
        assert_eq!(quote(b"nil"), "nil");
        assert_eq!(quote(b"END"), "END");
    }

    #[test]
    fn quote_quotes_what_it_must() {
        assert_eq!(quote(b""), r#""""#);
        assert_eq!(quote(b"(nil)"), r#""(nil)""#);
        assert_eq!(quote(b"ERR"), r#""ERR""#);
        assert_eq!(quote(b"a b"), r#""a b""#);
        assert_eq!(quote(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote(b"\n\t\r\0"), r#""\n\t\r\0""#);
        assert_eq!(quote(b"\x01\x7f\xff\xAB"), r#""\x01\x7f\xff\xab""#);
        assert_eq!(quote("é".as_bytes()), r#""\xc3\xa9""#);
    }

    #[test]
    fn parse_one_wants_exactly_one_token() {
        assert_eq!(parse_one(br#" "a b" "#), Ok(b"a b".to_vec()));
        assert_eq!(parse_one(br#""""#), Ok(Vec::new()));
        assert!(parse_one(b"").is_err());
        assert!(parse_one(b"a b").is_err());
        assert!(parse_one(b"\"a").is_err());
    }

    #[test]
    fn one_line_escapes_control_characters() {
        assert_eq!(one_line("a\nb\rc\td"), "a\\nb\\rc\\td");
        assert_eq!(one_line("plain é"), "plain é");
    }

    /// Byte strings biased towards the bytes the syntax cares about.
    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        let special = prop::sample::select(vec![
            b' ', b'\t', b'"', b'\\', b'\n', b'\r', 0, b'x', b'(', b')', 0x7f, 0xff,
        ]);
        prop::collection::vec(prop_oneof![any::<u8>(), special], 0..24)
    }

    proptest! {
        #[test]
        fn quote_then_tokenize_round_trips(b in bytes()) {
            let q = quote(&b);
            prop_assert!(q.bytes().all(|c| (0x20..=0x7e).contains(&c)), "{}", q);
            prop_assert_eq!(tokenize(q.as_bytes()).unwrap(), vec![b]);
        }

        #[test]
        fn sequences_round_trip(
            tokens in prop::collection::vec(bytes(), 0..8),
            seps in prop::collection::vec(prop::sample::select(vec![" ", "\t", "  ", " \t "]), 9),
        ) {
            let mut line = String::from(seps[8]);
            for (i, t) in tokens.iter().enumerate() {
                line.push_str(&quote(t));
                line.push_str(seps[i]);
            }
            prop_assert_eq!(tokenize(line.as_bytes()).unwrap(), tokens);
        }

        #[test]
        fn arbitrary_lines_never_panic(line in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(tokens) = tokenize(&line) {
                // Whatever was accepted can be written back and read again.
                let again: Vec<String> = tokens.iter().map(|t| quote(t).into_owned()).collect();
                prop_assert_eq!(tokenize(again.join(" ").as_bytes()).unwrap(), tokens);
            }
        }
    }
}
