//! `cabot man`: the manual pages, generated from the parser and the README, so that they
//! say what the binary does. `cabot(1)` with the exit codes, one `cabot-COMMAND(1)` per
//! subcommand (`man cabot-run`), and `cabot.yaml(5)`, the configuration reference, which
//! is the README's "Configuration" and "Alerts" sections in roff.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit_codes::ExitCode;

const README: &str = include_str!("../../README.md");

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write every page (cabot.1, cabot-COMMAND.1, cabot.yaml.5) into this folder instead
    /// of printing cabot(1)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    match &args.dir {
        None => {
            let (_, page) = pages()?.swap_remove(0);
            crate::print_out(&page)?;
        }
        Some(dir) => {
            for (name, page) in pages()? {
                let path = dir.join(&name);
                std::fs::write(&path, page).map_err(|e| write_error(&path, e))?;
            }
        }
    }
    Ok(ExitCode::Ok)
}

fn write_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot write {}: {e}", path.display())
}

/// Every page as `(file name, roff)`, `cabot.1` first.
pub fn pages() -> anyhow::Result<Vec<(String, String)>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let see_also = see_also(&cmd);
    let source = format!("cabot {}", env!("CARGO_PKG_VERSION"));
    let mut main = render(clap_mangen::Man::new(cmd.clone()).source(&source))?;
    main.push_str(".SH \"EXIT STATUS\"\n");
    main.push_str(&markdown_to_roff(section(README, "## Exit codes")));
    main.push_str(FILES);
    main.push_str(&see_also);
    let mut pages = vec![("cabot.1".to_string(), main)];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let man = clap_mangen::Man::new(sub.clone()).source(&source);
        let name = man.get_filename();
        let mut page = render(man)?;
        page.push_str(".SH \"SEE ALSO\"\n\\fBcabot\\fR(1), \\fBcabot.yaml\\fR(5)\n");
        pages.push((name, page));
    }
    pages.push(("cabot.yaml.5".to_string(), config_page()));
    Ok(pages)
}

fn render(man: clap_mangen::Man) -> anyhow::Result<String> {
    let mut out = Vec::new();
    man.render(&mut out)?;
    Ok(String::from_utf8(out)?)
}

const FILES: &str = r#".SH FILES
.TP
\fI/etc/cabot/checks.yaml\fR
the configuration, unless \fB\-c\fR or \fBCABOT_CONFIG\fR says otherwise; see \fBcabot.yaml\fR(5)
.TP
\fI/var/lib/cabot/cabot.db\fR
the state (SQLite, WAL mode), with \fIcabot.db.lock\fR and the backups \fIcabot.db.schemaN\-TIME.bak\fR beside it
.SH ENVIRONMENT
.TP
\fBCABOT_CONFIG\fR
the configuration file when \fB\-c\fR is not given
.TP
\fBNO_COLOR\fR
no colour on a terminal
"#;

fn see_also(cmd: &clap::Command) -> String {
    let mut refs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| format!("\\fBcabot\\-{}\\fR(1)", s.get_name().replace('-', "\\-")))
        .collect();
    refs.push("\\fBcabot.yaml\\fR(5)".to_string());
    format!(".SH \"SEE ALSO\"\n{}\n", refs.join(", "))
}

fn config_page() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let mut page = format!(".TH cabot.yaml 5 \"\" \"cabot {version}\"\n");
    page.push_str(".SH NAME\ncabot.yaml \\- the configuration of cabot(1)\n");
    page.push_str(".SH SYNOPSIS\n\\fI/etc/cabot/checks.yaml\\fR\n");
    page.push_str(".SH DESCRIPTION\n");
    page.push_str(&markdown_to_roff(section(README, "## Configuration")));
    page.push_str(".SH ALERTS\n");
    page.push_str(&markdown_to_roff(section(README, "## Alerts")));
    page.push_str(".SH \"SEE ALSO\"\n\\fBcabot\\fR(1), \\fBcabot\\-validate\\fR(1), /usr/share/doc/cabot/examples/checks.example.yaml\n");
    page
}

/// The body of the level-2 section headed `heading`, up to the next level-2 heading.
fn section<'a>(markdown: &'a str, heading: &str) -> &'a str {
    let Some(start) = markdown.find(&format!("\n{heading}\n")) else {
        return "";
    };
    let body = &markdown[start + heading.len() + 2..];
    let end = body.find("\n## ").map_or(body.len(), |e| e + 1);
    &body[..end]
}

