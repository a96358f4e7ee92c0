//! `http`'s `json:` conditions on the body, as Gatus' `[BODY].status == UP` and Uptime
//! Kuma's JSON query: each a path into the JSON and one test of the value found there.
//!
//! Paths are a small JSONPath subset, enough for health endpoints: `$` (the document),
//! `.name`, `['name']` or `["name"]` (for names with dots or spaces) and `[N]` (the Nth
//! item of a list, from 0). No wildcards, filters or slices: one path, one value.

use super::pattern::Pattern;
use serde_json::Value as Json;

use crate::config::read::Reader;
use crate::config::yaml::{Node, Value};

const KEYS: &[&str] = &[
    "path",
    "equals",
    "matches",
    "less_than",
    "greater_than",
    "exists",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone)]
pub enum Test {
    /// The YAML scalar as written, and whether it was plain (unquoted): `200` is a number
    /// and `true` a boolean only when plain.
    Equals {
        text: String,
        plain: bool,
    },
    Matches(Pattern),
    LessThan(f64),
    GreaterThan(f64),
    Exists(bool),
}

/// One `json:` condition.
#[derive(Debug, Clone)]
pub struct Condition {
    pub path: String,
    pub steps: Vec<Step>,
    pub test: Test,
}

/// Reads `$.a.b[0]['c d']` into steps.
pub fn parse_path(text: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| {
        format!("'{text}' is not a JSON path: {why} (write e.g. $.status or $.checks[0]['name'])")
    };
    let rest = text
        .strip_prefix('$')
        .ok_or_else(|| bad("a path starts with $"))?;
    let mut steps = Vec::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '.' => {
                let start = i + 1;
                let mut end = rest.len();
                while let Some(&(j, c)) = chars.peek() {
                    if c == '.' || c == '[' {
                        end = j;
                        break;
                    }
                    chars.next();
                }
                let name = &rest[start..end];
                if name.is_empty() {
                    return Err(bad("a name is missing after a dot"));
                }
                steps.push(Step::Key(name.to_string()));
            }
            '[' => {
                let close = rest[i..]
                    .find(']')
                    .ok_or_else(|| bad("a [ is not closed"))?
                    + i;
                let inner = &rest[i + 1..close];
                let quoted = ['\'', '"']
                    .iter()
                    .find_map(|q| inner.strip_prefix(*q).and_then(|s| s.strip_suffix(*q)));
                match quoted {
                    Some(name) => steps.push(Step::Key(name.to_string())),
                    None => {
                        steps.push(Step::Index(inner.parse().map_err(|_| {
                            bad("[...] holds a number from 0 or a quoted name")
                        })?))
                    }
                }
                while chars.peek().is_some_and(|&(j, _)| j <= close) {
                    chars.next();
                }
            }
            _ => return Err(bad("expected . or [ after a step")),
        }
    }
    Ok(steps)
}

