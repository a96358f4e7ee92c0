//! A reader for the YAML that configs are written in — block mappings and lists, one-line
//! flow mappings and lists, plain and quoted scalars on one line — about ten times faster
//! than yaml-rust2, which reads a 10,000-check config at ~25 MB/s and was most of what
//! `cabot status` spent.
//!
//! It gives up (`None`) on everything else, and on every error: then yaml-rust2 reads the
//! file and reports errors as it always has. Where it answers, it answers exactly what
//! yaml-rust2 would: the same tree, texts and marks (a differential test below holds it to
//! that over hand-written and random documents). So it declines whatever it cannot match
//! for sure: anchors, tags, block scalars, multi-line scalars and flows, tabs, CR,
//! document markers, empty list entries, empty values at the end of the file, long lines
//! with other than ASCII, and the odd corners of YAML (`? key`, `- - x`, `[a: b]`, unusual
//! escapes).

use std::borrow::Cow;

use super::{MAX_DEPTH, Mark, Node, Value};

/// The longest line with other than ASCII on it that this reader takes.
const MAX_UNICODE_LINE: usize = 4096;

/// Reads `text` if it is in the subset and valid; `None` sends it to yaml-rust2.
pub(super) fn parse(text: &str) -> Option<Node<'_>> {
    if text.starts_with('\u{feff}') || !printable(text) {
        return None;
    }
    let mut lines = Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count() + 1);
    // The line ends found with memchr's vector search: `str::split` looks at a byte at a
    // time, and was a tenth of this reader's time.
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
    let mut start = 0;
    for (i, end) in ends.enumerate() {
        let raw = &text[start..end];
        start = end + 1;
        let indent = raw.bytes().take_while(|&b| b == b' ').count();
        let rest = &raw[indent..];
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        if indent == 0
            && (rest.starts_with("---") || rest.starts_with("...") || rest.starts_with('%'))
        {
            return None;
        }
        let ascii = raw.is_ascii();
        // A column on a line with other than ASCII is counted in characters from the
        // line's start, once per node: on a long line that would be quadratic.
        if !ascii && raw.len() > MAX_UNICODE_LINE {
            return None;
        }
        lines.push(Line {
            no: u32::try_from(i + 1).ok()?,
            indent,
            text: raw,
            ascii,
        });
    }
    let mut reader = Reader {
        lines,
        next: 0,
        depth: 0,
        pairs: Vec::new(),
        nodes: Vec::new(),
    };
    let first = *reader.lines.first()?;
    let root = reader.block(first)?;
    // Anything left over is a line the structure did not take: an error yaml-rust2 names.
    (reader.next == reader.lines.len()).then_some(root)
}

/// No tab (YAML's rules for them are subtle), no CR, no control characters, nothing YAML
/// calls a line break or refuses, no byte-order mark inside.
fn printable(text: &str) -> bool {
    // Whole chunks at a time, without stopping early, so that the loop vectorizes: this
    // looks at every byte of the file.
    let control = |b: u8| (b < 0x20 && b != b'\n') | (b == 0x7f);
    let clean = text
        .as_bytes()
        .chunks(64)
        .all(|chunk| !chunk.iter().fold(false, |any, &b| any | control(b)));
    if !clean {
        return false;
    }
    text.is_ascii()
        || text.chars().all(|c| {
            !matches!(
                c,
                '\u{80}'
                    ..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        })
}

/// A line with something on it besides spaces and a comment.
#[derive(Clone, Copy)]
struct Line<'a> {
    no: u32,
    indent: usize,
    text: &'a str,
    ascii: bool,
}

