//! The status page rendered in headless Chromium at a phone's width.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

const HOUR: i64 = 3_600;

/// A phone held upright (Pixel-class CSS pixels).
const PHONE: (u32, u32) = (412, 900);

const CHROMIUM_LIMIT: Duration = Duration::from_secs(60);

/// Debian's Chromium; the test fails without it.
fn chromium() -> PathBuf {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    need(found.is_some(), "Chromium (apt-get install chromium)");
    found.unwrap_or_default()
}

/// Kills the child when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `cmd` with stdout and stderr in files under `dir` and returns its stdout; kills it
/// after `limit`, and fails the test if it fails.
fn run_bounded(mut cmd: Command, dir: &Path, name: &str, limit: Duration) -> String {
    let out_path = dir.join(format!("{name}.out"));
    let err_path = dir.join(format!("{name}.err"));
    let child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start chromium");
    let mut child = Killed(child);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > limit {
            let said = std::fs::read_to_string(&err_path).unwrap_or_default();
            panic!("chromium {name} took over {limit:?}; stderr:\n{said}");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    if !status.success() {
        let said = std::fs::read_to_string(&err_path).unwrap_or_default();
        panic!("chromium {name} failed: {status}\nstderr:\n{said}");
    }
    out
}

/// Headless Chromium with a phone-sized window, a fresh profile and no traffic of its own.
fn chromium_command(bin: &Path, profile: &Path) -> Command {
    chromium_sized(bin, profile, PHONE)
}

/// `chromium_command` with a window of `size` CSS pixels.
fn chromium_sized(bin: &Path, profile: &Path, size: (u32, u32)) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--window-size={},{}", size.0, size.1));
    for var in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"] {
        cmd.env_remove(var);
    }
    cmd
}

/// A plain GET on 127.0.0.1: the status line and body, or `None` while nothing answers.
fn get(port: u16, path: &str) -> Option<String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(conn, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    conn.read_to_string(&mut text).ok()?;
    Some(text)
}

/// `serve-status` on a free loopback port with its clock at `served_at`, once it answers;
/// killed when the returned guard is dropped.
fn serve_at(env: &Env, served_at: i64) -> (Killed, u16) {
    let port = closed_port();
    let server = Killed(
        env.command(&["serve-status", "--listen", &format!("127.0.0.1:{port}")])
            .env("CABOT_NOW", served_at.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve-status"),
    );
    let started = Instant::now();
    while get(port, "/status/").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve-status did not answer"
        );
        thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {:?}",
        &png[..png.len().min(8)]
    );
    assert_eq!(&png[12..16], b"IHDR", "the first chunk is not IHDR");
    let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (be(16), be(20))
}

/// The DOM's `<section class="service">` elements, each as its own text.
fn sections(dom: &str) -> Vec<&str> {
    dom.split("<section class=\"service\"")
        .skip(1)
        .map(|s| s.split("</section>").next().unwrap_or(s))
        .collect()
}

