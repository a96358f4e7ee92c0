//! What every outgoing HTTP request shares, from checks and alert providers alike.

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

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
