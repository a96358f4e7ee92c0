//! From Arachnys' Cabot: its models (`cabot/cabotapp/models/`, the alert plugins
//! cabot_alert_email, _twilio, _slack and _hipchat) as a Django dump, or as its REST API
//! gives them (`cabot_api.rs`), into one [`Cabot`], then into a config.
//!
//! What Cabot's code says and the config makes explicit:
//! - HTTP, ICMP and Graphite checks are proxy models of `StatusCheck`: their type is only in
//!   `polymorphic_ctype`, which a dump names by natural key (`--natural-foreign`) or by a
//!   content type's id (readable only when `contenttypes` is in the dump).
//! - A Jenkins check is a `statuscheck` and a `jenkinsstatuscheck` with the same id.
//! - HTTP: exactly the status in `status_code` (text; none checks no status), redirects
//!   followed (`requests.get`), `text_match` searched with Python's `re`.
//! - ICMP: `ping -c 1` of the check's one instance's address.
//! - Graphite: the threshold is text, read by `float()` at each run.
//! - Phone numbers are kept without their `+`; Slack aliases are display names.
//! - Credentials and alert intervals live in the environment file, not the database.
//! - Instances' statuses are computed but never alerted on.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use anyhow::Context;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::yaml_out::Node;
use super::{
    Imported, Report, Secrets, http_url, judge, minutes, seconds, split_userinfo, unique,
    usable_name,
};
use crate::alerts::channels::Verdict;
use crate::exit_codes::{Exit, ExitCode};

/// The largest dump read: a dump with years of check results is mostly results, which
/// are skipped as they are read, so this bounds the time, not the memory.
const MAX_DUMP_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Cabot's data, whichever way it came.
#[derive(Debug, Default)]
pub struct Cabot {
    pub users: BTreeMap<i64, User>,
    pub services: Vec<Group>,
    pub instances: Vec<Group>,
    pub checks: BTreeMap<i64, Check>,
    pub plugins: BTreeMap<i64, Plugin>,
    pub jenkins: BTreeMap<i64, JenkinsConfig>,
    /// The user on duty when the rota has nobody.
    pub fallback: Option<i64>,
    /// How many objects of each history model were skipped.
    pub skipped: BTreeMap<String, usize>,
}

#[derive(Debug, Default, Clone)]
pub struct User {
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub active: bool,
    pub phone: Option<String>,
    pub slack: Option<String>,
    pub hipchat: Option<String>,
}

/// A service or an instance: Cabot's `CheckGroupMixin`.
#[derive(Debug, Default, Clone)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub runbook: String,
    pub recovery_embed: String,
    pub users: Vec<i64>,
    pub checks: Vec<i64>,
    pub plugins: Vec<i64>,
    pub alerts_enabled: bool,
    pub public: bool,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Http,
    Icmp,
    Graphite,
    Jenkins,
    /// A check plugin's model (`cabot_check_cloudwatch.cloudwatchstatuscheck`).
    Other(String),
}

