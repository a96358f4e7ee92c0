//! `tls`: a server's certificate verifies for its host and does not expire within
//! `warn_within`. The message gives the expiry date and the days left.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::{CheckResult, CheckType, Context};
use crate::clock::format_time;
use crate::config::Check;
use crate::config::read::{self, Fields, Reader};

/// A TLS certificate: valid for the host, and not expiring within `warn_within`.
#[derive(Debug, Clone)]
pub struct TlsCheck {
    pub host: String,
    pub port: u16,
    pub warn_within: Duration,
    /// CA certificates (PEM) to trust instead of the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl CheckType for TlsCheck {
    const NAME: &'static str = "tls";
    const KEYS: &'static [&'static str] = &["host", "port", "warn_within", "ca_file"];

    fn read(r: &mut Reader, f: &Fields) -> Option<TlsCheck> {
        let (host, port, _) = r.host_and_port(f, Some(443))?;
        let warn_within =
            r.opt_duration(f, "warn_within", Duration::from_secs(14 * 86_400), read::YEAR);
        let ca_pem = r.ca_file(f);
        Some(TlsCheck {
            host,
            port,
            warn_within,
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
    let mut roots = rustls::RootCertStore::empty();
    match &check.ca_pem {
        Some(pem) => {
            for item in ureq::tls::parse_pem(pem).flatten() {
                if let ureq::tls::PemItem::Certificate(c) = item {
                    let _ = roots.add(CertificateDer::from(c.der().to_vec()));
                }
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let inner =
        match WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
        {
            Ok(v) => v,
            Err(e) => return fail(format!("cannot set up TLS verification: {e}")),
        };
    let verifier = Arc::new(Recorder {
        inner,
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
            Err(e) => format!("TLS handshake with {target} failed: {e}"),
            Ok(()) => format!("{target} sent no certificate"),
        });
    };
    let took = started.elapsed();
    let Some(not_after) = not_after(&der) else {
        return CheckResult::fail("cannot read the certificate's expiry date", took);
    };
    let days_left = (not_after - now).div_euclid(86_400);
    let expiry = format_time(not_after);
    if let Err(e) = verified {
        let e = e.to_string();
        if not_after <= now {
            return CheckResult::fail(
                format!("certificate expired on {expiry} ({} days ago)", -days_left),
                took,
            );
        }
        return CheckResult::fail(
            format!(
                "certificate does not verify for {}: {e} (expires {expiry}, {days_left} days left)",
                check.host
            ),
            took,
        );
    }
    if not_after <= now {
        return CheckResult::fail(format!("certificate expired on {expiry}"), took);
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
    inner: Arc<WebPkiServerVerifier>,
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
            .inner
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
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// One DER element: (tag, contents, the rest after it).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The certificate's notAfter, as Unix seconds.
pub fn not_after(cert: &[u8]) -> Option<i64> {
    let (_, certificate, _) = der(cert)?;
    let (_, mut tbs, _) = der(certificate)?;
    // [0] version is optional
    if tbs.first() == Some(&0xa0) {
        tbs = der(tbs)?.2;
    }
    let (_, _, rest) = der(tbs)?; // serialNumber
    let (_, _, rest) = der(rest)?; // signature
    let (_, _, rest) = der(rest)?; // issuer
    let (_, validity, _) = der(rest)?;
    let (_, _, rest) = der(validity)?; // notBefore
    let (tag, time, _) = der(rest)?;
    parse_time(tag, std::str::from_utf8(time).ok()?)
}

/// UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ).
fn parse_time(tag: u8, s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = s.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let n = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
    let (month, day, hour, min, sec) = (n(0)?, n(2)?, n(4)?, n(6)?, n(8)?);
    let date = jiff::civil::Date::new(year as i16, month as i8, day as i8).ok()?;
    let days = date
        .to_datetime(jiff::civil::Time::midnight())
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()?
        .timestamp()
        .as_second();
    Some(days + hour * 3600 + min * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time(0x17, "200101000000Z"), Some(1_577_836_800));
        assert_eq!(parse_time(0x18, "20500101000000Z"), Some(2_524_608_000));
        assert_eq!(parse_time(0x17, "990101000000Z"), Some(915_148_800));
        assert_eq!(parse_time(0x17, "garbage"), None);
    }
}
