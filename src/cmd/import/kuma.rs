//! From Uptime Kuma's SQLite database (`data/kuma.db`), 1.23 or 2.x, read as its own
//! migrations left it (`db/kuma.db`, `db/patch-*.sql`, and 2.x's `db/knex_migrations`):
//! monitors (`monitor`), their notifications (`notification`, `monitor_notification`),
//! maintenance (`maintenance`, `monitor_maintenance`, `maintenance_status_page`) and
//! status pages (`status_page`, `group`, `monitor_group`).
//!
//! A monitor becomes a service with one check; a group monitor becomes a service whose
//! checks are its members. A notification becomes a channel.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use rusqlite::types::Value as Sql;
use serde_json::Value;

use super::yaml_out::{Item, Node};
use super::{
    Imported, Report, Secrets, http_url, judge, seconds, slug, split_userinfo, unique, usable_name,
};
use crate::alerts::channels::Verdict;
use crate::exit_codes::{Exit, ExitCode};

/// The tables an import reads, with the columns it needs from each: a database without
/// them is not Uptime Kuma's (or is older than 1.23).
const NEEDED: &[(&str, &[&str])] = &[
    (
        "monitor",
        &[
            "id",
            "name",
            "active",
            "interval",
            "url",
            "type",
            "hostname",
            "port",
            "keyword",
            "maxretries",
            "ignore_tls",
            "upside_down",
            "maxredirects",
            "accepted_statuscodes_json",
            "dns_resolve_type",
            "dns_resolve_server",
            "dns_last_result",
            "push_token",
            "method",
            "body",
            "headers",
            "basic_auth_user",
            "basic_auth_pass",
            "parent",
            "invert_keyword",
            "json_path",
            "expected_value",
            "timeout",
            "resend_interval",
            "retry_interval",
        ],
    ),
    ("notification", &["id", "name", "active", "config"]),
    ("monitor_notification", &["monitor_id", "notification_id"]),
    (
        "maintenance",
        &[
            "id",
            "title",
            "description",
            "active",
            "strategy",
            "start_date",
            "end_date",
            "start_time",
            "end_time",
            "weekdays",
            "interval_day",
            "timezone",
        ],
    ),
    ("monitor_maintenance", &["monitor_id", "maintenance_id"]),
    (
        "maintenance_status_page",
        &["status_page_id", "maintenance_id"],
    ),
    ("status_page", &["id", "slug", "published"]),
    ("group", &["id", "status_page_id"]),
    ("monitor_group", &["monitor_id", "group_id"]),
];

/// One row: its values, and the column names it shares with the other rows of its query
/// (ten thousand monitors of ninety columns would otherwise hold 900,000 names).
struct Row {
    names: std::sync::Arc<BTreeMap<String, usize>>,
    values: Vec<Sql>,
}

impl Row {
    fn get(&self, k: &str) -> Option<&Sql> {
        self.values.get(*self.names.get(k)?)
    }
}

fn get_str(r: &Row, k: &str) -> Option<String> {
    match r.get(k)? {
        Sql::Text(s) => Some(s.clone()),
        Sql::Integer(i) => Some(i.to_string()),
        Sql::Real(f) => Some(f.to_string()),
        _ => None,
    }
    .filter(|s| !s.trim().is_empty())
}

fn get_int(r: &Row, k: &str) -> Option<i64> {
    match r.get(k)? {
        Sql::Integer(i) => Some(*i),
        Sql::Real(f) => Some(*f as i64),
        Sql::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn get_real(r: &Row, k: &str) -> Option<f64> {
    match r.get(k)? {
        Sql::Integer(i) => Some(*i as f64),
        Sql::Real(f) => Some(*f),
        Sql::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn get_bool(r: &Row, k: &str) -> bool {
    match r.get(k) {
        Some(Sql::Integer(i)) => *i != 0,
        Some(Sql::Text(s)) => matches!(s.as_str(), "1" | "true"),
        _ => false,
    }
}

fn rows(db: &rusqlite::Connection, sql: &str) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = db.prepare(sql)?;
    let names: BTreeMap<String, usize> = stmt
        .column_names()
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), i))
        .collect();
    let names = std::sync::Arc::new(names);
    let width = names.len();
    let mut out = Vec::new();
    let mut q = stmt.query([])?;
    while let Some(row) = q.next()? {
        let values = (0..width)
            .map(|i| row.get::<_, Sql>(i))
            .collect::<rusqlite::Result<_>>()?;
        out.push(Row {
            names: std::sync::Arc::clone(&names),
            values,
        });
    }
    Ok(out)
}

/// `cabot import uptime-kuma --db FILE`.
pub fn from_db(
    path: &Path,
    secrets: &mut Secrets,
    report: &mut Report,
) -> anyhow::Result<Imported> {
    if !path.is_file() {
        return Err(Exit::error(
            ExitCode::Usage,
            format!("{} is not a file", path.display()),
        ));
    }
    let db = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {}", path.display()))?;
    let version = verify(&db, path)?;
    let read = || -> rusqlite::Result<Kuma> {
        Ok(Kuma {
            monitors: rows(&db, "SELECT * FROM monitor ORDER BY id")?,
            notifications: rows(&db, "SELECT * FROM notification ORDER BY id")?,
            links: pairs(
                &db,
                "SELECT monitor_id, notification_id FROM monitor_notification",
            )?,
            maintenance: rows(&db, "SELECT * FROM maintenance ORDER BY id")?,
            maintenance_monitors: pairs(
                &db,
                "SELECT maintenance_id, monitor_id FROM monitor_maintenance",
            )?,
            maintenance_pages: pairs(
                &db,
                "SELECT maintenance_id, status_page_id FROM maintenance_status_page",
            )?,
            pages: rows(&db, "SELECT * FROM status_page ORDER BY id")?,
            page_monitors: pairs(
                &db,
                "SELECT g.status_page_id, mg.monitor_id FROM monitor_group mg JOIN `group` g ON g.id = mg.group_id WHERE g.status_page_id IS NOT NULL",
            )?,
            server_zone: db
                .query_row(
                    "SELECT value FROM setting WHERE key = 'serverTimezone'",
                    [],
                    |r| r.get::<_, Option<String>>(0),
                )
                .ok()
                .flatten()
                .and_then(|v| serde_json::from_str::<String>(&v).ok().or(Some(v)))
                .filter(|v| !v.trim().is_empty()),
        })
    };
    let kuma = read().with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let root = to_config(&kuma, secrets, report);
    Ok(Imported {
        origin: vec![
            format!("from the Uptime Kuma {version} database {name}"),
            "Each item's comment names its id in Uptime Kuma; secrets are in files (*_file)."
                .to_string(),
        ],
        root,
    })
}

