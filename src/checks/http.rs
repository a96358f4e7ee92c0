//! `http`: a request whose status, body and response time are what the check expects.

use std::io::Read;
use std::time::{Duration, Instant};

use ureq::http::{self, Request};
use ureq::tls::TlsConfig;
use ureq::{Agent, Timeout};

use super::Outcome;
use crate::config::{HttpCheck, StatusMatch};

const MAX_REDIRECTS: u32 = 10;

pub struct Client {
    agent: Agent,
    verify: TlsConfig,
    no_verify: TlsConfig,
}

impl Client {
    pub fn new() -> Client {
        // No pooling: every check opens its own connection, as a visitor would, so a
        // broken listener cannot hide behind a connection kept from an earlier check.
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            // ureq's 128 KiB buffers each way cost 25 MB at --jobs 100; a check's request is
            // small and its headers are bounded, so these are plenty.
            .max_response_header_size(32 * 1024)
            .input_buffer_size(40 * 1024)
            .output_buffer_size(16 * 1024)
            .user_agent(concat!("cabot/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            verify: TlsConfig::builder().build(),
            no_verify: TlsConfig::builder().disable_verification(true).build(),
        }
    }

    pub fn run(&self, check: &HttpCheck, timeout: Duration) -> Outcome {
        let started = Instant::now();
        let request = match self.build(check, timeout) {
            Ok(r) => r,
            Err(e) => return Outcome::fail(e, started.elapsed()),
        };
        let mut response = match self.agent.run(request) {
            Ok(r) => r,
            Err(e) => return Outcome::fail(describe(&e, check, timeout), started.elapsed()),
        };
        let code = response.status().as_u16();
        if !check.expect_status.iter().any(|m| m.matches(code)) {
            return Outcome::fail(
                format!("HTTP {code} (expected {})", expected(&check.expect_status)),
                started.elapsed(),
            );
        }
        if let Some(re) = &check.text_match {
            // Read at most max_body + 1 bytes: enough to search and to know it was cut.
            let mut body = Vec::new();
            let reader = response.body_mut().as_reader();
            if let Err(e) = reader.take(check.max_body + 1).read_to_end(&mut body) {
                return Outcome::fail(
                    format!(
                        "HTTP {code}, reading the body failed: {}",
                        describe_io(&e, timeout)
                    ),
                    started.elapsed(),
                );
            }
            let cut = body.len() as u64 > check.max_body;
            body.truncate(check.max_body as usize);
            let text = String::from_utf8_lossy(&body);
            if !re.is_match(&text) {
                let whole = if cut {
                    format!(
                        " in the first {} bytes of the body (max_body)",
                        check.max_body
                    )
                } else {
                    " in the body".to_string()
                };
                return Outcome::fail(
                    format!("HTTP {code}, text_match /{}/ not found{whole}", re.as_str()),
                    started.elapsed(),
                );
            }
        }
        let took = started.elapsed();
        if let Some(max) = check.max_response_time
            && took > max
        {
            return Outcome::fail(
                format!(
                    "HTTP {code} in {} ms, slower than max_response_time {}",
                    took.as_millis(),
                    humantime::format_duration(max)
                ),
                took,
            );
        }
        Outcome::pass(format!("HTTP {code} in {} ms", took.as_millis()), took)
    }

    /// The status and (at most `max_body` bytes of) the body, or what went wrong.
    pub fn fetch(&self, check: &HttpCheck, timeout: Duration) -> Result<(u16, String), String> {
        let request = self.build(check, timeout)?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| describe(&e, check, timeout))?;
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(check.max_body)
            .read_to_end(&mut body)
            .map_err(|e| describe_io(&e, timeout))?;
        Ok((
            response.status().as_u16(),
            String::from_utf8_lossy(&body).into_owned(),
        ))
    }

    fn build(&self, check: &HttpCheck, timeout: Duration) -> Result<Request<Vec<u8>>, String> {
        let mut builder = Request::builder()
            .method(check.method.as_str())
            .uri(&check.url);
        for (name, value) in &check.headers {
            builder = builder.header(name, value);
        }
        if let Some(user) = &check.username {
            let password = match &check.password {
                Some(secret) => secret.resolve().map_err(|e| format!("password: {e}"))?,
                None => String::new(),
            };
            builder = builder.header(
                http::header::AUTHORIZATION,
                crate::http_client::basic_auth(user, &password),
            );
        }
        let body = check.body.clone().unwrap_or_default().into_bytes();
        let request = builder
            .body(body)
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let tls = match (&check.ca_pem, check.verify_tls) {
            (_, false) => self.no_verify.clone(),
            (None, true) => self.verify.clone(),
            (Some(pem), true) => {
                let certs: Vec<_> = ureq::tls::parse_pem(pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                    .build()
            }
        };
        Ok(self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .max_redirects(if check.follow_redirects {
                MAX_REDIRECTS
            } else {
                0
            })
            .max_redirects_will_error(check.follow_redirects)
            .tls_config(tls)
            .allow_non_standard_methods(true)
            .build())
    }
}

fn expected(matches: &[StatusMatch]) -> String {
    matches
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn describe(e: &ureq::Error, check: &HttpCheck, timeout: Duration) -> String {
    let host = check
        .url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_default();
    match e {
        ureq::Error::Timeout(which) => format!(
            "timed out after {} ({})",
            humantime::format_duration(timeout),
            timeout_phase(*which)
        ),
        ureq::Error::HostNotFound => format!("unknown host {host}"),
        // The standard library's words for a failed getaddrinfo.
        ureq::Error::Io(io) if io.to_string().starts_with("failed to lookup address") => {
            format!("unknown host {host}: {io}")
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            let port = check.url.parse::<http::Uri>().ok().and_then(|u| {
                u.port_u16().or(Some(if u.scheme_str() == Some("https") {
                    443
                } else {
                    80
                }))
            });
            format!(
                "cannot connect to {host}:{}: connection refused",
                port.unwrap_or(80)
            )
        }
        ureq::Error::Io(io) => describe_io(io, timeout),
        ureq::Error::TooManyRedirects => format!("too many redirects (more than {MAX_REDIRECTS})"),
        ureq::Error::Rustls(tls) => format!("TLS error: {tls}"),
        ureq::Error::Tls(tls) => format!("TLS error: {tls}"),
        other => other.to_string(),
    }
}

fn timeout_phase(t: Timeout) -> &'static str {
    match t {
        Timeout::Resolve => "resolving the host",
        Timeout::Connect => "connecting",
        Timeout::SendRequest | Timeout::SendBody | Timeout::Await100 => "sending the request",
        Timeout::RecvResponse => "waiting for the response",
        Timeout::RecvBody => "reading the body",
        _ => "overall",
    }
}

fn describe_io(e: &std::io::Error, timeout: Duration) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset by the server".into(),
        TimedOut | WouldBlock => format!("timed out after {}", humantime::format_duration(timeout)),
        UnexpectedEof => "the server closed the connection early".into(),
        _ => {
            let inner = e.get_ref();
            if let Some(tls) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return format!("TLS error: {tls}");
            }
            // ureq wraps its own errors (timeouts among them) in io::Error while reading bodies.
            if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
                if let ureq::Error::Timeout(which) = inner {
                    return format!(
                        "timed out after {} ({})",
                        humantime::format_duration(timeout),
                        timeout_phase(*which)
                    );
                }
                return inner.to_string();
            }
            e.to_string()
        }
    }
}
