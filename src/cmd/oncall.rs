//! `cabot oncall`: who is on duty now and for the next 7 days, per rota, and where each
//! answer came from; a warning where a rota yields nobody and its fallback stands in.

use std::fmt::Write as _;

use crate::cli::Global;
use crate::clock;
use crate::config::{
    CALENDAR_MAX, CalendarLocation, CalendarRead, CalendarShifts, CalendarSource, Rota,
};
use crate::core::oncall::{Source, on_duty, shifts};
use crate::exit_codes::ExitCode;
use crate::store::oncall::{CalendarCopy, KeptShifts};

const WEEK: i64 = 7 * 86_400;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Put USER on duty for ROTA from now, whatever the rotation says (a swap, a sick day)
    Override(OverrideArgs),
}

#[derive(Debug, clap::Args)]
pub struct OverrideArgs {
    /// The rota, as named under oncall:
    pub rota: String,
    /// The user on duty instead, as named under users:
    #[arg(required_unless_present = "cancel")]
    pub user: Option<String>,
    /// How long
    #[arg(long = "for", value_name = "DURATION", value_parser = crate::cli::ack_duration, required_unless_present = "cancel")]
    pub duration: Option<std::time::Duration>,
    /// Who arranged it [default: $SUDO_USER, else $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// End the rota's overrides now, those in force and those to come: the rota's own
    /// schedule is back in charge
    #[arg(long, conflicts_with_all = ["user", "duration"])]
    pub cancel: bool,
}

/// A calendar's occurrences are worked out from this long before now (a recovery reaches
/// whoever was on duty when its incident began) to this long after (`cabot oncall`'s week,
/// and the real end of its last shift).
const BEHIND: i64 = 35 * 86_400;
const AHEAD: i64 = 15 * 86_400;
/// A calendar is expanded this much further ahead than a command looks, and the expansion
/// kept in the state: an unchanged calendar is expanded again about once a week, not
/// every run.
const KEEP_AHEAD: i64 = 7 * 86_400;
/// How long a calendar that suddenly holds no events is not believed: the copy with
/// events read before stays in use until it is this old.
const HOLD_EMPTY: i64 = 3 * 86_400;
/// Changes whenever the expansion would give other shifts for the same calendar, so that
/// an upgrade never uses shifts an older cabot worked out.
const EXPANDER: &str = "ical-3";

/// How a command reads a calendar rota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// `cabot run`: an address once its `refresh` has passed since the last attempt, a
    /// file every time; what was read is kept in the state.
    WhenDue,
    /// `cabot oncall`: what `cabot run` would use now, read the same way (so the two never
    /// name different people), keeping nothing.
    LikeRun,
    /// `cabot status`: files, and for addresses the copies in the state.
    Kept,
}

/// The calendar reads a command started, each on a thread of its own and bounded by its
/// calendar's timeout (and the expansion after it).
#[must_use = "finish() waits for the reads and gives the attempts to keep"]
pub struct CalendarReads {
    reads: Vec<std::thread::JoinHandle<Option<CalendarCopy>>>,
}

impl CalendarReads {
    /// Waits for every read; returns the attempts for `cabot run` to keep.
    pub fn finish(self) -> Vec<CalendarCopy> {
        self.reads
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .collect()
    }
}

/// Fills each rota's overrides and calendar in, from the state and the calendars, so that
/// whoever is on duty is told. Nothing to do without rotas; a state that cannot be read
/// (missing, another schema) gives no overrides or kept copies, and the command that reads
/// it for its own work says why. The calendars that must be read are read on threads of
/// their own: a reader of a rota waits for its calendar (at most its timeout), nobody else.
pub fn load(cfg: &mut crate::config::Config, now: i64, read: Read) -> CalendarReads {
    if cfg.oncall.is_empty() {
        return CalendarReads { reads: Vec::new() };
    }
    let store = crate::store::Store::open_read_only(&cfg.state, None)
        .ok()
        .flatten();
    load_from(cfg, store.as_ref(), now, read)
}

