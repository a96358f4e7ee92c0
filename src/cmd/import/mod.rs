//! `cabot import cabot|uptime-kuma`: write a config from another monitor's data, with each
//! secret in its own file, a report of everything dropped or changed, and the result
//! validated before it takes the output's place.
//!
//! Each source reads into a [`yaml_out::Node`] tree: `cabot.rs` (a Django dump of an
//! Arachnys Cabot, or its REST API through `cabot_api.rs`) and `kuma.rs` (Uptime Kuma's
//! SQLite database). What they share is here: the arguments, the secrets folder, the
//! report, and writing the file.

mod cabot;
mod cabot_api;
mod kuma;
mod yaml_out;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::alerts::channels::{self, Verdict};
use crate::cli::Global;
use crate::config;
use crate::exit_codes::{Exit, ExitCode};
use crate::text::plural;
use yaml_out::Node;

/// The first line of every imported config: what tells a later import it may overwrite it.
const HEADER: &str = "Imported by `cabot import`";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub source: Source,
}

#[derive(Debug, clap::Subcommand)]
pub enum Source {
    /// From Arachnys' Cabot: `manage.py dumpdata --natural-foreign` output, or its REST API
    Cabot(CabotArgs),
    /// From Uptime Kuma's SQLite database (kuma.db, 1.23 or 2.x)
    UptimeKuma(KumaArgs),
}

#[derive(Debug, clap::Args)]
pub struct CabotArgs {
    /// The dump: `python manage.py dumpdata --natural-foreign --indent 2 > cabot.json`
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "api",
        conflicts_with = "api"
    )]
    pub dump: Option<PathBuf>,
    /// Cabot's REST API instead of a dump (lossy: the report says what it lacks)
    #[arg(
        long,
        value_name = "URL",
        requires = "user",
        requires = "password_file"
    )]
    pub api: Option<String>,
    /// The API's user (basic auth)
    #[arg(long, value_name = "NAME", requires = "api")]
    pub user: Option<String>,
    /// A file holding that user's password
    #[arg(long, value_name = "FILE", requires = "api")]
    pub password_file: Option<PathBuf>,
    /// Cabot's environment file (production.env): channel credentials, alert intervals, the rota
    #[arg(long, value_name = "FILE")]
    pub env: Option<PathBuf>,
    #[command(flatten)]
    pub out: Out,
}

#[derive(Debug, clap::Args)]
pub struct KumaArgs {
    /// Uptime Kuma's database: data/kuma.db (stop Kuma or copy it first)
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    #[command(flatten)]
    pub out: Out,
}

#[derive(Debug, clap::Args)]
pub struct Out {
    /// Where to write the config (an existing file only if an import wrote it)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Where each secret is written as a file of its own (mode 0600), named by `*_file`
    #[arg(long, value_name = "DIR")]
    pub secrets_dir: PathBuf,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let out = match &args.source {
        Source::Cabot(a) => &a.out,
        Source::UptimeKuma(a) => &a.out,
    };
    refuse_foreign_output(&out.output)?;
    let mut secrets = Secrets::new(&out.secrets_dir, &out.output)?;
    let mut report = Report::default();
    let imported = match &args.source {
        Source::Cabot(a) => match (&a.dump, &a.api, read_env(a.env.as_deref())?) {
            (Some(dump), _, env) => cabot::from_dump(dump, &env, &mut secrets, &mut report)?,
            (None, Some(url), env) => {
                let user = a.user.as_deref().unwrap_or_default();
                let password = a
                    .password_file
                    .as_deref()
                    .map(read_secret_file)
                    .transpose()?
                    .unwrap_or_default();
                cabot_api::from_api(url, user, &password, &env, &mut secrets, &mut report)?
            }
            (None, None, _) => {
                return Err(Exit::error(
                    ExitCode::Usage,
                    "give --dump FILE or --api URL",
                ));
            }
        },
        Source::UptimeKuma(a) => kuma::from_db(&a.db, &mut secrets, &mut report)?,
    };
    for line in &report.lines {
        eprintln!("import: {line}");
    }
    if imported.root.get("services").is_none_or(Node::is_empty) {
        return Err(Exit::error(
            ExitCode::Usage,
            format!(
                "nothing to write: no service has a check cabot can run (the report above says why each was left out); {} is unchanged",
                out.output.display()
            ),
        ));
    }
    secrets.write()?;
    let summary = write_validated(&out.output, &imported)?;
    if !g.quiet {
        crate::print_out(&format!(
            "{}: {summary}; {} secret{} in {}; {} line{} in the report above\n",
            out.output.display(),
            secrets.files.len(),
            plural(secrets.files.len()),
            out.secrets_dir.display(),
            report.lines.len(),
            plural(report.lines.len()),
        ))?;
    }
    Ok(ExitCode::Ok)
}

