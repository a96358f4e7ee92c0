//! The config an importer writes: a tree of mappings, lists and scalars in a fixed order,
//! with a comment before any item, rendered as block YAML. Every scalar (key or value) is
//! written by yaml-rust2's emitter, which knows when a string must be quoted ("+15551230001",
//! "yes", "12:30"); only the indentation and the comments are ours, since the emitter writes
//! no comments.

use yaml_rust2::{Yaml, YamlEmitter};

/// One node of the config being written.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Scalar(Yaml),
    /// Entries in the order written; each may have a comment line before it.
    Map(Vec<Entry>),
    List(Vec<Item>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub comment: Option<String>,
    pub key: String,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub comment: Option<String>,
    pub value: Node,
}

impl Node {
    pub fn map() -> Node {
        Node::Map(Vec::new())
    }

    pub fn list() -> Node {
        Node::List(Vec::new())
    }

    pub fn str(s: impl Into<String>) -> Node {
        Node::Scalar(Yaml::String(s.into()))
    }

    pub fn int(i: i64) -> Node {
        Node::Scalar(Yaml::Integer(i))
    }

    pub fn bool(b: bool) -> Node {
        Node::Scalar(Yaml::Boolean(b))
    }

    /// A number as YAML reads it back: `2.0`, not `2`, and never a string.
    pub fn real(f: f64) -> Node {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            Node::Scalar(Yaml::Integer(f as i64))
        } else {
            Node::Scalar(Yaml::Real(f.to_string()))
        }
    }

    /// A list of strings.
    pub fn strs<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Node {
        Node::List(
            items
                .into_iter()
                .map(|s| Item {
                    comment: None,
                    value: Node::str(s),
                })
                .collect(),
        )
    }

    /// Adds `key: value` to a mapping (builder style).
    pub fn with(mut self, key: &str, value: Node) -> Node {
        self.set(key, value);
        self
    }

    /// Adds `key: value` to a mapping.
    pub fn set(&mut self, key: &str, value: Node) {
        self.set_commented(None, key, value);
    }

    pub fn set_commented(&mut self, comment: Option<String>, key: &str, value: Node) {
        if let Node::Map(entries) = self {
            entries.push(Entry {
                comment,
                key: key.to_string(),
                value,
            });
        }
    }

    /// Appends to a list.
    pub fn push(&mut self, comment: Option<String>, value: Node) {
        if let Node::List(items) = self {
            items.push(Item { comment, value });
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Node::Scalar(_) => false,
            Node::Map(e) => e.is_empty(),
            Node::List(i) => i.is_empty(),
        }
    }

    /// The value at `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }
}

/// The document: a header comment, then the top-level mapping.
pub fn render(header: &[String], root: &Node) -> String {
    let mut out = String::new();
    for line in header {
        out.push_str(&comment_line(line));
        out.push('\n');
    }
    if let Node::Map(entries) = root {
        write_map(&mut out, entries, 0);
    }
    out
}

fn comment_line(text: &str) -> String {
    // A comment is one line: what comes from outside cannot end it early.
    let one: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("# {}", one.trim_end())
}

fn indent(out: &mut String, depth: usize) {
    out.extend(std::iter::repeat_n(' ', depth));
}

fn write_map(out: &mut String, entries: &[Entry], depth: usize) {
    for (i, e) in entries.iter().enumerate() {
        // The first entry of a list item follows its "- " and has no indent of its own.
        let lead = !(i == 0 && out.ends_with("- "));
        // (An item's comment goes before its dash: see `write_list`.)
        if let Some(c) = e.comment.as_ref().filter(|_| lead) {
            indent(out, depth);
            out.push_str(&comment_line(c));
            out.push('\n');
        }
        if lead {
            indent(out, depth);
        }
        out.push_str(&scalar(&Yaml::String(e.key.clone())));
        out.push(':');
        write_value(out, &e.value, depth);
    }
}

