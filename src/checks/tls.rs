//! `tls`: a server's certificate verifies for its host and does not expire within
//! `warn_within`. The message gives the expiry date and the days left.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::{CheckResult, CheckType, Context};
use crate::clock::format_time;
use crate::config::Check;
use crate::config::read::{self, Fields, Reader};
use crate::tls_trust::{self, Trust};

/// A TLS certificate: valid for the host, and not expiring within `warn_within`.
#[derive(Debug, Clone)]
pub struct TlsCheck {
    pub host: String,
    pub port: u16,
    pub warn_within: Duration,
    /// Whether the certificate must verify (chain and name), or only its dates count.
    pub verify_tls: bool,
    /// CA certificates (PEM) to trust instead of the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl CheckType for TlsCheck {
    const NAME: &'static str = "tls";
    const KEYS: &'static [&'static str] = &["host", "port", "warn_within", "verify_tls", "ca_file"];

    fn read(r: &mut Reader, f: &Fields) -> Option<TlsCheck> {
        let (host, port, _) = r.host_and_port(f, Some(443))?;
        let warn_within =
            r.opt_duration(f, "warn_within", Duration::from_secs(14 * 86_400), read::YEAR);
        let verify_tls = r.bool(f, "verify_tls", true);
        let ca_pem = r.ca_file(f);
        Some(TlsCheck {
            host,
            port,
            warn_within,
            verify_tls,
            ca_pem,
        })
    }

    fn run(&self, check: &Check, _: Option<i64>, ctx: &Context<'_>) -> CheckResult {
        handshake(self, check.timeout, ctx.now)
    }
}

fn handshake(check: &TlsCheck, timeout: Duration, now: i64) -> CheckResult {
    let started = Instant::now();
    let fail = |why: String| CheckResult::fail(why, started.elapsed());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pinned = check.ca_pem.as_deref().map(tls_trust::certificates);
    let trust = match Trust::new(pinned, Arc::clone(&provider)) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let verifier = Arc::new(Recorder {
        trust,
        seen: Mutex::new(None),
    });
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(Arc::clone(&verifier) as Arc<dyn ServerCertVerifier>)
            .with_no_client_auth(),
        Err(e) => return fail(format!("cannot set up TLS: {e}")),
    };
    let Ok(name) = ServerName::try_from(check.host.clone()) else {
        return fail(format!("'{}' is not a host name", check.host));
    };
    let target = format!("{}:{}", check.host, check.port);
    let addr = match (check.host.as_str(), check.port)
        .to_socket_addrs()
        .map(|mut a| a.next())
    {
        Ok(Some(a)) => a,
        _ => return fail(format!("unknown host {}", check.host)),
    };
    let mut tcp = match TcpStream::connect_timeout(&addr, timeout) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot connect to {target}: {e}")),
    };
    let left = timeout
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    let _ = tcp.set_read_timeout(Some(left));
    let _ = tcp.set_write_timeout(Some(left));
    let Ok(mut conn) = rustls::ClientConnection::new(Arc::new(config), name) else {
        return fail("cannot start the TLS handshake".into());
    };
    let mut stream = rustls::Stream::new(&mut conn, &mut tcp);
    // An empty write drives the handshake to its end.
    let handshake = stream.write(&[]).and_then(|_| stream.flush());
    let seen = verifier.seen.lock().ok().and_then(|mut s| s.take());
    let Some((der, verified)) = seen else {
        return fail(match handshake {
            Err(e) => match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Some(tls) => format!(
                    "TLS handshake with {target} failed: {}",
                    tls_trust::describe(tls, &check.host)
                ),
                None => format!("TLS handshake with {target} failed: {e}"),
            },
            Ok(()) => format!("{target} sent no certificate"),
        });
    };
    let took = started.elapsed();
    let Some((_, not_after)) = validity(&der) else {
        return CheckResult::fail("cannot read the certificate's expiry date", took);
    };
    let days_left = (not_after - now).div_euclid(86_400);
    let expiry = format_time(not_after);
    if not_after <= now {
        return CheckResult::fail(
            format!("certificate expired on {expiry} ({} days ago)", -days_left),
            took,
        );
    }
    if let (true, Err(e)) = (check.verify_tls, verified) {
        return CheckResult::fail(
            format!(
                "certificate does not verify for {}: {} (expires {expiry}, {days_left} days left)",
                check.host,
                tls_trust::describe(&e, &check.host)
            ),
            took,
        );
    }
    if not_after - now < check.warn_within.as_secs() as i64 {
        return CheckResult::fail(
            format!(
                "certificate expires on {expiry}, in {days_left} days (within warn_within {})",
                crate::text::duration(check.warn_within)
            ),
            took,
        );
    }
    CheckResult::pass(
        format!("certificate valid until {expiry} ({days_left} days left)"),
        took,
    )
}

/// Lets the handshake through whatever the verdict, keeping the leaf and the verdict, so
/// that an expired or wrong-host certificate can still be read for its dates.
#[derive(Debug)]
struct Recorder {
    trust: Trust,
    seen: Mutex<Option<Seen>>,
}

/// The leaf certificate (DER) and whether it verified.
type Seen = (Vec<u8>, Result<(), rustls::Error>);

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .trust
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map(|_| ());
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((end_entity.to_vec(), verdict));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.trust.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.trust.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.trust.supported_verify_schemes()
    }
}

/// The certificate's notBefore and notAfter, as Unix seconds.
pub fn validity(cert: &[u8]) -> Option<(i64, i64)> {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(cert).ok()?;
    let validity = cert.tbs_certificate().validity();
    let seconds = |t: x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).ok();
    Some((seconds(validity.not_before)?, seconds(validity.not_after)?))
}

