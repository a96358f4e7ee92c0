//! A YAML tree that remembers where each node was written, so that every
//! configuration error can name its line and column.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a node starts in the file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    pub line: usize,
    pub col: usize,
}

impl Mark {
    fn from_marker(m: Marker) -> Mark {
        Mark {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Value {
    /// A scalar as written; `plain` is false when it was quoted or a block scalar,
    /// which makes `"200"` a string and `200` a number.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
}

impl Node {
    /// True for `~`, `null`, and an empty plain value (`key:` with nothing after it).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
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

/// Parses one YAML document; an empty file is an empty mapping.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| SyntaxError {
        mark: Mark::from_marker(*e.marker()),
        message: e.info().to_string(),
    })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.root.unwrap_or(Node {
        value: Value::Map(Vec::new()),
        mark: Mark { line: 1, col: 1 },
    }))
}

enum Open {
    Seq(Node, usize),
    Map(Node, usize, Option<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    error: Option<SyntaxError>,
    documents: usize,
}

/// A block mapping's start as the scanner reports it is the colon after its first key;
/// a user looks for the mapping where its first key is written.
fn start_at_first_key(mut node: Node) -> Node {
    if let Value::Map(entries) = &node.value
        && let Some((first_key, _)) = entries.first()
        && (first_key.mark.line, first_key.mark.col) < (node.mark.line, node.mark.col)
    {
        node.mark = first_key.mark;
    }
    node
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
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

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, marker: Marker) {
        let mark = Mark::from_marker(marker);
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                let plain = style == TScalarStyle::Plain;
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
                if let Some(Open::Seq(node, anchor) | Open::Map(node, anchor, _)) = self.stack.pop()
                {
                    self.push_value(start_at_first_key(node), anchor);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
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

    fn map(node: &Node) -> &Vec<(Node, Node)> {
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
    fn nulls() {
        let root = parse("a:\nb: ~\nc: null\nd: \"\"\n").unwrap();
        let nulls: Vec<bool> = map(&root).iter().map(|(_, v)| v.is_null()).collect();
        assert_eq!(nulls, [true, true, true, false]);
    }
}
