//! The `emotion-train` command: outputs on success, clear failures on bad input.

mod common;

use std::process::Command;

fn emotion_train(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_emotion-train"))
        .args(args)
        .output()
        .expect("run emotion-train")
}

fn write_tiny_csv(name: &str) -> std::path::PathBuf {
    let mut csv = String::from("tweet_id,sentiment,content\r\n");
    for i in 0..40u64 {
        let (label, text) = if i % 2 == 0 {
            ("love", "i love this &lt;3")
        } else {
            ("worry", "so worried :(")
        };
        csv.push_str(&format!("{},{label},{text} {i}\r\n", 500 + i));
    }
    let path = common::temp_path(name);
    std::fs::write(&path, csv).unwrap();
    path
}

/// A well-formed but invalid hyperparameter value: exit status 1 and a message naming it.
fn assert_value_rejected(data: &std::path::Path, extra: &[&str], flag: &str, value: &str) {
    let mut args = vec!["--data", data.to_str().unwrap(), "--out", "/tmp/unused"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[flag, value]);
    let run = emotion_train(&args);
    assert_eq!(run.status.code(), Some(1), "{flag} {value}");
    let name = flag.trim_start_matches("--");
    assert!(String::from_utf8_lossy(&run.stderr).contains(name));
}

#[test]
fn writes_artifact_card_and_metrics_that_agree() {
    let data = write_tiny_csv("cli-ok.csv");
    let out = common::temp_path("cli-out");
    let run = emotion_train(&[
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--min-df",
        "1",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let model = emotion_model::Model::load(out.join("emotion-model.bin")).unwrap();
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["model_version"], model.version());
    assert_eq!(metrics["format_version"], emotion_model::FORMAT_VERSION);
    assert_eq!(metrics["held_out"]["rows"], 8);
    assert_eq!(metrics["hyperparameters"]["min_df"], 1);
    let card = std::fs::read_to_string(out.join("MODEL_CARD.md")).unwrap();
    assert!(card.contains(model.version()));
    assert!(card.contains("Confusion matrix") && card.contains("majority class"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(model.version()) && stdout.contains("macro-F1"),
        "{stdout}"
    );
}

#[test]
fn malformed_csv_fails_naming_the_line() {
    let path = common::temp_path("cli-bad.csv");
    std::fs::write(
        &path,
        "tweet_id,sentiment,content\r\n5,love,ok\r\n6,worry\r\n",
    )
    .unwrap();
    let run = emotion_train(&["--data", path.to_str().unwrap(), "--out", "/tmp/unused"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("expected 3 fields"),
        "{stderr}"
    );
}

#[test]
fn missing_data_file_and_bad_flags_are_reported() {
    let run = emotion_train(&["--data", "/nonexistent.csv", "--out", "/tmp/unused"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("/nonexistent.csv"));

    let run = emotion_train(&["--out", "/tmp/unused"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--data is required"));

    let run = emotion_train(&["--data", "x", "--out", "y", "--l2", "lots"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--l2"));

    let data = write_tiny_csv("cli-alpha.csv");
    assert_value_rejected(&data, &["--model", "nb"], "--alpha", "0");
}

#[test]
fn a_flag_of_the_other_model_family_is_refused_naming_it() {
    for (args, flag) in [
        (&["--alpha", "0.37"][..], "--alpha"),
        (&["--binary", "false", "--model", "logistic"], "--binary"),
        (&["--model", "nb", "--l2", "1e-4"], "--l2"),
        (&["--idf", "true", "--model", "nb"], "--idf"),
        (&["--model", "nb", "--iterations", "10"], "--iterations"),
    ] {
        let mut all = vec!["--data", "x", "--out", "y"];
        all.extend_from_slice(args);
        let run = emotion_train(&all);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            stderr.contains(&format!("{flag} does not apply to the")),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn the_model_kind_is_selectable_and_recorded() {
    let data = write_tiny_csv("cli-kind.csv");
    for (kind, stored, card_text) in [
        ("nb", "NaiveBayes", "Multinomial Naive Bayes"),
        ("logistic", "Logistic", "Multinomial logistic regression"),
    ] {
        let out = common::temp_path(&format!("cli-kind-{kind}"));
        let run = emotion_train(&[
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--min-df",
            "1",
            "--model",
            kind,
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let model = emotion_model::Model::load(out.join("emotion-model.bin")).unwrap();
        let metrics: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap())
                .unwrap();
        assert_eq!(metrics["hyperparameters"]["model"], stored);
        assert_eq!(
            model.info().hyperparameters.kind().to_string(),
            kind,
            "info() records the kind"
        );
        let card = std::fs::read_to_string(out.join("MODEL_CARD.md")).unwrap();
        assert!(card.contains(card_text), "{card}");
        // The tiny data set is separable: both kinds learn it.
        assert_eq!(
            model.labels()[model.predict("i love this &lt;3").label],
            "love"
        );
        assert_eq!(
            model.labels()[model.predict("so worried :(").label],
            "worry"
        );
    }

    let run = emotion_train(&["--data", "x", "--out", "y", "--model", "svm"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("nb or logistic"));
    assert_value_rejected(&data, &[], "--l2", "0");
}