/// The value at `steps`, if there is one.
pub fn lookup<'a>(doc: &'a Json, steps: &[Step]) -> Option<&'a Json> {
    steps.iter().try_fold(doc, |v, step| match step {
        Step::Key(k) => v.get(k.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

/// A value as a message shows it: JSON, cut short.
fn shown(v: &Json) -> String {
    let text = v.to_string();
    match text.char_indices().nth(80) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Condition {
    /// `Ok` when `doc` passes, else what was wrong, naming the path, the expected and the
    /// actual value.
    pub fn judge(&self, doc: &Json) -> Result<(), String> {
        let path = &self.path;
        let found = lookup(doc, &self.steps);
        let Some(value) = found else {
            return match self.test {
                Test::Exists(false) => Ok(()),
                _ => Err(format!("json {path}: missing")),
            };
        };
        match &self.test {
            Test::Exists(true) => Ok(()),
            Test::Exists(false) => Err(format!("json {path}: is {}, expected none", shown(value))),
            Test::Equals { text, plain } => {
                let equal = match value {
                    Json::String(s) => s == text,
                    Json::Number(_) if *plain => text
                        .parse::<f64>()
                        .ok()
                        .zip(number(value))
                        .is_some_and(|(a, b)| a == b),
                    Json::Bool(b) if *plain => text == if *b { "true" } else { "false" },
                    Json::Null if *plain => matches!(text.as_str(), "null" | "~"),
                    _ => false,
                };
                if equal {
                    Ok(())
                } else {
                    Err(format!(
                        "json {path}: expected {text:?}, got {}",
                        shown(value)
                    ))
                }
            }
            Test::Matches(re) => {
                let text = match value {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                match re.is_match(&text) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(format!(
                        "json {path}: {} does not match /{}/",
                        shown(value),
                        re.as_str()
                    )),
                    Err(e) => Err(format!("json {path}: /{}/ gave up: {e}", re.as_str())),
                }
            }
            Test::LessThan(limit) | Test::GreaterThan(limit) => {
                let less = matches!(self.test, Test::LessThan(_));
                let Some(n) = number(value) else {
                    return Err(format!("json {path}: {} is not a number", shown(value)));
                };
                let ok = if less { n < *limit } else { n > *limit };
                if ok {
                    Ok(())
                } else {
                    Err(format!(
                        "json {path}: {} is not {} {limit}",
                        shown(value),
                        if less { "less than" } else { "greater than" }
                    ))
                }
            }
        }
    }
}

/// Reads the `json:` list at `node`.
pub(crate) fn read(r: &mut Reader, node: &Node, path: &str) -> Vec<Condition> {
    let mut out = Vec::new();
    for (i, item) in r.seq(node, path).iter().enumerate() {
        let ipath = format!("{path}[{i}]");
        let Some(f) = r.fields(item, &ipath, KEYS) else {
            continue;
        };
        let steps = r.require(&f, "path").and_then(|n| {
            let text = r.string(n, &f.path("path"))?;
            match parse_path(&text) {
                Ok(steps) => Some((text, steps)),
                Err(why) => {
                    r.error(n.mark, &f.path("path"), why);
                    None
                }
            }
        });
        let given: Vec<&str> = KEYS[1..]
            .iter()
            .copied()
            .filter(|k| f.get(k).is_some())
            .collect();
        if given.len() != 1 {
            r.error(
                f.mark,
                &ipath,
                format!(
                    "give exactly one of equals, matches, less_than, greater_than, exists (found {})",
                    if given.is_empty() { "none".to_string() } else { given.join(", ") }
                ),
            );
            continue;
        }
        let key = given[0];
        let Some(n) = f.get(key) else { continue };
        let kpath = f.path(key);
        let test = match key {
            "equals" => r
                .scalar(n, &kpath, "a value")
                .map(|(text, plain)| Test::Equals {
                    text: text.to_string(),
                    plain,
                }),
            "matches" => Pattern::read(r, n, &kpath).map(Test::Matches),
            "less_than" => r.number(n, &kpath).map(Test::LessThan),
            "greater_than" => r.number(n, &kpath).map(Test::GreaterThan),
            _ => match &n.value {
                Value::Scalar { text, plain: true } if text == "true" || text == "false" => {
                    Some(Test::Exists(text == "true"))
                }
                _ => {
                    r.error(n.mark, &kpath, "expected true or false");
                    None
                }
            },
        };
        if let (Some((text, steps)), Some(test)) = (steps, test) {
            out.push(Condition {
                path: text,
                steps,
                test,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        use Step::*;
        let k = |s: &str| Key(s.to_string());
        assert_eq!(parse_path("$").unwrap(), vec![]);
        assert_eq!(parse_path("$.status").unwrap(), vec![k("status")]);
        assert_eq!(
            parse_path("$.checks[1]['db.primary'][\"up time\"].ms").unwrap(),
            vec![
                k("checks"),
                Index(1),
                k("db.primary"),
                k("up time"),
                k("ms")
            ]
        );
        for bad in ["status", "$.", "$[x]", "$[1", "$..a", "$a"] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn conditions() {
        let doc: Json = serde_json::json!({
            "status": "UP", "code": 200, "ok": true, "none": null, "latency": "12.5",
            "checks": [{"name": "db", "ms": 250}]
        });
        let c = |path: &str, test: Test| Condition {
            path: path.to_string(),
            steps: parse_path(path).unwrap(),
            test,
        };
        let eq = |text: &str, plain: bool| Test::Equals {
            text: text.to_string(),
            plain,
        };
        let re = |p: &str| Test::Matches(Pattern::new(p).unwrap());
        let cases: Vec<(Condition, Result<(), String>)> = vec![
            (c("$.status", eq("UP", true)), Ok(())),
            (
                c("$.status", eq("DOWN", true)),
                Err("json $.status: expected \"DOWN\", got \"UP\"".into()),
            ),
            (c("$.code", eq("200", true)), Ok(())),
            (
                c("$.code", eq("200", false)),
                Err("json $.code: expected \"200\", got 200".into()),
            ),
            (c("$.ok", eq("true", true)), Ok(())),
            (c("$.none", eq("null", true)), Ok(())),
            (c("$.checks[0].name", re("^d")), Ok(())),
            (c("$.code", re("^2\\d\\d$")), Ok(())),
            (
                c("$.checks[0].ms", Test::LessThan(200.0)),
                Err("json $.checks[0].ms: 250 is not less than 200".into()),
            ),
            (c("$.latency", Test::LessThan(20.0)), Ok(())),
            (
                c("$.status", Test::GreaterThan(1.0)),
                Err("json $.status: \"UP\" is not a number".into()),
            ),
            (
                c("$.checks[3]", Test::Exists(true)),
                Err("json $.checks[3]: missing".into()),
            ),
            (c("$.error", Test::Exists(false)), Ok(())),
            (
                c("$.status", Test::Exists(false)),
                Err("json $.status: is \"UP\", expected none".into()),
            ),
        ];
        for (cond, want) in cases {
            assert_eq!(cond.judge(&doc), want, "{}", cond.path);
        }
    }
}
