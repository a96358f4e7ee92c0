//! Twilio: SMS through Messages.json, calls through Calls.json with inline TwiML.

use serde::Deserialize;
use ureq::Agent;

use super::read_account;
use crate::alerts::alert::Alert;
use crate::alerts::channels::{Attempt, judge, secret};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};
use crate::http_client::basic_auth;
use crate::text::xml_escape;

pub const NAME: &str = "twilio";
pub const KEYS: &[&str] = &[
    "account_sid",
    "auth_token",
    "auth_token_env",
    "auth_token_file",
    "from",
    "base_url",
];
const BASE_URL: &str = "https://api.twilio.com";

#[derive(Debug, Clone)]
pub struct Twilio {
    pub account_sid: String,
    pub auth_token: Secret,
    pub from: String,
    pub base_url: String,
}

/// What Twilio answers when it takes a message or a call: the new resource, with its sid.
#[derive(Deserialize)]
struct Created {
    sid: Option<String>,
}

impl Twilio {
    pub(crate) fn read(r: &mut Reader, p: &Fields) -> Option<Twilio> {
        let account = read_account(r, p, "account_sid", BASE_URL)?;
        Some(Twilio {
            account_sid: account.id,
            auth_token: account.token,
            from: account.from,
            base_url: account.base_url,
        })
    }

    pub fn sms(&self, api: &Agent, to: &str, alert: &Alert) -> Attempt {
        self.post(api, "Messages.json", &[("To", to), ("Body", &alert.sms())])
    }

    pub fn call(&self, api: &Agent, to: &str, alert: &Alert) -> Attempt {
        self.post(api, "Calls.json", &[("To", to), ("Twiml", &twiml(alert))])
    }

    fn post(&self, api: &Agent, resource: &str, form: &[(&str, &str)]) -> Attempt {
        let token = match secret(NAME, &self.auth_token) {
            Ok(t) => t,
            Err(a) => return a,
        };
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{resource}",
            self.base_url.trim_end_matches('/'),
            self.account_sid
        );
        let mut fields = vec![("From", self.from.as_str())];
        fields.extend_from_slice(form);
        let result = api
            .post(&url)
            .header("Authorization", &basic_auth(&self.account_sid, &token))
            .send_form(fields);
        judge(NAME, result, |c: &Created| {
            c.sid.as_ref().map(|sid| format!("sid {sid}"))
        })
    }
}

/// Inline TwiML for a call: the speech, XML-escaped.
pub fn twiml(alert: &Alert) -> String {
    format!(
        "<Response><Say>{}</Say></Response>",
        xml_escape(&alert.speech())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::alert::SPEECH_MAX;
    use crate::alerts::alert::tests::hostile;

    #[test]
    fn hostile_check_output_stays_one_say() {
        let twiml = twiml(&hostile());
        assert_eq!(twiml.matches("<Say>").count(), 1, "{twiml}");
        assert_eq!(twiml.matches("</Say>").count(), 1, "{twiml}");
        assert!(!twiml.contains("<Dial>"));
        assert!(twiml.len() < 3 * SPEECH_MAX);
    }
}
