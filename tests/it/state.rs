//! The state file: migrations (fresh, old with backup, newer refused, twice a no-op), and
//! state that cabot cannot use (corrupt, read-only, a full disk): a clear error, the
//! documented exit code, the file untouched.

use std::path::Path;
use std::process::Command;

use crate::support::*;
use cabot::store::migrations;

fn env_with_closed_port() -> Env {
    Env::new(&format!(
        "services:\n  - name: s\n    checks:\n      - {{ name: c, type: tcp, host: '127.0.0.1:{}' }}\n",
        closed_port()
    ))
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .expect("open")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version")
}

/// A state file at schema 1, as the first release of cabot wrote it, with some history.
fn make_schema_1(path: &Path) {
    let mut conn = rusqlite::Connection::open(path).expect("open");
    migrations::apply(&mut conn, 0, 1).expect("schema 1");
    conn.execute_batch(
        "INSERT INTO checks (service, name, kind, importance, consecutive_failures, failing, status_since, last_run_at)
             VALUES ('s', 'c', 'tcp', 'error', 2, 1, 1700000000, 1700000060);
         INSERT INTO results (check_id, at, ok, duration_ms, message) VALUES
             (1, 1700000000, 0, 5, 'first failure'),
             (1, 1700000060, 0, 7, 'connection refused, again');
         INSERT INTO services (name, status, since) VALUES ('s', 'ERROR', 1700000000);
         INSERT INTO runs (started_at, finished_at, checks_run) VALUES (1700000060, 1700000061, 1);",
    )
    .expect("history");
}

#[test]
fn a_fresh_state_is_created_at_the_newest_schema() {
    let env = env_with_closed_port();
    let dry = env.cabot(&["migrate", "--dry-run"]);
    assert_eq!(dry.code, 0);
    assert!(
        dry.stdout
            .contains(&format!("would create {}", env.state().display())),
        "{dry:?}"
    );
    assert!(!env.state().exists(), "dry run changes nothing");
    let r = env.cabot(&["migrate"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("at schema {}", migrations::latest())),
        "{r:?}"
    );
    assert_eq!(user_version(&env.state()), i64::from(migrations::latest()));
    let again = env.cabot(&["migrate"]);
    assert_eq!(
        again.stdout.trim(),
        format!("up to date (schema {})", migrations::latest())
    );
}

