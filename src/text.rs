//! Text made from what the outside world said (response bodies, plugin output, provider
//! answers) and from the config: one line, bounded, and escaped for where it goes.

/// The longest a check's message (or an alert's line about it) may be, in bytes.
pub const MESSAGE_MAX: usize = 500;

/// What marks text that was cut.
pub const ELLIPSIS: &str = "...";

/// One line: control characters become spaces; at most `max` bytes, cut at a character
/// boundary with an ellipsis.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate(&flat, max)
}

/// A check's message: one line of at most `MESSAGE_MAX` bytes.
pub fn message(text: &str) -> String {
    one_line(text, MESSAGE_MAX)
}

/// At most `max` bytes, cut at a character boundary with an ellipsis; lines are kept.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub(ELLIPSIS.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}

/// Escaped for XML text and attributes (TwiML, the status page); control characters become spaces.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A word quoted for a shell when it needs it.
pub fn shell_word(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The `s` of a plural: `1 check`, `2 checks`.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bounded_line() {
        assert_eq!(one_line("a\nb\tc", 10), "a b c");
        assert_eq!(one_line("abcdefgh", 6), "abc...");
        assert_eq!(truncate("ééé", 4), "...");
        assert_eq!(truncate("a\nb", 10), "a\nb");
        let long = message(&"x".repeat(10_000));
        assert_eq!(long.len(), MESSAGE_MAX);
        assert!(long.ends_with(ELLIPSIS));
        assert!(message(&"é".repeat(1000)).len() <= MESSAGE_MAX);
    }

    #[test]
    fn escaping() {
        assert_eq!(xml_escape("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
        assert_eq!(shell_word("web"), "web");
        assert_eq!(shell_word("web site"), "'web site'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(plural(1), "");
        assert_eq!(plural(0), "s");
    }
}
