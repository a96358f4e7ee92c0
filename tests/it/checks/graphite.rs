//! `graphite`: a fake render API, Cabot's threshold cases and the window asked for.

use super::*;
use crate::support::*;

/// A render answer: one series per (target, points).
fn render(series: &[(&str, &[Option<f64>])]) -> String {
    let all: Vec<serde_json::Value> = series
        .iter()
        .map(|(target, points)| {
            let datapoints: Vec<serde_json::Value> = points
                .iter()
                .enumerate()
                .map(|(i, v)| serde_json::json!([v, NOW - 60 * (points.len() - i) as i64]))
                .collect();
            serde_json::json!({"target": target, "datapoints": datapoints})
        })
        .collect();
    serde_json::Value::Array(all).to_string()
}

#[test]
fn graphite_asks_for_the_window_since_the_previous_result() {
    let graphite = HttpServer::start(|_| Reply::new(200, render(&[("x", &[Some(1.0)])])));
    let url = graphite.url("");
    let env = Env::new(&config(&format!(
        "      - {{ name: every-minute, type: graphite, url: '{url}', target: 'sumSeries(stats.*.load)', comparison: '>', threshold: 9.0, frequency: 1m }}
      - {{ name: every-5m, type: graphite, url: '{url}/graphite/', target: stats.five, comparison: '>', threshold: 9.0, frequency: 5m }}
"
    )));
    let asked = |since: usize| -> Vec<String> {
        let mut urls: Vec<String> = graphite.requests()[since..]
            .iter()
            .map(|r| r.url.clone())
            .collect();
        urls.sort();
        urls
    };
    let status = run_all(&env, Some(NOW));
    assert_eq!(result(&status, "every-minute").0, "passing");
    assert_eq!(
        asked(0),
        [
            "/graphite/render?target=stats.five&format=json&from=-6min",
            "/render?target=sumSeries%28stats.%2A.load%29&format=json&from=-2min",
        ],
        "first run: the frequency plus one minute"
    );
    run_all(&env, Some(NOW + 10 * 60));
    assert_eq!(
        asked(2),
        [
            "/graphite/render?target=stats.five&format=json&from=-11min",
            "/render?target=sumSeries%28stats.%2A.load%29&format=json&from=-11min",
        ],
        "ten minutes later: the ten minutes since the previous result plus one"
    );
}

#[test]
fn graphite_cabot_cases() {
    let graphite = HttpServer::start(|req| {
        let target = req
            .url
            .split_once("target=")
            .and_then(|(_, rest)| rest.split('&').next())
            .unwrap_or("");
        let body = match target {
            "stats.%2A.load" => render(&[
                ("stats.PROD.load", &[None, Some(9.16092), None]),
                ("stats.stage.load", &[Some(8.16242), None]),
            ]),
            "stats.PROD.load" => render(&[("stats.PROD.load", &[Some(9.16092)])]),
            "stats.gone.load" => render(&[("stats.gone.load", &[None, None, None])]),
            "stats.nothing" => render(&[]),
            // Values sent as strings, as some Graphite-compatible servers do.
            "stats.strings" => format!(
                r#"[{{"target": "stats.strings", "datapoints": [["999", {t}], [null, {t}]]}}]"#,
                t = NOW - 60
            ),
            "stats.words" => format!(
                r#"[{{"target": "stats.words", "datapoints": [["high", {t}], [true, {t}]]}}]"#,
                t = NOW - 60
            ),
            "stats.broken" => return Reply::new(500, "Traceback (most recent call last)"),
            _ => return Reply::new(200, "<html>not json</html>"),
        };
        Reply::new(200, body).header("Content-Type", "application/json")
    });
    let url = graphite.url("");
    let refused = format!("http://127.0.0.1:{}", closed_port());
    let check = |name: &str, url: &str, target: &str, rule: &str| {
        format!(
            "      - {{ name: {name}, type: graphite, url: '{url}', target: '{target}', {rule} }}\n"
        )
    };
    let load = "stats.*.load";
    let checks = [
        check(
            "over-9",
            &url,
            load,
            "comparison: '>', threshold: 9.0, allowed_num_failures: 0",
        ),
        check(
            "over-11",
            &url,
            load,
            "comparison: '>', threshold: 11.0, allowed_num_failures: 0",
        ),
        check(
            "one-allowed",
            &url,
            load,
            "comparison: '>', threshold: 9.0, allowed_num_failures: 1",
        ),
        check("both-over-8", &url, load, "comparison: '>', threshold: 8.0"),
        check(
            "one-series",
            &url,
            "stats.PROD.load",
            "comparison: '>', threshold: 9.0",
        ),
        check("under-9", &url, load, "comparison: '<', threshold: 9.0"),
        check(
            "all-null",
            &url,
            "stats.gone.load",
            "comparison: '>', threshold: 9.0, expected_num_hosts: 1",
        ),
        check(
            "no-series",
            &url,
            "stats.nothing",
            "comparison: '>', threshold: 9.0, expected_num_hosts: 2",
        ),
        check(
            "http-500",
            &url,
            "stats.broken",
            "comparison: '>', threshold: 9.0",
        ),
        check(
            "not-json",
            &url,
            "stats.other",
            "comparison: '>', threshold: 9.0",
        ),
        check(
            "string-values",
            &url,
            "stats.strings",
            "comparison: '>', threshold: 5.0",
        ),
        check(
            "word-values",
            &url,
            "stats.words",
            "comparison: '>', threshold: 5.0",
        ),
        check(
            "refused",
            &refused,
            "stats.any",
            "comparison: '>', threshold: 9.0",
        ),
    ]
    .concat();
    let env = Env::new(&config(&checks));
    let status = run_all(&env, Some(NOW));
    let exactly = [
        ("over-9", "failing", "PROD: 9.16092 > 9.0"),
        (
            "both-over-8",
            "failing",
            "PROD: 9.16092 > 8.0, stage: 8.16242 > 8.0",
        ),
        ("one-series", "failing", "9.16092 > 9.0"),
        ("string-values", "failing", "999.0 > 5.0"),
        (
            "word-values",
            "failing",
            "Error getting data from Graphite: stats.words has a value that is not a number: \"high\"",
        ),
        ("under-9", "failing", "stage: 8.16242 < 9.0"),
        ("all-null", "failing", "Hosts missing | 0/1 hosts"),
        ("no-series", "failing", "Hosts missing | 0/2 hosts"),
        (
            "http-500",
            "failing",
            "Error getting data from Graphite: HTTP 500",
        ),
    ];
    for (check, want_status, want_message) in exactly {
        assert_eq!(
            result(&status, check),
            (want_status.to_string(), want_message.to_string()),
            "{check}"
        );
    }
    expect(
        &status,
        &[
            ("over-11", "passing", "2 series, 0 failing"),
            (
                "one-allowed",
                "passing",
                "1 failing (allowed 1): PROD: 9.16092 > 9.0",
            ),
            ("not-json", "failing", "Error getting data from Graphite: "),
            ("refused", "failing", "Error getting data from Graphite: "),
        ],
    );
    for check in ["not-json", "refused"] {
        let (_, message) = result(&status, check);
        assert!(
            message.starts_with("Error getting data from Graphite: "),
            "{message}"
        );
    }
}