fn pairs(db: &rusqlite::Connection, sql: &str) -> rusqlite::Result<Vec<(i64, i64)>> {
    let mut stmt = db.prepare(sql)?;
    let out = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(out)
}

/// Says which Kuma made the database ("1.x", "2.x"), or refuses one that lacks what is read.
fn verify(db: &rusqlite::Connection, path: &Path) -> anyhow::Result<&'static str> {
    let columns = |table: &str| -> BTreeSet<String> {
        db.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
            .unwrap_or_default()
    };
    let mut missing = Vec::new();
    for (table, needed) in NEEDED {
        let have = columns(table);
        if have.is_empty() {
            missing.push(format!("table {table}"));
            continue;
        }
        for c in *needed {
            if !have.contains(*c) {
                missing.push(format!("{table}.{c}"));
            }
        }
    }
    if !missing.is_empty() {
        return Err(Exit::error(
            ExitCode::Usage,
            format!(
                "{} is not an Uptime Kuma 1.23 or 2.x database (it lacks {}); give Kuma's data/kuma.db, after Kuma has started once on it",
                path.display(),
                missing.join(", ")
            ),
        ));
    }
    Ok(if columns("knex_migrations").is_empty() {
        "1.x"
    } else {
        "2.x"
    })
}

struct Kuma {
    monitors: Vec<Row>,
    notifications: Vec<Row>,
    /// (monitor, notification)
    links: Vec<(i64, i64)>,
    maintenance: Vec<Row>,
    /// (maintenance, monitor)
    maintenance_monitors: Vec<(i64, i64)>,
    /// (maintenance, status page)
    maintenance_pages: Vec<(i64, i64)>,
    pages: Vec<Row>,
    /// (status page, monitor)
    page_monitors: Vec<(i64, i64)>,
    server_zone: Option<String>,
}

/// The config: channels, services, maintenance, and how often to repeat.
fn to_config(kuma: &Kuma, secrets: &mut Secrets, report: &mut Report) -> Node {
    let by_id: BTreeMap<i64, &Row> = kuma
        .monitors
        .iter()
        .filter_map(|m| Some((get_int(m, "id")?, m)))
        .collect();
    let (channels, channel_of) = channels(kuma, secrets, report);

    // Each monitor's group at the top (a group in a group is folded into the outer one).
    let top = |mut id: i64| -> i64 {
        let mut hops = 0;
        while let Some(parent) = by_id.get(&id).and_then(|m| get_int(m, "parent")) {
            if !by_id.contains_key(&parent) || hops > 100 {
                break;
            }
            id = parent;
            hops += 1;
        }
        id
    };
    let mut members: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (id, m) in &by_id {
        if get_str(m, "type").as_deref() != Some("group") {
            members.entry(top(*id)).or_default().push(*id);
        } else if get_int(m, "parent").is_some() {
            report.say(format!(
                "group '{}' (Kuma monitor {id}) is inside another group: its members join the outer group's service",
                get_str(m, "name").unwrap_or_default()
            ));
        }
    }
    let published: BTreeSet<i64> = kuma
        .pages
        .iter()
        .filter(|p| get_bool(p, "published"))
        .filter_map(|p| get_int(p, "id"))
        .collect();
    if published.len() > 1 {
        let slugs: Vec<String> = kuma
            .pages
            .iter()
            .filter(|p| get_bool(p, "published"))
            .filter_map(|p| get_str(p, "slug"))
            .collect();
        report.say(format!(
            "status pages {} become one: cabot has one status page",
            slugs.join(", ")
        ));
    }
    let public: BTreeSet<i64> = kuma
        .page_monitors
        .iter()
        .filter(|(page, _)| published.contains(page))
        .map(|(_, m)| top(*m))
        .collect();

    let mut taken = BTreeSet::new();
    let mut services: Vec<(String, i64, Node)> = Vec::new();
    let mut service_of: BTreeMap<i64, String> = BTreeMap::new();
    for (group, ids) in &members {
        let Some(head) = by_id.get(group) else {
            continue;
        };
        let head_name = get_str(head, "name").unwrap_or_default();
        let is_group = get_str(head, "type").as_deref() == Some("group");
        let name = unique(usable_name(&head_name, "monitor", report), &mut taken);
        let mut checks = Node::list();
        let mut check_names = BTreeSet::new();
        let mut sorted: Vec<&Row> = ids.iter().filter_map(|i| by_id.get(i).copied()).collect();
        sorted.sort_by_key(|m| (get_str(m, "name"), get_int(m, "id")));
        for m in sorted {
            let id = get_int(m, "id").unwrap_or_default();
            let what = format!(
                "monitor '{}' (Kuma monitor {id})",
                get_str(m, "name").unwrap_or_default()
            );
            let check_name = if is_group {
                usable_name(&get_str(m, "name").unwrap_or_default(), "monitor", report)
            } else {
                kind_word(get_str(m, "type").as_deref().unwrap_or(""))
            };
            let check_name = unique(check_name, &mut check_names);
            if let Some(node) = check(m, &check_name, &name, secrets, report, &what) {
                checks.push(
                    Some(format!(
                        "Kuma monitor {id} ({})",
                        get_str(m, "type").unwrap_or_default()
                    )),
                    node,
                );
                service_of.insert(id, name.clone());
            }
        }
        if is_group {
            service_of.insert(*group, name.clone());
        }
        if checks.is_empty() {
            if is_group {
                report.say(format!("group '{head_name}' (Kuma monitor {group}): not imported (no member cabot can run)"));
            }
            taken.remove(&name);
            continue;
        }
        let mut node = Node::map().with("name", Node::str(&name));
        let mut own: BTreeSet<&str> = BTreeSet::new();
        let mut each: Vec<BTreeSet<&str>> = Vec::new();
        for id in ids.iter().chain(is_group.then_some(group)) {
            let set: BTreeSet<&str> = kuma
                .links
                .iter()
                .filter(|(m, _)| m == id)
                .filter_map(|(_, n)| channel_of.get(n).map(String::as_str))
                .collect();
            own.extend(set.iter().copied());
            each.push(set);
        }
        if each.windows(2).any(|w| w[0] != w[1]) {
            report.say(format!(
                "service '{name}': its monitors had different notifications; every one of them is told of the service ({})",
                own.iter().copied().collect::<Vec<_>>().join(", ")
            ));
        }
        if !own.is_empty() {
            node.set("channels", Node::strs(own));
        }
        if public.contains(group) {
            node.set("public", Node::bool(true));
        }
        node.set("checks", checks);
        services.push((name, *group, node));
    }
    services.sort_by(|a, b| a.0.cmp(&b.0));

    let mut root = Node::map();
    root.set("alerting", repeats(kuma, report));
    if !channels.is_empty() {
        root.set("channels", channels);
    }
    let maintenance = maintenance(kuma, &service_of, report);
    if !maintenance.is_empty() {
        root.set("maintenance", maintenance);
    }
    let mut list = Node::list();
    for (_, id, node) in services {
        list.push(Some(format!("Kuma monitor {id}")), node);
    }
    root.set("services", list);
    root
}

