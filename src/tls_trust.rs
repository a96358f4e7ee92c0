//! Which server certificates a check trusts, shared by `tls` and `http` checks: the public
//! roots, or the certificates in a check's `ca_file`, and in words a person can act on when
//! a certificate is refused.
//!
//! A certificate in `ca_file` that the server presents as its own is pinned: trusted as
//! itself, by its exact bytes, within its dates. `openssl req -x509` makes a self-signed
//! certificate marked as a CA with its name only in the subject, which webpki refuses as a
//! server's certificate (`CaUsedAsEndEntity`) and whose name it cannot match (no
//! subjectAltName). Pinned, the certificate itself is the server's identity, as a host key
//! is to ssh: the server's signature over the handshake proves it holds the key.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};

/// Verifies against the roots, and accepts a certificate pinned in `ca_file` as itself.
#[derive(Debug)]
pub struct Trust {
    roots: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl Trust {
    /// Trusts `pinned` (a check's `ca_file`), or the public roots when there is none.
    pub fn new(
        pinned: Option<Vec<CertificateDer<'static>>>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Trust, String> {
        let mut store = rustls::RootCertStore::empty();
        let pinned = match pinned {
            Some(pinned) => {
                for der in &pinned {
                    // A certificate webpki cannot use as a root may still be pinned.
                    let _ = store.add(der.clone());
                }
                pinned
            }
            None => {
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                Vec::new()
            }
        };
        if store.is_empty() && pinned.is_empty() {
            return Err("ca_file holds no certificate".into());
        }
        let roots = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
            .build()
            .map_err(|e| format!("cannot set up TLS verification: {e}"))?;
        Ok(Trust { roots, pinned })
    }

    /// A rustls client configuration that verifies with this trust.
    pub fn client_config(
        self: Arc<Self>,
        provider: Arc<CryptoProvider>,
    ) -> Result<rustls::ClientConfig, String> {
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(self)
            .with_no_client_auth())
    }
}

impl ServerCertVerifier for Trust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let refused =
            match self
                .roots
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            {
                Ok(verified) => return Ok(verified),
                Err(e) => e,
            };
        if !self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Err(refused);
        }
        match crate::checks::tls::validity(end_entity) {
            Some((not_before, _)) if (now.as_secs() as i64) < not_before => {
                Err(Error::InvalidCertificate(CertificateError::NotValidYet))
            }
            Some((_, not_after)) if (now.as_secs() as i64) > not_after => {
                Err(Error::InvalidCertificate(CertificateError::Expired))
            }
            Some(_) => Ok(ServerCertVerified::assertion()),
            None => Err(Error::InvalidCertificate(CertificateError::BadEncoding)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.roots.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.roots.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.roots.supported_verify_schemes()
    }
}

/// The certificates in a PEM file (`ca_file`), DER-encoded.
pub fn certificates(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(CertificateDer::from(c.der().to_vec())),
            _ => None,
        })
        .collect()
}

/// What a refused handshake means, in a sentence that says what to do about it.
pub fn describe(e: &Error, host: &str) -> String {
    match e {
        Error::InvalidCertificate(c) => describe_certificate(c, host),
        Error::AlertReceived(alert) => {
            format!("the server ended the TLS handshake ({alert:?})")
        }
        Error::NoCertificatesPresented => "the server sent no certificate".into(),
        Error::PeerIncompatible(why) => {
            format!("the server and cabot share no TLS version or cipher ({why:?})")
        }
        Error::InvalidMessage(_) | Error::PeerMisbehaved(_) => {
            format!("the server does not speak TLS correctly ({e})")
        }
        other => other.to_string(),
    }
}

fn describe_certificate(e: &CertificateError, host: &str) -> String {
    match e {
        CertificateError::UnknownIssuer => "the certificate is not signed by a trusted \
            authority (a self-signed or internal certificate: name it in ca_file, or set \
            verify_tls: false)"
            .into(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "the certificate has expired".into()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "the certificate is not valid yet (is this machine's clock right?)".into()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("the certificate is not for {host}")
        }
        CertificateError::Revoked => "the certificate has been revoked".into(),
        CertificateError::BadSignature => "the certificate's signature is not valid".into(),
        CertificateError::BadEncoding => "the certificate cannot be read".into(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "the certificate is not one for a server".into()
        }
        CertificateError::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
            "the server's certificate is a CA certificate (CA:TRUE, as plain `openssl req \
             -x509` makes): name this very certificate in ca_file to trust it, or set \
             verify_tls: false"
                .into()
        }
        other => format!("the certificate is refused ({other:?})"),
    }
}