#[derive(Debug, Clone)]
pub struct Check {
    pub id: i64,
    pub kind: Kind,
    pub name: String,
    pub active: bool,
    pub importance: String,
    pub frequency: i64,
    pub debounce: i64,
    pub metric: Option<String>,
    pub check_type: Option<String>,
    pub value: Option<String>,
    pub expected_num_hosts: i64,
    pub allowed_num_failures: i64,
    pub endpoint: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub text_match: Option<String>,
    pub status_code: Option<String>,
    pub timeout: Option<i64>,
    pub verify_ssl: bool,
    pub max_queued_build_time: Option<i64>,
    pub jenkins_config: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plugin {
    Email,
    TwilioSms,
    TwilioPhone,
    Slack,
    Hipchat,
    Other(String),
}

impl Plugin {
    /// A plugin by its model (`emailalert`) or, from the API, its title (`Email`).
    pub fn of(model_or_title: &str) -> Plugin {
        match model_or_title.to_ascii_lowercase().as_str() {
            "emailalert" | "email" => Plugin::Email,
            "twiliosms" | "twilio sms" => Plugin::TwilioSms,
            "twiliophonecall" | "twilio phone call" => Plugin::TwilioPhone,
            "slackalert" | "slack" => Plugin::Slack,
            "hipchatalert" | "hipchat" => Plugin::Hipchat,
            _ => Plugin::Other(model_or_title.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct JenkinsConfig {
    pub name: String,
    pub api: String,
    pub user: String,
    pub password: String,
}

/// `cabot import cabot --dump FILE`.
pub fn from_dump(
    path: &Path,
    env: &BTreeMap<String, String>,
    secrets: &mut Secrets,
    report: &mut Report,
) -> anyhow::Result<Imported> {
    let dump = read_dump(path)?;
    let cabot = dump.into_cabot(path)?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(to_config(
        &cabot,
        env,
        &format!("from the Cabot dump {name}"),
        secrets,
        report,
    ))
}

/// One object of a dump, its fields kept only for the models an import reads.
#[derive(Debug)]
pub(super) struct Object {
    pub model: String,
    pub pk: Value,
    pub fields: serde_json::Map<String, Value>,
}

/// Models whose objects are history, counted and skipped.
const HISTORY: &[(&str, &str)] = &[
    (
        "cabotapp.statuscheckresult",
        "check results (history stays in Cabot)",
    ),
    (
        "cabotapp.servicestatussnapshot",
        "service snapshots (history stays in Cabot)",
    ),
    (
        "cabotapp.instancestatussnapshot",
        "instance snapshots (history stays in Cabot)",
    ),
    (
        "cabotapp.alertacknowledgement",
        "acknowledgements (history stays in Cabot)",
    ),
    (
        "cabotapp.shift",
        "rota shifts (cabot reads the calendar itself)",
    ),
];

fn wanted(model: &str) -> bool {
    model.starts_with("cabotapp.") && !HISTORY.iter().any(|(m, _)| *m == model)
        || model == "auth.user"
        || model == "contenttypes.contenttype"
        || model.starts_with("cabot_alert_")
}

#[derive(Debug, Default)]
pub(super) struct Dump {
    pub objects: Vec<Object>,
    pub skipped: BTreeMap<String, usize>,
}

impl<'de> de::Deserialize<'de> for Dump {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dump, D::Error> {
        d.deserialize_seq(DumpVisitor)
    }
}

struct DumpVisitor;

impl<'de> Visitor<'de> for DumpVisitor {
    type Value = Dump;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Django objects, as manage.py dumpdata writes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dump, A::Error> {
        let mut dump = Dump::default();
        while let Some(one) = seq.next_element::<Maybe>()? {
            match one {
                Maybe::Kept(o) => dump.objects.push(o),
                Maybe::Skipped(model) => *dump.skipped.entry(model).or_default() += 1,
            }
        }
        Ok(dump)
    }
}

/// An object, or the model of one whose fields were skipped unread.
enum Maybe {
    Kept(Object),
    Skipped(String),
}

impl<'de> de::Deserialize<'de> for Maybe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Maybe, D::Error> {
        d.deserialize_map(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Maybe;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with model, pk and fields")
    }

    // dumpdata writes `model` first, so the fields of history are skipped without being
    // kept; in another order they are read and then dropped.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Maybe, A::Error> {
        let mut model: Option<String> = None;
        let mut pk = Value::Null;
        let mut fields = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "model" => model = Some(map.next_value()?),
                "pk" => pk = map.next_value()?,
                "fields" if model.as_deref().is_some_and(|m| !wanted(m)) => {
                    map.next_value::<IgnoredAny>()?;
                }
                "fields" => fields = Some(map.next_value::<serde_json::Map<String, Value>>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let model = model.ok_or_else(|| de::Error::missing_field("model"))?;
        if !wanted(&model) {
            return Ok(Maybe::Skipped(model));
        }
        Ok(Maybe::Kept(Object {
            model,
            pk,
            fields: fields.unwrap_or_default(),
        }))
    }
}

fn read_dump(path: &Path) -> anyhow::Result<Dump> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let len = file.metadata()?.len();
    if len > MAX_DUMP_BYTES {
        return Err(Exit::error(
            ExitCode::Usage,
            format!(
                "{} is larger than 4 GiB; dump without the history: {}",
                path.display(),
                DUMP_COMMAND
            ),
        ));
    }
    let reader = std::io::BufReader::new(file);
    serde_json::from_reader(reader).map_err(|e| {
        Exit::error(
            ExitCode::Usage,
            format!(
                "{} is not a Django dump (JSON, from manage.py dumpdata): {e}",
                path.display()
            ),
        )
    })
}

/// How to make a dump this reads.
const DUMP_COMMAND: &str = "python manage.py dumpdata --natural-foreign --indent 2 \
     --exclude cabotapp.statuscheckresult --exclude cabotapp.servicestatussnapshot \
     --exclude cabotapp.instancestatussnapshot > cabot.json";

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(v: Option<&Value>, default: bool) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() != Some(0),
        _ => default,
    }
}

impl Dump {
    pub(super) fn into_cabot(self, path: &Path) -> anyhow::Result<Cabot> {
        let objects = &self.objects;
        let by_model = |m: &'static str| objects.iter().filter(move |o| o.model == m);
        // Content types by id, for a dump made without --natural-foreign.
        let content_types: BTreeMap<i64, (String, String)> = by_model("contenttypes.contenttype")
            .filter_map(|o| {
                Some((
                    o.pk.as_i64()?,
                    (
                        text(o.fields.get("app_label"))?,
                        text(o.fields.get("model"))?,
                    ),
                ))
            })
            .collect();
        let ctype = |o: &Object| -> Result<(String, String), i64> {
            match o.fields.get("polymorphic_ctype") {
                Some(Value::Array(parts)) => Ok((
                    text(parts.first()).unwrap_or_default(),
                    text(parts.get(1)).unwrap_or_default(),
                )),
                Some(v) => {
                    let id = v.as_i64().unwrap_or(-1);
                    content_types.get(&id).cloned().ok_or(id)
                }
                None => Err(-1),
            }
        };
        let checks_objects: Vec<&Object> = by_model("cabotapp.statuscheck").collect();
        if checks_objects.is_empty() && by_model("cabotapp.service").next().is_none() {
            return Err(Exit::error(
                ExitCode::Usage,
                format!(
                    "{} has no Cabot services or checks (no cabotapp.service, cabotapp.statuscheck); make the dump with: {DUMP_COMMAND}",
                    path.display()
                ),
            ));
        }
        if let Some((o, id)) = checks_objects
            .iter()
            .find_map(|o| ctype(o).err().map(|id| (o, id)))
        {
            return Err(Exit::error(
                ExitCode::Usage,
                format!(
                    "{}: check {} names its type by a content type's id ({id}) and the dump has no such content type, so HTTP, ICMP and Graphite checks (all one table in Cabot) cannot be told apart. Make the dump with --natural-foreign: {DUMP_COMMAND}",
                    path.display(),
                    o.pk
                ),
            ));
        }

        let mut cabot = Cabot::default();
        let mut by_username = BTreeMap::new();
        for o in by_model("auth.user") {
            let Some(id) = o.pk.as_i64() else { continue };
            let first = text(o.fields.get("first_name")).unwrap_or_default();
            let last = text(o.fields.get("last_name")).unwrap_or_default();
            let user = User {
                username: text(o.fields.get("username")).unwrap_or_default(),
                email: text(o.fields.get("email")).unwrap_or_default(),
                full_name: format!("{first} {last}").trim().to_string(),
                active: flag(o.fields.get("is_active"), true),
                ..User::default()
            };
            by_username.insert(user.username.clone(), id);
            cabot.users.insert(id, user);
        }
        // A user named by id, or by natural key: ["alice"].
        let user_ref = |v: &Value| -> Option<i64> {
            match v {
                Value::Array(key) => by_username.get(&text(key.first())?).copied(),
                v => v.as_i64(),
            }
        };
        let user_refs = |v: Option<&Value>| -> Vec<i64> {
            match v {
                Some(Value::Array(items)) => items.iter().filter_map(user_ref).collect(),
                _ => Vec::new(),
            }
        };
        let mut profile_user = BTreeMap::new();
        for o in by_model("cabotapp.userprofile") {
            let (Some(id), Some(user)) = (o.pk.as_i64(), o.fields.get("user").and_then(user_ref))
            else {
                continue;
            };
            profile_user.insert(id, user);
            if let Some(u) = cabot.users.get_mut(&user) {
                u.phone = text(o.fields.get("mobile_number")).filter(|s| !s.trim().is_empty());
                u.hipchat = text(o.fields.get("hipchat_alias")).filter(|s| !s.trim().is_empty());
            }
            if flag(o.fields.get("fallback_alert_user"), false) {
                cabot.fallback = Some(user);
            }
        }
        // A plugin's user data: the parent names the profile, the child shares its id.
        let data_user: BTreeMap<i64, i64> = by_model("cabotapp.alertpluginuserdata")
            .filter_map(|o| {
                Some((
                    o.pk.as_i64()?,
                    *profile_user.get(&int(o.fields.get("user"))?)?,
                ))
            })
            .collect();
        for o in &self.objects {
            let Some(user) = o.pk.as_i64().and_then(|pk| data_user.get(&pk)) else {
                continue;
            };
            let Some(u) = cabot.users.get_mut(user) else {
                continue;
            };
            let value = |k: &str| text(o.fields.get(k)).filter(|s| !s.trim().is_empty());
            match o.model.as_str() {
                "cabot_alert_twilio.twiliouserdata" => {
                    u.phone = value("phone_number").or(u.phone.take())
                }
                "cabot_alert_slack.slackalertuserdata" => u.slack = value("slack_alias"),
                "cabot_alert_hipchat.hipchatalertuserdata" => {
                    u.hipchat = value("hipchat_alias").or(u.hipchat.take())
                }
                _ => {}
            }
        }
        for o in by_model("cabotapp.alertplugin") {
            let Some(id) = o.pk.as_i64() else { continue };
            if !flag(o.fields.get("enabled"), true) {
                continue;
            }
            let plugin = match ctype(o) {
                Ok((_, model)) => Plugin::of(&model),
                Err(_) => Plugin::of(&text(o.fields.get("title")).unwrap_or_default()),
            };
            cabot.plugins.insert(id, plugin);
        }
        for o in by_model("cabotapp.jenkinsconfig") {
            let Some(id) = o.pk.as_i64() else { continue };
            let f = |k: &str| text(o.fields.get(k)).unwrap_or_default();
            cabot.jenkins.insert(
                id,
                JenkinsConfig {
                    name: f("name"),
                    api: f("jenkins_api"),
                    user: f("jenkins_user"),
                    password: f("jenkins_pass"),
                },
            );
        }
        let jenkins_of: BTreeMap<i64, i64> = by_model("cabotapp.jenkinsstatuscheck")
            .filter_map(|o| Some((o.pk.as_i64()?, int(o.fields.get("jenkins_config"))?)))
            .collect();
        for o in checks_objects {
            let Some(id) = o.pk.as_i64() else { continue };
            let (app, model) = ctype(o).unwrap_or_default();
            let kind = match model.as_str() {
                "httpstatuscheck" => Kind::Http,
                "icmpstatuscheck" => Kind::Icmp,
                "graphitestatuscheck" => Kind::Graphite,
                "jenkinsstatuscheck" => Kind::Jenkins,
                _ => Kind::Other(format!("{app}.{model}")),
            };
            let f = |k: &str| o.fields.get(k);
            cabot.checks.insert(
                id,
                Check {
                    id,
                    kind,
                    name: text(f("name")).unwrap_or_default(),
                    active: flag(f("active"), true),
                    importance: text(f("importance")).unwrap_or_else(|| "ERROR".into()),
                    frequency: int(f("frequency")).unwrap_or(5),
                    debounce: int(f("debounce")).unwrap_or(0),
                    metric: text(f("metric")),
                    check_type: text(f("check_type")),
                    value: text(f("value")),
                    expected_num_hosts: int(f("expected_num_hosts")).unwrap_or(0),
                    allowed_num_failures: int(f("allowed_num_failures")).unwrap_or(0),
                    endpoint: text(f("endpoint")),
                    username: text(f("username")),
                    password: text(f("password")),
                    text_match: text(f("text_match")),
                    status_code: text(f("status_code")),
                    timeout: int(f("timeout")),
                    verify_ssl: flag(f("verify_ssl_certificate"), true),
                    max_queued_build_time: int(f("max_queued_build_time")),
                    jenkins_config: jenkins_of.get(&id).copied(),
                },
            );
        }
        let ids = |v: Option<&Value>| -> Vec<i64> {
            match v {
                Some(Value::Array(items)) => items.iter().filter_map(|i| int(Some(i))).collect(),
                _ => Vec::new(),
            }
        };
        for (model, into_services) in [("cabotapp.service", true), ("cabotapp.instance", false)] {
            for o in by_model(model) {
                let f = |k: &str| o.fields.get(k);
                let group = Group {
                    id: o.pk.as_i64().unwrap_or_default(),
                    name: text(f("name")).unwrap_or_default(),
                    url: text(f("url")).unwrap_or_default(),
                    runbook: text(f("runbook_link")).unwrap_or_default(),
                    recovery_embed: text(f("hackpad_id")).unwrap_or_default(),
                    users: user_refs(f("users_to_notify")),
                    checks: ids(f("status_checks")),
                    plugins: ids(f("alerts")),
                    alerts_enabled: flag(f("alerts_enabled"), true),
                    public: flag(f("is_public"), false),
                    address: text(f("address")).unwrap_or_default(),
                };
                if into_services {
                    cabot.services.push(group);
                } else {
                    cabot.instances.push(group);
                }
            }
        }
        cabot.skipped = self.skipped;
        Ok(cabot)
    }
}

/// The config from Cabot's data and environment.
pub fn to_config(
    cabot: &Cabot,
    env: &BTreeMap<String, String>,
    origin: &str,
    secrets: &mut Secrets,
    report: &mut Report,
) -> Imported {
    for (model, count) in &cabot.skipped {
        let what = HISTORY
            .iter()
            .find(|(m, _)| m == model)
            .map_or(model.as_str(), |(_, w)| w);
        report.say(format!("not imported: {count} {what}"));
    }
    let mut root = Node::map();
    root.set("alerting", alerting(env, report));

    let users = users(cabot, report);
    let channels = channels(cabot, env, secrets, report);
    let rota = rota(cabot, env, report);
    root.set("users", users);
    if !channels.is_empty() {
        root.set("channels", channels.clone());
    }
    if let Some((name, rota)) = &rota {
        root.set("oncall", Node::map().with(name, rota.clone()));
    }
    let services = services(
        cabot,
        env,
        &channels,
        rota.as_ref().map(|r| r.0.as_str()),
        secrets,
        report,
    );
    root.set("services", services);
    Imported {
        origin: vec![
            origin.to_string(),
            "Each item's comment names its id in Cabot; secrets are in files (*_file).".to_string(),
        ],
        root,
    }
}

/// Cabot's minutes from its environment, or its default.
fn env_minutes(
    env: &BTreeMap<String, String>,
    name: &str,
    default: i64,
    report: &mut Report,
) -> i64 {
    match env.get(name) {
        None => default,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(m) if (1..=43_200).contains(&m) => m,
            _ => {
                report.say(format!("{name}={v} is not a number of minutes from 1 to 30 days: Cabot's default {default} is used"));
                default
            }
        },
    }
}

/// `alerting:` from ALERT_INTERVAL, NOTIFICATION_INTERVAL and ACKNOWLEDGEMENT_EXPIRY.
fn alerting(env: &BTreeMap<String, String>, report: &mut Report) -> Node {
    let alert = env_minutes(env, "ALERT_INTERVAL", 10, report);
    let notification = env_minutes(env, "NOTIFICATION_INTERVAL", 120, report);
    let ack = env_minutes(env, "ACKNOWLEDGEMENT_EXPIRY", 20, report);
    Node::map()
        .with(
            "repeat",
            Node::map()
                .with("warning", minutes(notification))
                .with("error", minutes(alert))
                .with("critical", minutes(alert)),
        )
        .with("ack_expiry", minutes(ack))
}

/// Each active user with what a channel can reach them by.
fn users(cabot: &Cabot, report: &mut Report) -> Node {
    let mut sorted: Vec<(&i64, &User)> = cabot.users.iter().collect();
    sorted.sort_by(|a, b| a.1.username.cmp(&b.1.username));
    let mut out = Node::map();
    let mut hipchat = Vec::new();
    for (id, u) in sorted {
        if !u.active {
            report.say(format!(
                "user {}: not imported (inactive in Cabot, which alerted only active users)",
                u.username
            ));
            continue;
        }
        if u.username.is_empty() || u.username.contains('/') {
            report.say(format!("user '{}' (Cabot user {id}): not imported (a user's name has no '/' and is not blank)", u.username));
            continue;
        }
        let mut node = Node::map();
        if !u.full_name.is_empty() {
            node.set("name", Node::str(&u.full_name));
        }
        if !u.email.trim().is_empty() {
            match judge("email", u.email.trim()) {
                Verdict::Unusable(why) => {
                    report.say(format!("user {}: email dropped: {why}", u.username))
                }
                _ => node.set("email", Node::str(u.email.trim())),
            }
        }
        if let Some(phone) = &u.phone {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            let e164 = format!("+{digits}");
            match judge("phone", &e164) {
                Verdict::Unusable(why) => report.say(format!(
                    "user {}: phone '{phone}' dropped: {why}",
                    u.username
                )),
                _ => {
                    if phone.trim() != digits && phone.trim() != e164 {
                        report.say(format!(
                            "user {}: phone '{phone}' written as {e164}",
                            u.username
                        ));
                    }
                    node.set("phone", Node::str(e164));
                }
            }
        }
        if let Some(alias) = &u.slack {
            let value = alias.trim();
            if let Verdict::Doubtful(_) = judge("slack", value) {
                report.say(format!(
                    "user {}: Slack alias '{value}' is a display name, which Slack no longer notifies: replace it with the member ID (like U024BE7LH, from the profile's \"Copy member ID\")",
                    u.username
                ));
            }
            node.set("slack", Node::str(value));
        }
        if u.hipchat.is_some() {
            hipchat.push(u.username.clone());
        }
        out.set_commented(Some(format!("Cabot user {id}")), &u.username, node);
    }
    if !hipchat.is_empty() {
        report.say(format!(
            "HipChat aliases dropped ({}): HipChat was shut down in 2019 and cabot has no HipChat channel",
            hipchat.join(", ")
        ));
    }
    out
}

/// The name a plugin's channel gets.
fn channel_name(p: &Plugin) -> Option<&'static str> {
    match p {
        Plugin::Email => Some("email"),
        Plugin::TwilioSms => Some("sms"),
        Plugin::TwilioPhone => Some("phone"),
        Plugin::Slack => Some("slack"),
        _ => None,
    }
}

