//! From Cabot's REST API (`cabot/rest_urls.py`): the same models as a dump, fewer fields.
//! Each answer is turned into the objects a dump would hold, so one reader serves both,
//! and the report says exactly what the API could not give.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::cabot::{Dump, Object, to_config};
use super::{Imported, Report, Secrets};
use crate::config::Secret;
use crate::exit_codes::{Exit, ExitCode};
use crate::http_client::{Client, Request};

/// How long one request may take, and how much of an answer is read.
const TIMEOUT: Duration = Duration::from_secs(60);
const MAX_ANSWER: u64 = 256 * 1024 * 1024;

/// What the API never gives, whatever the server's settings.
const LACKING: &[&str] = &[
    "the API has no runbook links (runbook_link) and no public flags (is_public): services are written without them",
    "the API has no phone numbers and no Slack or HipChat aliases (plugin user data): users are written without them",
    "the API has no Jenkins servers' addresses or credentials (jenkins_config is an id): Jenkins checks need JENKINS_API in --env",
];

pub fn from_api(
    url: &str,
    user: &str,
    password: &str,
    env: &BTreeMap<String, String>,
    secrets: &mut Secrets,
    report: &mut Report,
) -> anyhow::Result<Imported> {
    let base = url.trim_end_matches('/');
    let base = base.strip_suffix("/api").unwrap_or(base);
    let api = Api {
        client: Client::new(),
        base: base.to_string(),
        user: user.to_string(),
        password: password.to_string(),
    };
    if let Ok(uri) = ureq::http::Uri::try_from(base)
        && uri.scheme_str() == Some("http")
        && let Some(host) = uri.host()
        && !matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]")
    {
        report.say(format!(
            "the API's password went to {host} over plain HTTP: change it if the network is not yours"
        ));
    }
    for line in LACKING {
        report.say(*line);
    }
    let mut objects = Vec::new();
    let mut add = |model: &str, item: &Value, extra: Value| {
        let mut fields = item.as_object().cloned().unwrap_or_default();
        let pk = fields.remove("id").unwrap_or(Value::Null);
        if let Value::Object(extra) = extra {
            fields.extend(extra);
        }
        objects.push(Object {
            model: model.to_string(),
            pk,
            fields,
        });
    };
    for item in api.list("services")? {
        add("cabotapp.service", &item, Value::Null);
    }
    for item in api.list("instances")? {
        add("cabotapp.instance", &item, Value::Null);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut jenkins_configs = std::collections::BTreeSet::new();
    for (endpoint, model) in [
        ("http_checks", "httpstatuscheck"),
        ("icmp_checks", "icmpstatuscheck"),
        ("graphite_checks", "graphitestatuscheck"),
        ("jenkins_checks", "jenkinsstatuscheck"),
    ] {
        for item in api.list(endpoint)? {
            seen.insert(item.get("id").and_then(Value::as_i64));
            add(
                "cabotapp.statuscheck",
                &item,
                json!({"polymorphic_ctype": ["cabotapp", model]}),
            );
            if model == "jenkinsstatuscheck" {
                let config = item.get("jenkins_config").cloned().unwrap_or(Value::Null);
                jenkins_configs.extend(config.as_i64());
                add(
                    "cabotapp.jenkinsstatuscheck",
                    &item,
                    json!({"jenkins_config": config}),
                );
            }
        }
    }
    // Checks of a plugin type are in status_checks only.
    for item in api.list("status_checks")? {
        if !seen.contains(&item.get("id").and_then(Value::as_i64)) {
            add(
                "cabotapp.statuscheck",
                &item,
                json!({"polymorphic_ctype": ["cabot_check_plugin", "unknown (only in the API's status_checks)"]}),
            );
        }
    }
    if let Some(jenkins) = env.get("JENKINS_API").filter(|v| !v.trim().is_empty()) {
        {
            for id in &jenkins_configs {
                add(
                    "cabotapp.jenkinsconfig",
                    &json!({"id": id}),
                    json!({
                        "name": format!("jenkins {id}"),
                        "jenkins_api": jenkins,
                        "jenkins_user": env.get("JENKINS_USER").cloned().unwrap_or_default(),
                        "jenkins_pass": env.get("JENKINS_PASS").cloned().unwrap_or_default(),
                    }),
                );
            }
            if !jenkins_configs.is_empty() {
                report.say(format!(
                    "Jenkins checks use JENKINS_API ({jenkins}) from --env for every Jenkins server"
                ));
            }
        }
    }
    for item in api.list("alertplugins")? {
        add("cabotapp.alertplugin", &item, json!({"enabled": true}));
    }
    match (api.optional_list("users")?, api.optional_list("user_profiles")?) {
        (Some(users), profiles) => {
            for item in users {
                add("auth.user", &item, Value::Null);
            }
            for item in profiles.unwrap_or_default() {
                add("cabotapp.userprofile", &item, Value::Null);
            }
        }
        (None, _) => report.say(
            "the API has no users (the server's EXPOSE_USER_API is off): services are written without users, and there is no rota fallback",
        ),
    }
    let dump = Dump {
        objects,
        skipped: BTreeMap::new(),
    };
    let cabot = dump.into_cabot(std::path::Path::new(base))?;
    Ok(to_config(
        &cabot,
        env,
        &format!("from Cabot's API at {base}"),
        secrets,
        report,
    ))
}