/// What an importer made: the header's lines after [`HEADER`], and the config.
pub struct Imported {
    pub origin: Vec<String>,
    pub root: Node,
}

/// Everything dropped or changed, and why, one line each, in the order met.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<String>,
}

impl Report {
    pub fn say(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }
}

/// The secrets folder: each secret becomes a file there, and the config names the file.
pub struct Secrets {
    dir: PathBuf,
    /// How the config names the folder: relative to the config's own folder when the
    /// secrets are under it, so the two can move together.
    reference: PathBuf,
    files: BTreeMap<String, String>,
}

impl Secrets {
    /// Makes the folder (readable by its owner only) if it is not there.
    fn new(dir: &Path, output: &Path) -> anyhow::Result<Secrets> {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let absolute = dir
            .canonicalize()
            .with_context(|| format!("cannot use {}", dir.display()))?;
        let out_dir = absolute_dir_of(output)?;
        let reference = absolute
            .strip_prefix(&out_dir)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| absolute.clone());
        Ok(Secrets {
            dir: dir.to_path_buf(),
            reference,
            files: BTreeMap::new(),
        })
    }

    /// Keeps `value` in a file named after `hint`, and returns the path the config gives.
    /// The same value under the same hint is one file; another value gets `-2`, `-3`.
    pub fn put(&mut self, hint: &str, value: &str) -> String {
        let base = slug(hint, "secret");
        let mut name = base.clone();
        let mut n = 1;
        while let Some(held) = self.files.get(&name) {
            if held == value {
                break;
            }
            n += 1;
            name = format!("{base}-{n}");
        }
        self.files.insert(name.clone(), value.to_string());
        self.reference.join(&name).display().to_string()
    }

    /// Writes every file, each readable by its owner only, each replaced whole.
    fn write(&self) -> anyhow::Result<()> {
        for (name, value) in &self.files {
            let path = self.dir.join(name);
            let tmp = self.dir.join(format!(".{name}.new"));
            let _ = std::fs::remove_file(&tmp);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            f.write_all(value.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

/// A name made of `text`'s letters and digits in lower case, dashes between: a secret's
/// file name (nothing that could leave the folder), a channel's key. `fallback` if none.
pub fn slug(text: &str, fallback: &str) -> String {
    let mut name = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-').to_string();
    if name.is_empty() {
        fallback.to_string()
    } else {
        name
    }
}

/// `url` without its `user:password@`, and those, percent-decoded.
pub fn split_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..end].rfind('@') else {
        return (url.to_string(), None);
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let (user, password) = rest[..at].split_once(':').unwrap_or((&rest[..at], ""));
    (
        format!("{scheme}://{}", &rest[at + 1..]),
        Some((decode(user), decode(password))),
    )
}

/// What the config's check of a contact (`email`, `phone`, `slack`, `pushover`...) makes of
/// `value`: the rule `validate` applies to a user's contact and to a channel's `to:`.
pub fn judge(contact: &str, value: &str) -> Verdict {
    channels::contacts()
        .iter()
        .find(|c| c.key == contact)
        .map_or(Verdict::Usable, |c| (c.check)(value))
}

/// Whether `url` is an http or https URL with a host: what an http check can fetch.
pub fn http_url(url: &str) -> bool {
    ureq::http::Uri::try_from(url.trim())
        .is_ok_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some())
}

/// The folder `file` is (to be) in, with links and `..` resolved.
fn absolute_dir_of(file: &Path) -> anyhow::Result<PathBuf> {
    let abs = std::path::absolute(file)?;
    let dir = abs.parent().map(Path::to_path_buf).unwrap_or(abs);
    dir.canonicalize()
        .with_context(|| format!("cannot write into {}", dir.display()))
}

/// An existing output is replaced only when an import wrote it: a hand-written config
/// given as `-o` by mistake is kept.
fn refuse_foreign_output(output: &Path) -> anyhow::Result<()> {
    let Ok(text) = std::fs::read_to_string(output) else {
        return Ok(());
    };
    if text.starts_with(&format!("# {HEADER}")) {
        return Ok(());
    }
    Err(Exit::error(
        ExitCode::Usage,
        format!(
            "{} exists and was not written by cabot import: give another -o, or move it away",
            output.display()
        ),
    ))
}

/// Validates the config as `cabot validate` would validate it at `output`, and only then
/// writes it there (beside it first, then renamed). Returns what it holds, in words.
fn write_validated(output: &Path, imported: &Imported) -> anyhow::Result<String> {
    let mut header = vec![HEADER.to_string()];
    header.extend(imported.origin.iter().cloned());
    let text = yaml_out::render(&header, &imported.root);
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "checks.yaml".into());
    let new = output.with_file_name(format!("{name}.new"));
    let write_new = || -> anyhow::Result<()> {
        // A new file, not whatever `.new` may point to.
        let _ = std::fs::remove_file(&new);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&new)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write {}", new.display()))
    };
    let loaded = match config::check_text(&text, output) {
        Ok(loaded) => loaded,
        Err(e) => {
            for line in e.lines() {
                eprintln!("{line}");
            }
            if let Some(io) = &e.io {
                eprintln!("cabot: {}: {io}", output.display());
            }
            write_new()?;
            return Err(Exit::error(
                ExitCode::Config,
                format!(
                    "the imported config does not validate, so {} is unchanged; it is kept as {} (this is a bug in cabot import: please report it with the lines above)",
                    output.display(),
                    new.display()
                ),
            ));
        }
    };
    for w in &loaded.warnings {
        eprintln!("{}", config::format_diagnostic(output, w, true));
    }
    write_new()?;
    std::fs::rename(&new, output).with_context(|| format!("cannot write {}", output.display()))?;
    let services = loaded.config.services.len();
    let checks: usize = loaded.config.services.iter().map(|s| s.checks.len()).sum();
    let users = loaded.config.users.len();
    let channels = loaded.config.channels.len();
    Ok(format!(
        "{services} service{}, {checks} check{}, {users} user{}, {channels} channel{}",
        plural(services),
        plural(checks),
        plural(users),
        plural(channels)
    ))
}

