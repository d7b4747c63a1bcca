//! A small supervisor for a process's background tasks. Each task has a name; `stop`
//! signals every task at once, then stops them in the order they were started: tasks that
//! drain on the stop signal are awaited, endless loops are aborted. A task that fails or
//! panics is logged with its name.

use std::future::Future;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a task may return: nothing, or a result whose error is worth logging.
pub trait TaskOutcome: Send + 'static {
    fn failure(self) -> Option<String>;
}

impl TaskOutcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: std::fmt::Display + Send + 'static> TaskOutcome for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}

/// How a task ends when the supervisor stops.
enum Ending {
    /// It watches the stop signal and drains; awaited.
    Drains,
    /// It loops until aborted.
    Aborted,
}

struct Task {
    name: &'static str,
    handle: JoinHandle<Option<String>>,
    ending: Ending,
}

/// The stop signal, for tasks that drain and for the HTTP server's graceful shutdown.
#[derive(Clone)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// Resolves once the supervisor is asked to stop.
    pub async fn stopped(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// The raw receiver, for loops that `select!` on it.
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.0.clone()
    }
}

/// Asks the supervisor's tasks to stop; cheap to clone, usable from any task.
#[derive(Clone)]
pub struct Stopper(watch::Sender<bool>);

impl Stopper {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

pub struct Tasks {
    stop: watch::Sender<bool>,
    tasks: Vec<Task>,
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            stop: watch::channel(false).0,
            tasks: Vec::new(),
        }
    }
}

impl Tasks {
    pub fn signal(&self) -> StopSignal {
        StopSignal(self.stop.subscribe())
    }

    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// Starts a task that ends by itself once the stop signal fires (it takes the signal
    /// from [`Tasks::signal`]); `stop` waits for it.
    pub fn spawn_draining<O: TaskOutcome>(
        &mut self,
        name: &'static str,
        task: impl Future<Output = O> + Send + 'static,
    ) {
        self.spawn(name, task, Ending::Drains);
    }

    /// Starts an endless task; `stop` aborts it.
    pub fn spawn_loop<O: TaskOutcome>(
        &mut self,
        name: &'static str,
        task: impl Future<Output = O> + Send + 'static,
    ) {
        self.spawn(name, task, Ending::Aborted);
    }

    fn spawn<O: TaskOutcome>(
        &mut self,
        name: &'static str,
        task: impl Future<Output = O> + Send + 'static,
        ending: Ending,
    ) {
        let handle = tokio::spawn(async move { task.await.failure() });
        self.tasks.push(Task {
            name,
            handle,
            ending,
        });
    }

    /// Signals stop, then ends each task in start order.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Ending::Aborted = task.ending {
                task.handle.abort();
            }
            match task.handle.await {
                Ok(None) => tracing::debug!(task = task.name, "task stopped"),
                Ok(Some(error)) => tracing::error!(task = task.name, error, "task failed"),
                Err(e) if e.is_cancelled() => tracing::debug!(task = task.name, "task aborted"),
                Err(e) => tracing::error!(task = task.name, error = %e, "task panicked"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn stop_waits_for_draining_tasks_and_aborts_loops() {
        let mut tasks = Tasks::default();
        let drained = Arc::new(AtomicBool::new(false));
        let (signal, flag) = (tasks.signal(), drained.clone());
        tasks.spawn_draining("drains", async move {
            signal.stopped().await;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            flag.store(true, Ordering::SeqCst);
        });
        tasks.spawn_loop("loops", std::future::pending::<()>());
        tasks.stop().await;
        assert!(drained.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_stopper_fires_the_signal() {
        let tasks = Tasks::default();
        let (signal, stopper) = (tasks.signal(), tasks.stopper());
        stopper.stop();
        tokio::time::timeout(std::time::Duration::from_secs(1), signal.stopped())
            .await
            .expect("the signal fired");
    }
}