impl Line<'_> {
    fn mark(&self, pos: usize) -> Mark {
        let col = if self.ascii {
            pos
        } else {
            self.text[..pos].chars().count()
        };
        Mark {
            line: self.no,
            col: u32::try_from(col + 1).unwrap_or(u32::MAX),
        }
    }

    fn byte(&self, pos: usize) -> Option<u8> {
        self.text.as_bytes().get(pos).copied()
    }

    /// A block list entry: `-` then a space or the end of the line.
    fn dash_at(&self, pos: usize) -> bool {
        self.byte(pos) == Some(b'-') && matches!(self.byte(pos + 1), None | Some(b' '))
    }

    /// Where the first byte from `pos` on that is in `set` is, or the line's end.
    fn find(&self, pos: usize, set: &[bool; 256]) -> usize {
        let rest = &self.text.as_bytes()[pos..];
        pos + rest.iter().take_while(|&&b| !set[b as usize]).count()
    }

    fn skip_spaces(&self, mut pos: usize) -> usize {
        while self.byte(pos) == Some(b' ') {
            pos += 1;
        }
        pos
    }

    /// Nothing but spaces and perhaps a comment from `pos` on (a comment needs a space
    /// before it, which the caller has when `pos` follows one).
    fn ends_at(&self, pos: usize) -> bool {
        let p = self.skip_spaces(pos);
        match self.byte(p) {
            None => true,
            Some(b'#') => p > pos || (p > 0 && self.byte(p - 1) == Some(b' ')),
            _ => false,
        }
    }
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    /// The first line not yet read.
    next: usize,
    /// Collections open around the one being read.
    depth: usize,
    /// The entries and items of the collections open, each collection's above those of
    /// the ones around it: a collection is then allocated once, at its size, when it closes.
    pairs: Vec<(Node<'a>, Node<'a>)>,
    nodes: Vec<Node<'a>>,
}

/// Characters that cannot start a plain scalar here: indicators, quotes (read as quoted),
/// and the ones this reader leaves to yaml-rust2.
fn starts_plain(line: &Line, pos: usize) -> bool {
    match line.byte(pos) {
        None | Some(b' ') => false,
        Some(b'-') => line
            .byte(pos + 1)
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.'),
        Some(b) => !b"?:,[]{}#&*!|>'\"%@`".contains(&b),
    }
}