/// Django's `strtobool`, as Cabot's `force_bool` reads a setting.
fn env_flag(env: &BTreeMap<String, String>, names: &[&str]) -> Option<bool> {
    let v = names.iter().find_map(|n| env.get(*n))?;
    match v.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "t" | "true" | "on" | "1" => Some(true),
        "n" | "no" | "f" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn env_first<'a>(env: &'a BTreeMap<String, String>, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| env.get(*n))
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

/// A channel for each enabled alert plugin, with its credentials from the environment.
fn channels(
    cabot: &Cabot,
    env: &BTreeMap<String, String>,
    secrets: &mut Secrets,
    report: &mut Report,
) -> Node {
    let mut built: BTreeMap<&'static str, (i64, Node)> = BTreeMap::new();
    let no_env = env.is_empty();
    for (id, plugin) in &cabot.plugins {
        let Some(name) = channel_name(plugin) else {
            match plugin {
                Plugin::Hipchat => report.say(format!(
                    "alert plugin HipChat (Cabot plugin {id}): dropped (HipChat was shut down in 2019; cabot has no HipChat channel)"
                )),
                Plugin::Other(model) => report.say(format!(
                    "alert plugin {model} (Cabot plugin {id}): dropped (no such cabot channel; a webhook or command channel may stand in)"
                )),
                _ => {}
            }
            continue;
        };
        if built.contains_key(name) {
            continue;
        }
        if no_env {
            report.say(format!(
                "alert plugin {name} (Cabot plugin {id}): not imported, its settings are in Cabot's environment file: give --env production.env"
            ));
            continue;
        }
        let node = match plugin {
            Plugin::Email => email(env, secrets, report),
            Plugin::TwilioSms | Plugin::TwilioPhone => {
                twilio(*plugin == Plugin::TwilioPhone, env, secrets, report)
            }
            Plugin::Slack => slack(env, secrets, report),
            _ => None,
        };
        if let Some(node) = node {
            built.insert(name, (*id, node));
        }
    }
    let mut out = Node::map();
    for (name, (id, node)) in built {
        out.set_commented(Some(format!("Cabot alert plugin {id}")), name, node);
    }
    out
}

