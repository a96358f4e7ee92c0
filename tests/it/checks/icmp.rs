//! `icmp`: 127.0.0.1, and an address in a network namespace of the test's own that never answers.

use std::process::Command;
use std::time::{Duration, Instant};

use super::command::{check, env};
use crate::support::*;

fn need_ping() {
    need(
        installed("ping", "-V"),
        "ping (apt-get install iputils-ping)",
    );
}

#[test]
#[ignore = "needs iputils-ping"]
fn icmp_to_loopback_passes() {
    need_ping();
    let env = env("      - { name: lo, type: icmp, host: 127.0.0.1, count: 2 }\n");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let c = check(&env, "lo");
    assert_eq!(c["status"], "passing", "{c}");
    let m = c["message"].as_str().unwrap_or("");
    assert!(
        m.starts_with("2/2 replies from 127.0.0.1, 0% loss, rtt avg"),
        "{m}"
    );
}

#[test]
#[ignore = "needs root (a network namespace) and iputils-ping"]
fn icmp_to_an_address_that_never_answers_fails() {
    need_ping();
    need_root();
    // In a network namespace of this test's own: a veth pair with a subnet on one end and
    // no host behind the other, so 10.213.0.99 never answers and nothing leaves the namespace.
    let env = env("      - { name: void, type: icmp, host: 10.213.0.99, count: 2, timeout: 2s }\n");
    let script = "ip link set lo up && ip link add v0 type veth peer name v1 \
                  && ip addr add 10.213.0.1/24 dev v0 && ip link set v0 up && ip link set v1 up \
                  && exec \"$CABOT\" -c \"$CONFIG\" run";
    let started = Instant::now();
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", script])
        .env("CABOT", cabot_bin())
        .env("CONFIG", env.config())
        .output()
        .expect("unshare");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    let c = check(&env, "void");
    assert_eq!(c["status"], "failing", "{c}");
    // ping keeps asking until its deadline when nothing answers
    let m = c["message"].as_str().unwrap_or("");
    assert!(
        m.starts_with("0/") && m.contains("replies from 10.213.0.99, 100% loss"),
        "{c}"
    );
}
