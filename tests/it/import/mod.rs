//! `cabot import`: configs written from another monitor's data, validated, the same twice,
//! secrets in 0600 files, and the imported checks behaving as they did at the source.
//!
//! A new source gets a file here; its fixtures go in a folder named for it.

mod cabot;
mod kuma;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::*;

/// One import's folder: the config it wrote and the secrets beside it.
pub struct Imported {
    pub dir: tempfile::TempDir,
    pub run: Run,
}

impl Imported {
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("checks.yaml")
    }

    pub fn text(&self) -> String {
        std::fs::read_to_string(self.config()).unwrap_or_default()
    }

    pub fn yaml(&self) -> yaml_rust2::Yaml {
        let docs = yaml_rust2::YamlLoader::load_from_str(&self.text()).expect("the output is YAML");
        docs.into_iter().next().expect("one document")
    }

    pub fn secret(&self, name: &str) -> (String, u32) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.path().join("secrets").join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777;
        (text, mode)
    }

    /// Fails unless stderr (the report, and validate's warnings) says `text`.
    pub fn said(&self, text: &str) {
        assert!(
            self.run.stderr.contains(text),
            "not said: {text}\n{}",
            self.run.stderr
        );
    }

    /// `cabot ARGS` on the imported config, with its state in the same folder.
    pub fn cabot_at(&self, now: i64, args: &[&str]) -> Run {
        let state = self.dir.path().join("cabot.db");
        Run::from(
            cabot_command()
                .arg("-c")
                .arg(self.config())
                .arg("--state")
                .arg(&state)
                .args(args)
                .env("CABOT_NOW", now.to_string())
                .output()
                .expect("run cabot"),
        )
    }
}

/// `cabot import ARGS -o DIR/checks.yaml --secrets-dir DIR/secrets`, run in DIR.
pub fn import_into(dir: tempfile::TempDir, args: &[&str]) -> Imported {
    let run = Run::from(
        cabot_command()
            .current_dir(dir.path())
            .arg("import")
            .args(args)
            .args(["-o", "checks.yaml", "--secrets-dir", "secrets"])
            .output()
            .expect("run cabot import"),
    );
    Imported { dir, run }
}

/// A fixture with its placeholders (`__TARGET__`, ...) replaced, written into `dir`.
pub fn fixture_into(dir: &Path, fixture: &str, name: &str, replace: &[(&str, &str)]) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/import")
        .join(fixture);
    let mut text =
        std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    path
}

/// The list at `key` of every item of `list` whose `name` is `name`.
pub fn named<'a>(list: &'a yaml_rust2::Yaml, name: &str) -> &'a yaml_rust2::Yaml {
    list.as_vec()
        .and_then(|v| v.iter().find(|i| i["name"].as_str() == Some(name)))
        .unwrap_or_else(|| panic!("no item named {name} in {list:?}"))
}

/// A target that answers `body` (200) while up and 503 while down, on every path.
pub fn toggled_target(body: &'static str) -> (HttpServer, Arc<AtomicBool>) {
    let up = Arc::new(AtomicBool::new(true));
    let u = Arc::clone(&up);
    let server = HttpServer::start(move |_| {
        if u.load(Ordering::SeqCst) {
            Reply::new(200, body)
        } else {
            Reply::new(503, "down")
        }
    });
    (server, up)
}
