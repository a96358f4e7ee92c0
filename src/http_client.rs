//! What every outgoing HTTP request shares, from checks and alert providers alike: the
//! check's client (one connection per check, bounded buffers, its own TLS roots) and the
//! small encoders both need.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::net::{IpAddr, SocketAddr};

use rustls::pki_types::{CertificateDer, ServerName};
use ureq::config::Config as AgentConfig;
use ureq::http::{self, Uri};
use ureq::tls::{RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, DefaultConnector, Either,
    LazyBuffers, NextTimeout, TcpConnector, Transport, TransportAdapter,
};
use ureq::{Agent, Timeout};

use crate::config::Secret;
use crate::tls_trust::{self, Trust};

const MAX_REDIRECTS: u32 = 10;
/// A plain GET reads at most this much of a body.
const DEFAULT_MAX_BODY: u64 = 1024 * 1024;

/// One request a check makes, and how far it goes.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub verify_tls: bool,
    pub follow_redirects: bool,
    /// At most this many bytes of the body are read.
    pub max_body: u64,
    /// CA certificates (PEM) trusted instead of the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl Request {
    /// A plain GET of `url`, for checks that speak to an API.
    pub fn get(url: String) -> Request {
        Request {
            url,
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            username: None,
            password: None,
            verify_tls: true,
            follow_redirects: true,
            max_body: DEFAULT_MAX_BODY,
            ca_pem: None,
        }
    }
}

/// A response whose body is still to be read.
pub type Response = http::Response<ureq::Body>;

pub struct Client {
    agent: Agent,
    verify: TlsConfig,
    no_verify: TlsConfig,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    pub fn new() -> Client {
        // No pooling: every check opens its own connection, as a visitor would, so a
        // broken listener cannot hide behind a connection kept from an earlier check.
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            // ureq's 128 KiB buffers each way (zeroed, so resident) cost 25 MB at --jobs
            // 100 and 250 MB at --jobs 1000. The input buffer must hold the answer's head:
            // 8 KiB is what nginx passes on from an upstream by default, so a bigger head
            // is rare and fails the check with its size. A check's request is small.
            .max_response_header_size(8 * 1024)
            .input_buffer_size(9 * 1024)
            .output_buffer_size(4 * 1024)
            .user_agent(concat!("cabot/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = Agent::with_parts(config, Connect::default(), LiteralResolver::default());
        Client {
            agent,
            verify: TlsConfig::builder().build(),
            no_verify: TlsConfig::builder().disable_verification(true).build(),
        }
    }

    /// Sends `request` and returns the response with its body unread, or what went wrong.
    pub fn send(&self, request: &Request, timeout: Duration) -> Result<Response, String> {
        let built = self.build(request, timeout)?;
        self.agent
            .run(built)
            .map_err(|e| describe(&e, &request.url, timeout))
    }

    /// Reads at most `max` bytes of a body; `true` when there was more.
    pub fn read_body(
        response: &mut Response,
        max: u64,
        timeout: Duration,
    ) -> Result<(Vec<u8>, bool), String> {
        // Read at most max + 1 bytes: enough to know the body was cut.
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(max + 1)
            .read_to_end(&mut body)
            .map_err(|e| describe_io(&e, "the server", timeout))?;
        let cut = body.len() as u64 > max;
        body.truncate(max as usize);
        Ok((body, cut))
    }

    /// The status and (at most `max_body` bytes of) the body, or what went wrong.
    pub fn fetch(&self, request: &Request, timeout: Duration) -> Result<(u16, String), String> {
        let mut response = self.send(request, timeout)?;
        let (body, _) = Client::read_body(&mut response, request.max_body, timeout)?;
        Ok((
            response.status().as_u16(),
            String::from_utf8_lossy(&body).into_owned(),
        ))
    }

    fn build(&self, r: &Request, timeout: Duration) -> Result<http::Request<Vec<u8>>, String> {
        let mut builder = http::Request::builder()
            .method(r.method.as_str())
            .uri(&r.url);
        for (name, value) in &r.headers {
            builder = builder.header(name, value);
        }
        if let Some(user) = &r.username {
            let password = match &r.password {
                Some(secret) => secret.resolve().map_err(|e| format!("password: {e}"))?,
                None => String::new(),
            };
            builder = builder.header(http::header::AUTHORIZATION, basic_auth(user, &password));
        }
        let body = r.body.clone().unwrap_or_default().into_bytes();
        let request = builder
            .body(body)
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let tls = match (&r.ca_pem, r.verify_tls) {
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
            .max_redirects(if r.follow_redirects { MAX_REDIRECTS } else { 0 })
            .max_redirects_will_error(r.follow_redirects)
            .tls_config(tls)
            .allow_non_standard_methods(true)
            .build())
    }
}

/// Opens plain `http` connections with ureq's TCP connector alone, `https` to a check's
/// own `ca_file` through [`PinnedTls`], and the rest (TLS, proxies) through ureq's whole
/// chain. The chain's frames take 12 KiB of each worker's stack even for plain HTTP: 12 MB
/// at `--jobs 1000`.
#[derive(Debug)]
struct Connect {
    plain: TcpConnector,
    pinned: Box<dyn Connector<(), Out = Box<dyn Transport>>>,
    any: DefaultConnector,
}

impl Default for Connect {
    fn default() -> Self {
        let pinned =
            ().chain(ConnectProxyConnector::default())
                .chain(TcpConnector::default())
                .chain(PinnedTls)
                .chain(Boxed);
        Connect {
            plain: TcpConnector::default(),
            pinned: Box::new(pinned),
            any: DefaultConnector::default(),
        }
    }
}

impl Connector for Connect {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Box<dyn Transport>>, ureq::Error> {
        if details.uri.scheme_str() == Some("http") && details.config.proxy().is_none() {
            let tcp = Connector::<()>::connect(&self.plain, details, None)?;
            return Ok(tcp.map(|t| Box::new(t) as Box<dyn Transport>));
        }
        let tls = details.config.tls_config();
        if !tls.disable_verification() && matches!(tls.root_certs(), RootCerts::Specific(_)) {
            return self.pinned.connect(details, chained);
        }
        self.any.connect(details, chained)
    }
}

/// TLS for a request that trusts its own `ca_file`, verified by [`Trust`], which ureq's
/// rustls connector has no place for: a certificate in `ca_file` is trusted as itself.
/// The rest is ureq's: its transport adapter carries the timeouts.
#[derive(Debug)]
struct PinnedTls;

impl<In: Transport> Connector<In> for PinnedTls {
    type Out = Either<In, PinnedTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let RootCerts::Specific(certs) = details.config.tls_config().root_certs() else {
            return Ok(Some(Either::A(transport)));
        };
        let pinned = certs
            .iter()
            .map(|c| CertificateDer::from(c.der().to_vec()))
            .collect();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Trust::new(Some(pinned), Arc::clone(&provider))
            .and_then(|trust| Arc::new(trust).client_config(provider))
            .map_err(|e| ureq::Error::Io(std::io::Error::other(e)))?;
        let host = details
            .uri
            .host()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_string();
        let name =
            ServerName::try_from(host).map_err(|_| ureq::Error::Tls("not a host name for TLS"))?;
        let mut conn = rustls::ClientConnection::new(Arc::new(config), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(PinnedTransport {
            buffers,
            stream: rustls::StreamOwned { conn, sock },
        })))
    }
}

