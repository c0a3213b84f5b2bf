//! Loading the labelled CSV and the fixed train / held-out split.
//!
//! Malformed rows are an error naming the CSV line, never silently skipped: the shipped data has
//! none, so any such row means the file is not the one the model card describes.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The source's unique id; it also decides the split (see [`is_held_out`]).
    pub tweet_id: u64,
    /// The emotion label (`sentiment` column).
    pub label: String,
    /// The raw text (`content` column), HTML entities and all.
    pub text: String,
}

/// A loaded data file: its examples and the sha256 of its bytes.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// All rows in file order.
    pub examples: Vec<Example>,
    /// Lowercase hex sha256 of the file as read.
    pub sha256: String,
}

/// Why the training data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("cannot read training data {path}: {source}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The header is not `tweet_id,sentiment,content`.
    #[error("unexpected CSV header {found:?}: expected tweet_id,sentiment,content")]
    Header {
        /// The header found.
        found: Vec<String>,
    },
    /// A row could not be parsed.
    #[error("malformed CSV at line {line}: {message}")]
    Row {
        /// 1-based line number in the file (the header is line 1).
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// The file has a header but no rows.
    #[error("training data has no rows")]
    Empty,
}

const HEADER: [&str; 3] = ["tweet_id", "sentiment", "content"];

/// Reads and parses a CSV file; see [`parse_csv`].
pub fn load_csv(path: &Path) -> Result<Dataset, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let examples = parse_csv(&bytes)?;
    Ok(Dataset {
        examples,
        sha256: sha256_hex(&bytes),
    })
}

/// Parses `tweet_id,sentiment,content` CSV (RFC 4180 quoting, LF or CRLF line endings).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<Example>, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        // Field counts are checked below: csv's own UnequalLengths error reports the previous
        // record's line.
        .flexible(true)
        .from_reader(bytes);
    let header = reader.headers().map_err(|e| row_error(&e, &|_| 1))?.clone();
    if header.iter().collect::<Vec<_>>() != HEADER {
        return Err(DataError::Header {
            found: header.iter().map(str::to_string).collect(),
        });
    }
    // csv's own line numbers are one short after a CRLF header, so lines are counted here from
    // the byte offset csv reports (which points at or just before the record).
    let newlines: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let line_of = |byte: u64| 1 + newlines.partition_point(|&n| (n as u64) <= byte) as u64;
    let mut examples = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| row_error(&e, &line_of))?;
        let line = record.position().map_or(0, |p| line_of(p.byte()));
        let bad = |message: String| DataError::Row { line, message };
        if record.len() != HEADER.len() {
            return Err(bad(format!("expected 3 fields, found {}", record.len())));
        }
        let tweet_id = record[0].trim().parse::<u64>().map_err(|_| {
            bad(format!(
                "tweet_id {:?} is not an unsigned integer",
                &record[0]
            ))
        })?;
        let label = record[1].trim();
        if label.is_empty() {
            return Err(bad("empty sentiment label".to_string()));
        }
        examples.push(Example {
            tweet_id,
            label: label.to_string(),
            text: record[2].to_string(),
        });
    }
    if examples.is_empty() {
        return Err(DataError::Empty);
    }
    Ok(examples)
}

fn row_error(error: &csv::Error, line_of: &dyn Fn(u64) -> u64) -> DataError {
    let line = error.position().map_or(0, |p| line_of(p.byte()));
    let message = match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".to_string(),
        _ => error.to_string(),
    };
    DataError::Row { line, message }
}

/// The fixed evaluation split: a row is held out iff its `tweet_id` is divisible by 5
/// (8,106 of the 40,000 rows). Independent of file order, so it is reproducible anywhere.
pub fn is_held_out(tweet_id: u64) -> bool {
    // Not `is_multiple_of`: it needs Rust 1.87 and the workspace supports 1.85.
    matches!(tweet_id % 5, 0)
}

/// Splits into (training, held-out) by [`is_held_out`], keeping file order within each.
pub fn split(examples: &[Example]) -> (Vec<Example>, Vec<Example>) {
    examples
        .iter()
        .cloned()
        .partition(|e| !is_held_out(e.tweet_id))
}

/// Lowercase hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex encoding.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_crlf_and_quoted_fields() {
        let csv = b"tweet_id,sentiment,content\r\n10,worry,\"a, b\"\r\n11,love,&quot;x&quot;\r\n";
        let rows = parse_csv(csv).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text, "a, b");
        assert_eq!(rows[1].label, "love");
        assert!(is_held_out(rows[0].tweet_id) && !is_held_out(rows[1].tweet_id));
    }

    #[test]
    fn short_row_names_its_line() {
        let csv = b"tweet_id,sentiment,content\r\n10,worry,ok\r\n11,love\r\n";
        let err = parse_csv(csv).unwrap_err();
        assert!(matches!(err, DataError::Row { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("line 3") && err.to_string().contains("found 2"));
        let csv = b"tweet_id,sentiment,content\n10,worry,ok\n11,love,a,b\n";
        assert!(matches!(
            parse_csv(csv),
            Err(DataError::Row { line: 3, .. })
        ));
        let csv = b"tweet_id,sentiment,content\n10,worry,\xff\xfe\n";
        let err = parse_csv(csv).unwrap_err();
        assert!(
            err.to_string().contains("line 2") && err.to_string().contains("UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn line_numbers_are_right_with_lf_and_crlf() {
        for eol in ["\n", "\r\n"] {
            let csv = format!("tweet_id,sentiment,content{eol}1,a,x{eol}2,b,y{eol}x,c,z{eol}");
            let err = parse_csv(csv.as_bytes()).unwrap_err();
            assert!(
                matches!(err, DataError::Row { line: 4, .. }),
                "{eol:?}: {err}"
            );
        }
    }

    #[test]
    fn bad_id_and_empty_label_name_their_line() {
        let err = parse_csv(b"tweet_id,sentiment,content\nabc,worry,x\n").unwrap_err();
        assert!(err.to_string().contains("line 2") && err.to_string().contains("abc"));
        let err = parse_csv(b"tweet_id,sentiment,content\n1,worry,x\n2,,y\n").unwrap_err();
        assert!(matches!(err, DataError::Row { line: 3, .. }), "{err}");
    }

    #[test]
    fn wrong_header_and_empty_file_are_rejected() {
        assert!(matches!(
            parse_csv(b"id,label,text\n1,a,b\n"),
            Err(DataError::Header { .. })
        ));
        assert!(matches!(
            parse_csv(b"tweet_id,sentiment,content\r\n"),
            Err(DataError::Empty)
        ));
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = load_csv(Path::new("/nonexistent/x.csv")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.csv"));
    }
}