#[test]
#[ignore = "needs Chromium"]
fn status_page_renders_on_a_phone() {
    let chromium = chromium();

    // `payments-api` fails and recovers every four hours, so its strip has stretches of
    // both colours; `internal-reports` fails too but is not public.
    let payments_down = Arc::new(AtomicBool::new(false));
    let down = Arc::clone(&payments_down);
    let target = HttpServer::start(move |req| match req.url.as_str() {
        "/pay" if down.load(Ordering::SeqCst) => Reply::new(500, "payments backend down"),
        "/reports" => Reply::new(500, "report queue stuck"),
        _ => Reply::new(200, "ok"),
    });
    let env = Env::new(&format!(
        "services:
  - name: website
    public: true
    checks:
      - {{ name: home, type: http, url: '{home}' }}
  - name: payments-api
    public: true
    checks:
      - {{ name: charge, type: http, url: '{pay}', importance: critical }}
  - name: internal-reports
    checks:
      - {{ name: queue, type: http, url: '{reports}', importance: warning }}
",
        home = target.url("/"),
        pay = target.url("/pay"),
        reports = target.url("/reports"),
    ));
    let runs = 6;
    for i in 0..runs {
        payments_down.store(i % 2 == 1, Ordering::SeqCst);
        let run = env.cabot_at(T0 + i * 4 * HOUR, &["run", "--all", "--no-alerts"]);
        assert_eq!(run.code, 0, "run {i}: {run:?}");
    }
    let served_at = T0 + (runs - 1) * 4 * HOUR + 60;

    let (_server, port) = serve_at(&env, served_at);
    let started = Instant::now();
    let status = loop {
        if let Some(answer) = get(port, "/status/") {
            break answer;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve-status did not answer on port {port}"
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.split_whitespace().nth(1) == Some("200") && status.ends_with("Checks running"),
        "{status}"
    );

    let url = format!("http://127.0.0.1:{port}/");
    let work = tempfile::tempdir().expect("temp dir");

    let mut dump = chromium_command(&chromium, &work.path().join("profile-dom"));
    dump.arg("--dump-dom").arg(&url);
    let dom = run_bounded(dump, work.path(), "dump-dom", CHROMIUM_LIMIT);
    assert!(
        dom.contains("Service status"),
        "not the status page:\n{dom}"
    );
    assert!(
        !dom.to_ascii_lowercase().contains("<script"),
        "the page must work without JavaScript:\n{dom}"
    );
    assert!(dom.contains("Some services are failing"), "{dom}");
    assert!(dom.contains("Checks running"), "{dom}");
    assert!(
        !dom.contains("internal-reports") && !dom.contains("WARNING"),
        "a service that is not public is on the page:\n{dom}"
    );
    let shown = sections(&dom);
    assert_eq!(shown.len(), 2, "two public services:\n{dom}");
    for (section, (name, word)) in shown
        .iter()
        .zip([("website", "PASSING"), ("payments-api", "CRITICAL")])
    {
        assert!(
            section.contains(&format!("<span class=\"name\">{name}</span>")),
            "{name}:\n{section}"
        );
        assert!(section.contains(word), "{name} is not {word}:\n{section}");
        assert_eq!(
            section.matches("<svg class=\"strip\"").count(),
            1,
            "{name} has no 24-hour strip:\n{section}"
        );
    }
    // The background of the strip plus one stretch per status change.
    let stretches = shown[1].matches("<rect").count() - 1;
    assert_eq!(
        stretches, runs as usize,
        "payments-api's strip:\n{}",
        shown[1]
    );

    let shot = work.path().join("page.png");
    let mut screenshot = chromium_command(&chromium, &work.path().join("profile-shot"));
    screenshot
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url);
    run_bounded(screenshot, work.path(), "screenshot", CHROMIUM_LIMIT);
    let png = file_bytes(&shot);
    // Kept for a person to look at: `target/tmp/status_page.png`.
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status_page.png");
    let _ = std::fs::write(&kept, &png);
    eprintln!("screenshot: {}", kept.display());
    assert_eq!(png_size(&png), PHONE, "screenshot size");
    // A blank or error page compresses to a few hundred bytes; text and colour do not.
    assert!(
        png.len() > 10_000,
        "the screenshot is only {} bytes: blank?",
        png.len()
    );
}