/// `load` through a state the caller has open already (or none).
pub fn load_from(
    cfg: &mut crate::config::Config,
    store: Option<&crate::store::Store>,
    now: i64,
    read: Read,
) -> CalendarReads {
    let mut reads = Vec::new();
    if cfg.oncall.is_empty() {
        return CalendarReads { reads };
    }
    let started = std::time::Instant::now();
    let mut overrides = store
        .as_ref()
        .and_then(|s| s.overrides(now).ok())
        .unwrap_or_default();
    let mut kept = store
        .as_ref()
        .and_then(|s| s.calendars().ok())
        .unwrap_or_default();
    let users = std::sync::Arc::new(cfg.users.clone());
    for (name, rota) in cfg.oncall.iter_mut() {
        rota.overrides = overrides.remove(name).unwrap_or_default();
        let Some(source) = &rota.calendar else {
            continue;
        };
        let job = CalendarJob {
            rota: name.clone(),
            source: source.clone(),
            kept: kept
                .remove(name)
                .filter(|k| k.source == source_digest(&source.location)),
            context: context_digest(&users, &rota.time_zone),
            users: std::sync::Arc::clone(&users),
            zone: rota.time_zone.clone(),
            now,
            read,
        };
        if !job.due()
            && let Some(shifts) = job.kept_shifts(None)
        {
            rota.from_calendar = Some(CalendarRead::ready(shifts));
            continue;
        }
        let standing = job.kept_shifts(Some(format!(
            "it was still being read when needed (its timeout: {})",
            crate::text::duration(source.timeout)
        )));
        let cell = CalendarRead::pending(
            standing.unwrap_or_else(|| CalendarShifts {
                problem: Some(format!(
                    "it was still being read when needed (its timeout: {}), and no copy is kept",
                    crate::text::duration(source.timeout)
                )),
                ..CalendarShifts::default()
            }),
            started + source.timeout,
        );
        rota.from_calendar = Some(std::sync::Arc::clone(&cell));
        let spawned = std::thread::Builder::new()
            .name(format!("calendar {name}"))
            .spawn(move || {
                let (attempt, shifts) = job.read();
                cell.settle(shifts);
                attempt
            });
        // Without a thread the kept copy stands in, as for a calendar that does not answer.
        if let Ok(handle) = spawned {
            reads.push(handle);
        }
    }
    CalendarReads { reads }
}

/// Where a calendar comes from, as the state keeps it: a digest, since an address may
/// hold a secret.
fn source_digest(location: &CalendarLocation) -> String {
    let key = match location {
        CalendarLocation::Url(url) => format!("url:{url}"),
        CalendarLocation::File(path) => format!("file:{}", path.display()),
    };
    crate::store::secret_digest(&key)
}

/// What a calendar's shifts depend on besides its text: who the users are (keys, names and
/// email addresses), the rota's zone, and the expander.
fn context_digest(
    users: &std::collections::BTreeMap<String, crate::config::User>,
    zone: &jiff::tz::TimeZone,
) -> String {
    let mut key = format!("{EXPANDER}\n{}\n", zone.iana_name().unwrap_or("(zone)"));
    if zone.iana_name().is_none() {
        let _ = writeln!(key, "{zone:?}");
    }
    for (name, user) in users {
        let _ = writeln!(
            key,
            "{name}\t{}\t{}",
            user.contact("email").unwrap_or(""),
            user.name.as_deref().unwrap_or("")
        );
    }
    crate::store::secret_digest(&key)
}

/// One rota's calendar to read, with what it is read against.
struct CalendarJob {
    rota: String,
    source: CalendarSource,
    /// The state's copy, of this calendar.
    kept: Option<CalendarCopy>,
    context: String,
    users: std::sync::Arc<std::collections::BTreeMap<String, crate::config::User>>,
    zone: jiff::tz::TimeZone,
    now: i64,
    read: Read,
}

impl CalendarJob {
    /// Whether the calendar itself is read now, or its kept copy serves.
    fn due(&self) -> bool {
        let is_file = matches!(self.source.location, CalendarLocation::File(_));
        let refresh = self.source.refresh.as_secs() as i64;
        match self.read {
            Read::WhenDue | Read::LikeRun => {
                is_file
                    || self
                        .kept
                        .as_ref()
                        .is_none_or(|k| k.tried_at.saturating_add(refresh) <= self.now)
            }
            Read::Kept => is_file,
        }
    }