fn scalar<'a>(text: impl Into<Cow<'a, str>>, plain: bool, mark: Mark) -> Node<'a> {
    Node {
        value: Value::Scalar {
            text: text.into(),
            plain,
        },
        mark,
    }
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.next).copied()
    }

    /// Opens a collection, refusing depths yaml-rust2's reader would call an error.
    fn open(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth < MAX_DEPTH - 4).then_some(())
    }

    /// A block list or mapping whose first entry begins `line` at its indent.
    fn block(&mut self, line: Line<'a>) -> Option<Node<'a>> {
        if line.dash_at(line.indent) {
            self.seq(line.indent, false)
        } else {
            let first = key(&line, line.indent)?;
            self.map(line.indent, first)
        }
    }

    /// A block mapping whose first key, already read as `first` (with the position after
    /// its colon), is at byte `col` of the next line (after its indent, or after `- ` for a
    /// mapping in a list entry); the rest of its keys begin lines indented by `col`.
    fn map(&mut self, col: usize, first: (Node<'a>, usize)) -> Option<Node<'a>> {
        self.open()?;
        let base = self.pairs.len();
        let mut line = self.peek()?;
        let mut next_key = Some(first);
        loop {
            let (key, after) = match next_key.take() {
                Some(first) => first,
                None => key(&line, col)?,
            };
            let value = self.value(&line, after, col)?;
            self.pairs.push((key, value));
            match self.peek() {
                Some(l) if l.indent == col && !l.dash_at(col) => line = l,
                Some(l) if l.indent > col => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        let entries: Vec<_> = self.pairs.split_off(base);
        let mark = entries[0].0.mark;
        Some(Node {
            value: Value::Map(entries),
            mark,
        })
    }

    /// A block list whose entries' dashes are at byte `col`; `indentless` when it is the
    /// value of a key written at the same indent (`key:` then `- x` under it).
    fn seq(&mut self, col: usize, indentless: bool) -> Option<Node<'a>> {
        self.open()?;
        let base = self.nodes.len();
        let mut mark = None;
        while let Some(line) = self.peek() {
            if line.indent != col || !line.dash_at(col) {
                if line.indent > col {
                    return None;
                }
                break;
            }
            let p = line.skip_spaces(col + 1);
            let item = if line.ends_at(col + 1) {
                // The entry is the block below, or empty: yaml-rust2 marks an empty entry,
                // and an indentless list beginning with one, where no rule here can follow.
                if indentless && self.nodes.len() == base {
                    return None;
                }
                self.next += 1;
                match self.peek() {
                    Some(below) if below.indent > col => self.block(below)?,
                    _ => return None,
                }
            } else if line.dash_at(p) {
                return None;
            } else if let Some(first) = key(&line, p) {
                self.map(p, first)?
            } else {
                self.inline(&line, p, col)?
            };
            mark.get_or_insert(line.mark(if indentless { p } else { col }));
            self.nodes.push(item);
        }
        self.depth -= 1;
        let items: Vec<_> = self.nodes.split_off(base);
        Some(Node {
            value: Value::Seq(items),
            mark: mark?,
        })
    }

    /// The value of a key in a block mapping at `col`, from `pos` (after the colon).
    fn value(&mut self, line: &Line<'a>, pos: usize, col: usize) -> Option<Node<'a>> {
        if !line.ends_at(pos) {
            return self.inline(line, line.skip_spaces(pos), col);
        }
        self.next += 1;
        let below = self.peek()?;
        if below.indent > col {
            return self.block(below);
        }
        if below.dash_at(below.indent) {
            return if below.indent == col {
                self.seq(col, true)
            } else {
                None
            };
        }
        // An empty value: yaml-rust2 marks it where the next token begins.
        Some(scalar("", true, below.mark(below.indent)))
    }

    /// A value that ends on its own line: a flow list or mapping, a quoted or plain scalar.
    /// What follows must be indented no deeper than `col`, the block it belongs to.
    fn inline(&mut self, line: &Line<'a>, pos: usize, col: usize) -> Option<Node<'a>> {
        let (node, end) = match line.byte(pos)? {
            b'[' | b'{' => self.flow(line, pos)?,
            b'"' | b'\'' => quoted(line, pos)?,
            _ => (plain_block(line, pos)?, line.text.len()),
        };
        if !line.ends_at(end) {
            return None;
        }
        self.next += 1;
        match self.peek() {
            Some(l) if l.indent > col => None,
            _ => Some(node),
        }
    }

    /// A flow list or mapping that closes on the same line; returns it and the position
    /// after its closing bracket.
    fn flow(&mut self, line: &Line<'a>, pos: usize) -> Option<(Node<'a>, usize)> {
        self.open()?;
        let mark = line.mark(pos);
        let close = if line.byte(pos)? == b'[' { b']' } else { b'}' };
        let mut p = line.skip_spaces(pos + 1);
        let (items, entries) = (self.nodes.len(), self.pairs.len());
        while line.byte(p)? != close {
            let (first, end) = self.flow_node(line, p)?;
            p = line.skip_spaces(end);
            if close == b'}' {
                if !matches!(first.value, Value::Scalar { .. }) {
                    return None;
                }
                // `key: value`, where the value is never empty here.
                if line.byte(p)? != b':' || line.byte(p + 1)? != b' ' {
                    return None;
                }
                let (value, end) = self.flow_node(line, line.skip_spaces(p + 1))?;
                self.pairs.push((first, value));
                p = line.skip_spaces(end);
            } else {
                self.nodes.push(first);
            }
            match line.byte(p)? {
                b',' => p = line.skip_spaces(p + 1),
                b if b == close => {}
                _ => return None,
            }
        }
        self.depth -= 1;
        let value = if close == b']' {
            Value::Seq(self.nodes.split_off(items))
        } else {
            Value::Map(self.pairs.split_off(entries))
        };
        Some((Node { value, mark }, p + 1))
    }

    /// A node inside a flow collection.
    fn flow_node(&mut self, line: &Line<'a>, pos: usize) -> Option<(Node<'a>, usize)> {
        match line.byte(pos)? {
            b'[' | b'{' => self.flow(line, pos),
            b'"' | b'\'' => quoted(line, pos),
            _ => plain_flow(line, pos),
        }
    }
}

/// The bytes a key's scan stops at: its colon, and what a key here never has.
const IN_KEY: [bool; 256] = byte_set(b":,[]{}#&*!|>'\"%@`");
/// The bytes a plain scalar's scan in a flow stops at.
const IN_FLOW: [bool; 256] = byte_set(b",[]{}:#");

const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        set[bytes[i] as usize] = true;
        i += 1;
    }
    set
}

/// A mapping key at `pos` and the position after its colon, or `None` if there is none.
fn key<'a>(line: &Line<'a>, pos: usize) -> Option<(Node<'a>, usize)> {
    let (node, end) = match line.byte(pos)? {
        b'"' | b'\'' => {
            let (node, end) = quoted(line, pos)?;
            (node, line.skip_spaces(end))
        }
        _ if !starts_plain(line, pos) => return None,
        _ => {
            let bytes = line.text.as_bytes();
            let mut p = pos;
            loop {
                p = line.find(p, &IN_KEY);
                match bytes.get(p) {
                    Some(b':') if matches!(bytes.get(p + 1), None | Some(b' ')) => break,
                    Some(b':') => p += 1,
                    _ => return None,
                }
            }
            let text = line.text[pos..p].trim_end_matches(' ');
            (scalar(text, true, line.mark(pos)), p)
        }
    };
    // yaml-rust2 refuses an implicit key over 1,024 characters; config keys are short.
    if end - pos > 200
        || line.byte(end)? != b':'
        || !matches!(line.byte(end + 1), None | Some(b' '))
    {
        return None;
    }
    Some((node, end + 1))
}

/// A plain scalar in block context: to the end of the line or a comment.
fn plain_block<'a>(line: &Line<'a>, pos: usize) -> Option<Node<'a>> {
    if !starts_plain(line, pos) {
        return None;
    }
    let rest = &line.text.as_bytes()[pos..];
    let mut end = rest.len();
    for (i, &b) in rest.iter().enumerate() {
        match b {
            b'#' if i > 0 && rest[i - 1] == b' ' => {
                end = i;
                break;
            }
            // `a: b: c` is an error, and `a: b:` is one too.
            b':' if matches!(rest.get(i + 1), None | Some(b' ')) => return None,
            _ => {}
        }
    }
    let text = line.text[pos..pos + end].trim_end_matches(' ');
    Some(scalar(text, true, line.mark(pos)))
}

