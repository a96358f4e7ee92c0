//! The config reader against hostile and mangled files: the cases found by hand (alias
//! bombs, towers of nesting, invalid UTF-8, durations past any clock, oversized files) and
//! random mutations of `checks.example.yaml` under a fixed seed. Each is `cabot validate`
//! in its own process, so a stack overflow or an abort fails the test instead of taking the
//! test binary down: it must answer within seconds, exit 0 or 78, never panic, and give
//! every error its line and column.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cabot::testing::Rng;

use crate::support::*;

/// Random mutations of the example config; with the hand-made cases, well under 30 s.
const MUTATIONS: usize = 1_500;
const SEED: u64 = 0xf022_cab0_7c0f_1600;
/// Far beyond what a sane file takes (milliseconds), far below a hang.
const CASE_LIMIT: Duration = Duration::from_secs(5);

/// The cases found by hand, by name.
fn hostile() -> Vec<(String, Vec<u8>)> {
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| cases.push((name.to_string(), bytes));
    for levels in [9, 10] {
        let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..levels {
            let refs = vec![format!("*a{}", i - 1); 9].join(",");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        add(&format!("alias bomb, {levels} levels"), bomb.into_bytes());
    }
    add(
        "a 100 kB line of '- - -'",
        format!("x:\n  {}1\n", "- ".repeat(50_000)).into_bytes(),
    );
    add(
        "'? ? ?'",
        format!("x:\n  {}1\n", "? ".repeat(50_000)).into_bytes(),
    );
    add(
        "'- ? - ?'",
        format!("x:\n  {}1\n", "- ? ".repeat(25_000)).into_bytes(),
    );
    add(
        "flow nesting",
        format!("x: {}\n", "[".repeat(100_000)).into_bytes(),
    );
    add(
        "flow maps",
        format!("x: {}\n", "{a: ".repeat(50_000)).into_bytes(),
    );
    add(
        "a 1 MB line of items that are not ASCII",
        format!("x: [{}]\n", vec!["é"; 250_000].join(", ")).into_bytes(),
    );
    let mut indented = String::from("x:\n");
    for i in 0..500 {
        indented.push_str(&format!("{}- \n", " ".repeat(i + 2)));
    }
    add("indented nesting", indented.into_bytes());
    add(
        "invalid UTF-8",
        b"state: x.db\nservices:\n  - name: w\xff\xfe\n".to_vec(),
    );
    add("a lone continuation byte", b"\x80state: x.db\n".to_vec());
    add("NUL bytes", b"state: x.db\x00\nservices: \x00\n".to_vec());
    add(
        "a byte order mark",
        b"\xef\xbb\xbfstate: x.db\nservices: []\n".to_vec(),
    );
    add(
        "CRLF",
        b"state: x.db\r\nservices:\r\n  - name: w\r\n".to_vec(),
    );
    add("tabs", b"services:\n\t- name: w\n".to_vec());
    add(
        "a 1 MB scalar",
        format!("state: {}\n", "x".repeat(1 << 20)).into_bytes(),
    );
    for key in [
        "timeout",
        "frequency",
        "stale_after",
        "retention",
        "debounce",
    ] {
        let value = if key == "debounce" {
            "99999999999999999999999"
        } else {
            "300000000000y"
        };
        let config = format!(
            "stale_after: {v}\nservices:\n  - name: w\n    checks:\n      - {{ name: c, type: tcp, host: '127.0.0.1:9', {key}: {v} }}\n",
            v = value
        );
        add(&format!("{key}: {value}"), config.into_bytes());
    }
    add("an unknown anchor", b"a: *nowhere\n".to_vec());
    add("two documents", b"a: 1\n---\nb: 2\n".to_vec());
    cases
}

/// The example config, mangled `n` times.
fn mutated(example: &[u8], rng: &mut Rng) -> Vec<u8> {
    const BYTES: &[u8] = b":-{}[]&*!|>'\"#%@`,? \t\n0123456789abcxyz\xff\xc3";
    let mut b = example.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len());
        match rng.below(7) {
            0 => {
                let len = rng.below(40).min(b.len() - at);
                b.drain(at..at + len);
            }
            1 => {
                let insert: Vec<u8> = (0..1 + rng.below(8))
                    .map(|_| BYTES[rng.below(BYTES.len())])
                    .collect();
                b.splice(at..at, insert);
            }
            2 => b[at] = BYTES[rng.below(BYTES.len())],
            3 => {
                // Duplicate a line.
                let text = b.clone();
                let start = text[..at]
                    .iter()
                    .rposition(|c| *c == b'\n')
                    .map_or(0, |i| i + 1);
                let end = text[at..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(text.len(), |i| at + i + 1);
                b.splice(end..end, text[start..end].to_vec());
            }
            4 => b.truncate(at),
            5 => {
                // Indent or outdent from here.
                if rng.below(2) == 0 {
                    b.insert(at, b' ');
                } else if b[at] == b' ' {
                    b.remove(at);
                }
            }
            _ => {
                // A number where a duration or a word was.
                b.splice(at..at, b"99999999999999999999y".to_vec());
            }
        }
        if b.is_empty() {
            break;
        }
    }
    b
}

