//! `cabot backup` and the backups `migrate` takes: a consistent copy while runs write
//! (what is still in the WAL file included), written atomically (never a half-written file
//! under a backup's name), never over an existing file, and mode 0640 like the state.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};

use crate::support::*;
use cabot::store::migrations;

fn env_with_checks(n: usize) -> Env {
    let port = closed_port();
    let checks: String = (0..n)
        .map(|i| format!("      - {{ name: c{i}, type: tcp, host: '127.0.0.1:{port}' }}\n"))
        .collect();
    Env::new(&format!("services:\n  - name: s\n    checks:\n{checks}"))
}

fn runs_in(path: &Path) -> i64 {
    let db = rusqlite::Connection::open(path).expect("open copy");
    let verdict: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(verdict, "ok", "{}", path.display());
    db.query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .expect("runs")
}

fn backed_up(r: &Run) -> PathBuf {
    assert_eq!(r.code, 0, "{r:?}");
    let line = r.stdout.trim();
    let path = line
        .strip_prefix("backup: ")
        .and_then(|l| l.split(" (schema ").next())
        .unwrap_or_else(|| panic!("no backup line: {r:?}"));
    PathBuf::from(path)
}

/// The names of the files in the test's folder.
fn names_in(env: &Env) -> Vec<String> {
    std::fs::read_dir(env.path("."))
        .expect("ls")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_backup_taken_while_runs_write_is_whole_and_holds_what_is_still_in_the_wal() {
    let env = env_with_checks(20);
    assert_eq!(env.cabot(&["run", "--all"]).code, 0);
    // Held open in a read transaction, this connection keeps the runs below from
    // checkpointing their WAL into the database file past its snapshot (as a reader such
    // as serve-status does): what a running cabot leaves, and what a plain `cp cabot.db`
    // misses.
    let hold = env.db();
    hold.execute_batch("BEGIN").expect("begin");
    let first: i64 = hold
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .expect("read");
    assert_eq!(first, 1);

    let runs = 6;
    let writer = {
        let config = env.config();
        std::thread::spawn(move || {
            for _ in 0..runs {
                let out = cabot_command()
                    .arg("-c")
                    .arg(&config)
                    .args(["run", "--all"])
                    .output()
                    .expect("run");
                assert!(out.status.success(), "{out:?}");
            }
        })
    };
    let mut seen = 0;
    let mut copies = 0;
    while !writer.is_finished() || copies == 0 {
        let dest = env.path(&format!("copy-{copies}.db"));
        let r = env.cabot(&["backup", dest.to_str().expect("utf8")]);
        assert_eq!(backed_up(&r), dest);
        let n = runs_in(&dest);
        assert!(n >= seen, "a later copy holds no fewer runs: {n} < {seen}");
        seen = n;
        copies += 1;
    }
    writer.join().expect("runs");
    let last = env.path("last.db");
    backed_up(&env.cabot(&["backup", last.to_str().expect("utf8")]));
    assert_eq!(
        runs_in(&last),
        1 + runs,
        "every finished run is in the copy"
    );

    let plain = env.path("plain-cp.db");
    std::fs::copy(env.state(), &plain).expect("cp");
    assert!(
        runs_in(&plain) < 1 + runs,
        "the WAL held runs that a copy of the file alone lacks, so the test shows the difference"
    );
    hold.execute_batch("COMMIT").expect("commit");
    drop(hold);
}

#[test]
fn backups_are_named_beside_the_state_or_in_a_folder_and_never_overwrite() {
    let env = env_with_checks(1);
    let none = env.cabot(&["backup"]);
    assert_eq!(none.code, 74, "{none:?}");
    assert!(
        none.stderr
            .contains("does not exist yet; there is nothing to back up"),
        "{none:?}"
    );
    assert_eq!(env.cabot(&["run"]).code, 0);

    let beside = backed_up(&env.cabot(&["backup"]));
    let name = beside
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&format!("cabot.db.schema{}-", migrations::latest()))
            && name.ends_with("Z.bak"),
        "{name}"
    );
    assert_eq!(beside.parent(), env.state().parent());
    let second = backed_up(&env.cabot(&["backup"]));
    assert_ne!(
        second, beside,
        "a second backup in the same second gets its own name"
    );

    let dir = env.path("backups");
    std::fs::create_dir(&dir).expect("mkdir");
    let inside = backed_up(&env.cabot(&["backup", dir.to_str().expect("utf8")]));
    assert_eq!(inside.parent(), Some(dir.as_path()));
    assert_eq!(runs_in(&inside), 1);

    let taken = env.path("taken.db");
    std::fs::write(&taken, b"precious").expect("write");
    let r = env.cabot(&["backup", taken.to_str().expect("utf8")]);
    assert_eq!(r.code, 74, "{r:?}");
    assert!(
        r.stderr.contains("already exists; nothing was overwritten"),
        "{r:?}"
    );
    assert_eq!(std::fs::read(&taken).expect("read"), b"precious");
    let leftovers: Vec<String> = names_in(&env)
        .into_iter()
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary copies left: {leftovers:?}"
    );
}

