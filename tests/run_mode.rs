//! `hetsync run`, the service, as a process: it syncs every spoke on its
//! schedule, so an edit on one spoke reaches the other without any `sync`;
//! a spoke that cannot be reached is retried with a growing delay while the
//! others keep their schedule; SIGTERM lets the round under way finish and
//! ends the process with 0.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{basic_row as row, hetsync_command, Deploy, Rng, BASIC, MIXED};

/// Waits up to `limit` for `done`, checking every 100 ms.
async fn eventually<F, Fut>(limit: Duration, what: &str, done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(within(limit, done).await, "not within {limit:?}: {what}");
}

/// Whether `done` comes true within `limit`, checking every 100 ms.
async fn within<F, Fut>(limit: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        if started.elapsed() >= limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

/// `hetsync run` as a process, its output read line by line as it comes
/// (so a full pipe never stops it); killed if the test ends before it
/// stopped.
struct Service {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    err: Arc<Mutex<Vec<String>>>,
}

impl Service {
    fn start(config: &std::path::Path, args: &[&str]) -> Service {
        let mut child = hetsync_command(config, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hetsync run starts");
        let read = |pipe: Box<dyn Read + Send>, lines: Arc<Mutex<Vec<String>>>| {
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    lines.lock().unwrap().push(line.expect("read the output"));
                }
            })
        };
        let (out, err) = Default::default();
        let readers = vec![
            read(
                Box::new(child.stdout.take().expect("stdout")),
                Arc::clone(&out),
            ),
            read(
                Box::new(child.stderr.take().expect("stderr")),
                Arc::clone(&err),
            ),
        ];
        Service {
            child,
            out,
            readers,
            err,
        }
    }

    /// The address its listener serves, as it printed it.
    async fn address(&self) -> String {
        let mut address = None;
        eventually(
            Duration::from_secs(30),
            "the service prints its address",
            || {
                let line = self
                    .out
                    .lock()
                    .unwrap()
                    .iter()
                    .find_map(|l| l.split("status page on http://").nth(1).map(str::to_string));
                address = line.and_then(|rest| rest.split('/').next().map(str::to_string));
                std::future::ready(address.is_some())
            },
        )
        .await;
        address.unwrap()
    }

    /// Sends SIGTERM, waits for the exit and returns its status with
    /// stdout and stderr.
    /// What the service printed so far, standard output then error.
    fn printed(&self) -> String {
        let lines = |l: &Arc<Mutex<Vec<String>>>| l.lock().unwrap().join("\n");
        format!("{}\n{}", lines(&self.out), lines(&self.err))
    }

    fn stop(mut self) -> (std::process::ExitStatus, String, String) {
        signal(&self, "-TERM");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "run did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        for reader in self.readers.drain(..) {
            reader.join().expect("output read");
        }
        let text = |lines: &Arc<Mutex<Vec<String>>>| lines.lock().unwrap().join("\n");
        (status, text(&self.out), text(&self.err))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let service = Service::start(&d.config(), &["run", "--log-format", "json"]);
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

    let (status, out, err) = service.stop();
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

/// `GET path` from `addr`: the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the listener");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    (code, body.to_string())
}

/// The value of the sample `series` (name and labels, as Prometheus
/// prints them) in `metrics`; 0 when it is absent.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(0.0)
}

/// Headless Chromium (Debian's `chromium`; `HETSYNC_CHROMIUM` names
/// another) run with `args` and `url`, within a minute: its stdout.
fn chromium(profile: &std::path::Path, args: &[&str], url: &str) -> String {
    let program = std::env::var("HETSYNC_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let mut child = std::process::Command::new(&program)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{program}: {e}: the status page test needs Chromium (apt-get install chromium; .ci/run installs it)")
        });
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).expect("read chromium");
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "chromium exited with {status:?}");
    reader.join().expect("chromium's output")
}