/// Runs `cabot validate` on `bytes`; what is wrong with how it answered, if anything.
fn judge(dir: &Path, n: usize, name: &str, bytes: &[u8]) -> Option<String> {
    let path = dir.join(format!("case{n}.yaml"));
    std::fs::write(&path, bytes).expect("write case");
    let started = Instant::now();
    let mut child = Command::new(cabot_bin())
        .arg("-c")
        .arg(&path)
        .arg("validate")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cabot");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > CASE_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Some(format!("{name}: no answer within {CASE_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    let _ = std::fs::remove_file(&path);
    let file = path.display().to_string();
    match status.code() {
        Some(0) => None,
        Some(78) => {
            let has_position = |l: &str| {
                l.strip_prefix(&format!("{file}:"))
                    .and_then(|rest| {
                        let mut parts = rest.splitn(3, ':');
                        let line = parts.next()?.parse::<usize>().ok()?;
                        let col = parts.next()?.parse::<usize>().ok()?;
                        (line > 0 && col > 0).then_some(())
                    })
                    .is_some()
            };
            let errors: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.starts_with("cabot: "))
                .collect();
            if stderr.contains("panicked") {
                Some(format!("{name}: panicked: {stderr}"))
            } else if errors.is_empty() || !errors.iter().all(|l| has_position(l)) {
                Some(format!(
                    "{name}: an error without its line and column: {stderr}"
                ))
            } else {
                None
            }
        }
        other => Some(format!("{name}: exit {other:?} ({status}): {stderr}")),
    }
}

#[test]
fn hostile_and_mangled_configs_are_errors_with_positions_never_crashes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let example = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("checks.example.yaml"))
        .expect("the example config");
    let mut rng = Rng(SEED);
    let mut cases = hostile();
    for i in 0..MUTATIONS {
        cases.push((
            format!("mutation {i} (seed {SEED:#x})"),
            mutated(&example, &mut rng),
        ));
    }
    let started = Instant::now();
    let failures = Mutex::new(Vec::new());
    let next = Mutex::new(cases.iter().enumerate());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some((n, (name, bytes))) = next.lock().expect("cases").next() else {
                        break;
                    };
                    if let Some(wrong) = judge(dir.path(), n, name, bytes) {
                        failures.lock().expect("failures").push(wrong);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures");
    assert!(
        failures.is_empty(),
        "{} of {} cases went wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} configs in {:.1}s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn an_oversized_config_is_refused_unread() {
    let env = Env::new("");
    let big = format!("state: x.db\n# {}\n", "x".repeat(9 << 20));
    std::fs::write(env.config(), big).expect("write");
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    assert!(
        r.stderr.contains("the config is larger than 8 MiB"),
        "{r:?}"
    );
}