/// A check's name in a service of one monitor: what it does.
fn kind_word(kind: &str) -> String {
    match kind {
        "port" => "tcp",
        "ping" => "ping",
        "dns" => "dns",
        "push" => "push",
        _ => "http",
    }
    .to_string()
}

/// Kuma sends a monitor's DOWN once, and again every `resend_interval` checks when set.
fn repeats(kuma: &Kuma, report: &mut Report) -> Node {
    let every = kuma
        .monitors
        .iter()
        .filter(|m| get_bool(m, "active"))
        .filter_map(|m| {
            let n = get_int(m, "resend_interval").filter(|n| *n > 0)?;
            Some(n * get_int(m, "interval").unwrap_or(60))
        })
        .min();
    let span = match every {
        Some(s) => {
            let s = s.clamp(60, 30 * 86_400);
            report.say(format!(
                "alerts repeat every {} for every service: the shortest resend interval of a monitor (cabot's repeat is one for all)",
                humantime::format_duration(std::time::Duration::from_secs(s as u64))
            ));
            seconds(s / 60 * 60)
        }
        None => {
            report.say("Uptime Kuma sent each DOWN once: alerting.repeat is 30d, so cabot does not repeat either (remove it for cabot's 10m)");
            Node::str("30d")
        }
    };
    Node::map().with(
        "repeat",
        Node::map()
            .with("warning", span.clone())
            .with("error", span.clone())
            .with("critical", span),
    )
}

/// Accepted status codes: `200-299` is `2xx`, a short range its codes, a code itself.
fn statuses(json: &str, report: &mut Report, what: &str) -> Node {
    let list: Vec<String> = serde_json::from_str(json).unwrap_or_else(|_| vec!["200-299".into()]);
    let mut out = Vec::new();
    for item in list {
        let item = item.trim();
        let range = item
            .split_once('-')
            .map(|(a, b)| (a.trim().parse::<u16>(), b.trim().parse::<u16>()));
        match range {
            Some((Ok(a), Ok(b))) if a % 100 == 0 && b == a + 99 && (100..=599).contains(&a) => {
                out.push(Node::str(format!("{}xx", a / 100)));
            }
            Some((Ok(a), Ok(b)))
                if a <= b && b - a < 100 && (100..=599).contains(&a) && b <= 599 =>
            {
                out.extend((a..=b).map(|c| Node::int(c.into())));
            }
            None if item.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c)) => {
                out.push(Node::int(item.parse::<i64>().unwrap_or(200)));
            }
            _ => report.say(format!(
                "{what}: accepted status '{item}' dropped (not a code or a range of codes)"
            )),
        }
    }
    if out.is_empty() {
        out.push(Node::str("2xx"));
    }
    Node::List(
        out.into_iter()
            .map(|value| Item {
                comment: None,
                value,
            })
            .collect(),
    )
}

