//! Twilio: SMS through Messages.json, calls through Calls.json with inline TwiML.

use serde_json::Value;

use ureq::Agent;

use super::{judge, secret};
use crate::alerts::message::Alert;
use crate::config::Provider;
use crate::http_client::basic_auth;
use crate::store::outbox::AttemptRecord;

fn post(api: &Agent, provider: &Provider, resource: &str, form: &[(&str, &str)]) -> AttemptRecord {
    let Provider::Twilio {
        account_sid,
        auth_token,
        from,
        base_url,
    } = provider
    else {
        unreachable!("twilio::post is only called with a Twilio provider")
    };
    let token = match secret("twilio", auth_token) {
        Ok(t) => t,
        Err(a) => return a,
    };
    let url = format!(
        "{}/2010-04-01/Accounts/{account_sid}/{resource}",
        base_url.trim_end_matches('/')
    );
    let mut fields = vec![("From", from.as_str())];
    fields.extend_from_slice(form);
    let result = api
        .post(&url)
        .header("Authorization", &basic_auth(account_sid, &token))
        .send_form(fields);
    judge("twilio", result, |v| {
        v.get("sid")
            .and_then(Value::as_str)
            .map(|sid| format!("sid {sid}"))
    })
}

pub fn sms(api: &Agent, provider: &Provider, to: &str, alert: &Value) -> AttemptRecord {
    post(
        api,
        provider,
        "Messages.json",
        &[("To", to), ("Body", &Alert(alert).sms())],
    )
}

pub fn call(api: &Agent, provider: &Provider, to: &str, alert: &Value) -> AttemptRecord {
    post(
        api,
        provider,
        "Calls.json",
        &[("To", to), ("Twiml", &Alert(alert).twiml())],
    )
}