/// A file holding one secret, its trailing newline dropped.
fn read_secret_file(path: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// Cabot's environment file (`production.env`): `NAME=value` lines as docker's `env_file`
/// and foreman read them, with `#` comments, an optional `export `, and the value's
/// surrounding quotes removed. Without a file, nothing.
pub fn read_env(path: Option<&Path>) -> anyhow::Result<BTreeMap<String, String>> {
    let Some(path) = path else {
        return Ok(BTreeMap::new());
    };
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > 1024 * 1024 {
        return Err(Exit::error(
            ExitCode::Usage,
            format!(
                "{} is larger than 1 MiB: not an environment file",
                path.display()
            ),
        ));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(parse_env(&text))
}

fn parse_env(text: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = [('"', '"'), ('\'', '\'')]
            .iter()
            .find_map(|(a, b)| value.strip_prefix(*a)?.strip_suffix(*b))
            .unwrap_or(value);
        env.insert(name.trim().to_string(), value.to_string());
    }
    env
}

/// A name usable as a service's or check's (the config's rule): `name`, or with `/` and
/// control characters replaced and blanks trimmed. Says so when it changed.
pub fn usable_name(name: &str, what: &str, report: &mut Report) -> String {
    if config::read::usable_name(name) {
        return name.to_string();
    }
    let cleaned: String = name
        .chars()
        .map(|c| if c == '/' || c.is_control() { '-' } else { c })
        .collect();
    let cleaned = match cleaned.trim() {
        "" => "unnamed".to_string(),
        trimmed => trimmed.to_string(),
    };
    report.say(format!(
        "{what} '{name}' is named '{cleaned}' (a name has no '/' and is not blank)"
    ));
    cleaned
}

/// `name`, or `name (2)`, `name (3)`... when it is taken already.
pub fn unique(name: String, taken: &mut std::collections::BTreeSet<String>) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    let mut n = 2;
    loop {
        let candidate = format!("{name} ({n})");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Minutes as the config writes a duration.
pub fn minutes(m: i64) -> Node {
    seconds(m.saturating_mul(60))
}

/// Seconds as the config writes a duration, in its largest whole unit.
pub fn seconds(s: i64) -> Node {
    Node::str(config::read::whole(std::time::Duration::from_secs(
        s.max(0) as u64,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_read_as_docker_and_foreman_read_them() {
        let env = parse_env(
            "# comment\nTWILIO_ACCOUNT_SID=AC1\nexport EMAIL_HOST = smtp.example.com\n\
             AUTH_LDAP_BIND_DN=\"cn=Manager,dc=example\"\nQUOTED='a b'\nEMPTY=\nnot a line\n",
        );
        assert_eq!(env["TWILIO_ACCOUNT_SID"], "AC1");
        assert_eq!(env["EMAIL_HOST"], "smtp.example.com");
        assert_eq!(env["AUTH_LDAP_BIND_DN"], "cn=Manager,dc=example");
        assert_eq!(env["QUOTED"], "a b");
        assert_eq!(env["EMPTY"], "");
        assert_eq!(env.len(), 5);
    }

    /// An importer's mistake never reaches the output: the text is kept beside it.
    #[test]
    fn a_config_that_does_not_validate_leaves_the_output_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let output = dir.path().join("checks.yaml");
        std::fs::write(&output, "# Imported by `cabot import`\nold\n").unwrap();
        let imported = Imported {
            origin: Vec::new(),
            root: Node::map().with("services", Node::list()),
        };
        let err = write_validated(&output, &imported).expect_err("no services is no config");
        assert_eq!(crate::exit_codes::for_error(&err), ExitCode::Config);
        assert_eq!(
            std::fs::read_to_string(&output).unwrap(),
            "# Imported by `cabot import`\nold\n"
        );
        let kept = std::fs::read_to_string(dir.path().join("checks.yaml.new")).unwrap();
        assert!(kept.contains("services: []"), "{kept}");
    }

    #[test]
    fn secret_file_names_are_tame_and_distinct_values_get_distinct_files() {
        let mut s = Secrets {
            dir: PathBuf::from("/x"),
            reference: PathBuf::from("secrets"),
            files: BTreeMap::new(),
        };
        assert_eq!(
            s.put("Jenkins ../../etc/passwd", "a"),
            "secrets/jenkins-etc-passwd"
        );
        assert_eq!(
            s.put("jenkins etc passwd", "a"),
            "secrets/jenkins-etc-passwd"
        );
        assert_eq!(
            s.put("jenkins etc passwd", "b"),
            "secrets/jenkins-etc-passwd-2"
        );
        assert_eq!(s.put("///", "c"), "secrets/secret");
    }
}