#[tokio::test(flavor = "multi_thread")]
async fn run_serves_metrics_health_and_a_status_page_that_follow_the_rounds() {
    let d = Deploy::new(&["a", "b"], &BASIC[..1]).await;
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    d.run(&["install"]);
    d.append_config("[sync]\ninterval = \"300ms\"\n");
    let limit = Duration::from_secs(30);

    let service = Service::start(&d.config(), &["run", "--listen", "127.0.0.1:0"]);
    let addr = service.address().await;
    // Healthy, and every spoke's first rounds succeeded.
    eventually(limit, "/health answers 200 after the first rounds", || {
        let (code, body) = get(&addr, "/health");
        let health: serde_json::Value = serde_json::from_str(&body).expect("/health is JSON");
        std::future::ready(
            code == 200
                && health["nodes"][1]["last_round"] == "ok"
                && health["nodes"][2]["last_round"] == "ok",
        )
    })
    .await;
    let health: serde_json::Value =
        serde_json::from_str(&get(&addr, "/health").1).expect("/health is JSON");
    assert_eq!(health["healthy"], true, "{health:#}");
    for (n, name) in ["hub", "a", "b"].iter().enumerate() {
        assert_eq!(health["nodes"][n]["name"], *name, "{health:#}");
        assert!(health["nodes"][n]["problem"].is_null(), "{health:#}");
    }
    assert_eq!(health["nodes"][1]["last_round"], "ok", "{health:#}");
    assert_eq!(health["nodes"][1]["max_lag_seconds"], 60.0, "{health:#}");

    let (code, before) = get(&addr, "/metrics");
    assert_eq!(code, 200);
    let ok_rounds = r#"hetsync_rounds_total{result="ok",spoke="a"}"#;
    let uploaded = r#"hetsync_rows_total{direction="upload",spoke="a",table="t_field"}"#;
    let downloaded = r#"hetsync_rows_total{direction="download",spoke="b",table="t_field"}"#;
    assert!(sample(&before, ok_rounds) >= 1.0, "{before}");
    assert_eq!(sample(&before, uploaded), 0.0, "{before}");
    assert_eq!(sample(&before, downloaded), 1.0, "{before}");

    // Three rows from a, in one transaction: the numbers move.
    d.exec(
        "a",
        "INSERT INTO t_field VALUES (2, 'p', 2, 2.0), (3, 'q', 3, 3.0), (4, 'r', 4, 4.0)",
    )
    .await;
    eventually(limit, "a's rows reach b", || async {
        d.rows("b", "t_field").await.len() == 4
    })
    .await;
    let mut after = String::new();
    eventually(limit, "the metrics count b's download", || {
        after = get(&addr, "/metrics").1;
        std::future::ready(sample(&after, downloaded) == 4.0)
    })
    .await;
    assert_eq!(sample(&after, uploaded), 3.0, "{after}");
    assert!(
        sample(&after, ok_rounds) > sample(&before, ok_rounds),
        "{after}"
    );
    assert!(
        sample(&after, r#"hetsync_round_duration_seconds_count{spoke="a"}"#) >= 2.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, r#"hetsync_node_up{node="hub"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(
        sample(
            &after,
            r#"hetsync_pending_events{direction="upload",node="a"}"#
        ),
        0.0,
        "{after}"
    );
    let lag = sample(&after, r#"hetsync_lag_seconds{node="b"}"#);
    assert!(
        after.contains(r#"hetsync_lag_seconds{node="b"}"#) && lag < 30.0,
        "{after}"
    );

    // The page, rendered by a real browser: each node, and a's round of
    // three rows.
    let browser = tempfile::tempdir().expect("a profile directory");
    let url = format!("http://{addr}/");
    let dom = chromium(browser.path(), &["--dump-dom"], &url);
    for node in ["hub", "a", "b"] {
        assert!(
            dom.contains(&format!(
                "<tr data-node=\"{node}\"><td class=\"name\">{node}</td>"
            )),
            "{node} missing in the page:\n{dom}"
        );
    }
    assert!(
        dom.contains("<span class=\"ok\" id=\"health\">healthy</span>"),
        "{dom}"
    );
    assert!(
        dom.contains("<td>a</td><td>incremental</td><td class=\"n up\">3</td>"),
        "{dom}"
    );
    let screenshot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let _ = std::fs::remove_file(&screenshot);
    chromium(
        browser.path(),
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1100,700",
        ],
        &url,
    );
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    println!("status page screenshot: {}", screenshot.display());
    let (status, out, err) = service.stop();
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");

    // Both spokes change row 2 while the service is down: a's later edit
    // wins in b's round, and the page shows both values (escaped).
    d.exec("b", "UPDATE t_field SET a = 'b <i>' WHERE k = 2")
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    d.exec("a", "UPDATE t_field SET a = 'a & co' WHERE k = 2")
        .await;
    // A spoke that cannot be reached: unhealthy, named, and counted.
    d.append_config(
        "\n[[node]]\nname = \"gone\"\nadapter = \"sqlite\"\nurl = \"no/such/dir/gone.db\"\n\
         role = \"spoke\"\n",
    );
    let service = Service::start(&d.config(), &["run", "--listen", "127.0.0.1:0"]);
    let addr = service.address().await;
    let mut metrics = String::new();
    eventually(limit, "gone's failures are counted", || {
        metrics = get(&addr, "/metrics").1;
        std::future::ready(
            sample(
                &metrics,
                r#"hetsync_rounds_total{result="failed",spoke="gone"}"#,
            ) >= 1.0,
        )
    })
    .await;
    assert_eq!(
        sample(&metrics, r#"hetsync_node_up{node="gone"}"#),
        0.0,
        "{metrics}"
    );
    eventually(limit, "b's conflict is counted", || {
        metrics = get(&addr, "/metrics").1;
        std::future::ready(
            sample(
                &metrics,
                r#"hetsync_conflicts_total{spoke="b",table="t_field"}"#,
            ) == 1.0,
        )
    })
    .await;
    // The status of `gone` is read right after its round is counted.
    eventually(limit, "/health names gone unreachable", || {
        std::future::ready(
            get(&addr, "/health")
                .1
                .contains("\"problem\": \"unreachable: "),
        )
    })
    .await;
    let (code, body) = get(&addr, "/health");
    assert_eq!(code, 503, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).expect("/health is JSON");
    assert_eq!(health["healthy"], false, "{health:#}");
    let gone = &health["nodes"][3];
    assert_eq!(gone["name"], "gone", "{health:#}");
    assert_eq!(gone["healthy"], false, "{health:#}");
    assert!(
        gone["problem"]
            .as_str()
            .is_some_and(|p| p.starts_with("unreachable: ")),
        "{health:#}"
    );
    assert_eq!(health["nodes"][1]["healthy"], true, "{health:#}");
    let dom = chromium(browser.path(), &["--dump-dom"], &format!("http://{addr}/"));
    assert!(
        dom.contains("<span class=\"bad\" id=\"health\">failing</span>"),
        "{dom}"
    );
    assert!(
        dom.contains("<tr data-node=\"gone\"><td class=\"name\">gone</td><td>spoke</td><td>sqlite</td><td class=\"bad\">no</td>"),
        "{dom}"
    );
    let conflicts = dom
        .split("<table id=\"conflicts\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no conflicts table:\n{dom}"));
    assert!(
        conflicts.contains("<td>b</td><td>t_field</td><td>[2]</td><td>a</td>"),
        "{conflicts}"
    );
    assert!(
        conflicts.contains("a &amp; co") && conflicts.contains("b &lt;i&gt;"),
        "both values, escaped: {conflicts}"
    );
    let (status, out, err) = service.stop();
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn push_mode_starts_rounds_on_commits_on_postgres_mariadb_and_sqlite() {
    // PostgreSQL hub (its triggers notify), MariaDB spoke a (its position
    // is polled), SQLite spoke b (its file's data version is watched).
    let d = Deploy::with(MIXED[0], &["a", "b"], &BASIC[..1]).await;
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    d.run(&["install"]);
    // Rounds at start, then only when something is committed.
    d.append_config("[sync]\ninterval = \"1h\"\ndebounce = \"100ms\"\n");
    let service = Service::start(&d.config(), &["run", "--listen", "127.0.0.1:0"]);
    let addr = service.address().await;
    let limit = Duration::from_secs(20);
    for spoke in ["a", "b"] {
        eventually(limit, "the first rounds", || async {
            d.rows(spoke, "t_field").await.len() == 1
        })
        .await;
    }
    let edits = [
        (
            "hub",
            "UPDATE t_field SET a = 'hub' WHERE k = 1",
            ["a", "b"],
        ),
        ("a", "UPDATE t_field SET a = 'a' WHERE k = 1", ["hub", "b"]),
        ("b", "UPDATE t_field SET a = 'b' WHERE k = 1", ["hub", "a"]),
    ];
    for (node, sql, others) in edits {
        let committed = Instant::now();
        d.exec(node, sql).await;
        for other in others {
            let reached = within(limit, || async {
                d.rows(other, "t_field").await[0][1]
                    == hetsync_core::value::Value::Text(node.into())
            })
            .await;
            assert!(
                reached,
                "not within {limit:?}: {node}'s edit reaches {other}; the service printed:\n{}",
                service.printed()
            );
        }
        println!("{node}'s edit everywhere after {:?}", committed.elapsed());
    }
    // Quiet now: no round starts itself again and again (hetsync's own
    // writes wake the watchers once, and an idle round writes nothing).
    let rounds = |metrics: &str| -> f64 {
        ["a", "b"]
            .iter()
            .map(|s| {
                sample(
                    metrics,
                    &format!(r#"hetsync_rounds_total{{result="ok",spoke="{s}"}}"#),
                )
            })
            .sum()
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rounds(&get(&addr, "/metrics").1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let metrics = get(&addr, "/metrics").1;
    assert_eq!(
        rounds(&metrics),
        before,
        "rounds ran with nothing committed:\n{metrics}"
    );
    let (status, out, err) = service.stop();
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
}

/// Sends `signal` (`-HUP`, `-TERM`) to the service.
fn signal(service: &Service, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &service.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reads_the_configuration_again_and_keeps_the_old_one_when_it_is_broken() {
    let d = Deploy::new(&["a", "b"], &BASIC[..1]).await;
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    d.run(&["install"]);
    let config = d.config();
    let original = std::fs::read_to_string(&config).expect("the config");
    // The deployment's file with `sync` as its [sync] table.
    let write_sync = |sync: &str| {
        std::fs::write(&config, format!("{original}\n[sync]\n{sync}\n")).expect("write the config")
    };
    // Rounds at start only: no push, an hour between rounds.
    write_sync("interval = \"1h\"\npush = false");
    let service = Service::start(&config, &["run"]);
    let limit = Duration::from_secs(20);
    eventually(limit, "the first rounds", || async {
        d.rows("b", "t_field").await.len() == 1
    })
    .await;
    d.exec("a", "UPDATE t_field SET a = 'from a' WHERE k = 1")
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(d.rows("b", "t_field").await, vec![row(1, "x", 1, 1.0)]);

    // A broken file is refused, naming why; the service goes on.
    write_sync("interval = \"soon\"");
    signal(&service, "-HUP");
    eventually(limit, "the broken configuration is refused", || {
        let refused =
            service.err.lock().unwrap().iter().any(|l| {
                l.contains("the configuration was not read again") && l.contains("interval")
            });
        std::future::ready(refused)
    })
    .await;
    assert_eq!(d.rows("b", "t_field").await, vec![row(1, "x", 1, 1.0)]);

    // Rounds every 300 ms now: a's edit arrives.
    write_sync("interval = \"300ms\"\npush = false");
    signal(&service, "-HUP");
    eventually(limit, "a's edit reaches b after the reload", || async {
        d.rows("b", "t_field").await == vec![row(1, "from a", 1, 1.0)]
    })
    .await;
    let (status, out, err) = service.stop();
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
    assert!(
        out.contains("hetsync run: configuration read again"),
        "{out}"
    );
    assert!(out.contains("rounds every 300ms"), "{out}");
}

/// Random edits of the spokes' rows while the service runs: inserts of new
/// rows (a's from 3000, b's from 4000) and updates of earlier ones, every
/// 30 ms, each remembered as every node must end up holding it.
struct Load {
    rows: std::collections::BTreeMap<i64, (String, i64)>,
    next: [i64; 2],
    rng: Rng,
}

impl Load {
    fn new() -> Load {
        Load {
            rows: Default::default(),
            next: [3000, 4000],
            rng: Rng(7),
        }
    }

    /// Edits for `span`.
    async fn run(&mut self, d: &Deploy, span: Duration, tag: &str) {
        let started = Instant::now();
        let mut i = 0;
        while started.elapsed() < span {
            let side = usize::try_from(self.rng.below(2)).expect("0 or 1");
            let node = ["a", "b"][side];
            let base = [3000, 4000][side];
            let own: Vec<i64> = self
                .rows
                .range(base..base + 1000)
                .map(|(k, _)| *k)
                .collect();
            let value = format!("{node}-{tag}-{i}");
            let n = i64::try_from(self.rng.below(1000)).expect("small");
            if own.len() < 3 || self.rng.below(2) == 0 {
                let k = self.next[side];
                self.next[side] += 1;
                d.exec(
                    node,
                    &format!("INSERT INTO t_field VALUES ({k}, '{value}', {n}, 1.5)"),
                )
                .await;
                self.rows.insert(k, (value, n));
            } else {
                let k = self.rng.pick(&own);
                d.exec(
                    node,
                    &format!("UPDATE t_field SET a = '{value}', b = {n} WHERE k = {k}"),
                )
                .await;
                self.rows.insert(k, (value, n));
            }
            i += 1;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// The rows every node must hold.
    fn expected(&self) -> Vec<Vec<hetsync_core::value::Value>> {
        self.rows
            .iter()
            .map(|(k, (a, b))| row(*k, a, *b, 1.5))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn run_promotes_the_standby_when_the_hub_stops_and_the_old_hub_rejoins_as_its_standby() {
    let d = Deploy::with_standby(&BASIC[..1]).await;
    d.append_config("[sync]\ninterval = \"300ms\"\nfailover_after = \"2s\"\n");
    d.run(&["install"]);
    let mut load = Load::new();
    let service = Service::start(&d.config(), &["run", "--listen", "127.0.0.1:0"]);
    let addr = service.address().await;
    let limit = Duration::from_secs(60);
    load.run(&d, Duration::from_secs(2), "before").await;

    // The standby is ready to take over once every spoke has recorded
    // where it will read it from (after their second pass with it).
    for spoke in ["a", "b"] {
        eventually(
            limit,
            &format!("{spoke} records its watermark of the standby"),
            || async {
                d.query(spoke, "SELECT 1 FROM _hetsync_peer WHERE peer = 'standby'")
                    .await
                    .len()
                    == 1
            },
        )
        .await;
    }

    // The hub stops with edits of its own on the way, and the spokes' keep
    // coming.
    for k in 1000..1005 {
        d.exec(
            "hub",
            &format!("INSERT INTO t_field VALUES ({k}, 'hub', {k}, 1.5)"),
        )
        .await;
        load.rows.insert(k, ("hub".to_string(), k));
    }
    let hub_server = d.database("hub");
    assert!(hub_server.kill_server(), "the hub has a server of its own");
    load.run(&d, Duration::from_secs(3), "down").await;
    eventually(limit, "the service promotes the standby", || {
        let out = service.out.lock().unwrap().join("\n");
        std::future::ready(out.contains("promoted 'standby' to the hub (epoch 1)"))
    })
    .await;

    // The spokes go on syncing through the standby.
    load.run(&d, Duration::from_secs(2), "promoted").await;
    let (last_k, last) = load
        .rows
        .range(3000..4000)
        .next_back()
        .map(|(k, v)| (*k, v.clone()))
        .expect("a edited");
    eventually(
        limit,
        "a's last edit reaches b through the standby",
        || async {
            d.rows("b", "t_field")
                .await
                .contains(&row(last_k, &last.0, last.1, 1.5))
        },
    )
    .await;

    // The old hub comes back as the standby: everything reaches it, and
    // its own edits from before it stopped reach everyone.
    hub_server.restart_server();
    load.run(&d, Duration::from_secs(1), "back").await;
    let expected = load.expected();
    for node in ["hub", "standby", "a", "b"] {
        eventually(limit, &format!("{node} holds every edit"), || async {
            d.rows(node, "t_field").await == expected
        })
        .await;
    }
    // Healthy again, in the roles they act in now.
    eventually(limit, "/health answers 200", || async {
        get(&addr, "/health").0 == 200
    })
    .await;
    let health: serde_json::Value =
        serde_json::from_str(&get(&addr, "/health").1).expect("/health is JSON");
    assert_eq!(
        support::roles(&health),
        [
            ("hub", "standby"),
            ("standby", "hub"),
            ("a", "spoke"),
            ("b", "spoke")
        ],
        "{health:#}"
    );
    let (status, out, err) = service.stop();
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
    assert!(
        err.contains("has missed its heartbeats for") && err.contains("promoting 'standby'"),
        "{err}"
    );
    let verified = d.run(&["verify"]);
    assert!(verified.contains("identical"), "{verified}");
}
