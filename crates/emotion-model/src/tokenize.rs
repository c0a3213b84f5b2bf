//! Tweet-aware text normalisation and tokenisation.
//!
//! The pipeline, in order:
//! 1. repair the double-encoded replacement character (`ï¿½`) found in ~260 rows of the data,
//! 2. decode HTML entities (`&quot;`, `&amp;`, `&lt;`, `&#39;`, ...), left encoded in the source,
//! 3. lowercase,
//! 4. scan: URLs become [`URL_TOKEN`], `@mentions` become [`USER_TOKEN`], emoticons (`:)`, `:-(`,
//!    `<3`, `:D`, ...) are kept as one token each, words keep inner apostrophes, runs of `!` and `?`
//!    become one `!` / `?` token, other symbols (emoji) are one token per character,
//! 5. fold elongations: a character repeated three or more times is cut to two (`soooo` -> `soo`).
//!
//! Every step works on `char`s, never on byte offsets, so any UTF-8 input is safe.

/// Version of the normalisation rules. Stored in every artifact: a model is only valid with the
/// tokenizer it was trained with, so any change to the output of [`tokenize`] must bump this.
pub const TOKENIZER_VERSION: u32 = 2;

/// Placeholder emitted for every URL.
pub const URL_TOKEN: &str = "<url>";
/// Placeholder emitted for every `@mention`.
pub const USER_TOKEN: &str = "<user>";

/// Emoticons recognised as tokens, matched on lowercased text, longest first within a shared prefix.
/// Each maps to a canonical form so that `:-)` and `:)` are one feature.
const EMOTICONS: &[(&str, &str)] = &[
    (":'-(", ":'("),
    (":'(", ":'("),
    (":-)", ":)"),
    (":-(", ":("),
    (":-d", ":d"),
    (":-p", ":p"),
    (":-/", ":/"),
    (":-o", ":o"),
    (":-*", ":*"),
    (":-|", ":|"),
    (":-s", ":s"),
    (":-@", ":@"),
    (";-)", ";)"),
    ("^_^", "^^"),
    ("-_-", "-_-"),
    ("</3", "</3"),
    (":)", ":)"),
    (":(", ":("),
    (":d", ":d"),
    (":p", ":p"),
    (":/", ":/"),
    (":o", ":o"),
    (":*", ":*"),
    (":|", ":|"),
    (":s", ":s"),
    (":@", ":@"),
    (":]", ":)"),
    (":[", ":("),
    (";)", ";)"),
    (";d", ";)"),
    ("=)", ":)"),
    ("=(", ":("),
    ("=d", ":d"),
    ("<3", "<3"),
    ("^^", "^^"),
];

/// Splits `text` into normalised tokens. Never panics; the empty string gives no tokens.
pub fn tokenize(text: &str) -> Vec<String> {
    let normalised = normalise(text);
    let chars: Vec<char> = normalised.chars().collect();
    let mut tokens = Vec::with_capacity(chars.len() / 4 + 1);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if let Some(end) = match_url(&chars, i) {
            tokens.push(URL_TOKEN.to_string());
            i = end;
            continue;
        }
        if c == '@' && chars.get(i + 1).is_some_and(|&n| is_handle_char(n)) {
            let mut end = i + 1;
            while end < chars.len() && is_handle_char(chars[end]) {
                end += 1;
            }
            tokens.push(USER_TOKEN.to_string());
            i = end;
            continue;
        }
        if let Some((end, canonical)) = match_emoticon(&chars, i) {
            tokens.push(canonical.to_string());
            i = end;
            continue;
        }
        if is_word_char(c) {
            let mut end = i + 1;
            while end < chars.len() {
                let n = chars[end];
                // Keep apostrophes inside words ("don't", "i'm") but not at their edges.
                let inner_apostrophe =
                    n == '\'' && chars.get(end + 1).is_some_and(|&m| is_word_char(m));
                if is_word_char(n) || inner_apostrophe {
                    end += 1;
                } else {
                    break;
                }
            }
            tokens.push(fold_elongation(&chars[i..end]));
            i = end;
            continue;
        }
        if c == '!' || c == '?' {
            // A run ("!!!", "?!?") says the same as one mark; keep the first kind.
            let mut end = i + 1;
            while end < chars.len() && (chars[end] == '!' || chars[end] == '?') {
                end += 1;
            }
            tokens.push(c.to_string());
            i = end;
            continue;
        }
        if !c.is_ascii() && !c.is_alphanumeric() {
            // Emoji and other symbols carry emotion; the repaired U+FFFD does not.
            if c != char::REPLACEMENT_CHARACTER {
                tokens.push(c.to_string());
            }
        }
        i += 1;
    }
    tokens
}

/// Applies steps 1-3 (mojibake repair, entity decoding, lowercasing).
fn normalise(text: &str) -> String {
    let repaired = text.replace("ï¿½", " ");
    decode_entities(&repaired).to_lowercase()
}