fn email(
    env: &BTreeMap<String, String>,
    secrets: &mut Secrets,
    report: &mut Report,
) -> Option<Node> {
    let Some(from) = env_first(env, &["CABOT_FROM_EMAIL"]) else {
        report.say("alert plugin email: not imported: CABOT_FROM_EMAIL is not set (Cabot sent from 'Cabot <None>')");
        return None;
    };
    let from = format!("Cabot <{}>", from.trim());
    if let Verdict::Unusable(why) = judge("email", &from) {
        report.say(format!(
            "alert plugin email: not imported: CABOT_FROM_EMAIL: {why}"
        ));
        return None;
    }
    let host = env_first(env, &["EMAIL_HOST", "SES_HOST"]).unwrap_or("localhost");
    let port: u16 = match env_first(env, &["EMAIL_PORT", "SES_PORT"]).map(|p| p.trim().parse()) {
        None => 25,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            report.say("alert plugin email: EMAIL_PORT is not a port; 25 is used");
            25
        }
    };
    let tls = env_flag(env, &["EMAIL_USE_TLS", "SES_USE_TLS"]).unwrap_or(false);
    // Cabot's settings: EMAIL_USE_SSL defaults to "not EMAIL_USE_TLS".
    let ssl = env_flag(env, &["EMAIL_USE_SSL", "SES_USE_SSL"]).unwrap_or(!tls);
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let url = if ssl {
        format!("smtps://{host}:{port}")
    } else if tls {
        format!("smtp://{host}:{port}?tls=required")
    } else {
        format!("smtp://{host}:{port}")
    };
    let mut server = Node::map().with("url", Node::str(url));
    if let Some(user) = env_first(env, &["EMAIL_USER", "SES_USER"]) {
        server.set("username", Node::str(user));
        if let Some(pw) = env_first(env, &["EMAIL_PASSWORD", "SES_PASS"]) {
            server.set("password_file", Node::str(secrets.put("smtp-password", pw)));
        }
    }
    let mut servers = Node::list();
    servers.push(None, server);
    Some(
        Node::map()
            .with("type", Node::str("email"))
            .with("from", Node::str(from))
            .with("servers", servers),
    )
}

