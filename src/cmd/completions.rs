//! `cabot completions SHELL`, generated from the parser itself.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit_codes::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// The completion script for `shell`.
pub fn completions(shell: CompletionShell) -> Vec<u8> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "cabot", &mut out);
    out
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    crate::print_out(&String::from_utf8_lossy(&completions(args.shell)))?;
    Ok(ExitCode::Ok)
}
