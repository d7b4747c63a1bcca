//! The queries of events, deliveries and attempts: plain functions of a connection.

use super::client::Answer;
use super::entity::{attempt, delivery, event};
use super::model::DeliveryStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
};
use uuid::Uuid;

pub async fn insert_event(
    conn: &impl ConnectionTrait,
    event_type: &str,
    data: &serde_json::Value,
) -> Result<event::Model, DbErr> {
    event::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_type: Set(event_type.to_string()),
        data: Set(data.to_string()),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await
}

pub async fn insert_delivery(
    conn: &impl ConnectionTrait,
    event_id: Uuid,
    endpoint_id: Uuid,
) -> Result<delivery::Model, DbErr> {
    let now = Utc::now();
    delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(event_id),
        endpoint_id: Set(endpoint_id),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        last_status_code: Set(None),
        last_latency_ms: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
}

pub async fn delivery(
    conn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<delivery::Model>, DbErr> {
    delivery::Entity::find_by_id(id).one(conn).await
}

pub async fn event(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<event::Model>, DbErr> {
    event::Entity::find_by_id(id).one(conn).await
}

/// Sets the delivery's state (a resend puts it back to `pending`, a disabled endpoint's
/// is `dead`).
pub async fn set_status(
    conn: &impl ConnectionTrait,
    id: Uuid,
    status: DeliveryStatus,
) -> Result<(), DbErr> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(delivery::Column::Id.eq(id))
        .exec(conn)
        .await
        .map(|_| ())
}

/// Records one attempt of `delivery` and the state it leaves the delivery in.
pub async fn record_attempt(
    conn: &impl ConnectionTrait,
    delivery: &delivery::Model,
    answer: &Answer,
    status: DeliveryStatus,
) -> Result<attempt::Model, DbErr> {
    let now = Utc::now();
    let latency = i64::try_from(answer.latency.as_millis()).unwrap_or(i64::MAX);
    let code = answer.status.map(i32::from);
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::LastStatusCode, Expr::value(code))
        .col_expr(delivery::Column::LastLatencyMs, Expr::value(latency))
        .col_expr(
            delivery::Column::LastError,
            Expr::value(answer.error.clone()),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(delivery.id))
        .exec(conn)
        .await?;
    attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(delivery.id),
        endpoint_id: Set(delivery.endpoint_id),
        outcome: Set(answer.outcome),
        status_code: Set(code),
        latency_ms: Set(latency),
        error: Set(answer.error.clone()),
        created_at: Set(now),
    }
    .insert(conn)
    .await
}

/// The endpoint's latest attempts, newest first, each with its delivery and event.
pub async fn recent_attempts(
    conn: &impl ConnectionTrait,
    endpoint_id: Uuid,
    limit: u64,
) -> Result<Vec<(attempt::Model, delivery::Model, event::Model)>, DbErr> {
    let attempts = attempt::Entity::find()
        .filter(attempt::Column::EndpointId.eq(endpoint_id))
        .order_by_desc(attempt::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = attempts.iter().map(|a| a.delivery_id).collect();
    let deliveries = delivery::Entity::find()
        .filter(delivery::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    let deliveries = with_events(conn, deliveries).await?;
    Ok(attempts
        .into_iter()
        .filter_map(|a| {
            let (d, e) = deliveries
                .iter()
                .find(|(d, _)| d.id == a.delivery_id)?
                .clone();
            Some((a, d, e))
        })
        .collect())
}

/// Each of `deliveries` with its event (one query for all).
async fn with_events(
    conn: &impl ConnectionTrait,
    deliveries: Vec<delivery::Model>,
) -> Result<Vec<(delivery::Model, event::Model)>, DbErr> {
    let ids: Vec<Uuid> = deliveries.iter().map(|d| d.event_id).collect();
    let events = event::Entity::find()
        .filter(event::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    Ok(deliveries
        .into_iter()
        .filter_map(|d| {
            let e = events.iter().find(|e| e.id == d.event_id)?.clone();
            Some((d, e))
        })
        .collect())
}

/// Deletes events emitted before `before`, with their deliveries and attempts.
pub async fn prune(conn: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let old = event::Column::CreatedAt.lt(before);
    let ids = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .filter(old.clone());
    attempt::Entity::delete_many()
        .filter(
            attempt::Column::DeliveryId.in_subquery(
                delivery::Entity::find()
                    .select_only()
                    .column(delivery::Column::Id)
                    .filter(delivery::Column::EventId.in_subquery(ids.clone().into_query()))
                    .into_query(),
            ),
        )
        .exec(conn)
        .await?;
    delivery::Entity::delete_many()
        .filter(delivery::Column::EventId.in_subquery(ids.into_query()))
        .exec(conn)
        .await?;
    Ok(event::Entity::delete_many()
        .filter(old)
        .exec(conn)
        .await?
        .rows_affected)
}

/// The latest deliveries to any endpoint, newest first, each with its event.
pub async fn recent_deliveries(
    conn: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<(delivery::Model, event::Model)>, DbErr> {
    let deliveries = delivery::Entity::find()
        .order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    with_events(conn, deliveries).await
}
