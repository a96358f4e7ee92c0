//! A YAML tree that remembers where each node was written, so that every
//! configuration error can name its line and column.

use std::borrow::Cow;
use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a node starts in the file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    pub line: u32,
    pub col: u32,
}

impl Mark {
    fn from_marker(m: Marker) -> Mark {
        // A config is at most 8 MiB: its lines and columns fit.
        Mark {
            line: m.line().min(u32::MAX as usize) as u32,
            col: m.col().saturating_add(1).min(u32::MAX as usize) as u32,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A scalar as written; `plain` is false when it was quoted or a block scalar,
    /// which makes `"200"` a string and `200` a number. Borrowed from the file where
    /// the file has it as it is (most scalars: a config's tree then costs no copies).
    Scalar {
        text: Cow<'a, str>,
        plain: bool,
    },
    Seq(Vec<Node<'a>>),
    Map(Vec<(Node<'a>, Node<'a>)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node<'a> {
    pub value: Value<'a>,
    pub mark: Mark,
}

impl Node<'_> {
    /// True for `~`, `null`, and an empty plain value (`key:` with nothing after it).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A word for the kind of node, for "expected a list, found a mapping".
    pub fn kind(&self) -> &'static str {
        match &self.value {
            _ if self.is_null() => "nothing",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub mark: Mark,
    pub message: String,
}

/// How deeply lists and mappings may nest: a config needs about six levels.
pub const MAX_DEPTH: usize = 64;
/// How many nodes aliases may copy in all: real configs copy a few; an alias bomb
/// (each anchor a list of aliases to the one before) would copy billions.
pub const MAX_ALIAS_NODES: usize = 10_000;

/// Parses one YAML document with yaml-rust2, the one reader of configs (so a config means
/// one thing whatever else is in the file); an empty file is an empty mapping.
pub fn parse(text: &str) -> Result<Node<'_>, SyntaxError> {
    // YAML allows a byte order mark at the start of a stream (editors on Windows write
    // one); yaml-rust2 takes it for the first key's first character. It is no column.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    too_deep_on_one_line(text)?;
    let mut builder = Builder {
        source: Source::new(text),
        stack: Vec::new(),
        root: None,
        anchors: HashMap::new(),
        aliased: 0,
        error: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        let error = SyntaxError {
            mark: Mark::from_marker(*e.marker()),
            message: e.info().to_string(),
        };
        let open: Vec<Mark> = builder.stack.iter().map(Open::mark).collect();
        return Err(where_a_person_looks(text, error, &open));
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.root.unwrap_or(Node {
        value: Value::Map(Vec::new()),
        mark: Mark { line: 1, col: 1 },
    }))
}

/// A line of compact block nodes (`- - - x`, `? ? x`) nests one level per indicator, and
/// the YAML parser recurses once per level: tens of thousands of them overflow its stack
/// before the tree's own limit is reached. They are counted here first.
fn too_deep_on_one_line(text: &str) -> Result<(), SyntaxError> {
    for (i, line) in text.lines().enumerate() {
        let mut rest = line.trim_start_matches([' ', '\t']);
        let mut depth = 0;
        while let Some(after) = rest
            .strip_prefix(['-', '?', ':'])
            .filter(|a| a.is_empty() || a.starts_with([' ', '\t']))
        {
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(SyntaxError {
                    mark: Mark {
                        line: (i + 1) as u32,
                        col: (line.len() - rest.len() + 1) as u32,
                    },
                    message: format!("lists and mappings nest deeper than {MAX_DEPTH} levels"),
                });
            }
            rest = after.trim_start_matches([' ', '\t']);
        }
    }
    Ok(())
}

enum Open<'a> {
    Seq(Node<'a>, usize),
    Map(Node<'a>, usize, Option<Node<'a>>),
}

impl Open<'_> {
    fn mark(&self) -> Mark {
        match self {
            Open::Seq(node, _) | Open::Map(node, _, _) => node.mark,
        }
    }
}

/// yaml-rust2's error, moved to where the mistake is written when yaml-rust2 says where it
/// gave up instead: a plain scalar that "found a tab" is reported at the scalar's start,
/// a line before the tab that indents the next line; an unclosed `[` or `{` is reported
/// where the parser stopped looking for its end, often the end of the file. `open` holds
/// the marks of the lists and mappings still open when the parser stopped.
fn where_a_person_looks(text: &str, error: SyntaxError, open: &[Mark]) -> SyntaxError {
    let line_of = |n: u32| text.lines().nth((n as usize).saturating_sub(1));
    if error.message == "while scanning a plain scalar, found a tab" {
        let tab = text
            .lines()
            .enumerate()
            .skip(error.mark.line as usize)
            .find_map(|(i, line)| {
                let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
                indent
                    .find('\t')
                    .map(|col| (i, indent[..col].chars().count()))
            });
        if let Some((i, col)) = tab {
            return SyntaxError {
                mark: Mark {
                    line: (i + 1) as u32,
                    col: (col + 1) as u32,
                },
                message: "a tab indents this line; YAML indents with spaces only".into(),
            };
        }
        return error;
    }
    if error.message.starts_with("tabs disallowed") {
        // Reported a column after the tab; point at the tab itself.
        let tab = line_of(error.mark.line).and_then(|line| {
            let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
            indent.find('\t').map(|col| indent[..col].chars().count())
        });
        return match tab {
            Some(col) => SyntaxError {
                mark: Mark {
                    line: error.mark.line,
                    col: (col + 1) as u32,
                },
                message: "a tab indents this line; YAML indents with spaces only".into(),
            },
            None => error,
        };
    }
    let (bracket, close) = if error.message.starts_with("while parsing a flow sequence") {
        ('[', ']')
    } else if error.message.starts_with("while parsing a flow mapping") {
        ('{', '}')
    } else {
        // Any other error inside a list or mapping in brackets opened on an earlier line
        // says which, as an unclosed one is the usual cause.
        let flow = open.iter().rev().find_map(|m| {
            let c = line_of(m.line)?
                .chars()
                .nth((m.col as usize).saturating_sub(1))?;
            matches!(c, '[' | '{').then_some((c, *m))
        });
        return match flow {
            Some((c, at)) if at.line < error.mark.line => SyntaxError {
                message: format!(
                    "{} (in the '{c}' opened at {}:{})",
                    error.message, at.line, at.col
                ),
                ..error
            },
            _ => error,
        };
    };
    let opened = open.iter().rev().find(|m| {
        line_of(m.line).and_then(|l| l.chars().nth((m.col as usize).saturating_sub(1)))
            == Some(bracket)
    });
    match opened {
        Some(at) if at.line < error.mark.line => {
            let rest_is_empty = text
                .lines()
                .skip((error.mark.line as usize).saturating_sub(1))
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
            let found = if rest_is_empty {
                "the end of the file".to_string()
            } else {
                format!("something else at {}:{}", error.mark.line, error.mark.col)
            };
            SyntaxError {
                mark: *at,
                message: format!(
                    "this '{bracket}' is not closed: where ',' or '{close}' was expected, found {found}"
                ),
            }
        }
        _ => error,
    }
}

struct Builder<'a> {
    /// The file, which most scalars are borrowed from.
    source: Source<'a>,
    stack: Vec<Open<'a>>,
    root: Option<Node<'a>>,
    /// Each anchored node, and how many nodes it holds.
    anchors: HashMap<usize, (Node<'a>, usize)>,
    /// Nodes copied by aliases so far.
    aliased: usize,
    error: Option<SyntaxError>,
    documents: usize,
}

/// How many nodes `node` holds, itself included.
fn size(node: &Node) -> usize {
    1 + match &node.value {
        Value::Scalar { .. } => 0,
        Value::Seq(items) => items.iter().map(size).sum(),
        Value::Map(entries) => entries.iter().map(|(k, v)| size(k) + size(v)).sum(),
    }
}

/// A block mapping's start as the scanner reports it is the colon after its first key;
/// a user looks for the mapping where its first key is written.
fn start_at_first_key(mut node: Node<'_>) -> Node<'_> {
    if let Value::Map(entries) = &node.value
        && let Some((first_key, _)) = entries.first()
        && (first_key.mark.line, first_key.mark.col) < (node.mark.line, node.mark.col)
    {
        node.mark = first_key.mark;
    }
    node
}

/// The file's text, and where in it (in bytes) yaml-rust2's positions (in chars) are.
struct Source<'a> {
    text: &'a str,
    ascii: bool,
    /// The last position looked up: (chars, bytes).
    at: (usize, usize),
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Source<'a> {
        Source {
            text,
            ascii: text.is_ascii(),
            at: (0, 0),
        }
    }

