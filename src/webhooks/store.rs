//! The queries of webhook endpoints: plain functions of a connection.

use super::entity::endpoint;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

/// An endpoint as registered.
pub struct NewEndpoint {
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
}

/// What an update changes; `None` leaves a field alone.
#[derive(Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

pub fn event_types_of(endpoint: &endpoint::Model) -> Vec<String> {
    serde_json::from_str(&endpoint.event_types).unwrap_or_default()
}

fn types_json(types: &[String]) -> String {
    serde_json::Value::from(types.to_vec()).to_string()
}

pub async fn count_endpoints(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    endpoint::Entity::find().count(conn).await
}

pub async fn insert_endpoint(
    conn: &impl ConnectionTrait,
    new: NewEndpoint,
    secret: String,
) -> Result<endpoint::Model, DbErr> {
    let now = Utc::now();
    endpoint::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(new.url),
        description: Set(new.description),
        event_types: Set(types_json(&new.event_types)),
        secret: Set(secret),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        enabled: Set(true),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
}

/// Every endpoint, oldest first (there are at most `webhooks.max_endpoints`).
pub async fn endpoints(conn: &impl ConnectionTrait) -> Result<Vec<endpoint::Model>, DbErr> {
    endpoint::Entity::find()
        .order_by_asc(endpoint::Column::Id)
        .all(conn)
        .await
}

pub async fn endpoint(
    conn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<endpoint::Model>, DbErr> {
    endpoint::Entity::find_by_id(id).one(conn).await
}

pub async fn update_endpoint(
    conn: &impl ConnectionTrait,
    found: endpoint::Model,
    changes: EndpointChanges,
) -> Result<endpoint::Model, DbErr> {
    let mut row: endpoint::ActiveModel = found.into();
    if let Some(url) = changes.url {
        row.url = Set(url);
    }
    if let Some(description) = changes.description {
        row.description = Set(description);
    }
    if let Some(types) = changes.event_types {
        row.event_types = Set(types_json(&types));
    }
    if let Some(enabled) = changes.enabled {
        row.enabled = Set(enabled);
        row.failing_since = Set(None);
        row.disabled_reason = Set((!enabled).then(|| "disabled by an admin".to_string()));
    }
    row.updated_at = Set(Utc::now());
    row.update(conn).await
}

/// Makes `secret` the signing secret; the old one signs too until `until`.
pub async fn rotate(
    conn: &impl ConnectionTrait,
    found: endpoint::Model,
    secret: String,
    until: DateTime<Utc>,
) -> Result<endpoint::Model, DbErr> {
    let previous = found.secret.clone();
    let mut row: endpoint::ActiveModel = found.into();
    row.previous_secret = Set(Some(previous));
    row.previous_secret_until = Set(Some(until));
    row.secret = Set(secret);
    row.updated_at = Set(Utc::now());
    row.update(conn).await
}

/// The enabled endpoints subscribed to `event_type`: one query on the `enabled` index.
pub async fn subscribers(
    conn: &impl ConnectionTrait,
    event_type: &str,
) -> Result<Vec<Uuid>, DbErr> {
    let enabled: Vec<(Uuid, String)> = endpoint::Entity::find()
        .select_only()
        .column(endpoint::Column::Id)
        .column(endpoint::Column::EventTypes)
        .filter(endpoint::Column::Enabled.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(enabled
        .into_iter()
        .filter(|(_, types)| {
            serde_json::from_str::<Vec<String>>(types)
                .is_ok_and(|t| t.iter().any(|t| t == event_type))
        })
        .map(|(id, _)| id)
        .collect())
}

/// Notes how the endpoint's latest delivery went; after a failure, since when it has
/// been failing.
pub async fn note_health(
    conn: &impl ConnectionTrait,
    id: Uuid,
    delivered: bool,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let since = if delivered {
        Expr::value(Option::<DateTime<Utc>>::None)
    } else {
        let column = endpoint::Column::FailingSince;
        Func::coalesce([Expr::col(column), Expr::value(Utc::now())]).into()
    };
    endpoint::Entity::update_many()
        .col_expr(endpoint::Column::FailingSince, since)
        .filter(endpoint::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(endpoint(conn, id).await?.and_then(|e| e.failing_since))
}

/// Disables the endpoint with `reason` if it is enabled; `true` when this call did.
pub async fn disable(conn: &impl ConnectionTrait, id: Uuid, reason: &str) -> Result<bool, DbErr> {
    Ok(endpoint::Entity::update_many()
        .col_expr(endpoint::Column::Enabled, Expr::value(false))
        .col_expr(endpoint::Column::DisabledReason, Expr::value(reason))
        .col_expr(endpoint::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(endpoint::Column::Id.eq(id))
        .filter(endpoint::Column::Enabled.eq(true))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// The addresses of every active admin (told when an endpoint is disabled).
pub async fn active_admin_emails(conn: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    use crate::users::{Column, Entity, Role, UserStatus};
    Ok(Entity::find()
        .filter(Column::Role.eq(Role::Admin))
        .filter(Column::Status.eq(UserStatus::Active))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.email.to_string())
        .collect())
}
