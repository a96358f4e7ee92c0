//! Ack links: `https://status.example.com/ack/<token>` in an alert, so the person woken
//! up can acknowledge from the phone that woke them. The token is the claim (service,
//! incident, who, expiry) and an HMAC-SHA256 over it with the `ack_secret_file`'s key:
//! nothing about it is stored until it is used, and a changed byte is a forgery.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

/// A link works for at most a day after its alert, and only while its incident lasts.
pub const LIFETIME: i64 = 86_400;
/// A token longer than this is not one of ours, and is refused before any work.
pub const TOKEN_MAX: usize = 1024;
/// What the MAC covers besides the claim, so a key shared with something else cannot
/// sign an ack.
const CONTEXT: &[u8] = b"cabot ack link v1\n";

/// What an ack link claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub service: String,
    /// The incident's start (Unix seconds): the link acknowledges that incident only.
    pub incident_at: i64,
    /// Who it was sent to: a user's name, or `#CHANNEL` for a channel that reaches a room.
    pub by: String,
    /// Unix seconds after which the link does nothing.
    pub expires: i64,
}

/// The key and where the status server is reached from outside.
#[derive(Clone)]
pub struct AckLinks {
    pub public_url: String,
    key: hmac::Key,
}

impl std::fmt::Debug for AckLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckLinks")
            .field("public_url", &self.public_url)
            .field("key", &"(secret)")
            .finish()
    }
}

impl AckLinks {
    pub fn new(public_url: String, secret: &[u8]) -> AckLinks {
        AckLinks {
            public_url,
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    fn mac_input(claim: &[u8]) -> Vec<u8> {
        [CONTEXT, claim].concat()
    }

    /// The token for `claim`.
    pub fn token(&self, claim: &Claim) -> String {
        let body =
            serde_json::to_vec(&(&claim.service, claim.incident_at, &claim.by, claim.expires))
                .unwrap_or_default();
        let tag = hmac::sign(&self.key, &Self::mac_input(&body));
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    /// The link for `claim`.
    pub fn url(&self, claim: &Claim) -> String {
        format!(
            "{}/ack/{}",
            self.public_url.trim_end_matches('/'),
            self.token(claim)
        )
    }

    /// The claim a token makes, if this key signed it (expiry aside: the caller decides
    /// what an expired link is told).
    pub fn verify(&self, token: &str) -> Option<Claim> {
        if token.len() > TOKEN_MAX {
            return None;
        }
        let (body, tag) = token.split_once('.')?;
        let body = URL_SAFE_NO_PAD.decode(body).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        hmac::verify(&self.key, &Self::mac_input(&body), &tag).ok()?;
        let (service, incident_at, by, expires): (String, i64, String, i64) =
            serde_json::from_slice(&body).ok()?;
        Some(Claim {
            service,
            incident_at,
            by,
            expires,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> Claim {
        Claim {
            service: "web".into(),
            incident_at: 1_795_435_200,
            by: "alice".into(),
            expires: 1_795_435_200 + LIFETIME,
        }
    }

    #[test]
    fn a_token_carries_its_claim_and_only_its_key_signs_it() {
        let links = AckLinks::new(
            "https://status.example.com/".into(),
            b"0123456789abcdef0123456789abcdef",
        );
        let token = links.token(&claim());
        assert_eq!(links.verify(&token), Some(claim()));
        assert!(
            links
                .url(&claim())
                .starts_with("https://status.example.com/ack/")
        );
        let other = AckLinks::new(String::new(), b"another key, another installation");
        assert_eq!(other.verify(&token), None, "another key");
        // The claim changed (another service) and the tag kept: a forgery.
        let forged_body = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&("db", claim().incident_at, "alice", claim().expires)).unwrap(),
        );
        let tag = token.split_once('.').unwrap().1;
        assert_eq!(links.verify(&format!("{forged_body}.{tag}")), None);
        assert_eq!(links.verify("no-dot"), None);
        assert_eq!(links.verify(&"a".repeat(TOKEN_MAX + 1)), None);
    }
}
