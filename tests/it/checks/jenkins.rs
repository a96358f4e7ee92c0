//! `jenkins`: a fake Jenkins JSON API, Cabot's rules for builds, queues and errors.

use super::*;
use crate::support::*;

/// A job's JSON the way Jenkins answers `api/json?tree=...`.
fn job_json(
    buildable: bool,
    color: &str,
    last_completed: Option<(i64, &str)>,
    last_success: Option<i64>,
    queued_since_ms: Option<i64>,
) -> String {
    let build = |b: Option<serde_json::Value>| b.unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "_class": "hudson.model.FreeStyleProject",
        "buildable": buildable,
        "color": color,
        "inQueue": queued_since_ms.is_some(),
        "queueItem": build(queued_since_ms.map(|ms| serde_json::json!({"inQueueSince": ms}))),
        "lastCompletedBuild": build(last_completed.map(|(n, r)| serde_json::json!({"number": n, "result": r}))),
        "lastSuccessfulBuild": build(last_success.map(|n| serde_json::json!({"number": n}))),
    })
    .to_string()
}

/// A fake Jenkins: each job under `/job/NAME/api/json`, 404 for any other job.
fn fake_jenkins() -> HttpServer {
    let queued_since = (NOW - 10 * 60) * 1000;
    HttpServer::start(move |req| {
        let Some((path, _query)) = req.url.split_once('?') else {
            return Reply::new(400, "no query");
        };
        let body = match path {
            "/job/failing/api/json" => job_json(true, "red", Some((12, "FAILURE")), Some(11), None),
            "/job/never/api/json" => job_json(true, "red", Some((3, "FAILURE")), None, None),
            "/job/green/api/json" => job_json(true, "blue", Some((7, "SUCCESS")), Some(7), None),
            "/job/unbuildable/api/json" => {
                job_json(false, "blue", Some((7, "SUCCESS")), Some(7), None)
            }
            "/job/grey/api/json" => job_json(true, "disabled", Some((7, "SUCCESS")), Some(7), None),
            "/job/queued/api/json" => job_json(
                true,
                "blue",
                Some((5, "SUCCESS")),
                Some(5),
                Some(queued_since),
            ),
            "/job/team/job/nightly%20build/api/json" => {
                job_json(true, "blue", Some((2, "SUCCESS")), Some(2), None)
            }
            // A Jenkins that ignores `tree` names builds by number and URL only.
            "/job/depth0-failing/api/json" => {
                r#"{"buildable":true,"color":"red","inQueue":false,"queueItem":null,
                    "lastCompletedBuild":{"number":12,"url":"http://j/job/x/12/"},
                    "lastSuccessfulBuild":{"number":11,"url":"http://j/job/x/11/"}}"#
                    .to_string()
            }
            "/job/depth0-green/api/json" => {
                r#"{"buildable":true,"color":"blue","inQueue":false,"queueItem":null,
                    "lastCompletedBuild":{"number":4,"url":"http://j/job/x/4/"},
                    "lastSuccessfulBuild":{"number":4,"url":"http://j/job/x/4/"}}"#
                    .to_string()
            }
            // What Jenkins answers for a folder asked for a job's fields.
            "/job/team/api/json" => {
                r#"{"_class":"com.cloudbees.hudson.plugins.folder.Folder"}"#.to_string()
            }
            "/job/empty/api/json" => "{}".to_string(),
            "/job/wrong-types/api/json" => {
                r#"{"buildable":"yes","lastCompletedBuild":{"number":3,"result":"SUCCESS"}}"#
                    .to_string()
            }
            "/job/string-numbers/api/json" => {
                r#"{"buildable":true,"color":"blue","lastCompletedBuild":{"number":"12","result":"SUCCESS"},
                    "lastSuccessfulBuild":{"number":"12"}}"#
                    .to_string()
            }
            "/job/no-builds/api/json" => job_json(true, "notbuilt", None, None, None),
            "/job/garbage/api/json" => return Reply::new(200, "<html>Jenkins is starting</html>"),
            "/job/broken/api/json" => return Reply::new(500, "Internal Server Error"),
            _ => return Reply::new(404, "<html>Not Found</html>"),
        };
        Reply::new(200, body).header("Content-Type", "application/json")
    })
}

