//! Email over SMTP (lettre): plain, STARTTLS (`smtp://host:587?tls=required`) or implicit
//! TLS (`smtps://host:465`), with AUTH when a username is given.

use lettre::message::{
    Mailbox,
    header::{self, ContentType},
};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde_json::Value;

use std::time::Duration;

use super::attempt;
use crate::alerts::message::Alert;
use crate::config::SmtpServer;
use crate::store::outbox::AttemptRecord;

pub fn send(
    server: &SmtpServer,
    from: &str,
    to: &str,
    alert: &Value,
    timeout: Duration,
) -> AttemptRecord {
    let name = server_name(&server.url);
    match try_send(server, from, to, alert, timeout) {
        Ok(answer) => attempt(&name, true, answer),
        Err(why) => attempt(&name, false, why),
    }
}

/// `smtp://host:port` without credentials or query, to name the server in records.
fn server_name(url: &str) -> String {
    match url.parse::<ureq::http::Uri>() {
        Ok(u) => format!(
            "{}://{}:{}",
            u.scheme_str().unwrap_or("smtp"),
            u.host().unwrap_or(""),
            u.port_u16().unwrap_or(default_port(u.scheme_str()))
        ),
        Err(_) => "smtp".into(),
    }
}

fn default_port(scheme: Option<&str>) -> u16 {
    if scheme == Some("smtps") { 465 } else { 25 }
}

fn try_send(
    server: &SmtpServer,
    from: &str,
    to: &str,
    alert: &Value,
    timeout: Duration,
) -> Result<String, String> {
    let uri: ureq::http::Uri = server
        .url
        .parse()
        .map_err(|e| format!("bad server url: {e}"))?;
    let host = uri.host().ok_or("the server url has no host")?.to_string();
    let scheme = uri.scheme_str().unwrap_or("smtp");
    let port = uri.port_u16().unwrap_or(default_port(Some(scheme)));
    let tls_mode = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("tls=")))
        .unwrap_or("none");
    let mut params = TlsParameters::builder(host.clone());
    if let Some(pem) = &server.ca_pem {
        // ca_file replaces the public roots: an internal CA is the only one trusted.
        let cert = Certificate::from_pem(pem).map_err(|e| format!("ca_file: {e}"))?;
        params = params
            .certificate_store(CertificateStore::None)
            .add_root_certificate(cert);
    }
    if !server.verify_tls {
        params = params.dangerous_accept_invalid_certs(true);
    }
    let tls_params = || {
        params
            .clone()
            .build_rustls()
            .map_err(|e| format!("TLS setup: {e}"))
    };
    let tls = match (scheme, tls_mode) {
        ("smtps", _) => Tls::Wrapper(tls_params()?),
        (_, "required") => Tls::Required(tls_params()?),
        (_, "opportunistic") => Tls::Opportunistic(tls_params()?),
        _ => Tls::None,
    };
    let mut transport = SmtpTransport::builder_dangerous(host)
        .port(port)
        .tls(tls)
        .timeout(Some(timeout));
    if let Some(user) = &server.username {
        let password = match &server.password {
            Some(s) => s.resolve().map_err(|e| e.to_string())?,
            None => String::new(),
        };
        transport = transport.credentials(Credentials::new(user.clone(), password));
    }
    let a = Alert(alert);
    let message = Message::builder()
        .from(
            from.parse::<Mailbox>()
                .map_err(|e| format!("from '{from}': {e}"))?,
        )
        .to(to
            .parse::<Mailbox>()
            .map_err(|e| format!("to '{to}': {e}"))?)
        .subject(a.subject())
        .message_id(None)
        // lettre adds MIME-Version only for multipart bodies; without it a reader may
        // show a quoted-printable body raw.
        .header(header::MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN)
        .body(a.body())
        .map_err(|e| format!("cannot build the email: {e}"))?;
    let response = transport
        .build()
        .send(&message)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "{} {}",
        response.code(),
        response.message().collect::<Vec<_>>().join(" ")
    ))
}