/// Decodes the named entities that occur in tweets and all numeric entities.
/// Unknown or malformed entities are kept verbatim.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        // Entities are short; look for the ';' only within a few bytes.
        let semi = after
            .char_indices()
            .take(10)
            .find(|&(_, ch)| ch == ';')
            .map(|(k, _)| k);
        let decoded = semi.and_then(|k| decode_entity(&after[..k]).map(|ch| (ch, k)));
        match decoded {
            Some((ch, k)) => {
                out.push(ch);
                rest = &after[k + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    match name {
        "quot" => Some('"'),
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            };
            char::from_u32(code)
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_handle_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn starts_with(chars: &[char], at: usize, pattern: &str) -> bool {
    (at..)
        .zip(pattern.chars())
        .all(|(k, p)| chars.get(k) == Some(&p))
}

/// Returns the end of a URL starting at `at` (it runs to the next whitespace).
fn match_url(chars: &[char], at: usize) -> Option<usize> {
    let starts_word = at == 0 || !is_word_char(chars[at - 1]);
    if !starts_word {
        return None;
    }
    if ["http://", "https://", "www."]
        .iter()
        .any(|p| starts_with(chars, at, p))
    {
        let mut end = at;
        while end < chars.len() && !chars[end].is_whitespace() {
            end += 1;
        }
        Some(end)
    } else {
        None
    }
}

/// Matches an emoticon at `at`; repeats of its last character (`:)))`) are absorbed.
fn match_emoticon(chars: &[char], at: usize) -> Option<(usize, &'static str)> {
    // "d", "p", "o" emoticons must not be the start of a word (":dinner" is not ":d").
    for &(pattern, canonical) in EMOTICONS {
        if !starts_with(chars, at, pattern) {
            continue;
        }
        let mut end = at + pattern.chars().count();
        let last = chars[end - 1];
        if last.is_alphanumeric() && chars.get(end).is_some_and(|&n| is_word_char(n)) {
            continue;
        }
        while chars.get(end) == Some(&last) {
            end += 1;
        }
        return Some((end, canonical));
    }
    None
}

/// Cuts every run of three or more equal characters to two.
fn fold_elongation(word: &[char]) -> String {
    let mut out = String::with_capacity(word.len());
    let mut prev = None;
    let mut run = 0;
    for &c in word {
        if Some(c) == prev {
            run += 1;
        } else {
            prev = Some(c);
            run = 1;
        }
        if run <= 2 {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s)
    }

    #[test]
    fn lowercases_and_splits_words() {
        assert_eq!(toks("Hello World"), ["hello", "world"]);
    }

    #[test]
    fn decodes_html_entities() {
        assert_eq!(toks("&quot;Tom &amp; Jerry&quot;"), ["tom", "jerry"]);
        assert_eq!(toks("i &lt;3 you"), ["i", "<3", "you"]);
        assert_eq!(toks("it&#39;s"), ["it's"]);
        assert_eq!(toks("a &bogus; b"), ["a", "bogus", "b"]);
    }

    #[test]
    fn maps_urls_and_mentions_to_placeholders() {
        assert_eq!(
            toks("@Bob_99 look http://t.co/xyz and www.example.com/a?b=c"),
            ["<user>", "look", "<url>", "and", "<url>"]
        );
        assert_eq!(toks("mail me@home"), ["mail", "me", "<user>"]);
    }

    #[test]
    fn folds_elongations() {
        assert_eq!(toks("Soooooo happyyyy"), ["soo", "happyy"]);
        assert_eq!(toks("good"), ["good"]);
    }

    #[test]
    fn keeps_emoticons_as_tokens() {
        assert_eq!(
            toks("great :-) bad :((( ok :D"),
            ["great", ":)", "bad", ":(", "ok", ":d"]
        );
        assert_eq!(toks("hi ;) </3"), ["hi", ";)", "</3"]);
        assert_eq!(toks(":dinner"), ["dinner"]);
        assert_eq!(toks("yeah :S :-@ :sad"), ["yeah", ":s", ":@", "sad"]);
    }

    #[test]
    fn keeps_inner_apostrophes_and_punctuation_runs() {
        assert_eq!(
            toks("I don't know!!! 'quoted'?"),
            ["i", "don't", "know", "!", "quoted", "?"]
        );
    }

    #[test]
    fn repairs_mojibake_and_keeps_emoji() {
        assert_eq!(toks("itï¿½s fine 😀"), ["it", "s", "fine", "😀"]);
    }

    #[test]
    fn empty_and_whitespace_give_no_tokens() {
        assert!(toks("").is_empty());
        assert!(toks(" \t\r\n ").is_empty());
    }

    #[test]
    fn long_input_does_not_panic() {
        let text = "sooo &amp; :) http://x ".repeat(5_000);
        assert!(text.len() > 100_000);
        // "&" alone is dropped: three tokens per repetition.
        assert_eq!(toks(&text).len(), 3 * 5_000);
    }
}