    /// The kept copy's shifts, when it was kept expanded for this window and context; with
    /// `problem` (or the kept one) they stand in for a calendar not read.
    fn kept_shifts(&self, problem: Option<String>) -> Option<CalendarShifts> {
        let k = self.kept.as_ref()?;
        let shifts = self.fits(k)?;
        let problem = problem.or_else(|| k.problem.clone());
        Some(CalendarShifts {
            occurrences: shifts.occurrences.clone(),
            cached: problem.is_some(),
            read_at: Some(k.read_at.unwrap_or(k.tried_at)),
            problem,
            warnings: shifts.warnings.clone(),
        })
    }

    /// The copy's kept shifts, if they serve this command.
    fn fits<'k>(&self, k: &'k CalendarCopy) -> Option<&'k KeptShifts> {
        let now = self.now;
        k.shifts
            .as_ref()
            .filter(|s| s.serve(&self.context, now - BEHIND, now.saturating_add(AHEAD)))
    }

    /// `body` expanded for this command and a week more, or the kept shifts when `body`
    /// is the kept copy and they still serve. The flag says whether it was expanded.
    fn expand(&self, body: &str) -> Result<(KeptShifts, bool), String> {
        if let Some(k) = &self.kept
            && k.body.as_deref() == Some(body)
            && let Some(shifts) = self.fits(k)
        {
            return Ok((shifts.clone(), false));
        }
        let (from, to) = (
            self.now - BEHIND,
            self.now.saturating_add(AHEAD + KEEP_AHEAD),
        );
        let expanded = crate::core::ical::expand(body, &self.users, &self.zone, from, to)?;
        Ok((
            KeptShifts {
                context: self.context.clone(),
                from,
                to,
                occurrences: expanded.occurrences,
                warnings: expanded.warnings,
                events: expanded.events,
            },
            true,
        ))
    }

    /// Why a calendar that now holds no events at all is not taken, when the copy kept
    /// has events and was read less than `HOLD_EMPTY` ago: an export gone wrong must not
    /// silently put the fallback on duty. `None`: take it.
    fn hold_empty(&self) -> Option<String> {
        let k = self.kept.as_ref()?;
        let read_at = k.read_at?;
        let events = k.shifts.as_ref().map_or(0, |s| s.events);
        let until = read_at.saturating_add(HOLD_EMPTY);
        (k.body.is_some() && events > 0 && self.now < until).then(|| {
            format!(
                "it now holds no events at all, which cabot takes only from {}, when the copy \
                 with {} is {} old",
                clock::format_time(until),
                crate::text::count(events, "event"),
                crate::text::duration(std::time::Duration::from_secs(HOLD_EMPTY as u64))
            )
        })
    }

    /// Reads the calendar when due and uses it if it is good; else the copy kept in the
    /// state; else nothing (the fallback is on duty). Returns the attempt to keep, if any.
    fn read(self) -> (Option<CalendarCopy>, CalendarShifts) {
        let now = self.now;
        let digest = source_digest(&self.source.location);
        let refresh = self.source.refresh.as_secs() as i64;
        let keeps = self.read == Read::WhenDue;
        let kept = self.kept.as_ref();
        let mut attempt = None;
        let mut problem = None;
        if self.due() {
            let fetched =
                fetch(&self.source).and_then(|body| self.expand(&body).map(|e| (body, e)));
            let empty = matches!(&fetched, Ok((_, (shifts, _))) if shifts.events == 0);
            let fetched = match self.hold_empty().filter(|_| empty) {
                Some(why) => Err(why),
                None => fetched,
            };
            match fetched {
                Ok((body, (shifts, expanded))) => {
                    let changed = kept.is_none_or(|k| {
                        k.body.as_deref() != Some(body.as_str())
                            || k.problem.is_some()
                            || k.tried_at.saturating_add(refresh) <= now
                    });
                    let read = CalendarShifts {
                        occurrences: shifts.occurrences.clone(),
                        cached: false,
                        read_at: Some(now),
                        problem: None,
                        warnings: shifts.warnings.clone(),
                    };
                    let attempt = (keeps && (changed || expanded)).then(|| CalendarCopy {
                        rota: self.rota.clone(),
                        source: digest,
                        body: Some(body),
                        read_at: Some(now),
                        tried_at: now,
                        problem: None,
                        shifts: Some(shifts),
                    });
                    return (attempt, read);
                }
                Err(why) => {
                    attempt = keeps.then(|| CalendarCopy {
                        rota: self.rota.clone(),
                        source: digest.clone(),
                        body: None,
                        read_at: None,
                        tried_at: now,
                        problem: Some(why.clone()),
                        shifts: None,
                    });
                    problem = Some(why);
                }
            }
        }
        let problem = problem.or_else(|| kept.and_then(|k| k.problem.clone()));
        let from_copy =
            kept.and_then(|k| Some((k.body.as_deref()?, k.read_at.unwrap_or(k.tried_at))));
        let shifts = match from_copy.map(|(body, at)| (self.expand(body), at)) {
            Some((Ok((shifts, expanded)), read_at)) => {
                if keeps && expanded {
                    // Keep the copy's new shifts, with the attempt if there was one.
                    attempt = Some(match attempt {
                        Some(a) => CalendarCopy {
                            shifts: Some(shifts.clone()),
                            ..a
                        },
                        None => CalendarCopy {
                            shifts: Some(shifts.clone()),
                            ..kept.cloned().unwrap_or_default()
                        },
                    });
                }
                CalendarShifts {
                    occurrences: shifts.occurrences,
                    cached: problem.is_some(),
                    read_at: Some(read_at),
                    problem,
                    warnings: shifts.warnings,
                }
            }
            _ => CalendarShifts {
                problem: Some(problem.unwrap_or_else(|| {
                    "not read yet (`cabot run` reads it and keeps a copy)".to_string()
                })),
                ..CalendarShifts::default()
            },
        };
        (attempt, shifts)
    }
}

