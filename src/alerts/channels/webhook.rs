//! `webhook`: the alert's JSON, POSTed.

use std::time::Duration;

use super::{Attempt, ChannelType, Reach, agent, secret};
use crate::alerts::alert::Alert;
use crate::config::Secret;
use crate::config::read::{Fields, Reader};

#[derive(Debug, Clone)]
pub struct Webhook {
    /// A secret: a webhook URL is often its own credential.
    pub url: Secret,
    pub headers: Vec<(String, String)>,
}

impl ChannelType for Webhook {
    const NAME: &'static str = "webhook";
    const KEYS: &'static [&'static str] = &["url", "url_env", "url_file", "headers"];
    const REACH: Reach = Reach::Destination;

    fn read(r: &mut Reader, f: &Fields) -> Option<Webhook> {
        Some(Webhook {
            url: r.required_secret(f, "url")?,
            headers: r.headers(f, "headers"),
        })
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        vec![self.post(alert, timeout)]
    }
}

impl Webhook {
    fn post(&self, alert: &Alert, timeout: Duration) -> Attempt {
        let url = match secret("webhook", &self.url) {
            Ok(u) => u,
            Err(a) => return a,
        };
        let api = agent(timeout);
        let mut request = api.post(&url).header("Content-Type", "application/json");
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        match request.send(alert.to_json()) {
            Ok(r) => {
                let code = r.status();
                Attempt::new("webhook", code.is_success(), format!("HTTP {}", code.as_u16()))
            }
            Err(e) => Attempt::new("webhook", false, e.to_string()),
        }
    }
}