#[test]
fn run_creates_a_missing_state_in_a_missing_folder() {
    let env = env_with_closed_port();
    let state = env.path("deep/er/cabot.db");
    let r = env.cabot(&["--state", state.to_str().expect("utf8"), "run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(user_version(&state), i64::from(migrations::latest()));
}

#[test]
fn an_old_schema_is_refused_until_migrated_with_a_backup() {
    let env = env_with_closed_port();
    make_schema_1(&env.state());
    let before = file_bytes(&env.state());

    for args in [&["run"][..], &["status"], &["status", "--json"]] {
        let r = env.cabot(args);
        assert_eq!(r.code, 65, "{args:?}: {r:?}");
        let want = format!("cabot -c {} migrate", env.config().display());
        assert!(
            r.stderr.contains(&want),
            "{args:?} must say the command to run: {r:?}"
        );
        assert!(r.stderr.contains("schema 1"), "{r:?}");
    }
    assert_eq!(file_bytes(&env.state()), before, "refusing touched nothing");

    let dry = env.cabot(&["migrate", "--dry-run"]);
    assert_eq!(dry.code, 0);
    assert!(
        dry.stdout.contains(&format!(
            "would migrate schema 1 -> {}",
            migrations::latest()
        )),
        "{dry:?}"
    );
    assert!(
        dry.stdout.contains("2: current state beside each check"),
        "{dry:?}"
    );
    assert_eq!(file_bytes(&env.state()), before);

    let r = env.cabot(&["migrate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let line = r.stdout.trim();
    assert!(
        line.starts_with(&format!("schema 1 -> {} (backup: ", migrations::latest())),
        "{r:?}"
    );
    let backup = line
        .trim_start_matches(&format!("schema 1 -> {} (backup: ", migrations::latest()))
        .trim_end_matches(')');
    assert!(
        backup.starts_with(env.state().to_str().expect("utf8")),
        "the backup is next to the state: {backup}"
    );
    assert_eq!(
        user_version(Path::new(backup)),
        1,
        "the backup is the old schema"
    );
    assert_eq!(user_version(&env.state()), i64::from(migrations::latest()));

    // the data came along: the latest result is now kept beside its check
    let db = env.db();
    let (msg, ms): (String, i64) = db
        .query_row(
            "SELECT last_message, last_duration_ms FROM checks WHERE name = 'c'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("migrated row");
    assert_eq!((msg.as_str(), ms), ("connection refused, again", 7));
    drop(db);

    let status = env.cabot_at(1_700_000_100, &["status", "--json"]);
    assert_eq!(
        status.code, 2,
        "status works after migrating and shows the old state: {status:?}"
    );
    assert!(status.stdout.contains("connection refused, again"));

    let again = env.cabot(&["migrate"]);
    assert_eq!(again.code, 0);
    assert_eq!(
        again.stdout.trim(),
        format!("up to date (schema {})", migrations::latest())
    );
    assert_eq!(env.cabot(&["run"]).code, 0);
}

#[test]
fn a_newer_schema_is_refused_and_untouched() {
    let env = env_with_closed_port();
    assert_eq!(env.cabot(&["run"]).code, 0);
    env.db()
        .pragma_update(None, "user_version", 99)
        .expect("bump");
    let before = file_bytes(&env.state());
    for args in [
        &["run"][..],
        &["status"],
        &["migrate"],
        &["migrate", "--dry-run"],
    ] {
        let r = env.cabot(args);
        assert_eq!(r.code, 65, "{args:?}: {r:?}");
        assert!(r.stderr.contains("made by a newer cabot"), "{r:?}");
    }
    assert_eq!(file_bytes(&env.state()), before);
}

#[test]
fn a_corrupt_state_file_is_an_io_error_and_left_alone() {
    let env = env_with_closed_port();
    let junk = b"this is not a database, it is a shopping list\n".repeat(200);
    std::fs::write(env.state(), &junk).expect("write");
    for args in [&["run"][..], &["status"], &["migrate"]] {
        let r = env.cabot(args);
        assert_eq!(r.code, 74, "{args:?}: {r:?}");
        assert!(r.stderr.contains("not a cabot database"), "{r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "one clear line: {r:?}");
    }
    assert_eq!(file_bytes(&env.state()), junk);
}

#[test]
fn a_read_only_state_is_an_io_error() {
    let env = env_with_closed_port();
    assert_eq!(env.cabot(&["run"]).code, 0);
    let before_runs = env.count("SELECT count(*) FROM runs");
    let as_root = unsafe_euid() == 0;
    let mut cmd = if as_root {
        // root may write any file: run cabot as `nobody`, who may only read it
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod dir");
        for f in ["checks.yaml", "cabot.db", "cabot.db-wal", "cabot.db-shm"] {
            let p = env.path(f);
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))
                    .expect("chmod");
            }
        }
        // the lock is writable, so what stops the run is the database itself
        let lock = env.path("cabot.db.lock");
        std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            cabot_bin(),
        ]);
        c
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.state(), std::fs::Permissions::from_mode(0o444))
            .expect("chmod");
        Command::new(cabot_bin())
    };
    let out = cmd
        .arg("-c")
        .arg(env.config())
        .arg("run")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(stderr.contains("is read-only"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert_eq!(env.count("SELECT count(*) FROM runs"), before_runs);
}

#[test]
fn a_read_only_shm_left_by_a_read_only_database_is_named_with_its_fix() {
    use std::os::unix::fs::PermissionsExt;
    let env = env_with_closed_port();
    let chmod = |name: &str, mode: u32| {
        std::fs::set_permissions(env.path(name), std::fs::Permissions::from_mode(mode))
            .expect("chmod")
    };
    // As the user who owns the files: root may write any file, so as root the files go
    // to `nobody` and cabot runs as `nobody`.
    let as_root = unsafe_euid() == 0;
    if as_root {
        chmod(".", 0o777);
    }
    let run = || {
        let mut cmd = if as_root {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                cabot_bin(),
            ]);
            c
        } else {
            Command::new(cabot_bin())
        };
        let out = cmd
            .arg("-c")
            .arg(env.config())
            .arg("run")
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    if as_root {
        chmod("checks.yaml", 0o644);
    }
    assert_eq!(
        run(),
        (Some(0), String::new()),
        "the first run makes the state"
    );
    // The database made read-only, a run tried, and the database made writable again: the
    // run in between left -shm (and -wal) with the database's read-only mode.
    chmod("cabot.db", 0o444);
    assert_eq!(run().0, Some(74));
    chmod("cabot.db", 0o644);
    let shm = env.path("cabot.db-shm");
    assert!(shm.exists(), "the read-only run left its -shm");
    assert_eq!(
        std::fs::metadata(&shm).expect("shm").permissions().mode() & 0o222,
        0,
        "-shm is read-only"
    );
    let (code, stderr) = run();
    assert_eq!(code, Some(74), "{stderr}");
    assert!(
        stderr.contains(&format!("{} is read-only", shm.display()))
            && stderr.contains(&format!("chmod u+w {}", shm.display())),
        "names the -shm and its fix: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    // The advice works.
    chmod("cabot.db-shm", 0o644);
    let (code, stderr) = run();
    assert_eq!(code, Some(0), "{stderr}");
}

fn unsafe_euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

#[test]
#[ignore = "needs root (a tiny tmpfs in a private mount namespace)"]
fn a_full_disk_fails_the_run_with_74_and_keeps_the_state_intact() {
    need_root();
    let env = env_with_closed_port();
    assert_eq!(env.cabot(&["run"]).code, 0);
    assert_eq!(env.cabot(&["run", "--all"]).code, 0);
    // In a mount namespace of its own: a 1 MiB tmpfs holding a copy of the state,
    // filled to the last byte, then `cabot run`, then the state copied back out to look at.
    let script = r#"
        set -u
        mount -t tmpfs -o size=1m tmpfs "$DISK" || exit 90
        cp "$STATE" "$DISK/cabot.db" || exit 91
        dd if=/dev/zero of="$DISK/filler" bs=4k 2>/dev/null
        "$CABOT" -c "$CONFIG" --state "$DISK/cabot.db" run --all 2>"$OUT/stderr"
        echo $? > "$OUT/code"
        "$CABOT" -c "$CONFIG" --state "$DISK/cabot.db" status --json > "$OUT/status.json" 2>/dev/null
        rm -f "$DISK/filler"
        cp "$DISK/cabot.db" "$OUT/after.db"
        [ -f "$DISK/cabot.db-wal" ] && cp "$DISK/cabot.db-wal" "$OUT/after.db-wal"
        exit 0
    "#;
    let disk = env.path("disk");
    let out_dir = env.path("out");
    std::fs::create_dir_all(&disk).expect("mkdir");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let status = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script])
        .env("DISK", &disk)
        .env("STATE", env.state())
        .env("CONFIG", env.config())
        .env("CABOT", cabot_bin())
        .env("OUT", &out_dir)
        .status()
        .expect("unshare");
    assert!(status.success(), "the namespace script failed: {status:?}");
    let code = std::fs::read_to_string(out_dir.join("code")).expect("code");
    let stderr = std::fs::read_to_string(out_dir.join("stderr")).expect("stderr");
    assert_eq!(code.trim(), "74", "{stderr}");
    assert!(stderr.contains("full"), "says the disk is full: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    let after = rusqlite::Connection::open(out_dir.join("after.db")).expect("open copy");
    let ok: String = after
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(ok, "ok");
    let runs: i64 = after
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .expect("runs");
    assert_eq!(runs, 2, "the failed run recorded nothing");
}

#[test]
fn a_stored_status_that_is_no_status_is_an_error_not_passing() {
    let env = env_with_closed_port();
    assert_eq!(env.cabot(&["run"]).code, 0);
    env.db()
        .execute_batch("UPDATE services SET status = 'FINE'")
        .expect("spoil the status");
    let status = env.cabot(&["status"]);
    assert_eq!(status.code, 74, "{status:?}");
    assert!(status.stdout.is_empty(), "{status:?}");
    assert!(
        status.stderr.contains("unknown status 'FINE'"),
        "{status:?}"
    );
    let run = env.cabot(&["run", "--all"]);
    assert_eq!(
        run.code, 74,
        "a run does not take it for PASSING either: {run:?}"
    );
}

#[test]
fn migrate_waits_for_the_runs_that_are_using_the_state() {
    let env = env_with_closed_port();
    make_schema_1(&env.state());
    // A run holds the lock file shared for as long as it lives; so does this test here.
    let mut lock_path = env.state().into_os_string();
    lock_path.push(".lock");
    let run = std::fs::File::create(&lock_path).expect("lock file");
    run.lock_shared().expect("hold it as a run does");

    let refused = env.cabot(&["migrate"]);
    assert_eq!(refused.code, 75, "{refused:?}");
    assert!(
        refused.stderr.contains("cabot runs are using the state")
            && refused.stderr.contains("--wait"),
        "{refused:?}"
    );
    assert_eq!(user_version(&env.state()), 1, "nothing was migrated");

    // With --wait, it migrates as soon as the run is done.
    let waiting = env
        .command(&["migrate", "--wait", "30s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("migrate --wait");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        user_version(&env.state()),
        1,
        "still waiting while the run lives"
    );
    drop(run);
    let out = waiting.wait_with_output().expect("migrate");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(user_version(&env.state()), i64::from(migrations::latest()));

    // And a run waits (--wait) while migrate has the state to itself.
    let migrating = std::fs::File::create(&lock_path).expect("lock file");
    migrating.lock().expect("hold it as migrate does");
    let held = env.cabot(&["run", "--wait", "200ms"]);
    assert_eq!(held.code, 75, "{held:?}");
    assert!(
        held.stderr
            .contains("`cabot migrate` is upgrading the state"),
        "{held:?}"
    );
    drop(migrating);
    assert_eq!(env.cabot(&["run"]).code, 0);
}

#[test]
fn a_state_path_that_is_no_regular_file_is_refused_at_once() {
    let target = Target::new();
    let env = one_service(&target, "");
    let fifo = std::ffi::CString::new(env.state().to_string_lossy().as_bytes()).expect("path");
    // SAFETY: mkfifo only reads the NUL-terminated path it is given.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
    for args in [
        vec!["status"],
        vec!["run"],
        vec!["ack", "web"],
        vec!["migrate"],
    ] {
        let started = std::time::Instant::now();
        let r = env.cabot(&args);
        assert_eq!(r.code, 74, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains("is not a regular file"),
            "{args:?}: {r:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{args:?} waited"
        );
    }
    let server = StatusServer::start(&env, None);
    assert_eq!(server.status(), (503, NOT_RUNNING.into()));
    drop(server);
    std::fs::remove_file(env.state()).expect("remove the fifo");
    std::fs::create_dir(env.state()).expect("a directory instead");
    let r = env.cabot(&["status", "--json"]);
    assert_eq!(r.code, 74, "{r:?}");
}

#[test]
fn hand_made_changes_refuse_a_damaged_state() {
    let target = Target::new();
    let env = Env::new(&format!(
        "services:
  - name: web
    checks:
      - {{ name: home, type: http, url: '{}' }}
      - {{ name: backup, type: heartbeat, period: 1h }}
",
        target.url()
    ));
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    // Fill the state with history so that it has pages to damage, then damage them.
    let db = env.db();
    db.execute_batch(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO results (check_id, at, ok, duration_ms, message)
         SELECT 1, i, 1, 1, printf('%0200d', i) FROM n;
         PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .expect("history");
    drop(db);
    let path = env.state();
    let mut bytes = std::fs::read(&path).expect("read state");
    assert!(bytes.len() > 16 * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[8 * 4096..12 * 4096] {
        *b = 0x55;
    }
    std::fs::write(&path, &bytes).expect("damage the state");
    let before = std::fs::read(&path).expect("read");
    for args in [
        vec!["ack", "web"],
        vec!["silence", "web", "--for", "1h"],
        vec!["ping", "web/backup"],
    ] {
        let r = env.cabot_at(T0 + MIN, &args);
        assert_eq!(r.code, 74, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains("is damaged, nothing was written"),
            "{args:?}: {r:?}"
        );
    }
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "the file is as it was"
    );
}

#[test]
fn a_write_ahead_log_that_readers_kept_growing_is_emptied_after_a_run() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = env_with_closed_port();
    assert_eq!(env.cabot(&["run"]).code, 0);
    let wal = env.path("cabot.db-wal");
    let wal_size = || std::fs::metadata(&wal).map_or(0, |m| m.len());

    // Readers that always hold a snapshot (a status page polled by many) stop SQLite's
    // own checkpoints short of the log's end, and the log only grows: 24 MB of it here.
    let reader = env.db();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM runs;")
        .unwrap();
    let writer = env.db();
    writer
        .execute_batch(
            "PRAGMA wal_autocheckpoint = 0; CREATE TABLE filler (b BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 24)
             INSERT INTO filler SELECT zeroblob(1000000) FROM n;
             DROP TABLE filler;",
        )
        .unwrap();
    drop(writer);
    reader.execute_batch("COMMIT").unwrap();
    assert!(wal_size() > 20_000_000, "{}", wal_size());

    // Two readers in turn, one always in a transaction, while the next run writes.
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|i| {
            let (stop, path) = (Arc::clone(&stop), env.state());
            std::thread::spawn(move || {
                let conn = rusqlite::Connection::open(path).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(5 * i));
                while !stop.load(Ordering::SeqCst) {
                    let _ = conn.execute_batch("BEGIN; SELECT count(*) FROM runs;");
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    let _ = conn.execute_batch("COMMIT");
                }
            })
        })
        .collect();
    let run = env.cabot(&["run", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    let after = wal_size();
    stop.store(true, Ordering::SeqCst);
    for r in readers {
        r.join().unwrap();
    }
    drop(reader);
    assert!(
        after < 1_000_000,
        "the log is {after} bytes after the run; it should have been emptied"
    );
    assert_eq!(env.count("SELECT count(*) FROM runs"), 2);
}
