//! Group commit of placed orders. Written alone, an order cost its transaction seven
//! round trips and a commit that waits for the WAL flush; under a surge those flushes
//! queue behind each other. The writer commits the orders that arrive while a write is
//! running together: one UPDATE storing their keys' responses, one statement of orders,
//! lines and events, one INSERT of their first saga steps, one commit. Each order still
//! commits with its key's response or not at all: the rows of an order whose claim was
//! taken over are left out, and a batch that fails is written again order by order, so a
//! bad order fails alone.

use super::entity::{event, line, order};
use super::model::OrderStatus;
use super::saga::{OrderStep, Step};
use super::store::{self, Placed};
use crate::db::Db;
use crate::idempotency::{self, Completion, IdempotencyError};
use crate::jobs::JobQueue;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryTrait, TransactionTrait};
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Orders per write, so a statement's parameters stay far inside both backends' limits.
const MAX_BATCH: usize = 64;
/// Writes in flight at once: one waits for its flush while the next is sent.
const WRITERS: usize = 2;
/// Orders waiting for a write; a fuller queue makes placing wait (HTTP's own limits keep
/// it far from full).
const QUEUE: usize = 1024;

struct Pending {
    placed: Placed,
    completion: Completion,
    done: oneshot::Sender<Result<(), IdempotencyError>>,
}

/// This process's writer of placed orders: a task that ends once every clone is dropped.
#[derive(Clone)]
pub struct PlacementWriter {
    queue: mpsc::Sender<Pending>,
}

impl PlacementWriter {
    /// Starts the writer on the current runtime.
    pub fn start(db: Db, jobs: JobQueue) -> Self {
        let (queue, pending) = mpsc::channel(QUEUE);
        tokio::spawn(gather(pending, db, jobs));
        Self { queue }
    }

    /// Commits `placed`, its first saga step and its key's `completion` (with others placed
    /// meanwhile); `ClaimLost` when the key was taken over, and nothing was written.
    pub async fn write(
        &self,
        placed: Placed,
        completion: Completion,
    ) -> Result<(), IdempotencyError> {
        let stopped = || DbErr::Custom("the order writer has stopped".into());
        let (done, answer) = oneshot::channel();
        let pending = Pending {
            placed,
            completion,
            done,
        };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn gather(mut pending: mpsc::Receiver<Pending>, db: Db, jobs: JobQueue) {
    let writers = Arc::new(Semaphore::new(WRITERS));
    loop {
        // The permit first: orders arriving while every writer is busy make the next batch.
        let Ok(permit) = writers.clone().acquire_owned().await else {
            return;
        };
        let mut batch = Vec::with_capacity(MAX_BATCH);
        if pending.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let (db, jobs) = (db.clone(), jobs.clone());
        tokio::spawn(async move {
            write(&db, &jobs, batch).await;
            drop(permit);
        });
    }
}

/// Writes `batch` and answers each order; after a failed batch, each order alone.
async fn write(db: &Db, jobs: &JobQueue, batch: Vec<Pending>) {
    if batch.len() > 1 {
        let (placed, completions): (Vec<_>, Vec<_>) =
            batch.iter().map(|p| (&p.placed, &p.completion)).unzip();
        if let Ok(held) = commit(db, jobs, &placed, &completions).await {
            for (pending, held) in batch.into_iter().zip(held) {
                let _ = pending.done.send(answer(Ok(held)));
            }
            return;
        }
    }
    for pending in batch {
        let written = commit(db, jobs, &[&pending.placed], &[&pending.completion]).await;
        let _ = pending
            .done
            .send(answer(written.map(|held| held == [true])));
    }
}

fn answer(held: Result<bool, DbErr>) -> Result<(), IdempotencyError> {
    match held {
        Ok(true) => Ok(()),
        Ok(false) => Err(IdempotencyError::ClaimLost),
        Err(e) => Err(e.into()),
    }
}

/// One transaction: the keys' responses, then the rows of the orders whose claims were
/// still held. Says, per order, whether it was written.
async fn commit(
    db: &Db,
    jobs: &JobQueue,
    placed: &[&Placed],
    completions: &[&Completion],
) -> Result<Vec<bool>, DbErr> {
    let txn = db.begin_write().await?;
    let held = idempotency::complete_all(&txn, completions).await?;
    let kept: Vec<&Placed> = placed
        .iter()
        .zip(&held)
        .filter_map(|(placed, held)| held.then_some(*placed))
        .collect();
    if !kept.is_empty() {
        insert(&txn, &kept).await?;
        let steps: Vec<OrderStep> = kept
            .iter()
            .map(|p| OrderStep {
                order_id: p.order.id,
                step: Step::Reserve,
            })
            .collect();
        jobs.enqueue_many(&txn, &steps).await?;
    }
    txn.commit().await?;
    Ok(held)
}

/// Inserts the orders, their lines and their first events (one round trip on
/// PostgreSQL). Run in a transaction.
async fn insert(
    conn: &(impl ConnectionTrait + TransactionTrait),
    placed: &[&Placed],
) -> Result<(), DbErr> {
    let orders = placed
        .iter()
        .map(|p| order::ActiveModel::from(p.order.clone()));
    let lines = placed.iter().flat_map(|p| &p.lines);
    let events = placed
        .iter()
        .map(|p| store::entry(p.order.id, None, OrderStatus::Pending, None, None));
    let inserts = [
        order::Entity::insert_many(orders).into_query(),
        line::Entity::insert_many(lines.cloned().map(line::ActiveModel::from)).into_query(),
        event::Entity::insert_many(events).into_query(),
    ];
    crate::db::insert_all(conn, &inserts).await
}