#[test]
fn jenkins_follows_cabots_rules() {
    let jenkins = fake_jenkins();
    let url = jenkins.url("/");
    let check = |name: &str, job: &str, extra: &str| {
        format!("      - {{ name: {name}, type: jenkins, url: '{url}', job: '{job}'{extra} }}\n")
    };
    let checks = [
        check(
            "failing",
            "failing",
            ", username: monitor, password_env: CABOT_TEST_JENKINS_TOKEN",
        ),
        check("failing-debounced", "failing", ", debounce: 1"),
        check("never-succeeded", "never", ""),
        check("green", "green", ""),
        check("unbuildable", "unbuildable", ""),
        check("grey", "grey", ""),
        check("queued-too-long", "queued", ", max_queued_build_time: 5m"),
        check("queued-a-while", "queued", ", max_queued_build_time: 15m"),
        check("in-a-folder", "team/nightly build", ""),
        check("depth0-failing", "depth0-failing", ""),
        check("depth0-green", "depth0-green", ""),
        check("missing", "no-such-job", ""),
        check(
            "missing-passing-on-error",
            "no-such-job",
            ", pass_on_error: true",
        ),
        check("garbage", "garbage", ""),
        check("broken", "broken", ""),
        check("folder", "team", ""),
        check("empty", "empty", ""),
        check("wrong-types", "wrong-types", ""),
        check("string-numbers", "string-numbers", ""),
        check("no-builds", "no-builds", ""),
    ]
    .concat();
    let env = Env::new(&config(&checks));
    let run = env
        .command(&["run", "--all"])
        .env("CABOT_NOW", NOW.to_string())
        .env("CABOT_TEST_JENKINS_TOKEN", "s3cret")
        .output()
        .expect("run cabot");
    assert!(run.status.success(), "{run:?}");
    let status = env.status_json();
    expect(
        &status,
        &[
            (
                "failing",
                "failing",
                "build #12 FAILURE, 1 consecutive failure",
            ),
            (
                "failing-debounced",
                "passing",
                "1 consecutive failure (within debounce 1)",
            ),
            (
                "never-succeeded",
                "failing",
                "build #3 FAILURE, 3 consecutive failures",
            ),
            ("green", "passing", "build #7 SUCCESS"),
            ("unbuildable", "failing", "job 'unbuildable' is disabled"),
            ("grey", "failing", "job 'grey' is disabled"),
            ("queued-too-long", "failing", "waited in the queue for 10m"),
            ("queued-a-while", "passing", "build #5 SUCCESS"),
            ("in-a-folder", "passing", "build #2 SUCCESS"),
            ("depth0-failing", "failing", "1 consecutive failure"),
            ("depth0-green", "passing", "build #4 SUCCESS"),
            ("missing", "failing", "job 'no-such-job' not found"),
            // pass_on_error is for errors reaching Jenkins; a missing job is no such error.
            ("missing-passing-on-error", "failing", "not found"),
            ("garbage", "failing", "Error reaching Jenkins"),
            ("broken", "failing", "Error reaching Jenkins: HTTP 500"),
            ("folder", "failing", "'team' is a folder, not a job"),
            ("empty", "failing", "not a Jenkins job's answer: {}"),
            ("wrong-types", "failing", "not a Jenkins job's answer"),
            ("string-numbers", "failing", "not a Jenkins job's answer"),
            ("no-builds", "passing", "no completed build yet"),
        ],
    );

    let seen = jenkins.requests();
    let asked = |path: &str| {
        seen.iter()
            .find(|r| r.url.starts_with(&format!("{path}?")))
            .unwrap_or_else(|| panic!("no request for {path} in {seen:#?}"))
    };
    let failing = asked("/job/failing/api/json");
    assert_eq!(failing.method, "GET");
    // The fields the check reads, asked for by name: results are not in the default answer.
    assert!(
        failing.url.contains("tree=")
            && failing
                .url
                .contains("lastCompletedBuild%5Bnumber,result%5D"),
        "{}",
        failing.url
    );
    // Two checks ask for that job; only the one with credentials sends them.
    // base64("monitor:s3cret")
    let mut auth: Vec<Option<&str>> = seen
        .iter()
        .filter(|r| r.url.starts_with("/job/failing/api/json?"))
        .map(|r| r.header("Authorization"))
        .collect();
    auth.sort();
    assert_eq!(auth, [None, Some("Basic bW9uaXRvcjpzM2NyZXQ=")]);
    asked("/job/team/job/nightly%20build/api/json");
}

