//! `cabot serve-status`: answer `/status/` with "Checks running" or "Checks not running".

use crate::cli::Global;
use crate::exit_codes::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on [default: the config's status.listen, else 127.0.0.1:5001]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| cfg.status.listen.clone());
    crate::server::serve(cfg, &listen, !g.quiet)?;
    Ok(ExitCode::Ok)
}
