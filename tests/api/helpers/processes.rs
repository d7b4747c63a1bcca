//! `LeveeProcess`: the compiled `levee` binary as a child process, for tests that need
//! signals, exit codes or its stdout.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The `levee` binary running as a child process, its stdout collected line by line.
pub struct LeveeProcess {
    pub child: Child,
    pub addr: Option<SocketAddr>,
    lines: Arc<Mutex<Vec<String>>>,
}

pub fn levee_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_levee"));
    cmd.args(args)
        .env_remove("LEVEE_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

impl LeveeProcess {
    /// Starts `levee serve` on a random port with a fresh SQLite database in `dir`, plus
    /// any extra TOML appended to the config file.
    pub fn serve_sqlite(dir: &std::path::Path, extra_toml: &str) -> LeveeProcess {
        let config = dir.join("levee.toml");
        let toml = format!(
            "[database]\nurl = \"sqlite:{}/levee.db\"\n[server]\nport = 0\n{extra_toml}",
            dir.display()
        );
        std::fs::write(&config, toml).expect("write config");
        LeveeProcess::serve(&config)
    }

    /// Starts `levee serve --config <config_path>` and waits until it is listening.
    pub fn serve(config_path: &std::path::Path) -> LeveeProcess {
        Self::start("serve", config_path, "levee is serving", &[])
    }

    /// Starts `levee worker --config <config_path>` and waits until its workers run.
    pub fn worker(config_path: &std::path::Path) -> LeveeProcess {
        Self::worker_with_env(config_path, &[])
    }

    /// `worker` with extra environment variables (e.g. a preloaded fake clock).
    pub fn worker_with_env(config_path: &std::path::Path, env: &[(&str, &str)]) -> LeveeProcess {
        Self::start("worker", config_path, "job workers started", env)
    }

    /// Starts `levee <command> --config <config_path>` and waits for the log line `ready`.
    fn start(
        command: &str,
        config_path: &std::path::Path,
        ready: &'static str,
        env: &[(&str, &str)],
    ) -> LeveeProcess {
        let config = config_path.to_str().expect("utf-8 path");
        let mut child = levee_command(&[command, "--config", config])
            .envs(env.iter().copied())
            .env("LEVEE_LOG__FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn levee");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let sink = lines.clone();
        std::thread::spawn(move || {
            // The address is the last `addr` logged up to the ready line (serve logs it on
            // that line, the worker on its probe listener's line before it).
            let mut addr: Option<SocketAddr> = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if let Some(a) = v["addr"].as_str().and_then(|a| a.parse().ok()) {
                        addr = Some(a);
                    }
                    if v["message"] == ready {
                        let _ = addr_tx.send(addr);
                    }
                }
                sink.lock().expect("lines").push(line);
            }
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(60)).ok().flatten();
        LeveeProcess { child, addr, lines }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr.expect("levee is listening"))
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for LeveeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
