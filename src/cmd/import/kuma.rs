//! From Uptime Kuma's SQLite database.

use std::path::Path;

use super::{Imported, Report, Secrets};

pub fn from_db(
    _db: &Path,
    _secrets: &mut Secrets,
    _report: &mut Report,
) -> anyhow::Result<Imported> {
    anyhow::bail!("not yet")
}
