//! `cabot validate`: every problem in the config, each with file:line:column and key.

use crate::cli::Global;
use crate::config::{self, format_diagnostic};
use crate::exit_codes::ExitCode;
use crate::text::plural;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(g: &Global, _args: &Args) -> anyhow::Result<ExitCode> {
    let loaded = config::load_thorough(&g.config)?;
    for w in &loaded.warnings {
        eprintln!("{}", format_diagnostic(&g.config, w, true));
    }
    if !g.quiet {
        let services = loaded.config.services.len();
        let checks: usize = loaded.config.services.iter().map(|s| s.checks.len()).sum();
        crate::print_out(&format!(
            "{}: ok ({services} service{}, {checks} check{})\n",
            g.config.display(),
            plural(services),
            plural(checks)
        ))?;
    }
    // The process ends now: freeing a large config node by node is work for nothing.
    std::mem::forget(loaded);
    Ok(ExitCode::Ok)
}
