//! What staff tell customers on the status page: incident posts with their timelines
//! (`cabot incident`), and dated maintenance windows (`cabot maintenance`).

use rusqlite::{Connection, OptionalExtension, params};

use super::Store;

/// Where an incident stands, as its posts say it (Statuspage's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PostStatus {
    Investigating,
    Identified,
    Monitoring,
    #[value(skip)]
    Resolved,
}

impl PostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Investigating => "investigating",
            PostStatus::Identified => "identified",
            PostStatus::Monitoring => "monitoring",
            PostStatus::Resolved => "resolved",
        }
    }

    fn parse(text: &str) -> PostStatus {
        match text {
            "identified" => PostStatus::Identified,
            "monitoring" => PostStatus::Monitoring,
            "resolved" => PostStatus::Resolved,
            _ => PostStatus::Investigating,
        }
    }

    /// As a heading: `Investigating`.
    pub fn title(self) -> &'static str {
        match self {
            PostStatus::Investigating => "Investigating",
            PostStatus::Identified => "Identified",
            PostStatus::Monitoring => "Monitoring",
            PostStatus::Resolved => "Resolved",
        }
    }
}

/// One update of an incident post; the first is its opening.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub id: i64,
    pub at: i64,
    pub status: PostStatus,
    pub message: String,
    pub by: Option<String>,
}

/// An incident post and its timeline, oldest update first.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub id: i64,
    pub title: String,
    pub services: Vec<String>,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub updates: Vec<Update>,
}

impl Post {
    /// Where it stands now: its newest update's status.
    pub fn status(&self) -> PostStatus {
        self.updates
            .last()
            .map_or(PostStatus::Investigating, |u| u.status)
    }
}

/// A dated maintenance window: from the state (`cabot maintenance add`, with its id) or
/// from the config's `maintenance:` list (without one).
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub id: Option<i64>,
    /// The services it covers; empty means all.
    pub services: Vec<String>,
    pub from: i64,
    pub to: i64,
    /// How its times are shown (an IANA name).
    pub time_zone: String,
    pub message: String,
    pub by: Option<String>,
    /// When it was planned (those of the state).
    pub created_at: Option<i64>,
}

impl Window {
    pub fn covers_service(&self, service: &str) -> bool {
        self.services.is_empty() || self.services.iter().any(|s| s == service)
    }

    /// Whether it holds `service`'s alerts at `now`.
    pub fn covers(&self, service: &str, now: i64) -> bool {
        self.is_open(now) && self.covers_service(service)
    }

    pub fn is_open(&self, now: i64) -> bool {
        self.from <= now && now < self.to
    }
}

