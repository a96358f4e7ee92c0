//! `email` over SMTP (lettre): plain, STARTTLS (`smtp://host:587?tls=required`) or implicit
//! TLS (`smtps://host:465`), with AUTH when a username is given; servers tried in order.

use std::time::Duration;

use lettre::message::{
    Mailbox,
    header::{self, ContentType},
};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::{Attempt, ChannelType, Contact, Reach, Verdict, until_accepted};
use crate::alerts::alert::{Alert, AlertKind, BODY_MAX};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};
use crate::text::{shell_word, truncate};

/// A user's email address, read by the parser that later addresses the mail.
pub const EMAIL: Contact = Contact {
    key: "email",
    check: |value| match mailbox(value) {
        Ok(_) => Verdict::Usable,
        Err(why) => Verdict::Unusable(why),
    },
};

/// `value` as lettre reads an address (`a@b.example` or `Name <a@b.example>`), or why not.
fn mailbox(value: &str) -> Result<Mailbox, String> {
    value.parse::<Mailbox>().map_err(|e| {
        let hint = if value.contains(',') && value.contains('<') {
            ": quote a display name with a comma, like '\"Doe, John\" <john@example.com>'"
        } else {
            ""
        };
        format!("'{value}' is not an email address ({e}){hint}")
    })
}

#[derive(Debug, Clone)]
pub struct Email {
    pub from: String,
    pub servers: Vec<SmtpServer>,
}

#[derive(Debug, Clone)]
pub struct SmtpServer {
    /// `smtp://host:port` (plain; `?tls=required` for STARTTLS) or `smtps://host:port`.
    pub url: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub verify_tls: bool,
    /// CA certificates (PEM) to trust for this server instead of the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl ChannelType for Email {
    const NAME: &'static str = "email";
    const KEYS: &'static [&'static str] = &["from", "servers"];
    const REACH: Reach = Reach::EachUser(EMAIL);
    const FIX: &'static str = "servers, and the users' email addresses";

    fn read(r: &mut Reader, f: &Fields) -> Option<Email> {
        let from = r.required_string(f, "from");
        if let (Some(value), Some(node)) = (&from, f.get("from"))
            && let Err(why) = mailbox(value)
        {
            r.error(node.mark, &f.path("from"), why);
        }
        let servers = r
            .require(f, "servers")
            .map(|n| read_servers(r, n, &f.path("servers")))
            .unwrap_or_default();
        let from = from?;
        // A missing list is already reported, and a list of broken entries reports each one.
        if let Some(n) = f.get("servers")
            && matches!(&n.value, crate::config::yaml::Value::Seq(items) if items.is_empty())
        {
            r.error(
                n.mark,
                &f.path("servers"),
                "an email channel needs at least one server",
            );
        }
        Some(Email { from, servers })
    }

    fn send(&self, alert: &Alert, to: &str, timeout: Duration) -> Vec<Attempt> {
        until_accepted(&self.servers, |server| {
            let name = server_name(&server.url);
            match try_send(server, &self.from, to, alert, timeout) {
                Ok(answer) => Attempt::new(&name, true, answer),
                Err(why) => Attempt::new(&name, false, why),
            }
        })
    }
}

fn read_servers(r: &mut Reader, node: &crate::config::yaml::Node, path: &str) -> Vec<SmtpServer> {
    let mut out = Vec::new();
    for (i, item) in r.seq(node, path).iter().enumerate() {
        let ipath = format!("{path}[{i}]");
        let Some(f) = r.fields(
            item,
            &ipath,
            &[
                "url",
                "username",
                "password",
                "password_env",
                "password_file",
                "verify_tls",
                "ca_file",
            ],
        ) else {
            continue;
        };
        let url = r.required_url(&f, "url", &["smtp", "smtps"]);
        let username = r.opt_string(&f, "username");
        if let (Some(url), Some(_), Some(node)) = (&url, &username, f.get("username"))
            && !encrypted(url)
        {
            r.warn(
                node.mark,
                &f.path("username"),
                "this server is reached without TLS, so the password would cross the network \
                 in clear text: use smtps:// or ?tls=required",
            );
        }
        let password = r.secret(&f, "password");
        let verify_tls = r.bool(&f, "verify_tls", true);
        let ca_pem = r.ca_file(&f);
        if let Some(url) = url {
            out.push(SmtpServer {
                url,
                username,
                password,
                verify_tls,
                ca_pem,
            });
        }
    }
    out
}

