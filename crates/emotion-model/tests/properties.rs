//! Property tests: any input gives a well-formed prediction and never panics.

mod common;

use std::sync::LazyLock;

use emotion_model::{tokenize, train, Hyperparameters, Model};
use proptest::prelude::*;

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    train(&common::real_data(), &Hyperparameters::default())
        .expect("training on the real data")
        .model
});

fn check_prediction(model: &Model, text: &str) {
    let p = model.predict(text);
    assert_eq!(p.probabilities.len(), model.labels().len());
    assert!(p
        .probabilities
        .iter()
        .all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
    let sum: f64 = p.probabilities.iter().sum();
    assert!((sum - 1.0).abs() <= 1e-9, "sum {sum} for {text:?}");
    assert_eq!(p.confidence, p.probabilities[p.label]);
    assert!(p.probabilities.iter().all(|&x| x <= p.confidence));
}

/// Text built from the pieces tweets are made of, so entities, emoticons, URLs and elongations
/// are hit often (a uniform random string rarely forms any of them).
fn tweetish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("&quot;".to_string()),
        Just("&amp;".to_string()),
        Just("&lt;3".to_string()),
        Just("&#".to_string()),
        Just(":-)".to_string()),
        Just(":((".to_string()),
        Just("http://t.co/x".to_string()),
        Just("@user_1".to_string()),
        Just("ï¿½".to_string()),
        "[a-zA-Z']{1,12}",
        "(so|o|!|\\?){1,20}",
        "\\PC{0,4}",
        "[ \\t\\r\\n]{1,3}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_string_gives_probabilities_summing_to_one(text in any::<String>()) {
        check_prediction(&MODEL, &text);
    }

    #[test]
    fn tweet_like_text_gives_probabilities_summing_to_one(text in tweetish()) {
        check_prediction(&MODEL, &text);
        let e = MODEL.explain(&text, 5);
        prop_assert!(e.top_features.len() <= 5);
        prop_assert_eq!(e.tokens, tokenize(&text));
    }

    #[test]
    fn tokens_are_non_empty_lowercase_and_whitespace_free(text in tweetish()) {
        for t in tokenize(&text) {
            prop_assert!(!t.is_empty());
            prop_assert!(!t.chars().any(char::is_whitespace), "{:?}", t);
            prop_assert_eq!(t.to_lowercase(), t.clone());
        }
    }
}

#[test]
fn empty_and_100_kb_inputs_are_fine() {
    check_prediction(&MODEL, "");
    let long = "sooooo happy :) &amp; worried @me http://x.y/z ".repeat(2_200);
    assert!(long.len() > 100_000);
    check_prediction(&MODEL, &long);
    let weird: String = (0..30_000u32).filter_map(char::from_u32).collect();
    check_prediction(&MODEL, &weird);
}

#[test]
fn text_without_known_features_gets_the_prior() {
    let p = MODEL.predict("");
    let q = MODEL.predict("zzqxj vbnmw");
    assert_eq!(p, q);
    assert_eq!(MODEL.labels()[p.label], "neutral");
}