/// The pixels of an 8-bit RGB or RGBA PNG, as rows of (r, g, b).
fn png_pixels(png: &[u8]) -> Vec<Vec<(u8, u8, u8)>> {
    use std::io::Read as _;
    let (width, height) = png_size(png);
    let (depth, kind) = (png[24], png[25]);
    assert_eq!(depth, 8, "8-bit PNG");
    let channels = match kind {
        2 => 3,
        6 => 4,
        other => panic!("PNG colour type {other}"),
    };
    let mut data = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]) as usize;
        if &png[at + 4..at + 8] == b"IDAT" {
            data.extend_from_slice(&png[at + 8..at + 8 + len]);
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&data[..])
        .read_to_end(&mut raw)
        .expect("inflate IDAT");
    let stride = width as usize * channels;
    let mut rows: Vec<Vec<u8>> = Vec::with_capacity(height as usize);
    for y in 0..height as usize {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let (filter, src) = (line[0], &line[1..]);
        let prior = rows.last().cloned().unwrap_or_else(|| vec![0; stride]);
        let mut row = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= channels { row[i - channels] } else { 0 };
            let b = prior[i];
            let c = if i >= channels {
                prior[i - channels]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => {
                    let p = a as i16 + b as i16 - c as i16;
                    let (pa, pb, pc) = (
                        (p - a as i16).abs(),
                        (p - b as i16).abs(),
                        (p - c as i16).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("PNG filter {other}"),
            };
            row[i] = src[i].wrapping_add(predicted);
        }
        rows.push(row);
    }
    rows.iter()
        .map(|r| r.chunks(channels).map(|p| (p[0], p[1], p[2])).collect())
        .collect()
}

#[test]
#[ignore = "needs Chromium"]
fn a_seven_minute_incident_shows_on_the_rendered_strip() {
    let chromium = chromium();
    let down = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&down);
    let target = HttpServer::start(move |_| {
        if flag.load(Ordering::SeqCst) {
            Reply::new(500, "down")
        } else {
            Reply::new(200, "ok")
        }
    });
    let env = Env::new(&format!(
        "services:
  - name: website
    public: true
    checks:
      - {{ name: home, type: http, url: '{home}', importance: critical }}
",
        home = target.url("/"),
    ));
    let failed_at = T0 + 2 * HOUR;
    for (at, failing) in [(T0, false), (failed_at, true), (failed_at + 7 * 60, false)] {
        down.store(failing, Ordering::SeqCst);
        let run = env.cabot_at(at, &["run", "--all", "--no-alerts"]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    // Three minutes after it ended: the stretch of PASSING now is drawn at least a few
    // units wide, and used to paint over the incident just before it.
    let served_at = failed_at + 10 * 60;
    let (_server, port) = serve_at(&env, served_at);
    let work = tempfile::tempdir().expect("temp dir");
    let shot = work.path().join("strip.png");
    let mut screenshot = chromium_command(&chromium, &work.path().join("profile"));
    screenshot
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("http://127.0.0.1:{port}/"));
    run_bounded(screenshot, work.path(), "screenshot", CHROMIUM_LIMIT);
    let pixels = png_pixels(&file_bytes(&shot));
    // #b3122e, CRITICAL's colour: the service is PASSING now, so only the strip has it.
    let critical = pixels
        .iter()
        .flatten()
        .filter(|&&(r, g, b)| r.abs_diff(0xb3) < 8 && g.abs_diff(0x12) < 8 && b.abs_diff(0x2e) < 8)
        .count();
    assert!(
        critical >= 12,
        "the 7-minute CRITICAL is not on the rendered strip ({critical} pixels)"
    );
}

/// A desktop browser's window.
const DESKTOP: (u32, u32) = (1280, 900);

fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