fn list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn list_text(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// Why an incident post cannot take an update.
#[derive(Debug, PartialEq, Eq)]
pub enum NotUpdated {
    NoSuchPost,
    Resolved(i64),
}

impl Store {
    /// Opens an incident post with its first update; its id.
    pub fn open_incident(
        &mut self,
        title: &str,
        services: &[String],
        first: &Update,
    ) -> rusqlite::Result<i64> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO incident_posts (title, services, opened_at) VALUES (?1, ?2, ?3)",
            params![title, list_text(services), first.at],
        )?;
        let id = tx.last_insert_rowid();
        add_update(&tx, id, first)?;
        tx.commit()?;
        Ok(id)
    }

    /// Adds an update to an open post; a `Resolved` one resolves it.
    pub fn update_incident(
        &mut self,
        id: i64,
        update: &Update,
    ) -> rusqlite::Result<Result<(), NotUpdated>> {
        let tx = self.conn.transaction()?;
        let found: Option<Option<i64>> = tx
            .query_row(
                "SELECT resolved_at FROM incident_posts WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        match found {
            None => return Ok(Err(NotUpdated::NoSuchPost)),
            Some(Some(at)) => return Ok(Err(NotUpdated::Resolved(at))),
            Some(None) => {}
        }
        add_update(&tx, id, update)?;
        if update.status == PostStatus::Resolved {
            tx.execute(
                "UPDATE incident_posts SET resolved_at = ?2 WHERE id = ?1",
                params![id, update.at],
            )?;
        }
        tx.commit()?;
        Ok(Ok(()))
    }

    /// The open posts and those resolved at or after `since`, newest first.
    pub fn incidents(&self, since: i64) -> rusqlite::Result<Vec<Post>> {
        incidents(&self.conn, since)
    }

    /// Adds a dated maintenance window; its id.
    pub fn add_maintenance(&mut self, w: &Window, now: i64) -> rusqlite::Result<i64> {
        self.conn.execute(
            "INSERT INTO maintenance_windows
                (services, from_at, to_at, time_zone, message, by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                list_text(&w.services),
                w.from,
                w.to,
                w.time_zone,
                w.message,
                w.by,
                now
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Cancels a window that has not ended: whether there was one.
    pub fn cancel_maintenance(&mut self, id: i64, now: i64) -> rusqlite::Result<bool> {
        Ok(self.conn.execute(
            "UPDATE maintenance_windows SET cancelled_at = ?2
             WHERE id = ?1 AND cancelled_at IS NULL AND to_at > ?2",
            params![id, now],
        )? > 0)
    }

    /// The windows not cancelled that end after `since`, soonest first.
    pub fn maintenance_windows(&self, since: i64) -> rusqlite::Result<Vec<Window>> {
        maintenance_windows(&self.conn, since)
    }
}

fn add_update(conn: &Connection, post: i64, u: &Update) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO incident_updates (post_id, at, status, message, by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![post, u.at, u.status.as_str(), u.message, u.by],
    )?;
    Ok(())
}

/// The open posts and those resolved at or after `since`, newest first.
pub fn incidents(conn: &Connection, since: i64) -> rusqlite::Result<Vec<Post>> {
    let mut stmt = conn.prepare(
        "SELECT id, title, services, opened_at, resolved_at FROM incident_posts
         WHERE resolved_at IS NULL OR resolved_at >= ?1 ORDER BY opened_at DESC, id DESC",
    )?;
    let mut posts: Vec<Post> = stmt
        .query_map([since], |r| {
            Ok(Post {
                id: r.get(0)?,
                title: r.get(1)?,
                services: list(&r.get::<_, String>(2)?),
                opened_at: r.get(3)?,
                resolved_at: r.get(4)?,
                updates: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut updates = conn.prepare(
        "SELECT id, at, status, message, by FROM incident_updates
         WHERE post_id = ?1 ORDER BY at, id",
    )?;
    for post in &mut posts {
        post.updates = updates
            .query_map([post.id], |r| {
                Ok(Update {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    status: PostStatus::parse(&r.get::<_, String>(2)?),
                    message: r.get(3)?,
                    by: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(posts)
}

/// The windows not cancelled that end after `since`, soonest first.
pub fn maintenance_windows(conn: &Connection, since: i64) -> rusqlite::Result<Vec<Window>> {
    let mut stmt = conn.prepare(
        "SELECT id, services, from_at, to_at, time_zone, message, by, created_at
         FROM maintenance_windows
         WHERE cancelled_at IS NULL AND to_at > ?1 ORDER BY from_at, id",
    )?;
    stmt.query_map([since], |r| {
        Ok(Window {
            id: Some(r.get(0)?),
            services: list(&r.get::<_, String>(1)?),
            from: r.get(2)?,
            to: r.get(3)?,
            time_zone: r.get(4)?,
            message: r.get(5)?,
            by: r.get(6)?,
            created_at: r.get(7)?,
        })
    })?
    .collect()
}

/// An update or a window's start or end announced longer ago than this is not sent when
/// `status.announce` is first set: it is marked told, so the channels are not flooded
/// with the past.
const ANNOUNCE_WITHIN: i64 = 86_400;

/// Writes to the outbox what `status.announce`'s channels have not been told yet: each
/// incident post's update, and each dated window's start and end as they come (the
/// state's, marked in their rows; the config's, in `check_memory`). Whether it wrote any.
pub fn announce(tx: &Connection, cfg: &crate::config::Config, now: i64) -> rusqlite::Result<bool> {
    use crate::alerts::alert::AlertKind;
    use crate::alerts::decide::announcement;
    if cfg.status.announce.is_empty() {
        return Ok(false);
    }
    let mut out = Vec::new();
    let mut stmt = tx.prepare(
        "SELECT u.id, u.post_id, u.at, u.status, u.message, p.title
         FROM incident_updates u JOIN incident_posts p ON p.id = u.post_id
         WHERE u.announced_at IS NULL AND u.at <= ?1 ORDER BY u.at, u.id",
    )?;
    let updates: Vec<(i64, i64, i64, String, String, String)> = stmt
        .query_map([now], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (id, post, at, status, message, title) in updates {
        tx.execute(
            "UPDATE incident_updates SET announced_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        if now - at > ANNOUNCE_WITHIN {
            continue;
        }
        let status = PostStatus::parse(&status);
        let kind = match status {
            PostStatus::Resolved => AlertKind::Recovery,
            _ => AlertKind::Alert,
        };
        out.push(announcement(
            cfg,
            &title,
            (status.as_str(), message),
            (kind, format!("cabot/incident-post-{post}")),
            now,
        ));
    }
    // Each window's start once it has begun, and its end once it is over.
    let mut windows = maintenance_windows(tx, now - ANNOUNCE_WITHIN)?;
    windows.extend(cfg.scheduled.iter().cloned());
    for w in windows.iter().filter(|w| w.from <= now) {
        let incident = match w.id {
            Some(id) => format!("cabot/maintenance-{id}"),
            None => format!("cabot/maintenance-{}-{}", w.from, w.to),
        };
        let services = match w.services.is_empty() {
            true => "every service".to_string(),
            false => w.services.join(", "),
        };
        for (edge, at, kind) in [
            ("start", w.from, AlertKind::Alert),
            ("end", w.to, AlertKind::Recovery),
        ] {
            if at > now || !first_told(tx, w, edge, now)? || now - at > ANNOUNCE_WITHIN {
                continue;
            }
            let said = match edge {
                "start" => format!(
                    "started, until {}: {} ({services})",
                    crate::clock::rfc3339(w.to),
                    w.message
                ),
                _ => format!("over: {} ({services})", w.message),
            };
            out.push(announcement(
                cfg,
                &format!("maintenance: {}", w.message),
                (edge, said),
                (kind, incident.clone()),
                now,
            ));
        }
    }
    crate::store::outbox::insert_alerts(tx, &out)?;
    Ok(out.iter().any(|a| !a.deliveries.is_empty()))
}

/// Marks `edge` (start or end) of window `w` told at `now`: whether it was not before.
fn first_told(tx: &Connection, w: &Window, edge: &str, now: i64) -> rusqlite::Result<bool> {
    let changed = match (w.id, edge) {
        (Some(id), "start") => tx.execute(
            "UPDATE maintenance_windows SET announced_start_at = ?2
             WHERE id = ?1 AND announced_start_at IS NULL",
            params![id, now],
        )?,
        (Some(id), _) => tx.execute(
            "UPDATE maintenance_windows SET announced_end_at = ?2
             WHERE id = ?1 AND announced_end_at IS NULL",
            params![id, now],
        )?,
        (None, _) => tx.execute(
            "INSERT OR IGNORE INTO check_memory (key, value, updated_at) VALUES (?1, ?2, ?3)",
            params![
                format!("announced:maintenance:{}-{}:{edge}", w.from, w.to),
                now.to_string(),
                now
            ],
        )?,
    };
    Ok(changed > 0)
}