#[test]
fn jenkins_out_of_reach_fails_unless_pass_on_error() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let env = Env::new(&config(&format!(
        "      - {{ name: down, type: jenkins, url: '{url}', job: app }}
      - {{ name: down-but-fine, type: jenkins, url: '{url}', job: app, pass_on_error: true }}
"
    )));
    let status = run_all(&env, None);
    expect(
        &status,
        &[
            ("down", "failing", "Error reaching Jenkins: "),
            ("down-but-fine", "passing", "pass_on_error"),
        ],
    );
    let (_, message) = result(&status, "down");
    assert!(message.contains("connection refused"), "{message}");
}

#[test]
fn an_error_reaching_jenkins_is_debounced_like_any_result_and_a_disabled_job_is_not() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let restarting = Arc::new(AtomicBool::new(false));
    let jenkins = {
        let restarting = restarting.clone();
        HttpServer::start(move |req| {
            if req.url.starts_with("/job/grey/") {
                return Reply::new(
                    200,
                    job_json(true, "disabled", Some((7, "SUCCESS")), Some(7), None),
                );
            }
            if restarting.load(Ordering::SeqCst) {
                return Reply::new(503, "<html>Jenkins is getting ready to work</html>");
            }
            Reply::new(
                200,
                job_json(true, "blue", Some((7, "SUCCESS")), Some(7), None),
            )
            .header("Content-Type", "application/json")
        })
    };
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let url = jenkins.url("/");
    let env = Env::new(&format!(
        "channels:
  hook: {{ type: webhook, url: '{hook}' }}
services:
  - name: ci
    channels: [hook]
    checks:
      - {{ name: deploy, type: jenkins, url: '{url}', job: deploy, debounce: 1, frequency: 1m }}
  - name: other
    channels: [hook]
    checks:
      - {{ name: grey, type: jenkins, url: '{url}', job: grey, debounce: 2, frequency: 1m }}
",
        hook = hook.url("/hook")
    ));
    let run = |minute: i64| {
        let r = env.cabot_at(NOW + minute * 60, &["run"]);
        assert_eq!(r.code, 0, "{r:?}");
        env.status_json()
    };
    let seen = |status: &serde_json::Value, service: &str, check: &str| -> (String, String) {
        let c = check_json(status, service, check);
        (
            c["status"].as_str().unwrap_or("").to_string(),
            c["message"].as_str().unwrap_or("").to_string(),
        )
    };
    let status = run(0);
    assert_eq!(seen(&status, "ci", "deploy").0, "passing");
    let grey = seen(&status, "other", "grey");
    assert_eq!(
        grey.0, "failing",
        "a disabled job fails at once, debounce 2 or not: {grey:?}"
    );
    restarting.store(true, Ordering::SeqCst);
    let deploy = seen(&run(1), "ci", "deploy");
    assert_eq!(deploy.0, "passing", "{deploy:?}");
    assert!(
        deploy.1.contains("Error reaching Jenkins: HTTP 503"),
        "{deploy:?}"
    );
    restarting.store(false, Ordering::SeqCst);
    run(2);
    let to_ci = |hook: &HttpServer| {
        hook.requests()
            .iter()
            .filter(|r| r.body.contains("\"service\":\"ci\""))
            .count()
    };
    assert_eq!(
        to_ci(&hook),
        0,
        "one 503 while Jenkins restarts is no incident"
    );
    restarting.store(true, Ordering::SeqCst);
    run(3);
    assert_eq!(seen(&run(4), "ci", "deploy").0, "failing");
    assert_eq!(
        to_ci(&hook),
        1,
        "two errors in a row with debounce 1: an alert"
    );
}