#[test]
fn the_state_its_lock_and_its_backups_are_made_0640() {
    let env = env_with_checks(1);
    // SAFETY: umask only sets this process's file creation mask; the children inherit it.
    let old = unsafe { libc::umask(0o022) };
    let r = env.cabot(&["run"]);
    let backup = backed_up(&env.cabot(&["backup"]));
    unsafe { libc::umask(old) };
    assert_eq!(r.code, 0, "{r:?}");
    let mut lock = env.state().into_os_string();
    lock.push(".lock");
    for path in [env.state(), PathBuf::from(lock), backup] {
        assert_eq!(mode(&path), 0o640, "{}", path.display());
    }
}

/// A state at schema 1 large enough that its backup takes a moment to write.
fn make_big_schema_1(path: &Path) {
    let mut conn = rusqlite::Connection::open(path).expect("open");
    migrations::apply(&mut conn, 0, 1).expect("schema 1");
    conn.execute_batch(
        "INSERT INTO checks (service, name, kind, importance, consecutive_failures, failing, status_since, last_run_at)
             VALUES ('s', 'c0', 'tcp', 'error', 0, 0, 1700000000, 1700000060);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
         INSERT INTO results (check_id, at, ok, duration_ms, message)
             SELECT 1, 1700000000 + i, 0, 5, hex(randomblob(400)) FROM n;",
    )
    .expect("history");
}