fn write_value(out: &mut String, value: &Node, depth: usize) {
    match value {
        Node::Scalar(y) => {
            out.push(' ');
            out.push_str(&scalar(y));
            out.push('\n');
        }
        Node::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Node::List(items) if items.is_empty() => out.push_str(" []\n"),
        Node::List(items) if items.iter().all(is_flow_item) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match &i.value {
                    Node::Scalar(y) => scalar(y),
                    _ => String::new(),
                })
                .collect();
            out.push_str(&format!(" [{}]\n", parts.join(", ")));
        }
        Node::Map(entries) => {
            out.push('\n');
            write_map(out, entries, depth + 2);
        }
        Node::List(items) => {
            out.push('\n');
            write_list(out, items, depth + 2);
        }
    }
}

fn is_flow_item(i: &Item) -> bool {
    i.comment.is_none() && matches!(i.value, Node::Scalar(_))
}

fn write_list(out: &mut String, items: &[Item], depth: usize) {
    for item in items {
        if let Some(c) = &item.comment {
            indent(out, depth);
            out.push_str(&comment_line(c));
            out.push('\n');
        }
        indent(out, depth);
        match &item.value {
            Node::Scalar(y) => {
                out.push_str("- ");
                out.push_str(&scalar(y));
                out.push('\n');
            }
            Node::Map(entries) if !entries.is_empty() => {
                out.push_str("- ");
                write_map(out, entries, depth + 2);
            }
            Node::Map(_) => out.push_str("- {}\n"),
            Node::List(inner) => {
                out.push('-');
                write_value(out, &Node::List(inner.clone()), depth);
            }
        }
    }
}

/// One scalar as yaml-rust2 writes it, quoted where a plain scalar would be read otherwise.
fn scalar(y: &Yaml) -> String {
    let mut text = String::new();
    let mut emitter = YamlEmitter::new(&mut text);
    if emitter.dump(y).is_err() {
        return "~".to_string();
    }
    text.strip_prefix("---\n")
        .or_else(|| text.strip_prefix("--- "))
        .unwrap_or(&text)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::YamlLoader;

    fn to_yaml(n: &Node) -> Yaml {
        match n {
            Node::Scalar(y) => y.clone(),
            Node::Map(entries) => Yaml::Hash(
                entries
                    .iter()
                    .map(|e| (Yaml::String(e.key.clone()), to_yaml(&e.value)))
                    .collect(),
            ),
            Node::List(items) => Yaml::Array(items.iter().map(|i| to_yaml(&i.value)).collect()),
        }
    }

    /// What is written reads back, through yaml-rust2's own parser, as the tree it came from.
    #[test]
    fn rendered_tree_reads_back_as_itself() {
        let mut users = Node::map();
        users.set_commented(
            Some("Cabot user 3\nwith a line break".into()),
            "alice",
            Node::map()
                .with("phone", Node::str("+15551230001"))
                .with("name", Node::str("yes"))
                .with("slack", Node::str("@alice")),
        );
        let mut checks = Node::list();
        checks.push(
            Some("Cabot check 12 (HTTP)".into()),
            Node::map()
                .with("name", Node::str("home: page # 1"))
                .with(
                    "expect_status",
                    Node::List(vec![Item {
                        comment: None,
                        value: Node::int(200),
                    }]),
                )
                .with("text_match", Node::str("^(?P<a>x)[,]{2} 'q' \"d\"$"))
                .with("threshold", Node::real(2.5))
                .with("frequency", Node::str("5m")),
        );
        checks.push(
            None,
            Node::map()
                .with("name", Node::str("12:30"))
                .with("headers", Node::map()),
        );
        let mut services = Node::list();
        services.push(
            Some("Cabot service 1".into()),
            Node::map()
                .with("name", Node::str("Website"))
                .with("users", Node::strs(["alice", "true", "b,c"]))
                .with("checks", checks),
        );
        let root = Node::map()
            .with("users", users)
            .with("services", services)
            .with("empty", Node::list());
        let text = render(&["Imported".into()], &root);
        let read = YamlLoader::load_from_str(&text).unwrap();
        assert_eq!(read[0], to_yaml(&root), "{text}");
        assert!(
            text.contains("# Cabot user 3 with a line break\n  alice:"),
            "{text}"
        );
        assert!(
            text.contains("  # Cabot service 1\n  - name: Website"),
            "{text}"
        );
        assert!(
            text.contains("      # Cabot check 12 (HTTP)\n      - name:"),
            "{text}"
        );
    }
}