fn twilio(
    phone: bool,
    env: &BTreeMap<String, String>,
    secrets: &mut Secrets,
    report: &mut Report,
) -> Option<Node> {
    let name = if phone { "phone" } else { "sms" };
    let (Some(sid), Some(token), Some(from)) = (
        env_first(env, &["TWILIO_ACCOUNT_SID"]),
        env_first(env, &["TWILIO_AUTH_TOKEN"]),
        env_first(env, &["TWILIO_OUTGOING_NUMBER"]),
    ) else {
        report.say(format!(
            "alert plugin {name}: not imported: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_OUTGOING_NUMBER are not all set"
        ));
        return None;
    };
    if let Verdict::Unusable(why) = judge("phone", from.trim()) {
        report.say(format!(
            "alert plugin {name}: not imported: TWILIO_OUTGOING_NUMBER: {why}"
        ));
        return None;
    }
    let provider = Node::map()
        .with("account_sid", Node::str(sid))
        .with(
            "auth_token_file",
            Node::str(secrets.put("twilio-auth-token", token)),
        )
        .with("from", Node::str(from));
    let mut providers = Node::list();
    providers.push(None, Node::map().with("twilio", provider));
    let mut node = Node::map().with("type", Node::str(name));
    if phone {
        // Cabot's TwilioPhoneCall: "No need to call to say things are resolved", and calls
        // only for CRITICAL.
        node.set("min_importance", Node::str("critical"));
        report.say("channel phone: Cabot called only the duty officers; cabot calls the service's users and the rota's duty officer");
    }
    node.set("providers", providers);
    Some(node)
}