#[test]
#[ignore = "needs Chromium (.ci/run installs it)"]
fn incident_posts_and_maintenance_render_at_phone_and_desktop_width() {
    let chromium = chromium();
    let target = Target::new();
    let env = Env::new(&format!(
        "services:
  - name: website
    public: true
    checks:
      - {{ name: home, type: http, url: '{url}' }}
  - name: db
    public: true
    checks:
      - {{ name: port, type: http, url: '{url}' }}
",
        url = target.url()
    ));
    let cabot = |at: i64, args: &[&str]| {
        let run = env.cabot_at(at, args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
    };
    cabot(T0, &["run", "--no-alerts"]);
    cabot(
        T0,
        &[
            "incident",
            "open",
            "Slow checkout",
            "--services",
            "website",
            "--message",
            "Payments take up to a minute; we are looking into it.",
        ],
    );
    cabot(
        T0 + 30,
        &[
            "incident",
            "update",
            "1",
            "--status",
            "identified",
            "--message",
            "A payment provider is slow; we are switching to the backup.",
        ],
    );
    cabot(
        T0,
        &[
            "maintenance",
            "add",
            "--services",
            "db",
            "--from",
            "2027-01-15 08:00",
            "--to",
            "2027-01-15 10:00",
            "--message",
            "Database upgrade",
        ],
    );
    cabot(
        T0,
        &[
            "maintenance",
            "add",
            "--from",
            "2027-01-22 02:00",
            "--to",
            "2027-01-22 03:00",
            "--message",
            "Network work",
        ],
    );
    let (_server, port) = serve_at(&env, T0 + 60);
    let url = format!("http://127.0.0.1:{port}/");
    let work = tempfile::tempdir().expect("temp dir");
    let mut dump = chromium_command(&chromium, &work.path().join("profile-dom"));
    dump.arg("--dump-dom").arg(&url);
    let dom = run_bounded(dump, work.path(), "dump-dom", CHROMIUM_LIMIT);
    for words in [
        "Slow checkout",
        "A payment provider is slow",
        "Maintenance in progress",
        "Scheduled maintenance",
        "Fri 22 Jan 02:00-03:00 UTC",
        "Maintenance in progress</p>",
        ">MAINTENANCE<",
    ] {
        assert!(dom.contains(words), "{words}:\n{dom}");
    }
    for (name, size) in [("phone", PHONE), ("desktop", DESKTOP)] {
        let shot = work.path().join(format!("{name}.png"));
        let mut screenshot = chromium_sized(&chromium, &work.path().join(name), size);
        screenshot
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&url);
        run_bounded(screenshot, work.path(), name, CHROMIUM_LIMIT);
        let png = file_bytes(&shot);
        let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("posts_{name}.png"));
        let _ = std::fs::write(&kept, &png);
        eprintln!("screenshot: {}", kept.display());
        assert_eq!(png_size(&png), size, "{name}");
        assert!(
            png.len() > 10_000,
            "{name}: only {} bytes: blank?",
            png.len()
        );
    }
}

#[test]
#[ignore = "needs Chromium (.ci/run installs it)"]
fn a_published_page_turns_grey_by_itself_when_runs_stop() {
    let chromium = chromium();
    let target = Target::new();
    let env = Env::new(&format!(
        "stale_after: 10m
status: {{ publish: {{ dir: site }} }}
services:
  - name: website
    public: true
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        target.url()
    ));
    let work = tempfile::tempdir().expect("temp dir");
    let page = format!("file://{}", env.path("site/index.html").display());
    let dom_at = |published_at: i64, name: &str| {
        let run = env.cabot_at(published_at, &["run", "--all", "--no-alerts"]);
        assert_eq!(run.code, 0, "{run:?}");
        let mut dump = chromium_command(&chromium, &work.path().join(name));
        dump.arg("--dump-dom").arg(&page);
        run_bounded(dump, work.path(), name, CHROMIUM_LIMIT)
    };
    // Published a minute ago: green, as the run left it.
    let fresh = dom_at(wall_clock() - 60, "fresh");
    assert!(fresh.contains("All services operational"), "{fresh}");
    assert!(!fresh.contains("class=\"stale\""), "{fresh}");
    // Published 20 minutes ago and not since: the page itself says it is stale.
    let stale = dom_at(wall_clock() - 20 * 60, "stale");
    assert!(stale.contains("<body data-updated="), "{stale}");
    assert!(stale.contains("class=\"stale\""), "{stale}");
    assert!(
        stale.contains("Status unknown: this page was last updated"),
        "{stale}"
    );
    assert!(!stale.contains("All services operational"), "{stale}");
}