#[test]
fn a_migrate_killed_while_writing_its_backup_leaves_no_file_named_like_a_backup() {
    let env = env_with_checks(1);
    make_big_schema_1(&env.state());
    let size = std::fs::metadata(env.state()).expect("state").len();
    assert!(size > 2 << 20, "{size}");

    // The kernel kills a process that writes past RLIMIT_FSIZE (SIGXFSZ): here, half way
    // through the backup, which is the first thing migrate writes.
    let mut cmd = env.command(&["migrate"]);
    let limit = size / 2;
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(move || {
            let rlimit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("migrate");
    assert!(!out.status.success(), "the limit stopped migrate: {out:?}");
    let named: Vec<String> = names_in(&env)
        .into_iter()
        .filter(|n| n.starts_with("cabot.db.schema"))
        .collect();
    assert!(
        named.is_empty(),
        "a half-written backup under a backup's name: {named:?}"
    );
    let db = rusqlite::Connection::open(env.state()).expect("open");
    let (version, results): (i64, i64) = db
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), count(*) FROM results",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("state");
    assert_eq!((version, results), (1, 4000), "the state is as it was");
    drop(db);

    let r = env.cabot(&["migrate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let leftovers: Vec<String> = names_in(&env)
        .into_iter()
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "the killed copy's half is cleared away: {leftovers:?}"
    );
    let backup = r
        .stdout
        .trim()
        .rsplit("(backup: ")
        .next()
        .map(|b| PathBuf::from(b.trim_end_matches(')')))
        .expect("backup path");
    let db = rusqlite::Connection::open(&backup).expect("open backup");
    let results: i64 = db
        .query_row("SELECT count(*) FROM results", [], |r| r.get(0))
        .expect("results");
    assert_eq!(results, 4000, "the whole state is in the backup");
    assert_eq!(mode(&backup), 0o640);
}

#[test]
fn a_downgraded_cabot_says_which_backup_takes_it_back() {
    let env = env_with_checks(1);
    assert_eq!(env.cabot(&["run"]).code, 0);
    let backup = backed_up(&env.cabot(&["backup"]));
    // What a newer cabot's migrate leaves: the state a schema ahead, the backup beside it.
    env.db()
        .pragma_update(None, "user_version", migrations::latest() + 1)
        .expect("bump");
    let r = env.cabot(&["run"]);
    assert_eq!(r.code, 65, "{r:?}");
    assert!(r.stderr.contains("made by a newer cabot"), "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("`cabot restore {}`", backup.display())),
        "names the backup to restore: {r:?}"
    );
    // And that command takes it back.
    let r = env.cabot(&["restore", backup.to_str().expect("path")]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.cabot(&["run"]).code, 0);
}

#[test]
fn restore_puts_a_backup_back_while_serve_status_runs_and_runs_go_on() {
    let env = env_with_checks(3);
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let backup = backed_up(&env.cabot_at(
        T0 + 10,
        &["backup", env.path("b.db").to_str().expect("path")],
    ));
    for i in 1..=3 {
        assert_eq!(env.cabot_at(T0 + i * MIN, &["run"]).code, 0);
    }
    assert_eq!(runs_in(&env.state()), 4);
    // serve-status holds the state open, as it does on a real install.
    let server = StatusServer::start(&env, Some(T0 + 4 * MIN));
    assert_eq!(server.status().0, 200);
    let r = env.cabot_at(T0 + 4 * MIN, &["restore", backup.to_str().expect("path")]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("restored "), "{r:?}");
    let kept = r
        .stdout
        .split("the state it replaced is kept as ")
        .nth(1)
        .map(|k| PathBuf::from(k.trim()))
        .unwrap_or_else(|| panic!("{r:?}"));
    assert_eq!(runs_in(&kept), 4, "nothing is lost by a restore either");
    assert_eq!(runs_in(&env.state()), 1, "the backup's one run");
    // The next run works (not 74, "database is locked"), and the server reads it at once.
    let r = env.cabot_at(T0 + 5 * MIN, &["run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(runs_in(&env.state()), 2);
    let json = server.json();
    assert_eq!(
        json["last_run"]["started_at"],
        rfc3339(T0 + 5 * MIN),
        "serve-status sees the restored state without a restart: {json}"
    );
    // Not a backup: refused, nothing changed.
    std::fs::write(env.path("junk.db"), b"not a database").expect("junk");
    let r = env.cabot(&["restore", env.path("junk.db").to_str().expect("path")]);
    assert_eq!(r.code, 74, "{r:?}");
    assert_eq!(runs_in(&env.state()), 2);
}

#[test]
fn restore_waits_for_live_runs_or_says_so() {
    let env = env_with_checks(1);
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let backup = backed_up(&env.cabot(&["backup", env.path("b.db").to_str().expect("path")]));
    // A run holds the state (shared), as a slow run would.
    let lock = std::fs::File::open(format!("{}.lock", env.state().display())).expect("lock file");
    lock.lock_shared().expect("shared lock");
    let r = env.cabot(&["restore", backup.to_str().expect("path")]);
    assert_eq!(r.code, 75, "{r:?}");
    assert!(r.stderr.contains("cabot runs are using the state"), "{r:?}");
    drop(lock);
    assert_eq!(
        env.cabot(&["restore", backup.to_str().expect("path")]).code,
        0
    );
}