fn slack(
    env: &BTreeMap<String, String>,
    secrets: &mut Secrets,
    report: &mut Report,
) -> Option<Node> {
    let Some(url) = env_first(env, &["SLACK_WEBHOOK_URL"]) else {
        report.say("alert plugin slack: not imported: SLACK_WEBHOOK_URL is not set");
        return None;
    };
    if let Some(channel) = env_first(env, &["SLACK_ALERT_CHANNEL"]) {
        report.say(format!(
            "channel slack: SLACK_ALERT_CHANNEL={channel} dropped: an incoming webhook posts to the channel it was made for"
        ));
    }
    Some(Node::map().with("type", Node::str("slack")).with(
        "webhook_url_file",
        Node::str(secrets.put("slack-webhook-url", url)),
    ))
}

/// Cabot's duty rota: the calendar at CALENDAR_ICAL_URL whose events' summaries are user
/// names, and the fallback user when it has nobody.
fn rota(
    cabot: &Cabot,
    env: &BTreeMap<String, String>,
    report: &mut Report,
) -> Option<(String, Node)> {
    if env_flag(env, &["ENABLE_DUTY_ROTA"]) == Some(false) {
        return None;
    }
    let fallback = cabot
        .fallback
        .and_then(|id| cabot.users.get(&id))
        .filter(|u| u.active)
        .map(|u| u.username.clone());
    let calendar = env_first(env, &["CALENDAR_ICAL_URL"]);
    let Some(fallback) = fallback else {
        if calendar.is_some() {
            report.say("rota: not imported: Cabot has no (active) fallback user, and a cabot rota needs one; add oncall: { duty: { ical_url: ..., fallback: USER } } and oncall: duty to the services");
        }
        return None;
    };
    let node = match calendar {
        Some(url) => {
            let url = url.trim();
            let https = match url.strip_prefix("http://") {
                Some(rest) => {
                    report.say(format!(
                        "rota: CALENDAR_ICAL_URL {url} is written as https://{rest}: cabot reads calendars over HTTPS only"
                    ));
                    format!("https://{rest}")
                }
                None => url.to_string(),
            };
            Node::map()
                .with("ical_url", Node::str(https))
                .with("fallback", Node::str(&fallback))
        }
        None => Node::map()
            .with("users", Node::strs([fallback.clone()]))
            .with("fallback", Node::str(&fallback)),
    };
    Some(("duty".to_string(), node))
}

