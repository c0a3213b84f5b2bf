//! What counts as a sentence worth classifying: at least one character that is neither whitespace
//! nor a control character.
//!
//! `""`, `"   "`, `"\t\n"` or `"\u{0}"` carry nothing to classify; the model would still answer
//! (with its prior), which looks like a prediction but says nothing about the text. So they are
//! refused like the empty string (`empty_sentence`). The rule is Rust's `char::is_whitespace`
//! (Unicode White_Space) plus `char::is_control` (the C0 and C1 controls); the OpenAPI document
//! states it as a `pattern` built from `BLANK`, which a test keeps equal to the two predicates.

/// The blank characters as ranges: White_Space and Cc. Only for [`non_blank_pattern`]; requests
/// are checked with the standard predicates themselves.
const BLANK: &[(char, char)] = &[
    // C0 controls (tab, line feed, vertical tab, form feed, carriage return among them), space.
    ('\u{0}', '\u{20}'),
    // DEL, the C1 controls (NEXT LINE among them), NO-BREAK SPACE.
    ('\u{7f}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// True when `text` has no character other than whitespace and control characters (the empty
/// string included).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || c.is_control())
}

/// A JSON Schema `pattern` (ECMA-262, unanchored) that matches exactly the non-blank strings:
/// one character outside `BLANK`. Written with `\uXXXX` escapes, which ECMA-262 and Python's
/// `re` (schemathesis) read alike, rather than `\s`, whose meaning differs between them.
pub fn non_blank_pattern() -> String {
    let mut pattern = String::from("[^");
    for &(low, high) in BLANK {
        pattern.push_str(&format!("\\u{:04X}", u32::from(low)));
        if high != low {
            pattern.push_str(&format!("-\\u{:04X}", u32::from(high)));
        }
    }
    pattern.push(']');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_ranges_are_exactly_whitespace_and_controls() {
        let in_ranges = |c: char| BLANK.iter().any(|&(low, high)| (low..=high).contains(&c));
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            assert_eq!(
                in_ranges(c),
                c.is_whitespace() || c.is_control(),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn blank_texts() {
        for text in [
            "",
            " ",
            "   ",
            "\u{0}",
            "\t\n",
            "\u{7} ",
            "\r\n\u{85}\u{a0}\u{3000}",
        ] {
            assert!(is_blank(text), "{text:?}");
        }
        for text in ["a", "  a  ", "\u{0}x", "🙂", "\u{200b}", "."] {
            assert!(!is_blank(text), "{text:?}");
        }
    }

    #[test]
    fn the_pattern_is_one_negated_class() {
        assert_eq!(
            non_blank_pattern(),
            "[^\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028-\\u2029\\u202F\\u205F\\u3000]"
        );
    }
}
