//! The committed completions and man page match what the binary generates now.

mod support;

use std::path::Path;

const REFRESH: &str = "cargo run -q -- completions bash > completions/cabot.bash && cargo run -q -- completions zsh > completions/_cabot && cargo run -q -- completions fish > completions/cabot.fish && cargo run -q -- man > completions/cabot.1";

fn generated(args: &[&str]) -> Vec<u8> {
    let out = support::cabot_command()
        .args(args)
        .output()
        .expect("run cabot");
    assert!(out.status.success(), "cabot {args:?} failed");
    assert!(!out.stdout.is_empty());
    out.stdout
}

#[test]
fn committed_completions_and_man_page_are_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases: [(&[&str], &str); 4] = [
        (&["completions", "bash"], "completions/cabot.bash"),
        (&["completions", "zsh"], "completions/_cabot"),
        (&["completions", "fish"], "completions/cabot.fish"),
        (&["man"], "completions/cabot.1"),
    ];
    let mut stale = Vec::new();
    for (args, file) in cases {
        let committed = std::fs::read(root.join(file)).unwrap_or_default();
        if committed != generated(args) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; refresh them with:\n  {}",
        REFRESH
    );
}

#[test]
fn completions_know_the_subcommands_and_flags() {
    let bash = String::from_utf8(generated(&["completions", "bash"])).expect("utf8");
    for word in [
        "run",
        "status",
        "migrate",
        "validate",
        "--fail-on",
        "--nagios",
        "--dry-run",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let man = String::from_utf8(generated(&["man"])).expect("utf8");
    assert!(man.contains(".TH cabot"), "a roff man page");
}
