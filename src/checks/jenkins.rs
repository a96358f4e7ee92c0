//! `jenkins`: a job through Jenkins' JSON API. It fails when the last completed build failed
//! and its consecutive failed builds exceed `debounce` (Cabot counted builds, not runs of
//! the check), and at once when the job is disabled, when a queued build has waited longer
//! than `max_queued_build_time`, or when the job does not exist (Cabot passed in all three).
//! An error reaching Jenkins is a failure debounced like any check's: one 503 while Jenkins
//! restarts is not an incident when `debounce` is 1 or more (unless `pass_on_error`).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{CheckResult, CheckType, Context};
use crate::config::read::{self, Fields, Reader};
use crate::config::{Check, Secret};
use crate::http_client::{Client, Request};

/// What the check reads of a job. Jenkins' default (depth 0) answer names the builds by
/// number and URL only, without their result, so the fields are asked for by name.
const TREE: &str = "buildable,color,inQueue,queueItem%5BinQueueSince%5D,\
                    lastCompletedBuild%5Bnumber,result%5D,lastSuccessfulBuild%5Bnumber%5D";

/// A Jenkins job: enabled, not failing too many builds in a row, not queued too long.
#[derive(Debug, Clone)]
pub struct JenkinsCheck {
    pub url: String,
    pub job: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub max_queued_build_time: Option<Duration>,
    pub pass_on_error: bool,
}

impl CheckType for JenkinsCheck {
    const NAME: &'static str = "jenkins";
    const KEYS: &'static [&'static str] = &[
        "url",
        "job",
        "username",
        "password",
        "password_env",
        "password_file",
        "max_queued_build_time",
        "pass_on_error",
    ];

    fn read(r: &mut Reader, f: &Fields) -> Option<JenkinsCheck> {
        let url = r.required_url(f, "url", &["http", "https"]);
        let job = r.required_string(f, "job");
        let username = r.opt_string(f, "username");
        let password = r.secret(f, "password");
        let max_queued_build_time = f
            .get("max_queued_build_time")
            .and_then(|n| r.duration(n, &f.path("max_queued_build_time"), read::LONG));
        let pass_on_error = r.bool(f, "pass_on_error", false);
        Some(JenkinsCheck {
            url: url?,
            job: job?,
            username,
            password,
            max_queued_build_time,
            pass_on_error,
        })
    }

    fn run(&self, check: &Check, _: Option<i64>, ctx: &Context<'_>) -> CheckResult {
        ask(ctx.http, self, check.debounce, check.timeout, ctx.now)
    }
}

fn ask(
    client: &Client,
    check: &JenkinsCheck,
    debounce: u32,
    timeout: Duration,
    now: i64,
) -> CheckResult {
    let started = Instant::now();
    // What is wrong with the job itself fails at once, whatever the debounce.
    let at_once = |message: String, took: Duration| {
        CheckResult::fail(message, took).in_a_row(u64::from(debounce) + 1)
    };
    let job_path: String = check
        .job
        .split('/')
        .map(|part| format!("/job/{}", crate::http_client::encode_component(part)))
        .collect();
    let request = Request {
        username: check.username.clone(),
        password: check.password.clone(),
        ..Request::get(format!(
            "{}{job_path}/api/json?tree={TREE}",
            check.url.trim_end_matches('/')
        ))
    };
    let unreachable = |why: String| {
        if check.pass_on_error {
            CheckResult::pass(
                format!("cannot reach Jenkins, passing as pass_on_error says: {why}"),
                started.elapsed(),
            )
        } else {
            CheckResult::fail(format!("Error reaching Jenkins: {why}"), started.elapsed())
        }
    };
    let job: Value = match client.fetch(&request, timeout) {
        Ok((404, _)) => {
            return at_once(
                format!("job '{}' not found on Jenkins", check.job),
                started.elapsed(),
            );
        }
        // Refused credentials are a problem with this check, not Jenkins being away:
        // pass_on_error must not hide them.
        Ok((code @ (401 | 403), _)) => {
            return at_once(
                format!("Jenkins refused the credentials (HTTP {code})"),
                started.elapsed(),
            );
        }
        Ok((200, body)) => match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(e) => return unreachable(format!("not the JSON API's answer ({e})")),
        },
        Ok((code, _)) => return unreachable(format!("HTTP {code}")),
        Err(e) => return unreachable(e),
    };
    let took = started.elapsed();
    // Only a job's answer is read as one: every job (and no folder) has `buildable`, and
    // its last completed build is none yet or has a number.
    let folder = job["_class"].as_str().is_some_and(|c| c.contains("Folder"))
        || job["jobs"].is_array();
    if folder {
        return at_once(
            format!(
                "'{}' is a folder, not a job: name a job in it (folder/job)",
                check.job
            ),
            took,
        );
    }
    let numbered = |build: &Value| build.is_null() || build["number"].is_i64();
    if !job["buildable"].is_boolean()
        || !numbered(&job["lastCompletedBuild"])
        || !numbered(&job["lastSuccessfulBuild"])
    {
        let answer = crate::text::truncate_chars(&job.to_string(), 120);
        return unreachable(format!("not a Jenkins job's answer: {answer}"));
    }
    let disabled = job["buildable"] == Value::Bool(false) || job["color"] == "disabled";
    if disabled {
        return at_once(format!("job '{}' is disabled", check.job), took);
    }
    if let Some(max) = check.max_queued_build_time
        && job["inQueue"] == Value::Bool(true)
        && let Some(since_ms) = job["queueItem"]["inQueueSince"].as_i64()
    {
        let waited = now.saturating_sub(since_ms / 1000).max(0);
        if waited > max.as_secs() as i64 {
            return at_once(
                format!(
                    "job '{}': a build has waited in the queue for {} (max_queued_build_time {})",
                    check.job,
                    crate::text::duration(Duration::from_secs(waited as u64)),
                    crate::text::duration(max)
                ),
                took,
            );
        }
    }
    let last = &job["lastCompletedBuild"];
    let Some(number) = last["number"].as_i64() else {
        return CheckResult::pass(format!("job '{}': no completed build yet", check.job), took);
    };
    let last_success = job["lastSuccessfulBuild"]["number"].as_i64();
    // A Jenkins that ignores `tree` still numbers its builds: the last completed build
    // succeeded when it is the last successful one.
    let result = match last["result"].as_str() {
        Some(r) => r,
        None if last_success == Some(number) => "SUCCESS",
        None => "FAILURE",
    };
    if result == "SUCCESS" {
        return CheckResult::pass(
            format!("job '{}': build #{number} SUCCESS", check.job),
            took,
        );
    }
    let consecutive = match last_success {
        Some(success) => number - success,
        None => number,
    };
    let text = format!(
        "job '{}': build #{number} {result}, {consecutive} consecutive failure{}",
        check.job,
        if consecutive == 1 { "" } else { "s" }
    );
    // Failing only past the debounce, decided where every check's is, from the count.
    let text = if consecutive > i64::from(debounce) {
        text
    } else {
        format!("{text} (within debounce {debounce})")
    };
    CheckResult::fail(text, took).in_a_row(consecutive.max(1) as u64)
}