/// The README's markdown, as far as these sections use it: headings, paragraphs, lists,
/// tables and fenced code, in roff that `man --warnings` reads without a complaint.
fn markdown_to_roff(markdown: &str) -> String {
    let mut out = String::new();
    let mut lines = markdown.lines().peekable();
    let mut table_header: Option<Vec<String>> = None;
    while let Some(line) = lines.next() {
        if line.starts_with("```") {
            out.push_str(".PP\n.RS 2\n.nf\n");
            for code in lines.by_ref() {
                if code.starts_with("```") {
                    break;
                }
                out.push_str(&escape_line(code));
                out.push('\n');
            }
            out.push_str(".fi\n.RE\n");
        } else if let Some(title) = line.strip_prefix("### ").or(line.strip_prefix("#### ")) {
            out.push_str(&format!(
                ".SS \"{}\"\n",
                inline(title).replace('"', "\\(dq")
            ));
        } else if line.starts_with('|') {
            let cells = table_cells(line);
            match &table_header {
                None => table_header = Some(cells),
                Some(_)
                    if cells
                        .iter()
                        .all(|c| c.chars().all(|ch| ch == '-' || ch == ':')) => {}
                Some(header) => {
                    out.push_str(".TP\n");
                    out.push_str(&inline(&cells[0]));
                    out.push('\n');
                    let rest: Vec<String> = cells
                        .iter()
                        .zip(header)
                        .skip(1)
                        .filter(|(cell, _)| !cell.is_empty())
                        .map(|(cell, name)| match name.as_str() {
                            "meaning" | "what it sends" | "range" => inline(cell),
                            _ => format!("{}: {}", inline(name), inline(cell)),
                        })
                        .collect();
                    out.push_str(&rest.join(". "));
                    out.push('\n');
                }
            }
        } else if line.trim().is_empty() {
            table_header = None;
            if lines.peek().is_some_and(|next| !next.trim().is_empty()) {
                out.push_str(".PP\n");
            }
        } else if let Some(item) = line.strip_prefix("- ") {
            out.push_str(".IP \\(bu 2\n");
            out.push_str(&inline(item));
            out.push('\n');
        } else {
            out.push_str(&inline(line.trim_start()));
            out.push('\n');
        }
    }
    out
}

fn table_cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    if !cell.trim().is_empty() {
        cells.push(cell.trim().to_string());
    }
    cells
}

/// One line of text: `code` and **strong** in bold, links as their text, escaped.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix('`')
            && let Some(end) = after.find('`')
        {
            out.push_str(&format!("\\fB{}\\fR", escape(&after[..end])));
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix("**")
            && let Some(end) = after.find("**")
        {
            out.push_str(&format!("\\fB{}\\fR", escape(&after[..end])));
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[')
            && let Some(close) = after.find("](")
            && let Some(end) = after[close..].find(')')
        {
            out.push_str(&inline(&after[..close]));
            rest = &after[close + end + 1..];
        } else {
            out.push_str(&escape(&c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

fn escape_line(line: &str) -> String {
    let mut out = escape(line);
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

/// Backslashes, and every character past ASCII by its code point, which groff reads
/// whatever the page's encoding.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("\\[u{:04X}]", c as u32)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_roff() {
        let md = "A `key` and **this** [link](#x).\n\n| key | default | meaning |\n|---|---|---|\n| `state` | `a.db` | the \\| file |\n\n```yaml\n.x: \\ é\n```\n- an item\n";
        assert_eq!(
            markdown_to_roff(md),
            "A \\fBkey\\fR and \\fBthis\\fR link.\n.PP\n.TP\n\\fBstate\\fR\ndefault: \\fBa.db\\fR. the | file\n.PP\n.PP\n.RS 2\n.nf\n\\&.x: \\e \\[u00E9]\n.fi\n.RE\n.IP \\(bu 2\nan item\n"
        );
    }

    #[test]
    fn sections_end_at_the_next_level_two_heading() {
        let md = "# t\n\n## One\n\nbody\n### sub\n\n## Two\n\nother\n";
        assert_eq!(section(md, "## One"), "\nbody\n### sub\n\n");
        assert_eq!(section(md, "## Two"), "\nother\n");
        assert_eq!(section(md, "## Three"), "");
    }
}