/// A plain scalar in a flow collection: it ends at `,`, a bracket, or `: `.
fn plain_flow<'a>(line: &Line<'a>, pos: usize) -> Option<(Node<'a>, usize)> {
    if !starts_plain(line, pos) {
        return None;
    }
    let bytes = line.text.as_bytes();
    let mut p = pos;
    loop {
        p = line.find(p, &IN_FLOW);
        match bytes.get(p) {
            None | Some(b',' | b'[' | b']' | b'{' | b'}') => break,
            Some(b':')
                if matches!(
                    bytes.get(p + 1),
                    None | Some(b' ' | b',' | b'[' | b']' | b'{' | b'}')
                ) =>
            {
                break;
            }
            Some(b'#') => return None,
            Some(_) => p += 1,
        }
    }
    let text = line.text[pos..p].trim_end_matches(' ');
    Some((scalar(text, true, line.mark(pos)), p))
}

/// A single- or double-quoted scalar closed on the same line, and the position after it.
/// Borrowed from the line unless it has an escape (`''`, `\n`, ...).
fn quoted<'a>(line: &Line<'a>, pos: usize) -> Option<(Node<'a>, usize)> {
    let quote = line.byte(pos)?;
    let bytes = line.text.as_bytes();
    // What escapes made of the text so far, and where the part not yet copied begins.
    let mut unescaped: Option<String> = None;
    let mut start = pos + 1;
    let mut p = start;
    let escaped = loop {
        let b = *bytes.get(p)?;
        let (char, skip) = match b {
            b'\'' if quote == b'\'' && bytes.get(p + 1) == Some(&b'\'') => ('\'', 2),
            b'\\' if quote == b'"' => (
                match bytes.get(p + 1)? {
                    b'\\' => '\\',
                    b'"' => '"',
                    b'/' => '/',
                    b'n' => '\n',
                    b't' => '\t',
                    b'r' => '\r',
                    b'0' => '\0',
                    _ => return None,
                },
                2,
            ),
            _ if b == quote => break unescaped,
            _ => {
                p += 1;
                continue;
            }
        };
        let out = unescaped.get_or_insert_with(String::new);
        out.push_str(&line.text[start..p]);
        out.push(char);
        p += skip;
        start = p;
    };
    let text = match escaped {
        None => Cow::Borrowed(&line.text[start..p]),
        Some(mut out) => {
            out.push_str(&line.text[start..p]);
            Cow::Owned(out)
        }
    };
    Some((scalar(text, false, line.mark(pos)), p + 1))
}

#[cfg(test)]
mod tests {
    use super::super::parse_fully;
    use super::*;
    use crate::testing::Rng;

