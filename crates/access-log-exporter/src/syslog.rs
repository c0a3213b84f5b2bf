//! RFC 3164 framing as Nginx writes it: `<PRI>Mmm dd hh:mm:ss hostname tag: message`.
//!
//! Only the framing is checked here; the message is handed on untouched. Parsing never panics on
//! any input: every slice goes through `str::get`/`split_once`, never through indexing.

use thiserror::Error;

/// Why a datagram is not an RFC 3164 syslog line.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SyslogError {
    /// The line does not start with `<PRI>`.
    #[error("missing <PRI> prefix")]
    MissingPriority,
    /// `<PRI>` is not a number in 0..=191 (facility * 8 + severity).
    #[error("invalid priority")]
    BadPriority,
    /// The `Mmm dd hh:mm:ss` timestamp is malformed.
    #[error("invalid timestamp")]
    BadTimestamp,
    /// No `hostname tag: ` header before the message.
    #[error("missing hostname or tag")]
    MissingHeader,
    /// The message part is empty.
    #[error("empty message")]
    EmptyMessage,
}

/// Highest valid priority: facility 23 (local7) * 8 + severity 7 (debug).
const MAX_PRIORITY: u16 = 191;
/// RFC 3164 limits the tag to 32 characters; a little slack for `tag[pid]`.
const MAX_TAG_LEN: usize = 48;
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Returns the message part of one syslog line (trailing newlines and NULs removed).
///
/// A line whose header is absent (`<PRI>{...}`) is accepted too, because some relays strip it.
pub fn message(line: &str) -> Result<&str, SyslogError> {
    let line = line.trim_end_matches(['\n', '\r', '\0']);
    let rest = line.strip_prefix('<').ok_or(SyslogError::MissingPriority)?;
    let (priority, rest) = rest.split_once('>').ok_or(SyslogError::BadPriority)?;
    if priority.is_empty() || priority.len() > 3 || !priority.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SyslogError::BadPriority);
    }
    // Three ASCII digits always fit in u16; the range check is the real test.
    match priority.parse::<u16>() {
        Ok(p) if p <= MAX_PRIORITY => {}
        _ => return Err(SyslogError::BadPriority),
    }
    let body = if rest.starts_with('{') {
        rest
    } else {
        strip_header(rest)?
    };
    if body.trim().is_empty() {
        return Err(SyslogError::EmptyMessage);
    }
    Ok(body)
}

/// Strips `Mmm dd hh:mm:ss hostname tag: ` and returns what follows.
fn strip_header(rest: &str) -> Result<&str, SyslogError> {
    let timestamp = rest.get(..15).ok_or(SyslogError::BadTimestamp)?;
    if !valid_timestamp(timestamp) {
        return Err(SyslogError::BadTimestamp);
    }
    let after = rest
        .get(15..)
        .and_then(|s| s.strip_prefix(' '))
        .ok_or(SyslogError::MissingHeader)?;
    let (hostname, after) = after.split_once(' ').ok_or(SyslogError::MissingHeader)?;
    if hostname.is_empty() {
        return Err(SyslogError::MissingHeader);
    }
    let (tag, message) = after.split_once(": ").ok_or(SyslogError::MissingHeader)?;
    if tag.is_empty() || tag.len() > MAX_TAG_LEN || tag.contains(' ') {
        return Err(SyslogError::MissingHeader);
    }
    Ok(message)
}

/// `Mmm dd hh:mm:ss`, the day space-padded (`Nov  6`) as RFC 3164 requires.
fn valid_timestamp(ts: &str) -> bool {
    let b = ts.as_bytes();
    if b.len() != 15 || !ts.is_ascii() {
        return false;
    }
    let month_ok = ts.get(..3).is_some_and(|m| MONTHS.contains(&m));
    let day_ok = b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' ';
    let digits = [7, 8, 10, 11, 13, 14];
    let time_ok = b[9] == b':' && b[12] == b':' && digits.iter().all(|&i| b[i].is_ascii_digit());
    month_ok && day_ok && time_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_line_yields_message() {
        let line = "<190>Nov 26 03:00:00 gateway nginx: {\"status\":\"200\"}";
        assert_eq!(message(line), Ok("{\"status\":\"200\"}"));
    }

    #[test]
    fn space_padded_day_and_trailing_newline_are_accepted() {
        let line = "<190>Nov  6 03:00:00 gw nginx: {}\n";
        assert_eq!(message(line), Ok("{}"));
    }

    #[test]
    fn headerless_line_is_accepted() {
        assert_eq!(message("<14>{\"a\":1}"), Ok("{\"a\":1}"));
    }

    #[test]
    fn message_may_contain_colons_and_spaces() {
        let line = "<190>Jan 01 00:00:00 h nginx: {\"uri\": \"/a: b\"}";
        assert_eq!(message(line), Ok("{\"uri\": \"/a: b\"}"));
    }

    #[test]
    fn malformed_frames_are_rejected_with_a_reason() {
        let cases = [
            ("", SyslogError::MissingPriority),
            ("hello", SyslogError::MissingPriority),
            ("<190", SyslogError::BadPriority),
            ("<>x", SyslogError::BadPriority),
            ("<192>{}", SyslogError::BadPriority),
            ("<1900>{}", SyslogError::BadPriority),
            ("<-1>{}", SyslogError::BadPriority),
            (
                "<190>Foo 26 03:00:00 h nginx: {}",
                SyslogError::BadTimestamp,
            ),
            (
                "<190>Nov 26 03-00-00 h nginx: {}",
                SyslogError::BadTimestamp,
            ),
            ("<190>Nov 26", SyslogError::BadTimestamp),
            ("<190>Nov 26 03:00:00", SyslogError::MissingHeader),
            ("<190>Nov 26 03:00:00 hostonly", SyslogError::MissingHeader),
            (
                "<190>Nov 26 03:00:00 h nginx {}",
                SyslogError::MissingHeader,
            ),
            ("<190>Nov 26 03:00:00 h nginx: ", SyslogError::EmptyMessage),
            (
                "<190>Nov 26 03:00:00 h nginx:    \n",
                SyslogError::EmptyMessage,
            ),
        ];
        for (line, want) in cases {
            assert_eq!(message(line), Err(want), "line {line:?}");
        }
    }

    #[test]
    fn multibyte_characters_at_header_offsets_do_not_panic() {
        // 15 bytes would split the multi-byte characters; `get` must refuse, not panic.
        assert_eq!(
            message("<190>ééééééééééééé h t: {}"),
            Err(SyslogError::BadTimestamp)
        );
    }
}
