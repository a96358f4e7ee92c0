//! `GET /status/` (and `/status`): "Checks running" (200) when the last completed run
//! finished within `stale_after`, else "Checks not running" (503). Plain text, no login.

use super::View;
use super::wire::Response;
use crate::core::running::words;

pub fn answer(view: &View) -> Response {
    let code = if view.running { 200 } else { 503 };
    Response::text(code, words(view.running))
}
