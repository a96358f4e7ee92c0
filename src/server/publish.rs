//! `status.publish`: the status site as static files, written after a run into a folder
//! and sent on by a command (rsync to a host apart from the monitor's, as Uptime Kuma's
//! maintainer advises), so that the page customers read does not live on the
//! infrastructure it reports on.
//!
//! Each file is written beside its place and renamed into it, so a reader never sees half
//! of one. The published page carries its own time and turns grey by itself (a few lines
//! of inline script) once it is older than `stale_after`: a copy left behind when runs
//! stop never looks green.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::View;
use super::db::Db;
use crate::config::{Config, Publish};

/// Where the last publication is kept, in the state's `check_memory`.
pub const MEMORY_KEY: &str = "publish:last";

/// Turns the page grey, and says so, once it is older than `stale_after`.
const STALE_SCRIPT: &str = "<script>(function(){var b=document.body,\
u=+b.dataset.updated,s=+b.dataset.staleAfter;function check(){\
if(Date.now()/1000-u<=s)return;b.classList.add('stale');\
var o=document.querySelector('.overall');if(o)o.textContent='Status unknown: this page \
was last updated '+new Date(u*1000).toISOString().slice(0,16).replace('T',' ')+' UTC';}\
check();setInterval(check,30000);})();</script>";

const STALE_STYLE: &str = "<style>.stale .overall,.stale .badge{background:#9aa3ad!important}\
.stale .strip{filter:grayscale(1)}</style>";

/// The last publication: when, of what, and what went wrong with it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Last {
    pub at: i64,
    pub digest: String,
    pub problem: Option<String>,
}

/// What a run did about the static site.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Nothing changed since the last publication, which is recent enough.
    Unchanged,
    /// Written (and sent, with a command).
    Published,
    /// Written or sent only in part: why.
    Failed(String),
}

/// Publishes the site at `now` when the state's news changed since the last time, or that
/// was half of `stale_after` ago, or it failed; `last` is what the state remembers, and
/// the new `Last`, if it published, is returned to keep.
pub fn after_run(
    cfg: &Config,
    publish: &Publish,
    last: Option<Last>,
    now: i64,
) -> (Outcome, Option<Last>) {
    let mut db = Db::new(cfg.state.clone());
    let mut view = View::new(cfg, &mut db, now);
    let digest = digest(&mut view);
    let half = (cfg.stale_after.as_secs() / 2) as i64;
    if let Some(last) = &last
        && last.problem.is_none()
        && last.digest == digest
        && now >= last.at
        && now - last.at < half
    {
        return (Outcome::Unchanged, None);
    }
    // Built only now: most runs change nothing customers see.
    let files = site(&mut view);
    let problem = write_all(&publish.dir, &files)
        .err()
        .or_else(|| publish.command.as_ref().and_then(|c| run(c, publish)));
    let outcome = match &problem {
        None => Outcome::Published,
        Some(why) => Outcome::Failed(why.clone()),
    };
    (
        outcome,
        Some(Last {
            at: now,
            digest,
            problem,
        }),
    )
}

/// Every file of the site: the page, the history, the feed, `status.json`, and a badge of
/// each kind per public service.
fn site(view: &mut View) -> Vec<(String, Vec<u8>)> {
    let page = super::page::page(view).replacen(
        "<body>",
        &format!(
            "{STALE_STYLE}<body data-updated=\"{}\" data-stale-after=\"{}\">",
            view.now,
            view.cfg.stale_after.as_secs()
        ),
        1,
    );
    let page = page.replacen("</body>", &format!("{STALE_SCRIPT}</body>"), 1);
    let mut files = vec![
        ("index.html".to_string(), page.into_bytes()),
        (
            "history.html".into(),
            super::posts::history_page(view).into_bytes(),
        ),
        ("feed.atom".into(), super::feed::feed(view).into_bytes()),
        ("status.json".into(), super::status_json::body(view)),
    ];
    // The services and windows read once for every badge.
    let now = view.now;
    let windows = view.windows(now);
    for s in view.public_services() {
        let maintained = windows.iter().any(|w| w.covers(&s.name, now));
        let (word, fill) = super::badge::look(view.running, s.status, maintained);
        let name = &s.name;
        files.push((
            format!("badge/{name}.svg"),
            super::badge::svg(name, &word, fill).into_bytes(),
        ));
        files.push((
            format!("badge/{name}.json"),
            super::badge::endpoint(name, &word, fill).into_bytes(),
        ));
    }
    files
}

/// What customers would see change: whether runs happen, each public service's status
/// and since, the posts' updates and the windows (not the ages and times that move on
/// with every run).
fn digest(view: &mut View) -> String {
    let now = view.now;
    let mut text = format!("{}", view.running);
    for s in view.public_services() {
        text.push_str(&format!(
            "|{} {} {} {:?}",
            s.name, s.status, s.since, s.blocked_by
        ));
    }
    for p in view.posts() {
        text.push_str(&format!(
            "|post {} {} {:?}",
            p.id,
            p.updates.len(),
            p.resolved_at
        ));
    }
    for w in view.windows(now) {
        text.push_str(&format!(
            "|window {:?} {} {} {}",
            w.id,
            w.from,
            w.to,
            w.is_open(now)
        ));
    }
    crate::store::secret_digest(&text)
}

/// Writes each file beside its place and renames it there.
fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    for (name, bytes) in files {
        let path = dir.join(name);
        let folder = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot make {}: {e}", folder.display()))?;
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let temporary = folder.join(format!(".{file_name}.{}.tmp", std::process::id()));
        std::fs::write(&temporary, bytes)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&temporary);
                format!("cannot write {}: {e}", path.display())
            })?;
    }
    Ok(())
}

/// Runs the command within its timeout: what went wrong, if anything.
fn run(argv: &[String], publish: &Publish) -> Option<String> {
    let own = std::env::var("HOME")
        .map(|h| vec![("HOME".to_string(), h)])
        .unwrap_or_default();
    let env = crate::process::environment(&publish.env, own);
    match crate::process::run(argv, &env, None, publish.timeout, 8 * 1024) {
        Ok(done) if done.status.success() => None,
        Ok(done) => Some(format!(
            "the command failed ({}): {}",
            crate::process::describe(&done.status),
            crate::text::one_line(done.stderr.trim(), 300)
        )),
        Err(crate::process::Failure::Spawn(e)) => Some(format!("cannot run the command: {e}")),
        Err(crate::process::Failure::Timeout { .. }) => Some(format!(
            "the command did not finish within {}",
            crate::text::duration(publish.timeout)
        )),
    }
}