struct PinnedTransport {
    buffers: LazyBuffers,
    stream: rustls::StreamOwned<rustls::ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for PinnedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinnedTransport").finish_non_exhaustive()
    }
}

impl Transport for PinnedTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// Ends a chain in the boxed transport the agent takes.
#[derive(Debug)]
struct Boxed;

impl<In: Transport> Connector<In> for Boxed {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Box<dyn Transport>>, ureq::Error> {
        Ok(chained.map(|t| Box::new(t) as Box<dyn Transport>))
    }
}

/// Resolves an IP literal on the spot; a name as ureq does, on a thread that the timeout
/// bounds. (ureq starts that thread for every request with a timeout, literals too.)
#[derive(Debug, Default)]
struct LiteralResolver(DefaultResolver);

impl Resolver for LiteralResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &AgentConfig,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let literal = uri.authority().and_then(|authority| {
            let ip: IpAddr = authority.host().trim_matches(['[', ']']).parse().ok()?;
            let port = authority.port_u16().or(match uri.scheme_str() {
                Some("https") => Some(443),
                Some("http") => Some(80),
                _ => None,
            })?;
            Some(SocketAddr::new(ip, port))
        });
        match literal {
            Some(addr) => {
                let mut addrs = self.0.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.0.resolve(uri, config, timeout),
        }
    }
}

/// What went wrong with a request, in words that name the host and the phase.
fn describe(e: &ureq::Error, url: &str, timeout: Duration) -> String {
    let uri = url.parse::<Uri>().ok();
    let host = uri
        .as_ref()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_default();
    match e {
        ureq::Error::Timeout(which) => format!(
            "timed out after {} ({})",
            crate::text::duration(timeout),
            timeout_phase(*which)
        ),
        ureq::Error::HostNotFound => format!("unknown host {host}"),
        // The standard library's words for a failed getaddrinfo.
        ureq::Error::Io(io) if io.to_string().starts_with("failed to lookup address") => {
            format!("unknown host {host}: {io}")
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            let port = uri.as_ref().and_then(|u| {
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
        ureq::Error::Io(io) => describe_io(io, &host, timeout),
        ureq::Error::TooManyRedirects => format!("too many redirects (more than {MAX_REDIRECTS})"),
        ureq::Error::Rustls(tls) => format!("TLS error: {}", tls_trust::describe(tls, &host)),
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

fn describe_io(e: &std::io::Error, host: &str, timeout: Duration) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset by the server".into(),
        TimedOut | WouldBlock => format!("timed out after {}", crate::text::duration(timeout)),
        UnexpectedEof => "the server closed the connection early".into(),
        _ => {
            let inner = e.get_ref();
            if let Some(tls) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return format!("TLS error: {}", tls_trust::describe(tls, host));
            }
            // ureq wraps its own errors (timeouts among them) in io::Error while reading bodies.
            if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
                if let ureq::Error::Timeout(which) = inner {
                    return format!(
                        "timed out after {} ({})",
                        crate::text::duration(timeout),
                        timeout_phase(*which)
                    );
                }
                return inner.to_string();
            }
            e.to_string()
        }
    }
}

/// All but RFC 3986's unreserved characters, for a path segment or a query value.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` percent-encoded for a path segment or a query value.
pub fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// An `Authorization` header value for HTTP basic auth (RFC 7617).
pub fn basic_auth(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn components_keep_only_unreserved_characters() {
        assert_eq!(super::encode_component("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(
            super::encode_component("folder/my job?x=1&y"),
            "folder%2Fmy%20job%3Fx%3D1%26y"
        );
        assert_eq!(super::encode_component("é"), "%C3%A9");
    }

    #[test]
    fn basic_auth_is_rfc_7617s_example() {
        assert_eq!(
            super::basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
