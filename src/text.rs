//! Text made from what the outside world said (response bodies, plugin output, provider
//! answers) and from the config: one line, bounded, and escaped for where it goes.

/// The longest a check's message (or an alert's line about it) may be, in bytes.
pub const MESSAGE_MAX: usize = 500;

/// What marks text that was cut.
pub const ELLIPSIS: &str = "...";

/// Whether `c` changes how the text around it is shown rather than being shown: control
/// characters, line and paragraph separators, bidirectional overrides and isolates (which
/// can make `exe.txt` read `txt.exe`), zero-width and other invisible format characters.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// One line: control, separator and invisible format characters become spaces; at most
/// `max` bytes, cut at a character boundary with an ellipsis.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if is_hidden(c) { ' ' } else { c })
        .collect();
    truncate(&flat, max)
}

/// GSM 03.38's basic character set: one septet each in an SMS.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
    ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Its extension table: two septets each (an escape, then the character).
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// One SMS segment: 160 septets of GSM-7, or 70 UTF-16 units when a character needs UCS-2.
pub const SMS_SEPTETS: usize = 160;
pub const SMS_UCS2_UNITS: usize = 70;

/// The septets `c` takes in GSM-7, or `None` when it forces the whole message into UCS-2.
fn gsm7_septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Whether `text` can go as GSM-7, so that 160 characters are one SMS.
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| gsm7_septets(c).is_some())
}

/// `text` as one line that fits one SMS segment, cut with `...` (which is GSM-7, so a
/// GSM-7 text stays GSM-7): 160 septets, or 70 UTF-16 units when some character is not
/// GSM-7 anyway and the message is billed as UCS-2.
pub fn sms(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if is_hidden(c) { ' ' } else { c })
        .collect();
    let (cost, max): (fn(char) -> usize, usize) = if is_gsm7(&flat) {
        (|c| gsm7_septets(c).unwrap_or(2), SMS_SEPTETS)
    } else {
        (char::len_utf16, SMS_UCS2_UNITS)
    };
    if flat.chars().map(cost).sum::<usize>() <= max {
        return flat;
    }
    let room = max - ELLIPSIS.len();
    let mut used = 0;
    let mut out = String::new();
    for c in flat.chars() {
        used += cost(c);
        if used > room {
            break;
        }
        out.push(c);
    }
    out.push_str(ELLIPSIS);
    out
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

/// Text that Discord's Markdown shows as written: a backslash before every character that
/// could start emphasis, a code span, a quote, a heading, a list, a spoiler, a mention or
/// a masked link (`[text](url)`), so that remote text cannot plant a link. (`@everyone`
/// is kept harmless by `allowed_mentions`, not here.)
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*'
                | '_'
                | '~'
                | '`'
                | '|'
                | '>'
                | '<'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '-'
                | '+'
        ) {
            out.push('\\');
        }
        out.push(c);
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

/// `1 check`, `2 checks`: a count and its noun, in the number English wants.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", plural(n))
}

/// A duration for people: its two largest units, `1d 1h`, `1m 30s`, `10s`, `250ms`
/// (humantime writes `1day 1h` and every unit down to nanoseconds).
pub fn duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let parts: Vec<String> = units
        .iter()
        .scan(secs, |left, &(size, unit)| {
            let n = *left / size;
            *left %= size;
            Some((n, unit))
        })
        .skip_while(|(n, _)| *n == 0)
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_durations_read_like_english() {
        use std::time::Duration as D;
        assert_eq!(count(1, "check"), "1 check");
        assert_eq!(count(0, "service"), "0 services");
        assert_eq!(count(2, "service"), "2 services");
        let cases = [
            (D::from_millis(250), "250ms"),
            (D::from_secs(10), "10s"),
            (D::from_secs(90), "1m 30s"),
            (D::from_secs(600), "10m"),
            (D::from_secs(3_600 + 60), "1h 1m"),
            (D::from_secs(90_000), "1d 1h"),
            (D::from_secs(86_400 + 59), "1d"),
            (D::from_millis(1_500), "1s"),
        ];
        for (d, text) in cases {
            assert_eq!(duration(d), text, "{d:?}");
        }
    }

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

    #[test]
    fn an_sms_stays_one_gsm7_segment() {
        // 200 ASCII characters: 157 of them and "...", all GSM-7.
        let long = "a".repeat(200);
        let cut = sms(&long);
        assert_eq!(cut.len(), 160);
        assert!(cut.ends_with("...") && is_gsm7(&cut));
        // Each brace takes two septets: 78 of them (156 septets) and "..." make 159.
        let braces = sms(&"{".repeat(100));
        assert_eq!(braces, format!("{}...", "{".repeat(78)));
        // 160 septets exactly is left alone, and so is GSM-7's own non-ASCII.
        let fits = format!("{}€", "é".repeat(158));
        assert_eq!(sms(&fits), fits);
        assert!(!is_gsm7("…") && !is_gsm7("—"));
    }

    #[test]
    fn an_sms_that_needs_ucs2_stays_one_ucs2_segment() {
        // "—" is not GSM-7: the message is UCS-2, 70 units a segment; 😀 takes two.
        let dashes = sms(&"—".repeat(100));
        assert_eq!(dashes, format!("{}...", "—".repeat(67)));
        let faces = sms(&"😀".repeat(50));
        assert_eq!(faces, format!("{}...", "😀".repeat(33)));
        assert_eq!(sms("line\nbreak"), "line break");
    }

    #[test]
    fn hidden_characters_become_spaces() {
        let evil = "ok\u{202E}txt.exe\u{2028}line\u{200B}zero\u{2066}iso\u{FEFF}bom\u{1b}[31m";
        assert_eq!(one_line(evil, 500), "ok txt.exe line zero iso bom [31m");
        assert_eq!(sms("a\u{2029}b"), "a b");
        // Letters of right-to-left scripts are text, not overrides.
        assert_eq!(one_line("שלום مرحبا", 500), "שלום مرحبا");
    }
}