    /// The byte offset of the char at `index`. Scalars come in the file's order, so each
    /// look-up walks on from the one before.
    fn byte_at(&mut self, index: usize) -> Option<usize> {
        if self.ascii {
            return (index <= self.text.len()).then_some(index);
        }
        if index < self.at.0 {
            self.at = (0, 0);
        }
        let (chars, bytes) = self.at;
        let rest = self.text.get(bytes..)?;
        let offset = match rest.char_indices().nth(index - chars) {
            Some((offset, _)) => offset,
            None if rest.chars().count() == index - chars => rest.len(),
            None => return None,
        };
        self.at = (index, bytes + offset);
        Some(bytes + offset)
    }

    /// `text`, a scalar yaml-rust2 read at `marker`, as a slice of the file where the file
    /// has it as it is (plain, or quoted without escapes or folds): the same text, kept
    /// without a copy, and yaml-rust2's string freed at once (a tenth less memory touched
    /// at 10,000 checks). yaml-rust2 read it; this only avoids holding a second copy.
    fn scalar(&mut self, text: String, style: TScalarStyle, marker: Marker) -> Cow<'a, str> {
        let skip = match style {
            TScalarStyle::Plain => 0,
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => 1,
            _ => return Cow::Owned(text),
        };
        let found = self
            .byte_at(marker.index())
            .and_then(|start| self.text.get(start + skip..start + skip + text.len()))
            .filter(|written| *written == text);
        match found {
            Some(written) => Cow::Borrowed(written),
            None => Cow::Owned(text),
        }
    }
}

