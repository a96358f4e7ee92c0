//! Names the git commit the binary is built from, for `cabot --version`. A build outside a
//! git checkout (a source tarball) takes `CABOT_COMMIT` from the environment, else "unknown".

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=CABOT_COMMIT");
    let commit = std::env::var("CABOT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // Build again when HEAD moves: a commit, a checkout or a fetch into the branch.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        let branch = git(&["symbolic-ref", "-q", "HEAD"]);
        let files = ["HEAD", "packed-refs"].into_iter().chain(branch.as_deref());
        // Only files that exist: cargo runs a build script whose watched file is missing
        // on every build, which would build cabot again on every `cargo test`.
        for file in files.map(|f| format!("{dir}/{f}")) {
            if std::path::Path::new(&file).exists() {
                println!("cargo::rerun-if-changed={file}");
            }
        }
    }
    println!("cargo::rustc-env=CABOT_COMMIT={commit}");
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
