//! `tls`: certificates made by the test, expiring, expired and for the wrong host.

use std::time::{SystemTime, UNIX_EPOCH};

use super::*;
use crate::support::*;

fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

#[test]
fn tls_certificates_expiry_and_host() {
    // These run on the real clock: the handshake verifies against it, and so does cabot.
    let now = wall_clock();
    let hour = 3600;
    let day = 86_400;
    let ca = certs::ca();
    // a certificate for `names` valid for the 100 days up to `until`
    let leaf = |names: &[&str], until: i64| {
        certs::leaf(names, Some(&ca), Some((until - 100 * day, until)))
    };
    let valid_until = now + 90 * day + hour;
    let soon_until = now + 3 * day + hour;
    let valid = certs::https_server(&leaf(&["127.0.0.1"], valid_until));
    let soon = certs::https_server(&leaf(&["127.0.0.1"], soon_until));
    // An hour past the day, like the others, so that cabot's clock, a second or two on
    // from the test's, still counts the same whole days.
    let expired = certs::https_server(&leaf(&["127.0.0.1"], now - 10 * day + hour));
    let other = certs::https_server(&leaf(&["other.example"], valid_until));
    let env = Env::new(&config(&format!(
        "      - {{ name: valid, type: tls, host: '{valid}', ca_file: ca.pem }}
      - {{ name: split-port, type: tls, host: 127.0.0.1, port: {valid_port}, ca_file: ca.pem }}
      - {{ name: soon, type: tls, host: '{soon}', ca_file: ca.pem }}
      - {{ name: soon-relaxed, type: tls, host: '{soon}', ca_file: ca.pem, warn_within: 1d }}
      - {{ name: expired, type: tls, host: '{expired}', ca_file: ca.pem }}
      - {{ name: wrong-host, type: tls, host: '{other}', ca_file: ca.pem }}
      - {{ name: unknown-ca, type: tls, host: '{valid}' }}
      - {{ name: closed, type: tls, host: '127.0.0.1:{closed}', timeout: 2s }}
",
        valid = valid.addr,
        valid_port = valid.addr.port(),
        soon = soon.addr,
        expired = expired.addr,
        other = other.addr,
        closed = closed_port(),
    )));
    std::fs::write(env.path("ca.pem"), &ca.pem).expect("write ca");
    let status = run_all(&env, None);
    let valid_date = rfc3339(valid_until);
    let soon_date = rfc3339(soon_until);
    expect(
        &status,
        &[
            (
                "valid",
                "passing",
                &format!("certificate valid until {valid_date} (90 days left)"),
            ),
            ("split-port", "passing", "(90 days left)"),
            (
                "soon",
                "failing",
                &format!("certificate expires on {soon_date}, in 3 days"),
            ),
            ("soon", "failing", "warn_within 14d"),
            (
                "soon-relaxed",
                "passing",
                &format!("valid until {soon_date} (3 days left)"),
            ),
            ("expired", "failing", "certificate expired on"),
            ("expired", "failing", "(10 days ago)"),
            (
                "wrong-host",
                "failing",
                "certificate does not verify for 127.0.0.1",
            ),
            ("wrong-host", "failing", &format!("expires {valid_date}")),
            ("unknown-ca", "failing", "does not verify"),
            ("closed", "failing", "cannot connect to 127.0.0.1:"),
        ],
    );
    let (_, message) = result(&status, "wrong-host");
    assert!(
        message.contains("the certificate is not for 127.0.0.1"),
        "{message}"
    );
    let (_, message) = result(&status, "unknown-ca");
    assert!(
        message.contains("not signed by a trusted authority") && message.contains("ca_file"),
        "{message}"
    );
}

#[test]
fn a_self_signed_certificate_from_plain_openssl_is_watched_when_pinned_or_unverified() {
    // `openssl req -x509 -subj /CN=127.0.0.1`: CA:TRUE, no subjectAltName, 30 days.
    let made = certs::openssl_self_signed("127.0.0.1", 30);
    let server = certs::https_server(&made);
    let another = certs::openssl_self_signed("127.0.0.1", 30);
    let env = Env::new(&config(&format!(
        "      - {{ name: pinned, type: tls, host: '{s}', ca_file: mine.pem }}
      - {{ name: unverified, type: tls, host: '{s}', verify_tls: false }}
      - {{ name: unverified-soon, type: tls, host: '{s}', verify_tls: false, warn_within: 60d }}
      - {{ name: public-roots, type: tls, host: '{s}' }}
      - {{ name: pinned-another, type: tls, host: '{s}', ca_file: another.pem }}
",
        s = server.addr
    )));
    std::fs::write(env.path("mine.pem"), &made.pem).expect("write mine.pem");
    std::fs::write(env.path("another.pem"), &another.pem).expect("write another.pem");
    let status = run_all(&env, None);
    expect(
        &status,
        &[
            ("pinned", "passing", "certificate valid until"),
            ("pinned", "passing", "days left)"),
            ("unverified", "passing", "certificate valid until"),
            ("unverified-soon", "failing", "within warn_within 60d"),
            ("public-roots", "failing", "is a CA certificate (CA:TRUE"),
            ("pinned-another", "failing", "is a CA certificate (CA:TRUE"),
            (
                "pinned-another",
                "failing",
                "name this very certificate in ca_file",
            ),
        ],
    );
    for check in ["public-roots", "pinned-another"] {
        let (_, message) = result(&status, check);
        assert!(!message.contains("CaUsedAsEndEntity"), "{message}");
        assert!(!message.contains("OtherError"), "{message}");
    }
}