/// Whether what is sent to `url` is encrypted or stays on this machine: implicit TLS,
/// required STARTTLS, or a loopback server. Opportunistic STARTTLS can be stripped.
fn encrypted(url: &str) -> bool {
    let Ok(uri) = url.parse::<ureq::http::Uri>() else {
        return false;
    };
    let host = uri.host().unwrap_or("").trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    uri.scheme_str() == Some("smtps") || tls_mode(&uri) == "required" || loopback
}

/// The `tls=` of a server url's query: `none` (the default), `opportunistic`, `required`.
fn tls_mode(uri: &ureq::http::Uri) -> &str {
    uri.query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("tls=")))
        .unwrap_or("none")
}

/// The plain-text body of an email.
pub fn body(alert: &Alert) -> String {
    let mut out = String::new();
    match alert.kind {
        AlertKind::Recovery => out.push_str(&format!(
            "Service {} is back to normal (was {}).\n",
            alert.service, alert.previous_status
        )),
        AlertKind::Ack => out.push_str(&format!("{}\n", alert.text())),
        AlertKind::Test => out
            .push_str("This is a test alert from cabot: if you can read it, this channel works.\n"),
        AlertKind::Alert | AlertKind::Repeat => out.push_str(&format!(
            "Service {} is {} (previous status: {}).\n",
            alert.service, alert.status, alert.previous_status
        )),
    }
    if !alert.checks.is_empty() {
        out.push_str("\nFailing checks:\n");
        for (name, importance, message) in alert.check_lines() {
            out.push_str(&format!("  - {name} [{importance}]: {message}\n"));
        }
    }
    out.push('\n');
    if let Some(url) = &alert.url {
        out.push_str(&format!("Service: {url}\n"));
    }
    if let Some(runbook) = &alert.runbook {
        out.push_str(&format!("Runbook: {runbook}\n"));
    }
    out.push_str(&format!("When: {}\n", crate::clock::format_time(alert.time)));
    if matches!(alert.kind, AlertKind::Alert | AlertKind::Repeat) {
        out.push_str(&format!(
            "\nTo acknowledge: cabot ack {}\n",
            shell_word(&alert.service)
        ));
        if let Some(url) = &alert.ack_url {
            out.push_str(&format!("or open {url}\n"));
        }
    }
    truncate(&out, BODY_MAX)
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
    alert: &Alert,
    timeout: Duration,
) -> Result<String, String> {
    let uri: ureq::http::Uri = server
        .url
        .parse()
        .map_err(|e| format!("bad server url: {e}"))?;
    // An IPv6 literal comes bracketed (`smtp://[::1]:25`); the socket wants it bare.
    let host = uri
        .host()
        .ok_or("the server url has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let scheme = uri.scheme_str().unwrap_or("smtp");
    let port = uri.port_u16().unwrap_or(default_port(Some(scheme)));
    let tls_mode = tls_mode(&uri);
    let mut params = TlsParameters::builder(host.clone());
    if let Some(pem) = &server.ca_pem {
        // ca_file replaces the public roots: an internal CA is the only one trusted.
        let cert = Certificate::from_pem(pem).map_err(|e| format!("ca_file: {e}"))?;
        params = params
            .certificate_store(CertificateStore::None)
            .add_root_certificate(cert);
    }
    if !server.verify_tls {
        // No verification means neither the chain nor the name: a stock Postfix has a
        // self-signed certificate for its own host name, not for the address dialled.
        params = params
            .dangerous_accept_invalid_certs(true)
            .dangerous_accept_invalid_hostnames(true);
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
    let message = Message::builder()
        .from(
            from.parse::<Mailbox>()
                .map_err(|e| format!("from '{from}': {e}"))?,
        )
        .to(to
            .parse::<Mailbox>()
            .map_err(|e| format!("to '{to}': {e}"))?)
        .subject(alert.subject())
        .message_id(None)
        // lettre adds MIME-Version only for multipart bodies; without it a reader may
        // show a quoted-printable body raw.
        .header(header::MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN)
        .body(body(alert))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::alert::tests::hostile;

    #[test]
    fn the_body_says_what_to_do_and_stays_bounded() {
        let body = body(&hostile());
        assert!(body.contains("Service web is CRITICAL (previous status: PASSING)"));
        assert!(body.contains("home [critical]:"));
        assert!(body.contains("Runbook: https://wiki.example.com/web"));
        assert!(body.contains("When: 2026-11-24T10:02:11Z"));
        assert!(body.contains("cabot ack web"));
        assert!(body.len() <= BODY_MAX);
    }
}
