//! A worker's view of the state: opened on first use, checked once per request (the file
//! it names, and its schema), dropped and reopened after an error.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::store::{Store, migrations};

/// How long a read waits for a lock before the answer is "Checks not running": a watcher
/// with a short timeout should get the 503, not a timeout of its own.
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// Which file is open (device, inode): a state file replaced under the server (deleted and
/// created again, restored from a backup) must be read anew, not through the old handle.
type FileId = (u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

pub struct Db {
    path: PathBuf,
    reader: Option<(Store, Option<FileId>)>,
    /// For heartbeat pings and ack links, the writes; opened on the first.
    writer: Option<(Store, Option<FileId>)>,
}

/// The state as one request reads it: at the schema this cabot knows.
pub struct Session<'a> {
    db: &'a mut Db,
}

impl Db {
    pub fn new(path: PathBuf) -> Db {
        Db {
            path,
            reader: None,
            writer: None,
        }
    }

    /// The state for this request, if it can be read now: reopened when the file was
    /// replaced, and refused when its schema is not this cabot's (`cabot migrate` or a
    /// newer cabot may have changed it since the open).
    pub fn session(&mut self) -> Option<Session<'_>> {
        let id = file_id(&self.path);
        if self
            .reader
            .as_ref()
            .is_some_and(|(_, opened)| *opened != id)
        {
            self.reader = None;
        }
        if self.reader.is_none() {
            let store = Store::open_read_only_waiting(&self.path, None, BUSY_TIMEOUT)
                .ok()
                .flatten()?;
            self.reader = Some((store, id));
        }
        let (store, _) = self.reader.as_ref()?;
        let version = store
            .connection()
            .pragma_query_value(None, "user_version", |r| r.get::<_, u32>(0));
        if version.ok() != Some(migrations::latest()) {
            self.reader = None;
            return None;
        }
        Some(Session { db: self })
    }

    /// The connection pings are written through: opened on first use, and again when the
    /// state file was replaced under the server (like the reader) or after a failed write.
    pub fn writer(&mut self) -> anyhow::Result<&mut Store> {
        let id = file_id(&self.path);
        if self.writer.as_ref().is_none_or(|(_, opened)| *opened != id) {
            // Opening may create the file: take its identity after.
            let store = Store::open(&self.path, None)?;
            self.writer = Some((store, file_id(&self.path)));
        }
        self.writer
            .as_mut()
            .map(|(store, _)| store)
            .ok_or_else(|| anyhow::anyhow!("no state"))
    }

    /// Forgets the writer after a failed write, so the next ping opens it afresh.
    pub fn drop_writer(&mut self) {
        self.writer = None;
    }
}

impl Session<'_> {
    /// Runs `read` on the state; a failure (a lock held too long, say) is `None`, and the
    /// connection is opened afresh next time.
    pub fn read<T>(&mut self, read: impl FnOnce(&Store) -> rusqlite::Result<T>) -> Option<T> {
        let (store, _) = self.db.reader.as_ref()?;
        match read(store) {
            Ok(v) => Some(v),
            Err(_) => {
                self.db.reader = None;
                None
            }
        }
    }
}
