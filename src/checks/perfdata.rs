//! A Nagios plugin's performance data, parsed once when the plugin answers, stored as JSON
//! beside the result and exported on `/metrics` from the same type.

use serde::{Deserialize, Serialize};

/// Every `'label'=value[UOM];[warn];[crit];[min];[max]` item a plugin reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Perfdata(pub Vec<PerfItem>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerfItem {
    pub label: String,
    pub value: f64,
    /// The unit of measure: `s`, `%`, `B`, `c`, ... or empty.
    pub uom: String,
    pub warn: Option<Threshold>,
    pub crit: Option<Threshold>,
    pub min: Option<Threshold>,
    pub max: Option<Threshold>,
}

/// A threshold field: a number, or a Nagios range such as `10:20` or `@3:4`, kept as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Threshold {
    Number(f64),
    Range(String),
}

impl Perfdata {
    /// Parses the perfdata part of a plugin's output; items that are not perfdata are skipped.
    pub fn parse(text: &str) -> Perfdata {
        let mut items = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (label, after) = match rest.strip_prefix('\'') {
                Some(quoted) => quoted_label(quoted),
                None => {
                    let eq = rest.find('=').unwrap_or(rest.len());
                    (rest[..eq].to_string(), &rest[eq..])
                }
            };
            let Some(after) = after.strip_prefix('=') else {
                break;
            };
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            let (spec, next) = after.split_at(end);
            rest = next.trim_start();
            let mut fields = spec.split(';');
            let value = fields.next().unwrap_or("");
            let number_end = value
                .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
                .unwrap_or(value.len());
            let (number, uom) = value.split_at(number_end);
            let Ok(value) = number.parse::<f64>() else {
                continue;
            };
            let mut threshold = || match fields.next() {
                Some(s) if !s.is_empty() => Some(
                    s.parse::<f64>()
                        .map_or_else(|_| Threshold::Range(s.to_string()), Threshold::Number),
                ),
                _ => None,
            };
            let (warn, crit, min, max) = (threshold(), threshold(), threshold(), threshold());
            items.push(PerfItem {
                label,
                value,
                uom: uom.to_string(),
                warn,
                crit,
                min,
                max,
            });
        }
        Perfdata(items)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The JSON kept in the state.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "[]".into())
    }

    /// Perfdata read back from the state; what cannot be read is none.
    pub fn from_json(text: &str) -> Perfdata {
        serde_json::from_str(text).unwrap_or_default()
    }
}

/// A label in quotes (`''` is a quote inside it), and what follows its closing quote.
fn quoted_label(quoted: &str) -> (String, &str) {
    let mut label = String::new();
    let mut chars = quoted.char_indices().peekable();
    let mut end = quoted.len();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|(_, n)| *n) == Some('\'') {
                label.push('\'');
                chars.next();
                continue;
            }
            end = i + 1;
            break;
        }
        label.push(c);
    }
    (label, &quoted[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_tcp_perfdata() {
        let p = Perfdata::parse("time=0.000123s;;;0.000000;10.000000");
        assert_eq!(
            p.0,
            [PerfItem {
                label: "time".into(),
                value: 0.000123,
                uom: "s".into(),
                warn: None,
                crit: None,
                min: Some(Threshold::Number(0.0)),
                max: Some(Threshold::Number(10.0)),
            }]
        );
    }

    #[test]
    fn forms() {
        let p = Perfdata::parse("'disk used'=80%;90;95 load1=0.5;1:2;@3:4 'it''s'=3c bogus");
        assert_eq!(p.0.len(), 3);
        assert_eq!(p.0[0].label, "disk used");
        assert_eq!(p.0[0].uom, "%");
        assert_eq!(p.0[0].crit, Some(Threshold::Number(95.0)));
        assert_eq!(p.0[1].warn, Some(Threshold::Range("1:2".into())));
        assert_eq!(p.0[1].crit, Some(Threshold::Range("@3:4".into())));
        assert_eq!(p.0[2].label, "it's");
        assert_eq!(p.0[2].uom, "c");
    }

    #[test]
    fn stored_as_the_json_the_state_has_always_held() {
        let p = Perfdata::parse("load1=0.5;1:2;;0");
        let json = p.to_json();
        assert_eq!(
            json,
            r#"[{"label":"load1","value":0.5,"uom":"","warn":"1:2","crit":null,"min":0.0,"max":null}]"#
        );
        assert_eq!(Perfdata::from_json(&json), p);
        assert_eq!(Perfdata::from_json("not json"), Perfdata::default());
    }
}