/// A JSONata path of plain names and indexes (`data.items[0].status`) in cabot's JSONPath
/// subset (`$.data.items[0].status`); anything else has no equivalent.
fn json_path(expr: &str) -> Option<String> {
    let expr = expr.trim().trim_start_matches("$.").trim_start_matches('$');
    if expr.is_empty() {
        return Some("$".into());
    }
    let mut out = String::from("$");
    for part in expr.split('.') {
        let (name, rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return None;
        }
        out.push('.');
        out.push_str(name);
        let mut rest = rest;
        while !rest.is_empty() {
            let (index, after) = rest.split_once(']')?;
            index.parse::<usize>().ok()?;
            out.push_str(&format!("[{index}]"));
            rest = after.strip_prefix('[').unwrap_or(after);
            if !after.is_empty() && !after.starts_with('[') {
                return None;
            }
        }
    }
    Some(out)
}

/// An expected value as Kuma compared it (as text): a number or boolean as itself.
fn expected(value: &str) -> Node {
    match value.trim() {
        "true" => Node::bool(true),
        "false" => Node::bool(false),
        v => match v.parse::<f64>() {
            Ok(f) if f.is_finite() && !v.is_empty() => Node::real(f),
            _ => Node::str(value),
        },
    }
}

fn check(
    m: &Row,
    name: &str,
    service: &str,
    secrets: &mut Secrets,
    report: &mut Report,
    what: &str,
) -> Option<Node> {
    let kind = get_str(m, "type").unwrap_or_default();
    let interval = get_int(m, "interval").unwrap_or(60).clamp(10, 30 * 86_400);
    let mut node = Node::map().with("name", Node::str(name));
    let mut active = get_bool(m, "active");
    let timeout = || {
        let t = get_real(m, "timeout")
            .filter(|t| *t > 0.0)
            .unwrap_or(interval as f64 * 0.8);
        seconds((t.round() as i64).clamp(1, 600).min((interval - 1).max(1)))
    };
    match kind.as_str() {
        "http" | "keyword" | "json-query" => {
            let url = get_str(m, "url").unwrap_or_default();
            if !http_url(&url) {
                report.say(format!(
                    "{what}: not imported (its URL '{url}' is not http or https)"
                ));
                return None;
            }
            node.set("type", Node::str("http"));
            // Credentials in the URL go to a file; what is left is the URL.
            let (url, userinfo) = split_userinfo(url.trim());
            node.set("url", Node::str(&url));
            let mut basic: Option<(String, String)> = userinfo;
            let method = get_str(m, "method")
                .unwrap_or_else(|| "GET".into())
                .to_ascii_uppercase();
            if method != "GET" {
                node.set("method", Node::str(&method));
            }
            let body = get_str(m, "body");
            let user_headers = match get_str(m, "headers") {
                None => serde_json::Map::new(),
                Some(text) => serde_json::from_str(&text).unwrap_or_else(|_| {
                    report.say(format!("{what}: headers dropped (not a JSON object)"));
                    serde_json::Map::new()
                }),
            };
            let mut headers = Node::map();
            // Kuma sends a body with the type its encoding says, unless a header of the
            // monitor's own says otherwise.
            let own_type = user_headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("content-type"));
            if body.is_some() && !own_type {
                let content_type = match get_str(m, "http_body_encoding").as_deref() {
                    Some("form") => "application/x-www-form-urlencoded",
                    Some("xml") => "text/xml; charset=utf-8",
                    _ => "application/json",
                };
                headers.set("Content-Type", Node::str(content_type));
            }
            for (k, v) in user_headers {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                if !credential_header(&k) {
                    headers.set(&k, Node::str(v));
                } else if let Some(pair) = basic_credentials(&k, &v) {
                    basic = basic.or(Some(pair));
                } else {
                    report.say(format!(
                        "{what}: header {k} holds a credential, and a check's headers are written in the config: it is left out, and the check is inactive until you give it another way"
                    ));
                    active = false;
                }
            }
            if let Some(body) = body {
                node.set("body", Node::str(body));
            }
            if !headers.is_empty() {
                node.set("headers", headers);
            }
            node.set(
                "expect_status",
                statuses(
                    &get_str(m, "accepted_statuscodes_json").unwrap_or_default(),
                    report,
                    what,
                ),
            );
            if get_bool(m, "ignore_tls") {
                node.set("verify_tls", Node::bool(false));
            }
            let redirects = get_int(m, "maxredirects").unwrap_or(10);
            if redirects == 0 {
                node.set("follow_redirects", Node::bool(false));
            } else if redirects != 10 {
                report.say(format!(
                    "{what}: up to {redirects} redirects in Kuma; cabot follows up to 10"
                ));
            }
            let auth = get_str(m, "auth_method");
            // Kuma's own basic auth wins over the URL's and a header's, as axios's does.
            if let (None | Some("basic"), Some(user)) =
                (auth.as_deref(), get_str(m, "basic_auth_user"))
            {
                basic = Some((user, get_str(m, "basic_auth_pass").unwrap_or_default()));
            }
            if let Some(other @ ("ntlm" | "oauth2-cc" | "mtls")) = auth.as_deref() {
                report.say(format!(
                    "{what}: {other} authentication has no equivalent in cabot: inactive until you look"
                ));
                active = false;
            }
            if let Some((user, password)) = basic {
                node.set("username", Node::str(user));
                if !password.is_empty() {
                    let file = secrets.put(&format!("http {service} {name} password"), &password);
                    node.set("password_file", Node::str(file));
                }
            }
            if kind == "keyword" {
                let keyword = get_str(m, "keyword").unwrap_or_default();
                node.set("text_match", Node::str(regex::escape(&keyword)));
                if get_bool(m, "invert_keyword") {
                    report.say(format!("{what}: 'the keyword must be absent' has no equivalent: it looks for the keyword, inactive until you look"));
                    active = false;
                }
            }
            if kind == "json-query" {
                let path = get_str(m, "json_path").unwrap_or_default();
                let operator = get_str(m, "json_path_operator").unwrap_or_else(|| "==".into());
                let value = get_str(m, "expected_value").unwrap_or_default();
                let condition = json_path(&path).and_then(|p| {
                    let cond = Node::map().with("path", Node::str(p));
                    Some(match operator.as_str() {
                        "==" => cond.with("equals", expected(&value)),
                        "<" => cond.with("less_than", Node::real(value.trim().parse().ok()?)),
                        ">" => cond.with("greater_than", Node::real(value.trim().parse().ok()?)),
                        "contains" => cond.with("matches", Node::str(regex::escape(&value))),
                        _ => return None,
                    })
                });
                match condition {
                    Some(c) => {
                        let mut list = Node::list();
                        list.push(None, c);
                        node.set("json", list);
                    }
                    None => {
                        report.say(format!(
                            "{what}: the JSON query '{path}' {operator} '{value}' has no equivalent in cabot's json conditions: inactive until you write one"
                        ));
                        active = false;
                    }
                }
            }
            node.set("timeout", timeout());
        }
        "port" => {
            let (Some(host), Some(port)) = (get_str(m, "hostname"), get_int(m, "port")) else {
                report.say(format!("{what}: not imported (no host or port)"));
                return None;
            };
            node.set("type", Node::str("tcp"));
            node.set("host", Node::str(host.trim()));
            node.set("port", Node::int(port));
            node.set("timeout", timeout());
        }
        "ping" => {
            let Some(host) = get_str(m, "hostname") else {
                report.say(format!("{what}: not imported (no host)"));
                return None;
            };
            node.set("type", Node::str("icmp"));
            node.set("host", Node::str(host.trim()));
            node.set(
                "count",
                Node::int(get_int(m, "ping_count").unwrap_or(1).clamp(1, 10)),
            );
        }
        "dns" => {
            let host = get_str(m, "hostname").unwrap_or_default();
            let record = get_str(m, "dns_resolve_type")
                .unwrap_or_else(|| "A".into())
                .to_ascii_uppercase();
            let Some(expect) = get_str(m, "dns_last_result").and_then(|r| dns_answers(&record, &r))
            else {
                report.say(format!(
                    "{what}: not imported (cabot's dns check compares the answers with what it expects, and Kuma has no {record} answer kept to expect)"
                ));
                return None;
            };
            report.say(format!(
                "{what}: expects the answers Kuma last saw ({})",
                expect.join(", ")
            ));
            node.set("type", Node::str("dns"));
            node.set("host", Node::str(host.trim()));
            node.set("record_type", Node::str(&record));
            node.set("expect", Node::strs(expect));
            if let Some(server) = get_str(m, "dns_resolve_server") {
                let port = get_int(m, "port")
                    .and_then(|p| u16::try_from(p).ok())
                    .filter(|p| *p != 53 && *p > 0);
                match server.trim().parse::<std::net::IpAddr>() {
                    Ok(ip) => node.set(
                        "server",
                        Node::str(port.map_or_else(
                            || ip.to_string(),
                            |p| std::net::SocketAddr::new(ip, p).to_string(),
                        )),
                    ),
                    Err(_) => report.say(format!(
                        "{what}: resolver '{server}' is not an IP address: the system's resolver is asked"
                    )),
                }
            }
        }
        "push" => {
            node.set("type", Node::str("heartbeat"));
            node.set("period", seconds(interval));
            if let Some(token) = get_str(m, "push_token") {
                node.set(
                    "token_file",
                    Node::str(secrets.put(&format!("heartbeat {service} {name} token"), &token)),
                );
            }
            let path = format!(
                "/ping/{}/{}",
                crate::http_client::encode_component(service),
                crate::http_client::encode_component(name)
            );
            report.say(format!(
                "{what}: the job must now ping cabot: `cabot ping '{service}/{name}'` on this machine, or POST to serve-status's {path} with the token as a bearer token (Kuma's /api/push/ URL is not served)"
            ));
        }
        other => {
            report.say(format!("{what}: not imported (cabot has no {other} check)"));
            return None;
        }
    }
    if get_bool(m, "upside_down") {
        report.say(format!(
            "{what}: upside-down mode has no equivalent: inactive until you look"
        ));
        active = false;
    }
    node.set("frequency", seconds(interval));
    if let Some(retries) = get_int(m, "maxretries").filter(|r| *r > 0) {
        node.set("debounce", Node::int(retries.min(100)));
    }
    if !active {
        node.set("active", Node::bool(false));
    }
    Some(node)
}

