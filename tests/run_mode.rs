//! `hetsync run`, the service, as a process: it syncs every spoke on its
//! schedule, so an edit on one spoke reaches the other without any `sync`;
//! a spoke that cannot be reached is retried with a growing delay while the
//! others keep their schedule; SIGTERM lets the round under way finish and
//! ends the process with 0.

mod support;

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::{basic_row as row, hetsync_command, Deploy, BASIC};

/// Waits up to `limit` for `done`, checking every 100 ms.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The service's process, killed if the test ends before it stopped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends SIGTERM to the process.
fn terminate(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn run_syncs_every_spoke_on_its_schedule_and_stops_cleanly_on_sigterm() {
    let d = Deploy::new(&["a", "b"], &BASIC[..1]).await;
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    d.run(&["install"]);
    // A spoke that cannot be connected: its rounds fail and back off, and
    // the others keep syncing.
    d.append_config(
        "[sync]\ninterval = \"300ms\"\n\n[[node]]\nname = \"gone\"\nadapter = \"sqlite\"\n\
         url = \"no/such/dir/gone.db\"\nrole = \"spoke\"\n",
    );
    let mut running = Running(
        hetsync_command(&d.config(), &["run", "--log-format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hetsync run starts"),
    );
    let child = &mut running.0;
    // Read as it comes, so a full pipe never stops the service.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).expect("read the output");
            text
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));

    let limit = Duration::from_secs(30);
    eventually(limit, "the hub's row reaches b", || async {
        d.rows("b", "t_field").await == vec![row(1, "x", 1, 1.0)]
    })
    .await;
    d.exec("a", "UPDATE t_field SET a = 'from a' WHERE k = 1")
        .await;
    eventually(limit, "a's edit reaches b through the hub", || async {
        d.rows("b", "t_field").await == vec![row(1, "from a", 1, 1.0)]
    })
    .await;

    terminate(child);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "run did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out.join().expect("stdout"), err.join().expect("stderr"));
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
    assert!(
        out.contains("hetsync run: 3 spoke(s), rounds every 300ms"),
        "{out}"
    );
    assert!(out.contains("a ⇄ hub") || out.contains("hub ⇄ a"), "{out}");
    assert!(out.contains("hetsync run: stopped"), "{out}");
    // The unreachable spoke failed, each time a little later.
    let retries: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("round failed for gone"))
        .collect();
    assert!(!retries.is_empty(), "{err}");
    assert!(retries[0].contains("next try in 300ms"), "{err}");
    if let Some(second) = retries.get(1) {
        assert!(second.contains("next try in 600ms"), "{err}");
    }
}