/// Services, then instances as services of their own, each check under every group it is in.
fn services(
    cabot: &Cabot,
    env: &BTreeMap<String, String>,
    channels: &Node,
    rota: Option<&str>,
    secrets: &mut Secrets,
    report: &mut Report,
) -> Node {
    let mut groups_of: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for g in cabot.services.iter().chain(&cabot.instances) {
        for c in &g.checks {
            groups_of.entry(*c).or_default().push(g.name.clone());
        }
    }
    for (check, groups) in &groups_of {
        if groups.len() > 1
            && let Some(c) = cabot.checks.get(check)
        {
            report.say(format!(
                "check '{}' (Cabot check {check}) is in {}: written under each, and each runs on its own",
                c.name,
                groups.join(", ")
            ));
        }
    }
    let mut taken = BTreeSet::new();
    let mut out: Vec<(String, i64, Node)> = Vec::new();
    let mut sorted: Vec<&Group> = cabot.services.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let active_users: BTreeSet<i64> = cabot
        .users
        .iter()
        .filter(|(_, u)| u.active)
        .map(|(id, _)| *id)
        .collect();
    for g in sorted {
        let what = format!("service '{}' (Cabot service {})", g.name, g.id);
        let name = unique(usable_name(&g.name, "service", report), &mut taken);
        let mut node = Node::map().with("name", Node::str(&name));
        if !g.url.trim().is_empty() {
            if http_url(&g.url) {
                node.set("url", Node::str(g.url.trim()));
            } else {
                report.say(format!(
                    "{what}: url '{}' dropped (not an http or https URL)",
                    g.url
                ));
            }
        }
        if !g.runbook.trim().is_empty() {
            node.set("runbook", Node::str(g.runbook.trim()));
        }
        if !g.recovery_embed.trim().is_empty() {
            report.say(format!(
                "{what}: embedded recovery instructions {} dropped (cabot links a runbook; it embeds nothing)",
                g.recovery_embed.trim()
            ));
        }
        let mut users: Vec<String> = g
            .users
            .iter()
            .filter(|u| active_users.contains(u))
            .filter_map(|u| cabot.users.get(u).map(|u| u.username.clone()))
            .filter(|u| !u.contains('/'))
            .collect();
        users.sort();
        users.dedup();
        let mut names: Vec<&str> = g
            .plugins
            .iter()
            .filter_map(|p| cabot.plugins.get(p))
            .filter_map(channel_name)
            .filter(|n| channels.get(n).is_some())
            .collect();
        names.sort();
        names.dedup();
        if !g.alerts_enabled {
            if !names.is_empty() || !users.is_empty() {
                report.say(format!(
                    "{what}: alerts were disabled in Cabot, so it is written without channels"
                ));
            }
            names.clear();
        }
        if !users.is_empty() {
            node.set("users", Node::strs(users));
        }
        if let (Some(rota), false) = (rota, names.is_empty()) {
            node.set("oncall", Node::str(rota));
        }
        if !names.is_empty() {
            node.set("channels", Node::strs(names));
        }
        if g.public {
            node.set("public", Node::bool(true));
        }
        let checks = checks(cabot, g, env, &name, secrets, report);
        if checks.is_empty() {
            report.say(format!(
                "{what}: not imported (no checks it can run; a cabot service needs at least one)"
            ));
            taken.remove(&name);
            continue;
        }
        node.set("checks", checks);
        out.push((name, g.id, node));
    }
    let mut instances: Vec<&Group> = cabot.instances.iter().collect();
    instances.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    for g in instances {
        let what = format!("instance '{}' (Cabot instance {})", g.name, g.id);
        let name = unique(usable_name(&g.name, "instance", report), &mut taken);
        let checks = checks(cabot, g, env, &name, secrets, report);
        if checks.is_empty() {
            report.say(format!("{what}: not imported (no checks it can run)"));
            taken.remove(&name);
            continue;
        }
        report.say(format!(
            "{what}: written as a service without channels, as Cabot never alerted on an instance"
        ));
        let node = Node::map()
            .with("name", Node::str(&name))
            .with("checks", checks);
        out.push((name, -g.id, node));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let mut list = Node::list();
    for (_, id, node) in out {
        let comment = if id >= 0 {
            format!("Cabot service {id}")
        } else {
            format!("Cabot instance {}", -id)
        };
        list.push(Some(comment), node);
    }
    list
}

/// The group's checks that cabot can run, sorted by name.
fn checks(
    cabot: &Cabot,
    g: &Group,
    env: &BTreeMap<String, String>,
    service: &str,
    secrets: &mut Secrets,
    report: &mut Report,
) -> Node {
    let mut list: Vec<&Check> = g
        .checks
        .iter()
        .filter_map(|c| cabot.checks.get(c))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    list.dedup_by_key(|c| c.id);
    let mut taken = BTreeSet::new();
    let mut out = Node::list();
    for c in list {
        let what = format!("check '{}' (Cabot check {})", c.name, c.id);
        let name = unique(usable_name(&c.name, "check", report), &mut taken);
        let Some(node) = check(cabot, c, &name, env, service, secrets, report, &what) else {
            taken.remove(&name);
            continue;
        };
        out.push(
            Some(format!("Cabot check {} ({})", c.id, kind_name(&c.kind))),
            node,
        );
    }
    out
}

fn kind_name(k: &Kind) -> &str {
    match k {
        Kind::Http => "HTTP",
        Kind::Icmp => "ICMP",
        Kind::Graphite => "Graphite",
        Kind::Jenkins => "Jenkins",
        Kind::Other(m) => m,
    }
}

#[allow(clippy::too_many_arguments)]
fn check(
    cabot: &Cabot,
    c: &Check,
    name: &str,
    env: &BTreeMap<String, String>,
    service: &str,
    secrets: &mut Secrets,
    report: &mut Report,
    what: &str,
) -> Option<Node> {
    let mut node = Node::map().with("name", Node::str(name));
    let mut active = c.active;
    match &c.kind {
        Kind::Http => {
            let url = c.endpoint.as_deref().unwrap_or("").trim();
            if !http_url(url) {
                report.say(format!(
                    "{what}: not imported (its endpoint '{url}' is not an http or https URL)"
                ));
                return None;
            }
            node.set("type", Node::str("http"));
            // requests took basic auth from the URL when the check gave none.
            let (url, userinfo) = split_userinfo(url);
            node.set("url", Node::str(&url));
            let code = c
                .status_code
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty());
            match code.map(|s| (s, s.parse::<u16>())) {
                None => {
                    // Cabot compared no status when none was set.
                    node.set(
                        "expect_status",
                        Node::strs(["1xx", "2xx", "3xx", "4xx", "5xx"]),
                    );
                }
                Some((_, Ok(n))) if (100..=599).contains(&n) => {
                    node.set(
                        "expect_status",
                        Node::List(vec![super::yaml_out::Item {
                            comment: None,
                            value: Node::int(n.into()),
                        }]),
                    );
                }
                Some((s, _)) => {
                    report.say(format!(
                        "{what}: status_code '{s}' is not an HTTP status (Cabot failed this check on every run): expect_status: [200] is written, and the check is inactive until you look"
                    ));
                    node.set(
                        "expect_status",
                        Node::List(vec![super::yaml_out::Item {
                            comment: None,
                            value: Node::int(200),
                        }]),
                    );
                    active = false;
                }
            }
            node.set("follow_redirects", Node::bool(true));
            if let Some(pattern) = c.text_match.as_deref().filter(|s| !s.is_empty()) {
                match crate::checks::pattern::Pattern::new(pattern) {
                    Ok(_) => node.set("text_match", Node::str(pattern)),
                    Err(why) => {
                        report.say(format!("{what}: text_match /{pattern}/ dropped, and the check is inactive until you look: {why}"));
                        active = false;
                    }
                }
            }
            if !c.verify_ssl {
                node.set("verify_tls", Node::bool(false));
            }
            let (mut user, mut password) = (
                c.username.clone().unwrap_or_default(),
                c.password.clone().unwrap_or_default(),
            );
            if let Some((u, p)) = userinfo.filter(|_| user.is_empty() && password.is_empty()) {
                (user, password) = (u, p);
            }
            let (user, password) = (user.as_str(), password.as_str());
            if !user.is_empty() || !password.is_empty() {
                node.set("username", Node::str(user));
                if !password.is_empty() {
                    node.set(
                        "password_file",
                        Node::str(
                            secrets.put(&format!("http {service} {name} password"), password),
                        ),
                    );
                }
            }
            let timeout = c.timeout.unwrap_or(30).clamp(1, 600);
            node.set("timeout", seconds(timeout));
        }
        Kind::Icmp => {
            let mut homes: Vec<&Group> = cabot
                .instances
                .iter()
                .filter(|i| i.checks.contains(&c.id))
                .collect();
            homes.sort_by_key(|i| i.id);
            let Some(home) = homes.first().filter(|i| !i.address.trim().is_empty()) else {
                report.say(format!("{what}: not imported (an ICMP check pings its instance's address, and it has none; Cabot failed it on every run)"));
                return None;
            };
            if homes.len() > 1 {
                report.say(format!(
                    "{what}: in {} instances; Cabot could not run it (it wants exactly one); it pings {}'s address",
                    homes.len(),
                    home.name
                ));
            }
            node.set("type", Node::str("icmp"));
            node.set("host", Node::str(home.address.trim()));
            node.set("count", Node::int(1));
        }
        Kind::Graphite => {
            let Some(api) = env_first(env, &["GRAPHITE_API"]) else {
                report.say(format!(
                    "{what}: not imported: GRAPHITE_API is not set (give --env production.env)"
                ));
                return None;
            };
            if !http_url(api) {
                report.say(format!(
                    "{what}: not imported: GRAPHITE_API '{api}' is not an http or https URL"
                ));
                return None;
            }
            node.set("type", Node::str("graphite"));
            node.set("url", Node::str(api.trim()));
            node.set("target", Node::str(c.metric.as_deref().unwrap_or("")));
            let comparison = c.check_type.as_deref().unwrap_or("");
            let threshold = c.value.as_deref().unwrap_or("");
            let number = threshold
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite());
            let known = matches!(comparison, ">" | ">=" | "<" | "<=" | "==");
            node.set(
                "comparison",
                Node::str(if known { comparison } else { ">" }),
            );
            node.set("threshold", Node::real(number.unwrap_or(0.0)));
            if number.is_none() || !known {
                report.say(format!(
                    "{what}: its condition '{comparison} {threshold}' cannot be read (Cabot's float() failed on it at every run): written as '> 0', inactive until you set comparison and threshold"
                ));
                active = false;
            }
            if c.expected_num_hosts > 0 {
                node.set("expected_num_hosts", Node::int(c.expected_num_hosts));
            }
            if c.allowed_num_failures > 0 {
                node.set("allowed_num_failures", Node::int(c.allowed_num_failures));
            }
            if let Some(user) = env_first(env, &["GRAPHITE_USER"]) {
                node.set("username", Node::str(user));
                if let Some(pw) = env_first(env, &["GRAPHITE_PASS"]) {
                    node.set(
                        "password_file",
                        Node::str(secrets.put("graphite-password", pw)),
                    );
                }
            }
        }
        Kind::Jenkins => {
            let Some(config) = c.jenkins_config.and_then(|id| cabot.jenkins.get(&id)) else {
                report.say(format!("{what}: not imported (its Jenkins server is not in the dump: cabotapp.jenkinsconfig)"));
                return None;
            };
            if !http_url(&config.api) {
                report.say(format!(
                    "{what}: not imported: its Jenkins address '{}' is not an http or https URL",
                    config.api
                ));
                return None;
            }
            node.set("type", Node::str("jenkins"));
            node.set("url", Node::str(config.api.trim()));
            node.set("job", Node::str(&c.name));
            if !config.user.is_empty() {
                node.set("username", Node::str(&config.user));
            }
            if !config.password.is_empty() {
                node.set(
                    "password_file",
                    Node::str(secrets.put(
                        &format!("jenkins {} password", config.name),
                        &config.password,
                    )),
                );
            }
            if let Some(m) = c.max_queued_build_time.filter(|m| *m > 0) {
                node.set("max_queued_build_time", minutes(m));
            }
            // Cabot passed a check whose Jenkins could not be reached.
            node.set("pass_on_error", Node::bool(true));
        }
        Kind::Other(model) => {
            report.say(format!(
                "{what}: not imported (a check plugin, {model}, that cabot has no type for)"
            ));
            return None;
        }
    }
    let importance = c.importance.to_ascii_lowercase();
    if matches!(importance.as_str(), "warning" | "error" | "critical") {
        node.set("importance", Node::str(importance));
    } else {
        report.say(format!(
            "{what}: importance '{}' is not one of Cabot's; error is written",
            c.importance
        ));
        node.set("importance", Node::str("error"));
    }
    let frequency = if c.frequency < 1 {
        report.say(format!(
            "{what}: frequency {} minutes is written as 1m",
            c.frequency
        ));
        1
    } else {
        c.frequency.min(43_200)
    };
    node.set("frequency", minutes(frequency));
    if c.debounce > 0 {
        node.set("debounce", Node::int(c.debounce));
    }
    if !active {
        node.set("active", Node::bool(false));
    }
    Some(node)
}