struct Api {
    client: Client,
    base: String,
    user: String,
    password: String,
}

impl Api {
    /// `GET /api/NAME/`: a list (or DRF's paged `{"results": [...]}`, followed page by page).
    fn list(&self, name: &str) -> anyhow::Result<Vec<Value>> {
        self.optional_list(name)?.ok_or_else(|| {
            Exit::error(
                ExitCode::Usage,
                format!(
                    "{}/api/{name}/ is not there (404): is this Cabot's address?",
                    self.base
                ),
            )
        })
    }

    /// As `list`, or `None` when the server does not offer it (404 or 403).
    fn optional_list(&self, name: &str) -> anyhow::Result<Option<Vec<Value>>> {
        let mut url = format!("{}/api/{name}/?format=json", self.base);
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let mut request = Request::get(url.clone());
            request.username = Some(self.user.clone());
            request.password = Some(Secret::Inline(self.password.clone()));
            request
                .headers
                .push(("Accept".into(), "application/json".into()));
            request.max_body = MAX_ANSWER;
            let fail = |why: String| Exit::error(ExitCode::Usage, format!("{url}: {why}"));
            let mut response = self.client.send(&request, TIMEOUT).map_err(fail)?;
            let status = response.status().as_u16();
            match status {
                200 => {}
                404 => return Ok(None),
                403 if name == "users" || name == "user_profiles" => return Ok(None),
                401 | 403 => {
                    return Err(fail(format!(
                        "HTTP {status}: the user and password were refused (or the user may not read this)"
                    )));
                }
                _ => return Err(fail(format!("HTTP {status}"))),
            }
            let (body, cut) =
                Client::read_body(&mut response, MAX_ANSWER, TIMEOUT).map_err(fail)?;
            if cut {
                return Err(fail("the answer is larger than 256 MiB".into()));
            }
            let value: Value = serde_json::from_slice(&body)
                .map_err(|e| fail(format!("not JSON from Cabot's API: {e}")))?;
            match value {
                Value::Array(items) => {
                    out.extend(items);
                    return Ok(Some(out));
                }
                Value::Object(mut page) => {
                    if let Some(Value::Array(items)) = page.remove("results") {
                        out.extend(items);
                    } else {
                        return Err(fail("not a list from Cabot's API".into()));
                    }
                    match page.remove("next") {
                        // Credentials go only where they were given.
                        Some(Value::String(next)) if next.starts_with(&self.base) => url = next,
                        Some(Value::String(next)) => {
                            return Err(fail(format!("the next page is elsewhere ({next})")));
                        }
                        _ => return Ok(Some(out)),
                    }
                }
                _ => return Err(fail("not a list from Cabot's API".into())),
            }
        }
        Ok(Some(out))
    }
}