/// A calendar's text, from its file or over HTTPS within its timeout, at most 4 MiB.
fn fetch(source: &CalendarSource) -> Result<String, String> {
    match &source.location {
        CalendarLocation::File(path) => {
            crate::config::read_calendar_file(path).map_err(|e| format!("cannot read it: {e}"))
        }
        CalendarLocation::Url(url) => {
            let client = crate::http_client::Client::new();
            let mut request = crate::http_client::Request::get(url.clone());
            request.ca_pem = source.ca_pem.clone();
            request
                .headers
                .push(("Accept".into(), "text/calendar".into()));
            let hide = |why: String| why.replace(url.as_str(), "its address");
            let mut response = client.send(&request, source.timeout).map_err(hide)?;
            let status = response.status().as_u16();
            if status != 200 {
                return Err(format!("it answered HTTP {status}"));
            }
            let (bytes, _) = crate::http_client::Client::read_body(
                &mut response,
                CALENDAR_MAX + 1,
                source.timeout,
            )
            .map_err(hide)?;
            crate::config::calendar_text(bytes)
        }
    }
}

/// `2026-11-30 09:00 GMT` in the rota's own time zone.
fn local(rota: &Rota, t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| {
            ts.to_zoned_datetime(rota.time_zone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_else(|_| clock::format_time(t))
}

/// Where a calendar rota's answers come from, and what is wrong with it.
fn calendar_lines(out: &mut String, rota: &Rota, source: &CalendarSource, read: &CalendarShifts) {
    if let Some(at) = read.read_at {
        let _ = writeln!(out, "  from {}, read {}", source.location, local(rota, at));
    }
    if let Some(problem) = &read.problem {
        let then = match read.read_at {
            Some(at) => format!("the copy read {} is in use", local(rota, at)),
            None => format!(
                "nobody is on duty from it: its fallback {} is on duty",
                rota.fallback
            ),
        };
        let _ = writeln!(
            out,
            "  warning: {} could not be read: {problem}; {then}",
            source.location
        );
    }
    for w in &read.warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
}

/// The report for every rota at `now`.
pub fn report(rotas: &[&Rota], now: i64) -> String {
    let mut out = String::new();
    for rota in rotas {
        let (user, source) = on_duty(rota, now);
        // The shifts that begin within the week, each to its real end as far as the rota
        // is known (a calendar's shifts are worked out AHEAD; a shift that goes on past
        // that says so).
        let known = now.saturating_add(AHEAD);
        let mut week = shifts(rota, now, known);
        week.retain(|s| s.start < now + WEEK);
        let end = |t: i64| match t >= known {
            true => format!("{} or later", local(rota, t)),
            false => local(rota, t),
        };
        let until = crate::core::oncall::duty_ends(rota, now, known);
        let _ = writeln!(
            out,
            "{}: {user} on duty now ({}), until {}",
            rota.name,
            source.as_str(),
            end(until)
        );
        if let (Some(source), Some(read)) = (&rota.calendar, &rota.from_calendar) {
            calendar_lines(&mut out, rota, source, read.shifts());
        }
        for s in week.iter().skip(1) {
            let _ = writeln!(
                out,
                "  {} -> {}  {} ({})",
                local(rota, s.start),
                end(s.end),
                s.user,
                s.source.as_str()
            );
        }
        for o in &rota.overrides {
            let _ = writeln!(
                out,
                "  override: {} from {} to {}{}",
                o.user,
                local(rota, o.start),
                local(rota, o.until),
                o.by.as_ref()
                    .map(|b| format!(" (by {b})"))
                    .unwrap_or_default()
            );
        }
        for s in week.iter().filter(|s| s.source == Source::Fallback) {
            let _ = writeln!(
                out,
                "  warning: {} yields nobody from {} to {}: its fallback {} is on duty",
                rota.name,
                local(rota, s.start),
                end(s.end),
                s.user
            );
        }
    }
    out
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(Action::Override(o)) = &args.action {
        return add_override(g, o);
    }
    let mut cfg = g.load_config()?;
    load(&mut cfg, clock::now(), Read::LikeRun).finish();
    let rotas: Vec<&Rota> = cfg.oncall.values().collect();
    let text = if rotas.is_empty() {
        "no rotas: name them under oncall: in the config (see `man 5 cabot.yaml`)\n".to_string()
    } else {
        report(&rotas, clock::now())
    };
    crate::print_out(&text)?;
    Ok(ExitCode::Ok)
}

fn add_override(g: &Global, args: &OverrideArgs) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let usage = |why: String| crate::exit_codes::Exit::error(ExitCode::Usage, why);
    if !cfg.oncall.contains_key(&args.rota) {
        let names: Vec<&str> = cfg.oncall.keys().map(String::as_str).collect();
        return Err(usage(format!(
            "no rota named '{}' (rotas: {})",
            args.rota,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    }
    let now = clock::now();
    let mut st = crate::store::Store::open_checked(&cfg.state, Some(&g.config))?;
    let (Some(user), Some(duration)) = (&args.user, args.duration) else {
        // --cancel
        let ended = st
            .cancel_overrides(&args.rota, now)
            .map_err(|e| crate::store::failure(&cfg.state, "ending the overrides", e))?;
        if !g.quiet {
            crate::print_out(&format!(
                "{}: {} ended; the rota's own schedule is in charge\n",
                args.rota,
                crate::text::count(ended, "override")
            ))?;
        }
        return Ok(ExitCode::Ok);
    };
    if !cfg.users.contains_key(user) {
        return Err(usage(format!("no user named '{user}' under users:")));
    }
    let o = crate::config::Override {
        user: user.clone(),
        start: now,
        until: now.saturating_add(duration.as_secs() as i64),
        by: crate::cmd::operator(args.by.as_deref()),
    };
    st.add_override(&args.rota, &o, now)
        .map_err(|e| crate::store::failure(&cfg.state, "saving the override", e))?;
    if !g.quiet {
        crate::print_out(&format!(
            "{} on duty for {} until {}\n",
            o.user,
            args.rota,
            local(&cfg.oncall[&args.rota], o.until)
        ))?;
    }
    Ok(ExitCode::Ok)
}
