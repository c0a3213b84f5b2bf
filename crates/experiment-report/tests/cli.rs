//! The binary's exit statuses and one-line errors, as documented in `--help` and `main.rs`.
//!
//! No Prometheus here: what it answers is covered by the library's tests on recorded answers.
//! The one "server" below is a std listener that answers a single canned HTTP response, to see
//! the exit status for an answer that is not Prometheus'.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::thread;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_experiment-report"))
        .args(args)
        .env_remove("PROMETHEUS_URL")
        .env_remove("PROMETHEUS_PORT")
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_exits_0() {
    let output = run(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("exit status"));
}

#[test]
fn a_bad_argument_exits_2_naming_it() {
    for args in [
        &["--window", "1q"][..],
        &["--frobnicate"],
        &["--prometheus", "https://x"],
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr(&output);
        assert!(message.contains(args[0]), "{args:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn an_unreachable_prometheus_exits_2_naming_the_url() {
    // Port 9 (discard) on loopback: nothing listens there, and the refusal is immediate.
    let output = run(&["--prometheus", "http://127.0.0.1:9"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("http://127.0.0.1:9 is unreachable"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn an_answer_that_is_not_prometheus_exits_1() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("one connection");
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        let body = "<html>502 Bad Gateway</html>";
        let _ = write!(
            stream,
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let output = run(&["--prometheus", &url]);
    server.join().expect("server thread");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("HTTP 502"), "{message}");
    assert!(message.contains(&url), "{message}");
}