    /// Checks that the fast reader declines `text` or reads what yaml-rust2 reads, marks
    /// and all; true when it read it.
    fn agrees(text: &str) -> bool {
        let Some(fast) = parse(text) else {
            return false;
        };
        match parse_fully(text) {
            Ok(slow) => assert_eq!(fast, slow, "reading {text:?}"),
            Err(e) => panic!("read {text:?}, which yaml-rust2 refuses: {e:?}"),
        }
        true
    }

    #[test]
    fn reads_the_example_config_and_the_benchmarks_as_yaml_rust2_does() {
        assert!(agrees(include_str!("../../../checks.example.yaml")));
        let mut bench = String::from(
            "state: '/tmp/x.db'\nstale_after: 1d\ndefaults: { frequency: 1h, timeout: 5s }\nservices:\n",
        );
        for s in 0..50 {
            bench.push_str(&format!(
                "  - name: service-{s:05}\n    public: true\n    checks:\n"
            ));
            for c in 0..3 {
                bench.push_str(&format!(
                    "      - {{ name: check-{c:03}, type: tcp, host: '127.0.0.1:{s}' }}\n"
                ));
            }
        }
        assert!(agrees(&bench));
    }

    #[test]
    fn reads_each_form_it_knows_as_yaml_rust2_does() {
        let forms = [
            "a: 1\nb: two words\n",
            "a: 1 # comment\nb: v#not-a-comment\n# a line\n\n   \nc: x   \n",
            "  indented: root\n  second: key\n",
            "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
            "a:\n# between\n  b: 1\n",
            "a:\nb: 2\n",
            "a:\n  b:\nc: 1\n",
            "a: #x\nb: 1\n",
            "list:\n  - x\n  - y\n",
            "list:\n- x\n- y\nnext: 1\n",
            "list:\n- k: v\n  k2: v2\n- k3:\n  k4: 1\n",
            "- a\n- b: c\n  d: e\n-   f\n",
            "- # comment\n  k: v\n- \n  - nested\n",
            "x:\n  - a:\n    - b\n    c: d\n",
            "a: [x, y]  # c\nb: [ ]\nc: {}\nd: [1,]\ne: {a: 1,}\n",
            "a: { x: http://h:80/, y: a:b, z: 'q' }\nb: [a:b, c]\n",
            "a: { a: b  , c: d e }\nd: [ {a: 1}, [x], [[y]] ]\n",
            "a: 'it''s'\nb: \"q\\\"x\\\\ \\/ \\n\\t\\r\"\nc: 'a \"b\" \\n'\n",
            "\"a b\": 1\n'x': 2\n\"q\": [1]\n",
            "a: café # x\nb: ü\né: [ü, ö, 'ä']\n",
            "a: -5\nb: -x\nc: [-1, .5]\nd: ~\ne: null\n",
            "url: https://example.com/a?b=c#frag\n",
            "a b: c\na  : d\n",
            "a: \"\"\nb: ''\n",
            "k: v\n  # a comment deeper than the next key\nl: w\n",
        ];
        for form in forms {
            assert!(agrees(form), "the fast reader declined {form:?}");
        }
    }