impl<'a> Builder<'a> {
    fn push_value(&mut self, node: Node<'a>, anchor: usize) {
        if anchor > 0 {
            let n = size(&node);
            self.anchors.insert(anchor, (node.clone(), n));
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Seq(seq, _)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Open::Map(map, _, pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Value::Map(entries) = &mut map.value {
                        entries.push((key, node));
                    }
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, marker: Marker) {
        // After an error nothing more is built: the parser still reads to the end, but a
        // bomb or a tower of nesting costs no memory.
        if self.error.is_some() {
            return;
        }
        let mark = Mark::from_marker(marker);
        if matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..))
            && self.stack.len() >= MAX_DEPTH
        {
            self.error = Some(SyntaxError {
                mark,
                message: format!("lists and mappings nest deeper than {MAX_DEPTH} levels"),
            });
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                let plain = style == TScalarStyle::Plain;
                let text = self.source.scalar(text, style, marker);
                self.push_value(
                    Node {
                        value: Value::Scalar { text, plain },
                        mark,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open::Seq(
                Node {
                    value: Value::Seq(Vec::new()),
                    mark,
                },
                anchor,
            )),
            Event::MappingStart(anchor, _) => self.stack.push(Open::Map(
                Node {
                    value: Value::Map(Vec::new()),
                    mark,
                },
                anchor,
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(Open::Seq(mut node, anchor) | Open::Map(mut node, anchor, _)) =
                    self.stack.pop()
                {
                    // Grown by doubling: at 10,000 checks the spare room was a fifth of
                    // the tree, which is most of a config's memory while it is read.
                    match &mut node.value {
                        Value::Seq(items) => items.shrink_to_fit(),
                        Value::Map(entries) => entries.shrink_to_fit(),
                        Value::Scalar { .. } => {}
                    }
                    self.push_value(start_at_first_key(node), anchor);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((_, n)) if self.aliased + n > MAX_ALIAS_NODES => {
                    self.error = Some(SyntaxError {
                        mark,
                        message: format!(
                            "aliases here copy more than {MAX_ALIAS_NODES} nodes in all; write the values out"
                        ),
                    });
                }
                Some((node, n)) => {
                    let mut node = node.clone();
                    self.aliased += n;
                    node.mark = mark;
                    self.push_value(node, 0);
                }
                None => {
                    self.error.get_or_insert(SyntaxError {
                        mark,
                        message: "alias to an unknown anchor".into(),
                    });
                }
            },
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents == 2 {
                    self.error.get_or_insert(SyntaxError {
                        mark,
                        message: "a second YAML document (after ---) would be ignored; keep the whole config in one document".into(),
                    });
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map<'a>(node: &'a Node<'a>) -> &'a Vec<(Node<'a>, Node<'a>)> {
        match &node.value {
            Value::Map(m) => m,
            other => panic!("expected a map, got {other:?}"),
        }
    }

    #[test]
    fn marks_are_one_based_lines_and_columns() {
        let root = parse("a: 1\nb:\n  c: { d: \"x\" }\n").unwrap();
        let entries = map(&root);
        assert_eq!(entries[0].0.mark, Mark { line: 1, col: 1 });
        assert_eq!(entries[0].1.mark, Mark { line: 1, col: 4 });
        let inner = map(&entries[1].1);
        assert_eq!(inner[0].0.mark, Mark { line: 3, col: 3 });
        let flow = map(&inner[0].1);
        assert_eq!(flow[0].0.mark, Mark { line: 3, col: 8 });
        assert_eq!(flow[0].1.mark, Mark { line: 3, col: 11 });
        assert!(matches!(&flow[0].1.value, Value::Scalar { plain: false, text } if text == "x"));
    }

    #[test]
    fn a_block_mapping_starts_at_its_first_key() {
        let root = parse("state: x\nservices:\n  - name: web\n    url: u\n").unwrap();
        assert_eq!(root.mark, Mark { line: 1, col: 1 });
        let Value::Seq(items) = &map(&root)[1].1.value else {
            panic!("a list")
        };
        assert_eq!(items[0].mark, Mark { line: 3, col: 5 });
    }

    #[test]
    fn a_second_document_is_an_error() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(err.mark.line, 2, "{err:?}");
        assert!(parse("---\na: 1\n").is_ok());
    }

    #[test]
    fn empty_document_is_an_empty_map() {
        assert!(map(&parse("").unwrap()).is_empty());
        assert!(map(&parse("# only a comment\n").unwrap()).is_empty());
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        let root = parse("a: &x [1, 2]\nb: *x\n").unwrap();
        let entries = map(&root);
        assert!(matches!(&entries[1].1.value, Value::Seq(items) if items.len() == 2));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.mark.line >= 1, "{err:?}");
        assert!(!err.message.is_empty());
    }

    #[test]
    fn bombs_and_towers_are_errors_not_exhaustion() {
        let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 9].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(
            err.message
                .contains("aliases here copy more than 10000 nodes"),
            "{err:?}"
        );
        // a1 copies 9 x 10 nodes, a2 9 x 91, a3 9 x 820 (8,289 in all): a4's first alias
        // would pass 10,000, on line 5.
        assert_eq!((err.mark.line, err.mark.col), (5, 10), "{err:?}");

        let tower = format!("x:\n  {}1\n", "- ".repeat(50_000));
        let err = parse(&tower).unwrap_err();
        assert_eq!((err.mark.line, err.mark.col), (2, 131), "{err:?}");
        let keys = format!("x:\n  {}1\n", "? ".repeat(50_000));
        assert!(parse(&keys).is_err());
        let mut indented = String::from("x:\n");
        for i in 0..100 {
            indented.push_str(&format!("{}- \n", " ".repeat(i + 2)));
        }
        let err = parse(&indented).unwrap_err();
        assert!(
            err.message.contains("nest deeper than 64 levels"),
            "{err:?}"
        );
        // Sixty levels are fine.
        assert!(parse(&format!("x:\n  {}1\n", "- ".repeat(60))).is_ok());
    }

    #[test]
    fn nulls() {
        let root = parse("a:\nb: ~\nc: null\nd: \"\"\n").unwrap();
        let nulls: Vec<bool> = map(&root).iter().map(|(_, v)| v.is_null()).collect();
        assert_eq!(nulls, [true, true, true, false]);
    }

    #[test]
    fn scalars_written_as_they_read_are_borrowed_from_the_file_and_the_rest_are_owned() {
        // Non-ASCII before them, so positions in chars and in bytes differ.
        let text = "é: 1\nplain: some text\nsingle: 'quoted'\ndouble: \"x y\"\n\
                    escaped: \"a\\tb\"\nfolded: one\n  two\nblock: |\n  line\nlast: ünï\n";
        let root = parse(text).unwrap();
        let scalars: Vec<(&str, &str, bool)> = map(&root)
            .iter()
            .map(|(k, v)| match (&k.value, &v.value) {
                (Value::Scalar { text: key, .. }, Value::Scalar { text, .. }) => (
                    key.as_ref(),
                    text.as_ref(),
                    matches!(text, Cow::Borrowed(_)),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            scalars,
            [
                ("é", "1", true),
                ("plain", "some text", true),
                ("single", "quoted", true),
                ("double", "x y", true),
                ("escaped", "a\tb", false),
                ("folded", "one two", false),
                ("block", "line\n", false),
                ("last", "ünï", true),
            ]
        );
    }
}
