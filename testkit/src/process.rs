//! Processes of the tests: the tools they run (checked for success), and
//! killing a database server's processes as a crash would (tests of faults
//! from outside hetsync).

use std::path::Path;
use std::time::{Duration, Instant};

/// The processes whose parent is `parent`.
pub fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| status_of(pid).is_some_and(|(_, ppid)| ppid == parent))
        .collect()
}

/// A process's state letter and parent, from `/proc/<pid>/stat` (the
/// command name in parentheses may hold spaces).
fn status_of(pid: u32) -> Option<(char, u32)> {
    let stat =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")).ok()?;
    let mut rest = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((state, ppid))
}

/// The standard output of a tool that ran (`what` names it in messages),
/// failing with what it printed when it did not succeed.
pub fn succeeded(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sends SIGKILL to every process of `pids` and waits until none runs. A
/// process that ended meanwhile (a backend finishing its work) makes kill
/// complain; only one still running after 30 s is a failure.
pub fn kill_9(pids: &[u32]) {
    std::process::Command::new("kill")
        .arg("-9")
        .args(pids.iter().map(u32::to_string))
        .stderr(std::process::Stdio::null())
        .status()
        .expect("kill -9");
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids
        .iter()
        .any(|&pid| status_of(pid).is_some_and(|(state, _)| state != 'Z'))
    {
        assert!(
            Instant::now() < deadline,
            "{pids:?} still run after kill -9"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