    #[test]
    fn declines_errors_and_what_it_cannot_match() {
        let declined = [
            "",
            "# only a comment\n",
            "a: foo: bar\n",
            "a: b:\n",
            "a: [x, y] z\n",
            "a: 'x' y\n",
            "a: b\n  c\n",
            "a: 1\n  b: 2\n",
            "a: [x,\n  y]\n",
            "a: 'x\n",
            "a: &x 1\nb: *x\n",
            "a: !t x\n",
            "a: |\n  x\n",
            "a: >\n  x\n",
            "? a\n: b\n",
            "- - b\n",
            "a:\n-\n- y\n",
            "a:\n  -\n  - y\n",
            "a:\n",
            "a: [a: b]\n",
            "a: {a}\n",
            "a: {a: }\n",
            "a: {\"k\":v}\n",
            "a:\tb\n",
            "a: b\r\n",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: \"\\x41\"\n",
            "a: -\n",
            "a: @x\n",
            "a:b\n",
            "plain\n",
            "a: 1\n- x\n",
            "- a\nb: 1\n",
            "\u{feff}a: 1\n",
            "a: [x]#c\n",
        ];
        for text in declined {
            assert!(parse(text).is_none(), "the fast reader read {text:?}");
        }
        let deep = format!("a: {}x{}\n", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&deep).is_none());
        // Columns on a long line of other than ASCII would cost the square of its length.
        let items = vec!["é"; MAX_UNICODE_LINE].join(", ");
        assert!(parse(&format!("a: [{items}]\n")).is_none());
        assert!(parse("a: [é, é]\n").is_some());
    }

    /// Documents of random lines from pieces that make the parsers disagree if anything
    /// does: every indicator, quotes, flows, comments, indents and empty values.
    fn random_document(rng: &mut Rng) -> String {
        const INDENTS: &[&str] = &["", "", "", " ", "  ", "  ", "   ", "    ", "      "];
        const PREFIXES: &[&str] = &["", "", "", "", "- ", "- ", "-", "- - ", "? ", ": "];
        const KEYS: &[&str] = &[
            "a", "name", "b c", "'q'", "\"d\"", "x:y", "-k", "", "é", "k ", "[k]", "a#b", "{k: v}",
            "'it''s'", "&a k", "k #c",
        ];
        const COLONS: &[&str] = &[": ", ": ", ": ", ":", ":", " : ", ":  ", ""];
        const VALUES: &[&str] = &[
            "",
            "x",
            "1",
            "-5",
            "http://h:80/",
            "a: b",
            "b:",
            "[a, b]",
            "[ ]",
            "{a: 1, b: [x]}",
            "{ a: b c , d: 'e' }",
            "[a:b, 'c']",
            "'it''s'",
            "\"e\\\"s\\n\"",
            "\"\\x41\"",
            "# c",
            "#c",
            "x #c",
            "x#c",
            "&a x",
            "*a",
            "!t x",
            "|",
            ">",
            "café",
            "[a: b]",
            "{a}",
            "[a,]",
            "{a: }",
            "[x",
            "'x",
            "x, y",
            "[x] y",
            "\"q\" r",
            "- x",
            "~",
            "null",
            "{a: [1, {b: c}]}",
            "[[x]]",
            "{}",
            "[]",
            "x  ",
            "@x",
            "`x",
            "%x",
            ",x",
            "a'b",
            "{\"k\": v}",
            "{\"k\":v}",
            "[-1, .5]",
            "{a: -}",
            "[x]#c",
            "'a' #c",
            "[x] #c",
            "x\ty",
            "{a: b: c}",
            "[a, [b, {c: d}], e]",
            "'\"'",
            "\"'\"",
            "'",
            "\"",
            "-",
            "--x",
            ".5",
        ];
        let mut doc = String::new();
        for _ in 0..1 + rng.below(10) {
            match rng.below(20) {
                0 => doc.push_str("# comment\n"),
                1 => doc.push('\n'),
                2 => doc.push_str("---\n"),
                _ => {
                    doc.push_str(rng.pick(INDENTS));
                    doc.push_str(rng.pick(PREFIXES));
                    if rng.percent(80) {
                        doc.push_str(rng.pick(KEYS));
                        let colon = rng.pick(COLONS);
                        doc.push_str(colon);
                        if !colon.is_empty() {
                            doc.push_str(rng.pick(VALUES));
                        }
                    } else {
                        doc.push_str(rng.pick(VALUES));
                    }
                    doc.push('\n');
                }
            }
        }
        if rng.percent(10) {
            doc.pop();
        }
        doc
    }

    /// A document shaped like a config: nested block mappings and lists at random indents,
    /// compact and indentless lists, flows, comments, and now and then an odd value.
    fn random_config(rng: &mut Rng) -> String {
        let mut doc = String::new();
        let indent = rng.below(3);
        block(rng, &mut doc, indent, 0, None);
        doc
    }

    const VALUES: &[&str] = &[
        "x",
        "two words",
        "1",
        "-5",
        "http://h:80/p?q#f",
        "'q'",
        "'it''s'",
        "\"e\\\"s\\n\"",
        "[a, b]",
        "[ ]",
        "{}",
        "{a: 1, b: [x]}",
        "{ a: b c , d: 'e' }",
        "[a:b, 'c', -1]",
        "x #c",
        "x#c",
        "café",
        "~",
        "[[x], {y: z}]",
        "''",
        "'a' # c",
        "[x] # c",
    ];
    const ODD: &[&str] = &[
        "a: b", "b:", "&a x", "*a", "|", "[x", "'x", "- x", "{a}", "[a: b]", "x\ty", "-", "@x",
    ];

    fn scalar_value(rng: &mut Rng) -> &'static str {
        if rng.percent(3) {
            rng.pick(ODD)
        } else {
            rng.pick(VALUES)
        }
    }

    fn noise(rng: &mut Rng, doc: &mut String, indent: usize) {
        match rng.below(12) {
            0 => doc.push_str(&format!("{}# note\n", " ".repeat(rng.below(indent + 3)))),
            1 => doc.push('\n'),
            _ => {}
        }
    }

    /// Writes a block collection whose entries start at `indent`; `first` is what begins
    /// its first line instead of the indent (`- ` for a mapping inside a list entry).
    fn block(rng: &mut Rng, doc: &mut String, indent: usize, depth: usize, first: Option<&str>) {
        let pad = " ".repeat(indent);
        let seq = first.is_none() && rng.percent(35);
        for i in 0..1 + rng.below(4) {
            noise(rng, doc, indent);
            match (i, first) {
                (0, Some(start)) => doc.push_str(start),
                _ => doc.push_str(&pad),
            }
            if seq {
                doc.push_str("- ");
                entry(rng, doc, indent, depth, true);
            } else {
                doc.push_str(rng.pick(&["a", "name", "b c", "'q'", "\"k\"", "é", "x-y"]));
                doc.push_str(if rng.percent(3) { " :" } else { ":" });
                entry(rng, doc, indent, depth, false);
            }
        }
    }

    /// The rest of a line after `- ` or `key:`, and whatever nests under it.
    fn entry(rng: &mut Rng, doc: &mut String, indent: usize, depth: usize, in_seq: bool) {
        let deeper = depth < 5;
        match rng.below(10) {
            0..=4 => {
                doc.push_str(if in_seq { "" } else { " " });
                doc.push_str(scalar_value(rng));
                doc.push('\n');
            }
            5 | 6 if deeper => {
                // A block below, deeper by one to four.
                if !in_seq || rng.percent(50) {
                    doc.push_str(rng.pick(&["", " # c"]));
                    doc.push('\n');
                    let below = indent + 1 + rng.below(4);
                    block(rng, doc, below, depth + 1, None);
                } else {
                    // A compact mapping in a list entry: its keys line up after `- `.
                    block(rng, doc, indent + 2, depth + 1, Some(""));
                }
            }
            7 if deeper && !in_seq => {
                doc.push('\n');
                let pad = " ".repeat(indent);
                for _ in 0..1 + rng.below(3) {
                    doc.push_str(&pad);
                    doc.push_str("- ");
                    doc.push_str(scalar_value(rng));
                    doc.push('\n');
                }
            }
            _ => doc.push('\n'),
        }
    }

    /// How many of `total` documents from `make` the fast reader read, each one checked
    /// against yaml-rust2.
    fn read_of(total: usize, mut make: impl FnMut() -> String) -> usize {
        (0..total).filter(|_| agrees(&make())).count()
    }

    #[test]
    fn random_documents_read_as_yaml_rust2_reads_them() {
        let mut rng = Rng(0x7a41_f457);
        // Mostly errors: what matters is that the fast reader reads none of them wrong.
        let read = read_of(40_000, || random_document(&mut rng));
        assert!(read > 400, "the fast reader read only {read} of 40,000");
        let read = read_of(20_000, || random_config(&mut rng));
        assert!(
            read > 6_000,
            "the fast reader read only {read} of 20,000 configs"
        );
    }

    #[test]
    fn mangled_example_configs_read_as_yaml_rust2_reads_them() {
        const BYTES: &[u8] = b" :-#'\"{}[],\n\tx&*!|>?";
        let example = include_str!("../../../checks.example.yaml").as_bytes();
        let mut rng = Rng(0x3a91_c0de);
        let mut read = 0;
        let total = 3_000;
        for _ in 0..total {
            let mut b = example.to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(b.len());
                match rng.below(4) {
                    0 => {
                        let len = (1 + rng.below(6)).min(b.len() - at);
                        b.drain(at..at + len);
                    }
                    1 => b.insert(at, BYTES[rng.below(BYTES.len())]),
                    2 => b[at] = BYTES[rng.below(BYTES.len())],
                    _ => b.insert(at, b' '),
                }
            }
            if let Ok(text) = String::from_utf8(b)
                && agrees(&text)
            {
                read += 1;
            }
        }
        assert!(
            read > total / 4,
            "the fast reader read only {read} of {total}"
        );
    }
}
