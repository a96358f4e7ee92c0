//! Certificates made by the test (a CA, leaves valid or not), and TLS servers on 127.0.0.1
//! that present them.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, date_time_ymd};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::RawServer;

pub struct Ca {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

pub fn ca() -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("ca cert");
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A leaf certificate and its key, in DER and PEM.
pub struct Leaf {
    pub der: Vec<u8>,
    pub key_der: Vec<u8>,
    pub pem: String,
    pub key_pem: String,
}

/// A leaf for `names`, signed by `ca` (self-signed without one), valid between the two
/// Unix times when given, else rcgen's default (1975 to 4096).
pub fn leaf(names: &[&str], ca: Option<&Ca>, valid: Option<(i64, i64)>) -> Leaf {
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
    if let Some((from, until)) = valid {
        let at = |secs: i64| date_time_ymd(1970, 1, 1) + Duration::from_secs(secs.max(0) as u64);
        params.not_before = at(from);
        params.not_after = at(until);
    }
    let key = KeyPair::generate().expect("key");
    let cert = match ca {
        Some(ca) => params.signed_by(&key, &ca.issuer).expect("sign"),
        None => params.self_signed(&key).expect("self-sign"),
    };
    Leaf {
        der: cert.der().to_vec(),
        key_der: key.serialize_der(),
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// An HTTPS server on 127.0.0.1 presenting `leaf`: it answers a request with 200 "secure",
/// and a client that only shakes hands (a `tls` check) with nothing.
pub fn https_server(leaf: &Leaf) -> RawServer {
    https_serving(leaf, |_| (200, b"secure".to_vec()))
}

/// An HTTPS server on 127.0.0.1 presenting `leaf` that answers each request (given its
/// head) with the status and body `answer` gives.
pub fn https_serving(
    leaf: &Leaf,
    answer: impl Fn(&str) -> (u16, Vec<u8>) + Send + Sync + 'static,
) -> RawServer {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der.clone())),
        )
        .expect("server config");
    let config = Arc::new(config);
    RawServer::start(move |tcp| {
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
        let Ok(conn) = rustls::ServerConnection::new(Arc::clone(&config)) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match std::io::Read::read(&mut tls, &mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let (status, body) = answer(&String::from_utf8_lossy(&head));
        let _ = write!(
            tls,
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = tls.write_all(&body);
        let _ = tls.flush();
        tls.conn.send_close_notify();
        let _ = tls.flush();
    })
}

/// A certificate made as a user makes one for an internal server, with plain
/// `openssl req -x509`: self-signed, marked as a CA (CA:TRUE), its name only in the subject
/// (`/CN=cn`, no subjectAltName), valid for `days` days from now.
pub fn openssl_self_signed(cn: &str, days: u32) -> Leaf {
    use rustls::pki_types::pem::PemObject;
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", &days.to_string(), "-subj", &format!("/CN={cn}")])
        .output()
        .expect("openssl (CI installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = std::fs::read_to_string(&cert).expect("cert.pem");
    let key_pem = std::fs::read_to_string(&key).expect("key.pem");
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("a certificate");
    let key_der = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes()).expect("a PKCS#8 key");
    Leaf {
        der: der.to_vec(),
        key_der: key_der.secret_pkcs8_der().to_vec(),
        pem,
        key_pem,
    }
}