/// Whether a request header carries a credential, by its name.
fn credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie"
    ) || ["token", "secret", "key", "auth", "password", "session"]
        .iter()
        .any(|w| n.contains(w))
}

/// `Authorization: Basic ...` as the user and password it encodes.
fn basic_credentials(name: &str, value: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    if !name.eq_ignore_ascii_case("authorization") {
        return None;
    }
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The answers in Kuma's `dns_last_result` (`Records: a | b`, `Servers: ...`, a CNAME,
/// `Hostname: mx - Priority: 10 | ...`) as cabot's `expect`.
fn dns_answers(record: &str, last: &str) -> Option<Vec<String>> {
    let list = |s: &str| -> Vec<String> {
        s.split(" | ")
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect()
    };
    let answers = match record {
        "A" | "AAAA" => list(last.strip_prefix("Records: ")?),
        "NS" => list(last.strip_prefix("Servers: ")?),
        "CNAME" => vec![last.trim().to_string()],
        "MX" => last
            .split('|')
            .filter_map(|part| {
                let (host, prio) = part
                    .trim()
                    .strip_prefix("Hostname: ")?
                    .split_once(" - Priority: ")?;
                Some(format!("{} {}", prio.trim(), host.trim()))
            })
            .collect(),
        _ => return None,
    };
    (!answers.is_empty()).then_some(answers)
}

/// A channel for each notification cabot has a type for; its secrets in files.
fn channels(
    kuma: &Kuma,
    secrets: &mut Secrets,
    report: &mut Report,
) -> (Node, BTreeMap<i64, String>) {
    let mut taken = BTreeSet::new();
    let mut built: Vec<(String, i64, Node)> = Vec::new();
    let mut channel_of = BTreeMap::new();
    for n in &kuma.notifications {
        let id = get_int(n, "id").unwrap_or_default();
        let title = get_str(n, "name").unwrap_or_default();
        let what = format!("notification '{title}' (Kuma notification {id})");
        if !get_bool(n, "active") {
            report.say(format!("{what}: not imported (inactive)"));
            continue;
        }
        let config: serde_json::Map<String, Value> = get_str(n, "config")
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default();
        let key = slug(&title, "notification");
        let key = unique(key, &mut taken);
        let Some(node) = channel(&config, &key, secrets, report, &what) else {
            taken.remove(&key);
            continue;
        };
        channel_of.insert(id, key.clone());
        built.push((key, id, node));
    }
    built.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Node::map();
    for (key, id, node) in built {
        out.set_commented(Some(format!("Kuma notification {id}")), &key, node);
    }
    (out, channel_of)
}

fn channel(
    c: &serde_json::Map<String, Value>,
    key: &str,
    secrets: &mut Secrets,
    report: &mut Report,
    what: &str,
) -> Option<Node> {
    let s = |k: &str| -> Option<String> {
        match c.get(k)? {
            Value::String(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let kind = s("type").unwrap_or_default();
    let mut secret = |field: &str, value: String| secrets.put(&format!("{key} {field}"), &value);
    let need = |k: &str, report: &mut Report| -> Option<String> {
        let v = s(k);
        if v.is_none() {
            report.say(format!("{what}: not imported ({k} is not set)"));
        }
        v
    };
    let node = match kind.as_str() {
        "smtp" => {
            let host = need("smtpHost", report)?;
            let port = s("smtpPort")
                .and_then(|p| p.parse::<u16>().ok())
                .unwrap_or(25);
            let secure = c
                .get("smtpSecure")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host
            };
            let url = if secure {
                format!("smtps://{host}:{port}")
            } else {
                format!("smtp://{host}:{port}?tls=opportunistic")
            };
            let mut server = Node::map().with("url", Node::str(url));
            if let Some(user) = s("smtpUsername") {
                server.set("username", Node::str(user));
                if let Some(pw) = s("smtpPassword") {
                    server.set("password_file", Node::str(secret("smtp password", pw)));
                }
            }
            if c.get("smtpIgnoreTLSError").and_then(Value::as_bool) == Some(true) {
                server.set("verify_tls", Node::bool(false));
            }
            let mut to: Vec<String> = Vec::new();
            for field in ["smtpTo", "smtpCC", "smtpBCC"] {
                to.extend(
                    s(field)
                        .unwrap_or_default()
                        .split(',')
                        .map(|a| a.trim().to_string())
                        .filter(|a| !a.is_empty()),
                );
            }
            if s("smtpCC").is_some() || s("smtpBCC").is_some() {
                report.say(format!(
                    "{what}: Cc and Bcc addresses are recipients like the others"
                ));
            }
            if s("customSubject").is_some() || s("customBody").is_some() {
                report.say(format!(
                    "{what}: its own subject and body dropped (cabot writes Cabot's)"
                ));
            }
            to.retain(|address| match judge("email", address) {
                Verdict::Unusable(why) => {
                    report.say(format!("{what}: recipient dropped: {why}"));
                    false
                }
                _ => true,
            });
            if to.is_empty() {
                report.say(format!("{what}: not imported (no recipient)"));
                return None;
            }
            let from = s("smtpFrom").unwrap_or_else(|| "Uptime Kuma <kuma@localhost>".into());
            if let Verdict::Unusable(why) = judge("email", &from) {
                report.say(format!("{what}: not imported (its sender: {why})"));
                return None;
            }
            let mut servers = Node::list();
            servers.push(None, server);
            Node::map()
                .with("type", Node::str("email"))
                .with("from", Node::str(from))
                .with("servers", servers)
                .with("to", Node::strs(to))
        }
        "slack" => {
            let url = need("slackwebhookURL", report)?;
            if s("slackchannel").is_some()
                || s("slackusername").is_some()
                || s("slackiconemo").is_some()
            {
                report.say(format!("{what}: channel, user name and icon dropped (an incoming webhook posts as it was made)"));
            }
            Node::map()
                .with("type", Node::str("slack"))
                .with("webhook_url_file", Node::str(secret("webhook url", url)))
        }
        "telegram" => {
            let token = need("telegramBotToken", report)?;
            let chat = need("telegramChatID", report)?;
            if s("telegramServerUrl")
                .is_some_and(|u| u.trim_end_matches('/') != "https://api.telegram.org")
            {
                report.say(format!(
                    "{what}: its own Bot API server is written as base_url"
                ));
            }
            let mut node = Node::map()
                .with("type", Node::str("telegram"))
                .with("bot_token_file", Node::str(secret("bot token", token)))
                .with("chat_id", Node::str(chat));
            if let Some(server) = s("telegramServerUrl")
                .filter(|u| u.trim_end_matches('/') != "https://api.telegram.org")
            {
                node.set("base_url", Node::str(server));
            }
            node
        }
        "discord" => {
            let url = need("discordWebhookUrl", report)?;
            Node::map()
                .with("type", Node::str("discord"))
                .with("webhook_url_file", Node::str(secret("webhook url", url)))
        }
        "ntfy" => {
            let server = s("ntfyserverurl").unwrap_or_else(|| "https://ntfy.sh".into());
            if !http_url(&server) {
                report.say(format!(
                    "{what}: not imported (its server '{server}' is not an http or https URL)"
                ));
                return None;
            }
            let topic = need("ntfytopic", report)?;
            // On a public server the topic is the password: the URL is a secret.
            let url = format!("{}/{topic}", server.trim_end_matches('/'));
            let mut node = Node::map()
                .with("type", Node::str("ntfy"))
                .with("url_file", Node::str(secret("url", url)));
            if let Some(token) = s("ntfyaccesstoken") {
                node.set("token_file", Node::str(secret("token", token)));
            } else if let Some(user) = s("ntfyusername") {
                node.set("username", Node::str(user));
                if let Some(pw) = s("ntfypassword") {
                    node.set("password_file", Node::str(secret("password", pw)));
                }
            }
            if s("ntfyPriority").is_some() {
                report.say(format!("{what}: its priority dropped (cabot sets it from the status: WARNING 3, ERROR 4, CRITICAL 5)"));
            }
            node
        }
        "pushover" => {
            let token = need("pushoverapptoken", report)?;
            let user = need("pushoveruserkey", report)?;
            if let Verdict::Unusable(why) = judge("pushover", &user) {
                report.say(format!("{what}: not imported (its user key: {why})"));
                return None;
            }
            Node::map()
                .with("type", Node::str("pushover"))
                .with("token_file", Node::str(secret("app token", token)))
                .with("to", Node::strs([user]))
        }
        "PagerDuty" => {
            let routing = need("pagerdutyIntegrationKey", report)?;
            Node::map().with("type", Node::str("pagerduty")).with(
                "routing_key_file",
                Node::str(secret("routing key", routing)),
            )
        }
        "Opsgenie" => {
            let api = need("opsgenieApiKey", report)?;
            let region = s("opsgenieRegion")
                .unwrap_or_else(|| "us".into())
                .to_ascii_lowercase();
            Node::map()
                .with("type", Node::str("opsgenie"))
                .with("api_key_file", Node::str(secret("api key", api)))
                .with(
                    "region",
                    Node::str(if region == "eu" { "eu" } else { "us" }),
                )
        }
        "gotify" => {
            let server = need("gotifyserverurl", report)?;
            if !http_url(&server) {
                report.say(format!(
                    "{what}: not imported (its server '{server}' is not an http or https URL)"
                ));
                return None;
            }
            let token = need("gotifyapplicationToken", report)?;
            Node::map()
                .with("type", Node::str("gotify"))
                .with("url", Node::str(server))
                .with("token_file", Node::str(secret("token", token)))
        }
        "matrix" => {
            let home = need("homeserverUrl", report)?;
            if !http_url(&home) {
                report.say(format!(
                    "{what}: not imported (its server '{home}' is not an http or https URL)"
                ));
                return None;
            }
            let token = need("accessToken", report)?;
            let room = need("internalRoomId", report)?;
            Node::map()
                .with("type", Node::str("matrix"))
                .with("homeserver", Node::str(home))
                .with(
                    "access_token_file",
                    Node::str(secret("access token", token)),
                )
                .with("room_id", Node::str(room))
        }
        "webhook" => {
            let url = need("webhookURL", report)?;
            report.say(format!(
                "{what}: the receiver gets cabot's JSON (kind, service, status, checks, text...), not Kuma's (heartbeat, monitor, msg)"
            ));
            if s("webhookAdditionalHeaders").is_some() {
                report.say(format!("{what}: its additional headers dropped (they may hold credentials, and a webhook's headers are written in the config): add them by hand"));
            }
            if s("webhookContentType").as_deref() == Some("form-data")
                || s("webhookCustomBody").is_some()
            {
                report.say(format!("{what}: its form-data or custom body dropped: cabot posts JSON, or a body: template"));
            }
            Node::map()
                .with("type", Node::str("webhook"))
                .with("url_file", Node::str(secret("url", url)))
        }
        other => {
            report.say(format!(
                "{what}: not imported (cabot has no {other} channel)"
            ));
            return None;
        }
    };
    Some(node)
}

/// Kuma's maintenance as cabot's windows: a single window dated, a weekly one weekly.
fn maintenance(kuma: &Kuma, service_of: &BTreeMap<i64, String>, report: &mut Report) -> Node {
    let mut out = Node::list();
    let now = crate::clock::now();
    for w in &kuma.maintenance {
        let id = get_int(w, "id").unwrap_or_default();
        let title = get_str(w, "title").unwrap_or_default();
        let what = format!("maintenance '{title}' (Kuma maintenance {id})");
        if !get_bool(w, "active") {
            report.say(format!("{what}: not imported (inactive)"));
            continue;
        }
        let mut services: BTreeSet<String> = kuma
            .maintenance_monitors
            .iter()
            .filter(|(m, _)| *m == id)
            .filter_map(|(_, mon)| service_of.get(mon).cloned())
            .collect();
        let pages: BTreeSet<i64> = kuma
            .maintenance_pages
            .iter()
            .filter(|(m, _)| *m == id)
            .map(|(_, p)| *p)
            .collect();
        services.extend(
            kuma.page_monitors
                .iter()
                .filter(|(p, _)| pages.contains(p))
                .filter_map(|(_, mon)| service_of.get(mon).cloned()),
        );
        if services.is_empty() {
            report.say(format!(
                "{what}: not imported (none of its monitors became a service)"
            ));
            continue;
        }
        let zone = get_str(w, "timezone")
            .filter(|z| z != "SAME_AS_SERVER")
            .or_else(|| kuma.server_zone.clone())
            .unwrap_or_else(|| "UTC".into());
        let zone = if jiff::tz::TimeZone::get(&zone).is_ok() {
            zone
        } else {
            report.say(format!("{what}: time zone '{zone}' unknown: UTC is used"));
            "UTC".into()
        };
        let mut node = Node::map().with("services", Node::strs(services));
        match get_str(w, "strategy").as_deref() {
            Some("single") => {
                let (Some(from), Some(to)) = (get_str(w, "start_date"), get_str(w, "end_date"))
                else {
                    report.say(format!("{what}: not imported (no start or end date)"));
                    continue;
                };
                let minute = |s: &str| s.trim().get(..16).unwrap_or(s.trim()).replace('T', " ");
                let ended = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", minute(&to))
                    .ok()
                    .and_then(|dt| dt.in_tz(&zone).ok())
                    .is_some_and(|t| t.timestamp().as_second() < now);
                if ended {
                    report.say(format!("{what}: not imported (it ended)"));
                    continue;
                }
                node.set("from", Node::str(minute(&from)));
                node.set("to", Node::str(minute(&to)));
                node.set("message", Node::str(&title));
            }
            Some("recurring-weekday") | Some("recurring-interval") => {
                let (Some(start), Some(end)) = (get_str(w, "start_time"), get_str(w, "end_time"))
                else {
                    report.say(format!("{what}: not imported (no start or end time)"));
                    continue;
                };
                let hm = |s: &str| -> Option<i64> {
                    let mut p = s.trim().split(':');
                    Some(p.next()?.parse::<i64>().ok()? * 60 + p.next()?.parse::<i64>().ok()?)
                };
                let (Some(a), Some(b)) = (hm(&start), hm(&end)) else {
                    report.say(format!("{what}: not imported (its times cannot be read)"));
                    continue;
                };
                let minutes = if b > a { b - a } else { b + 24 * 60 - a };
                if get_str(w, "strategy").as_deref() == Some("recurring-weekday") {
                    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
                    let days: Vec<i64> = get_str(w, "weekdays")
                        .and_then(|d| serde_json::from_str(&d).ok())
                        .unwrap_or_default();
                    let mut names: Vec<&str> = days
                        .iter()
                        .filter_map(|d| DAYS.get(d.rem_euclid(7) as usize).copied())
                        .collect();
                    names.sort_by_key(|n| DAYS.iter().position(|d| d == n));
                    names.dedup();
                    if names.is_empty() {
                        report.say(format!("{what}: not imported (no weekdays)"));
                        continue;
                    }
                    node.set("days", Node::strs(names));
                } else if get_int(w, "interval_day").unwrap_or(1) != 1 {
                    report.say(format!("{what}: not imported (every {} days has no equivalent: cabot's windows are weekly)", get_int(w, "interval_day").unwrap_or(1)));
                    continue;
                }
                node.set("start", Node::str(format!("{:02}:{:02}", a / 60, a % 60)));
                node.set("duration", seconds(minutes.max(1) * 60));
                if get_str(w, "start_date").is_some() || get_str(w, "end_date").is_some() {
                    report.say(format!(
                        "{what}: its date range dropped: the weekly window holds every week"
                    ));
                }
            }
            Some(other) => {
                let hint = if other == "manual" {
                    " (use cabot silence SERVICE --for ... while it lasts)"
                } else {
                    ""
                };
                report.say(format!(
                    "{what}: not imported (a {other} window has no equivalent{hint})"
                ));
                continue;
            }
            None => continue,
        }
        node.set("time_zone", Node::str(zone));
        out.push(Some(format!("Kuma maintenance {id}")), node);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonata_paths_of_names_and_indexes_become_cabots_and_others_do_not() {
        assert_eq!(json_path("status").as_deref(), Some("$.status"));
        assert_eq!(
            json_path("data.items[0].status").as_deref(),
            Some("$.data.items[0].status")
        );
        assert_eq!(json_path("$.a[1][2]").as_deref(), Some("$.a[1][2]"));
        assert_eq!(json_path("$count(items)"), None);
        assert_eq!(json_path("items[status='up']"), None);
    }

    #[test]
    fn credentials_leave_urls_and_headers() {
        assert_eq!(
            split_userinfo("https://bob:p%40ss@example.com/a@b?x=1"),
            (
                "https://example.com/a@b?x=1".to_string(),
                Some(("bob".into(), "p@ss".into()))
            )
        );
        assert_eq!(
            split_userinfo("https://example.com/a@b"),
            ("https://example.com/a@b".to_string(), None)
        );
        // base64 of "probe:hunter2", by coreutils' base64
        assert_eq!(
            basic_credentials("Authorization", "Basic cHJvYmU6aHVudGVyMg=="),
            Some(("probe".into(), "hunter2".into()))
        );
        assert_eq!(basic_credentials("Authorization", "Bearer abc"), None);
        assert!(
            credential_header("X-API-Key")
                && credential_header("Cookie")
                && !credential_header("X-Probe")
        );
    }

    #[test]
    fn kumas_dns_results_become_the_answers_to_expect() {
        assert_eq!(
            dns_answers("A", "Records: 127.0.0.1 | 127.0.0.2"),
            Some(vec!["127.0.0.1".into(), "127.0.0.2".into()])
        );
        assert_eq!(
            dns_answers(
                "MX",
                "Hostname: mx1.example.com - Priority: 10 | Hostname: mx2.example.com - Priority: 20"
            ),
            Some(vec![
                "10 mx1.example.com".into(),
                "20 mx2.example.com".into()
            ])
        );
        assert_eq!(dns_answers("SRV", "Name: x | Port: 1"), None);
        assert_eq!(dns_answers("A", ""), None);
    }
}
