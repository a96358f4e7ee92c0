//! Copies of the state: `cabot backup` and the one `migrate` takes before it changes
//! anything. A copy is one consistent snapshot (`VACUUM INTO` reads inside one transaction,
//! so what is still in the WAL file is in it), written under a hidden temporary name in the
//! destination's folder, synced, and only then given its name: a copy killed half way never
//! looks like a backup, and an existing file is never overwritten.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// The mode of every file cabot makes beside the state: the `cabot` group may read it.
pub const MODE: u32 = 0o640;

/// Writes a consistent copy of `conn`'s database to `dest`, which must not exist yet.
pub fn copy_to(conn: &Connection, dest: &Path) -> std::io::Result<()> {
    let dir = folder(dest);
    let name = dest
        .file_name()
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    // Left by copies that were killed (this process id's included): they are no backups.
    remove_abandoned(dir);
    // Made here first, empty (which VACUUM INTO accepts), so that it has cabot's mode.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .open(&tmp)?;
    let written = conn
        .execute("VACUUM INTO ?1", [tmp.to_string_lossy()])
        .map_err(std::io::Error::other)
        .and_then(|_| File::open(&tmp)?.sync_all())
        // A link, unlike a rename, refuses to replace a file that appeared meanwhile.
        .and_then(|()| std::fs::hard_link(&tmp, dest));
    let _ = std::fs::remove_file(&tmp);
    written?;
    File::open(dir)?.sync_all()
}

/// Removes the hidden `.NAME.tmp-PID` copies (and SQLite's `-journal` beside them) in
/// `dir` whose process is gone: a copy killed half way, whatever it was named after (each
/// backup's name has its own time). Copies of processes still alive are left alone.
fn remove_abandoned(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((_, tail)) = file.rsplit_once(".tmp-").filter(|_| file.starts_with('.')) else {
            continue;
        };
        let Ok(pid) = tail.trim_end_matches("-journal").parse::<i32>() else {
            continue;
        };
        if pid == std::process::id() as i32 || !alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id exists (EPERM: it does, owned by someone else).
fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `cabot.db.schema7-20261124T100211Z.bak` beside the state file: the schema says which
/// cabot can read it, the time sorts them.
pub fn default_path(state: &Path, schema: u32, now: i64) -> PathBuf {
    in_folder(state.parent().unwrap_or(Path::new("")), state, schema, now)
}

/// A backup of `state` named as `default_path` names it, in `dir`.
pub fn in_folder(dir: &Path, state: &Path, schema: u32, now: i64) -> PathBuf {
    let stamp = crate::clock::format_time(now).replace([':', '-'], "");
    let mut name = state.file_name().unwrap_or(state.as_os_str()).to_owned();
    name.push(format!(".schema{schema}-{stamp}.bak"));
    let mut candidate = dir.join(&name);
    let mut n = 1;
    while candidate.exists() {
        let mut numbered = name.clone();
        numbered.push(format!(".{n}"));
        candidate = dir.join(numbered);
        n += 1;
    }
    candidate
}

/// The newest backup beside `state` that a cabot at `schema` can read, if any.
pub fn newest_at(state: &Path, schema: u32) -> Option<PathBuf> {
    let name = state.file_name()?.to_string_lossy().into_owned();
    let prefix = format!("{name}.schema{schema}-");
    std::fs::read_dir(folder(state))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with(&prefix) && f.contains(".bak"))
        .max()
        .map(|f| folder(state).join(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_abandoned_by_killed_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let dead = gone.id();
        gone.wait().unwrap();
        let abandoned = dir.path().join(format!(".s.db.bak.tmp-{dead}"));
        let live = dir.path().join(format!(
            ".s.db.bak.tmp-{}",
            std::os::unix::process::parent_id()
        ));
        let journal = dir.path().join(format!(".s.db.old.bak.tmp-{dead}-journal"));
        let mine = dir.path().join("notes.tmp-1");
        for f in [&abandoned, &live, &journal, &mine] {
            std::fs::write(f, b"half").unwrap();
        }
        remove_abandoned(dir.path());
        assert!(!abandoned.exists(), "a dead process's copy is removed");
        assert!(!journal.exists(), "and SQLite's journal beside it");
        assert!(live.exists(), "a living process's copy is kept");
        assert!(
            mine.exists(),
            "a file that is no hidden copy is not touched"
        );
    }

    #[test]
    fn backups_are_named_by_schema_and_time_and_never_reuse_a_name() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("cabot.db");
        let first = default_path(&state, 7, 1_700_000_000);
        assert_eq!(
            first.file_name().unwrap(),
            "cabot.db.schema7-20231114T221320Z.bak"
        );
        std::fs::write(&first, b"x").unwrap();
        assert_eq!(
            default_path(&state, 7, 1_700_000_000).file_name().unwrap(),
            "cabot.db.schema7-20231114T221320Z.bak.1"
        );
        std::fs::write(
            dir.path().join("cabot.db.schema7-20251114T221320Z.bak"),
            b"x",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("cabot.db.schema6-20271114T221320Z.bak"),
            b"x",
        )
        .unwrap();
        assert_eq!(
            newest_at(&state, 7).unwrap().file_name().unwrap(),
            "cabot.db.schema7-20251114T221320Z.bak"
        );
        assert_eq!(newest_at(&state, 5), None);
    }
}
