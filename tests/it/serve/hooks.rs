//! `POST /hooks/CHANNEL`: an acknowledgement made at PagerDuty or Opsgenie reaches cabot,
//! so that its other channels stop repeating. The requests are shaped and signed as the
//! providers document them: PagerDuty's V3 webhooks (`X-PagerDuty-Signature: v1=` HMAC-
//! SHA256 of the body with the subscription's secret; `event.event_type`,
//! `event.data.incident_key`, `event.agent.summary`), and an Opsgenie Webhook
//! integration's post (`action`, `alert.alias`, `alert.username`) with the custom header
//! the user gives it.

use serde_json::json;

use crate::support::*;

const SECRET: &str = "whsec-cabot-test-0123456789abcdef";

/// Service `web` (a critical check of `target`) alerting through `incident_channel` and a
/// Slack channel `chat`, whose posts `slack` records.
fn env(incident_channel: &str, target: &Target, slack: &HttpServer) -> Env {
    Env::new(&format!(
        "channels:
  {incident_channel}
  chat: {{ type: slack, webhook_url: '{}', timeout: 2s }}
services:
  - name: web
    channels: [tool, chat]
    checks:
      - {{ name: home, type: http, url: '{}', importance: critical }}
",
        slack.url("/hook"),
        target.url()
    ))
}

fn post(server: &StatusServer, path: &str, headers: &[(&str, String)], body: &str) -> Answer {
    let mut raw = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    server.request(raw.as_bytes())
}

fn signature(body: &str, secret: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, body.as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// A V3 webhook event about incident `key`, as PagerDuty sends it (abridged: the fields
/// PagerDuty's reference shows, less the service's and policy's details).
fn pagerduty_event(id: &str, event_type: &str, key: &str) -> String {
    json!({"event": {
        "id": id,
        "event_type": event_type,
        "resource_type": "incident",
        "occurred_at": "2027-01-15T08:02:00.000Z",
        "agent": {"html_url": "https://acme.pagerduty.com/users/PLH1HKV", "id": "PLH1HKV",
                  "self": "https://api.pagerduty.com/users/PLH1HKV", "summary": "Alice Smith",
                  "type": "user_reference"},
        "client": null,
        "data": {"id": "PGR0VU2", "type": "incident", "self": "https://api.pagerduty.com/incidents/PGR0VU2",
                 "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2", "number": 2,
                 "status": "acknowledged", "incident_key": key,
                 "created_at": "2027-01-15T08:00:05Z", "title": "CRITICAL: web — home: HTTP 500",
                 "urgency": "high", "conference_bridge": null, "resolve_reason": null,
                 "assignees": [], "teams": []}
    }})
    .to_string()
}

#[test]
fn an_acknowledgement_at_pagerduty_stops_cabots_other_channels() {
    let slack = HttpServer::start(|_| Reply::new(200, "ok"));
    let pd = HttpServer::start(|_| {
        Reply::new(
            202,
            r#"{"status":"success","message":"Event processed","dedup_key":"k"}"#,
        )
    });
    let target = Target::new();
    target.set_up(false);
    let env = env(
        &format!(
            "tool: {{ type: pagerduty, routing_key: e93facc04764012d7bfb002500d5d1a6, base_url: '{}', webhook_secret_env: PD_HOOK }}",
            pd.url("")
        ),
        &target,
        &slack,
    );
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    assert_eq!((pd.requests().len(), slack.requests().len()), (1, 1));
    let server = StatusServer::start_at_with_vars(&env, T0 + 2 * MIN, &[("PD_HOOK", SECRET)]);
    let key = format!("cabot/web/{T0}");

    let forged = pagerduty_event("01DEN8", "incident.acknowledged", &key);
    post(
        &server,
        "/hooks/tool",
        &[("X-PagerDuty-Signature", signature(&forged, "wrong"))],
        &forged,
    )
    .says(401, "signature");
    let other = pagerduty_event("01DEN7", "incident.reassigned", &key);
    post(
        &server,
        "/hooks/tool",
        &[("X-PagerDuty-Signature", signature(&other, SECRET))],
        &other,
    )
    .says(200, "ignored");
    let body = pagerduty_event("01DEN8", "incident.acknowledged", &key);
    // Two signatures while the secret rotates: any one that matches will do.
    let signed = format!("v1=00ff, {}", signature(&body, SECRET));
    post(
        &server,
        "/hooks/tool",
        &[("X-PagerDuty-Signature", signed.clone())],
        &body,
    )
    .says(200, "acknowledged web");
    post(
        &server,
        "/hooks/tool",
        &[("X-PagerDuty-Signature", signed)],
        &body,
    )
    .says(200, "already");
    let by: String = env
        .db()
        .query_row("SELECT by FROM acks WHERE service = 'web'", [], |r| {
            r.get(0)
        })
        .expect("an ack");
    assert_eq!(by, "Alice Smith (PagerDuty)");
    // No channel answers what is not its own, nor a channel with no secret.
    post(&server, "/hooks/chat", &[], &body).says(404, "Not Found");
    post(&server, "/hooks/nope", &[], &body).says(404, "Not Found");

    // The repeat falls due: acknowledged, nobody is told again, and PagerDuty is not told
    // of its own acknowledgement.
    let r = env.cabot_at(T0 + 11 * MIN, &["run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!((pd.requests().len(), slack.requests().len()), (1, 1));
}

#[test]
fn an_acknowledgement_at_opsgenie_stops_cabots_other_channels() {
    let slack = HttpServer::start(|_| Reply::new(200, "ok"));
    let og = HttpServer::start(|_| {
        Reply::new(
            202,
            r#"{"result":"Request will be processed","took":0.3,"requestId":"43a29c5c"}"#,
        )
    });
    let target = Target::new();
    target.set_up(false);
    let env = env(
        &format!(
            "tool: {{ type: opsgenie, api_key: eb243592-faa2-4ba2-a551-1afdf565c889, base_url: '{}', webhook_token_env: OG_HOOK }}",
            og.url("")
        ),
        &target,
        &slack,
    );
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let server = StatusServer::start_at_with_vars(&env, T0 + 2 * MIN, &[("OG_HOOK", SECRET)]);
    // What an Opsgenie Webhook integration posts when an alert is acknowledged.
    let body = json!({
        "action": "Acknowledge",
        "alert": {"alertId": "8418d193-2dab-4490-b331-8c02cdd196b7-1500000000000",
                  "message": "CRITICAL: web — home: HTTP 500", "tags": ["cabot", "CRITICAL"],
                  "tinyId": "42", "entity": "web", "alias": format!("cabot/web/{T0}"),
                  "createdAt": 1_800_000_005_000_i64, "updatedAt": 1_800_000_120_000_i64,
                  "username": "alice@example.com", "userId": "4513b7ea-3b91-438f-b7e4-e3e54af9147c"},
        "source": {"name": "", "type": "web"},
        "integrationName": "Webhook", "integrationId": "ccb77fcc-3474-4ee3-8140-300926635ed1",
        "integrationType": "Webhook"
    })
    .to_string();
    post(
        &server,
        "/hooks/tool",
        &[("X-Cabot-Token", "wrong".into())],
        &body,
    )
    .says(401, "token");
    post(
        &server,
        "/hooks/tool",
        &[("X-Cabot-Token", SECRET.into())],
        &body,
    )
    .says(200, "acknowledged web");
    let r = env.cabot_at(T0 + 11 * MIN, &["run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(slack.requests().len(), 1, "the repeat was silenced");
    assert_eq!(og.requests().len(), 1, "Opsgenie knows already");
}
