//! Text made from what the outside world said (response bodies, plugin output, provider
//! answers) and from the config: one line, bounded, and escaped for where it goes.

/// The longest a check's message (or an alert's line about it) may be, in bytes.
pub const MESSAGE_MAX: usize = 500;

/// What marks text that was cut.
pub const ELLIPSIS: &str = "...";

/// Whether `c` must not pass into one line of text: control characters, line and
/// paragraph separators, and the bidirectional embeddings, overrides and isolates (which
/// can make `exe.txt` read `txt.exe`, or a line read backwards). Other format characters
/// stay: the zero-width joiner and non-joiner are part of emoji sequences and of Persian
/// and Indic words, and marks such as U+200F only settle the direction of what is there.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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

/// At most `max` characters (not bytes: what Pushover and Telegram count), cut with an
/// ellipsis that counts too.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().nth(max).is_none() {
        return text.to_string();
    }
    let keep = max.saturating_sub(ELLIPSIS.len());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(ELLIPSIS);
    out
}

/// How long a text is, for a provider's limit: bytes or characters.
pub type Measure = fn(&str) -> usize;

/// Characters, for `fit`.
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// A message within `max` (as `measure` counts): `head`, as many of `lines` as fit, then
/// `tail`, joined by `sep`. What does not fit is a line's whole and is counted in a line
/// of its own, so the status line at the head and the runbook, ack link and mentions at
/// the tail are never cut, nor is an escaped entity (`&lt;`) cut in half. Only when
/// `head` and `tail` alone are too long is the whole cut.
pub fn fit(
    head: &[String],
    lines: &[String],
    tail: &[String],
    sep: &str,
    max: usize,
    measure: Measure,
) -> String {
    let join = |parts: &[&String]| {
        parts
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(sep)
    };
    let all: Vec<&String> = head.iter().chain(lines).chain(tail).collect();
    let whole = join(&all);
    if measure(&whole) <= max {
        return whole;
    }
    // Lines are taken while they and a note of the rest still leave room for the tail.
    let mut kept: Vec<&String> = head.iter().collect();
    let mut taken = 0;
    let note_of = |n: usize| format!("({} more not shown)", n);
    for line in lines {
        let rest = lines.len() - taken - 1;
        let note = note_of(rest);
        let mut trial = kept.clone();
        trial.push(line);
        if rest > 0 {
            trial.push(&note);
        }
        trial.extend(tail);
        if measure(&join(&trial)) > max {
            break;
        }
        kept.push(line);
        taken += 1;
    }
    let note = note_of(lines.len() - taken);
    if taken < lines.len() {
        kept.push(&note);
    }
    kept.extend(tail);
    let message = join(&kept);
    if measure(&message) <= max {
        return message;
    }
    // Both measures add up character by character.
    let room = max.saturating_sub(measure(ELLIPSIS));
    let mut used = 0;
    let mut out = String::new();
    let mut buf = [0u8; 4];
    for c in message.chars() {
        used += measure(c.encode_utf8(&mut buf));
        if used > room {
            break;
        }
        out.push(c);
    }
    out.push_str(ELLIPSIS);
    out
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

/// Compares without stopping at the first difference, so timing tells nothing of a token.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bytes of a hexadecimal string (either case), or `None` when it is not one.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
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
    fn one_line_drops_what_reorders_or_breaks_a_line_and_keeps_joiners() {
        // A family emoji (joined by U+200D) and a Persian word with a ZWNJ (U+200C).
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        let persian = "می\u{200C}خواهم";
        assert_eq!(one_line(family, 100), family);
        assert_eq!(one_line(persian, 100), persian);
        // Overrides, embeddings and isolates, and line breaks of every kind, become spaces.
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{2028}', '\u{2029}', '\n', '\r', '\u{1b}',
        ] {
            assert_eq!(one_line(&format!("a{c}b"), 100), "a b", "{:?}", c);
        }
    }

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
    }

    #[test]
    fn truncate_chars_counts_characters_and_its_ellipsis() {
        let persian = "سلام ".repeat(400);
        let cut = truncate_chars(&persian, 1024);
        assert_eq!(cut.chars().count(), 1024);
        assert!(cut.ends_with("..."));
        assert_eq!(truncate_chars("déjà", 4), "déjà");
        assert_eq!(truncate_chars("déjà vu", 6), "déj...");
    }

    #[test]
    fn fit_cuts_whole_check_lines_never_the_ends() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let head = s(&["CRITICAL: web"]);
        let tail = s(&["Runbook: https://wiki/web", "<@U123>"]);
        let lines: Vec<String> = (0..6)
            .map(|i| format!("check{i}: {}", "&lt;".repeat(20)))
            .collect();
        let all = fit(&head, &lines, &tail, "\n", 10_000, str::len);
        assert_eq!(all.lines().count(), 9, "everything fits: {all}");
        let max = 300;
        let cut = fit(&head, &lines, &tail, "\n", max, str::len);
        assert!(cut.len() <= max, "{}", cut.len());
        let got: Vec<&str> = cut.lines().collect();
        assert_eq!(got[0], "CRITICAL: web");
        assert_eq!(
            &got[got.len() - 2..],
            ["Runbook: https://wiki/web", "<@U123>"]
        );
        let shown = got.iter().filter(|l| l.starts_with("check")).count();
        assert!((1..6).contains(&shown), "{cut}");
        assert_eq!(
            got[got.len() - 3],
            format!("({} more not shown)", 6 - shown)
        );
        for line in got.iter().filter(|l| l.starts_with("check")) {
            assert!(line.ends_with("&lt;"), "no entity cut in half: {line}");
        }
        // Counted in characters, with text that is two bytes a character.
        let wide: Vec<String> = (0..6).map(|i| format!("é{i}{}", "é".repeat(100))).collect();
        let cut = fit(&head, &wide, &tail, "\n", 300, chars);
        assert!(chars(&cut) <= 300 && cut.len() > 300, "{}", chars(&cut));
        assert!(cut.ends_with("<@U123>"));
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
        let evil = "ok\u{202E}txt.exe\u{2028}line\u{2066}iso\u{1b}[31m";
        assert_eq!(one_line(evil, 500), "ok txt.exe line iso [31m");
        assert_eq!(sms("a\u{2029}b"), "a b");
        // Letters of right-to-left scripts are text, not overrides.
        assert_eq!(one_line("שלום مرحبا", 500), "שלום مرحبا");
    }
}
