//! Property tests: the parser never panics on any datagram, and every well-formed record
//! round-trips with bounded labels (`requested` included, present or not).

use access_log_exporter::record::{parse_line, Route, Variant};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_line(&bytes);
    }

    #[test]
    fn arbitrary_messages_behind_a_valid_header_never_panic(message in "\\PC{0,300}") {
        let line = format!("<190>Nov 26 03:00:00 gateway nginx: {message}");
        let _ = parse_line(line.as_bytes());
    }

    #[test]
    fn truncating_a_valid_line_never_panics(cut in 0usize..400) {
        let line = r#"<190>Nov  6 23:59:59 gw nginx: {"status":"503","variant":"v2","uri":"/predict/batch","request_time":"1.5","upstream_response_time":"0.5, 1.0","upstream_status":"502, 503","bytes_sent":"90"}"#;
        let end = cut.min(line.len());
        let result = parse_line(&line.as_bytes()[..end]);
        prop_assert_eq!(result.is_ok(), end == line.len());
    }

    #[test]
    fn well_formed_records_round_trip(
        status in 100u16..=599,
        variant in prop_oneof!["v1", "v2", "debug", "", "-", "v9", "\\PC{0,10}"],
        requested in proptest::option::of(prop_oneof!["v1", "v2", "none", "invalid", "", "\\PC{0,10}"]),
        uri in prop_oneof!["/predict", "/predict/batch", "/health/ready", "/\\PC{0,40}"],
        ms in 0u32..100_000,
        upstream in proptest::option::of(0u32..100_000),
    ) {
        let request_time = format!("{}.{:03}", ms / 1000, ms % 1000);
        let upstream_text = upstream.map_or("-".to_owned(), |u| format!("{}.{:03}", u / 1000, u % 1000));
        let mut json = serde_json::json!({
            "status": status.to_string(),
            "variant": variant,
            "uri": uri,
            "request_time": request_time,
            "upstream_response_time": upstream_text,
        });
        if let Some(requested) = &requested {
            json["requested"] = requested.as_str().into();
        }
        let line = format!("<190>Nov 26 03:00:00 gateway nginx: {json}");
        let record = parse_line(line.as_bytes()).expect("well-formed line parses");
        prop_assert_eq!(record.status, status);
        prop_assert_eq!(record.variant, Variant::parse(&variant));
        prop_assert!(["v1", "v2", "none"].contains(&record.variant.as_str()));
        // Absent means "routed where it was answered".
        prop_assert_eq!(record.requested, requested.as_deref().map_or(record.variant, Variant::parse));
        prop_assert!(["v1", "v2", "none"].contains(&record.requested.as_str()));
        if let Some((r, a)) = record.variant_mismatch() {
            prop_assert!(r.is_real() && a.is_real() && r != a);
        }
        prop_assert_eq!(record.route, Route::parse(&uri));
        prop_assert!(["/predict", "/predict/batch", "/health", "other"].contains(&record.route.as_str()));
        prop_assert!((record.request_time - f64::from(ms) / 1000.0).abs() < 1e-9);
        match upstream {
            None => prop_assert_eq!(record.upstream_time, None),
            Some(u) => prop_assert!((record.upstream_time.expect("upstream") - f64::from(u) / 1000.0).abs() < 1e-9),
        }
    }
}
