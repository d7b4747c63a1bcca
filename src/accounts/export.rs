//! `GET /me/export`: everything levee holds about one user, as one JSON document written
//! section by section into a small channel, so memory stays bounded by a page of rows
//! however many orders or emails there are. Only rows of the caller are read: every query
//! filters by their id (or, for the outbox, their address).

use crate::auth::entity::{api_key, refresh_token};
use crate::db::Db;
use crate::orders::entity::{line, order};
use crate::users::{self, api::User};
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::ToJSON;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Rows read per query.
const PAGE: u64 = 100;
/// Chunks buffered between the reader and the response.
const BUFFERED: usize = 4;

/// One line of an exported order.
#[derive(Object)]
pub struct ExportedLine {
    pub sku: String,
    pub quantity: i64,
    /// In minor units of the order's currency.
    pub unit_price: i64,
}

/// One of the user's orders, with its shipping address and lines.
#[derive(Object)]
pub struct ExportedOrder {
    pub id: Uuid,
    pub status: crate::orders::OrderStatus,
    pub currency: String,
    /// In minor units.
    pub total_amount: i64,
    /// As given when ordering (anonymised after an account deletion).
    pub shipping_address: serde_json::Value,
    pub items: Vec<ExportedLine>,
    pub created_at: DateTime<Utc>,
}

/// An API key the user created: metadata only, never the key or its hash.
#[derive(Object)]
pub struct ExportedApiKey {
    pub id: Uuid,
    pub name: String,
    /// The public part of the key, as shown in lists.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A session still signed in: its id (the access tokens' `sid`) and its current refresh
/// token's times, never the token.
#[derive(Object)]
pub struct ExportedSession {
    pub id: Uuid,
    pub refreshed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A message levee sent to the user's address, from the outbox.
#[derive(Object)]
pub struct ExportedEmail {
    pub id: Uuid,
    pub subject: String,
    pub text_body: String,
    pub created_at: DateTime<Utc>,
}

/// The whole export. Streamed: the sections are written in this order.
#[derive(Object)]
#[oai(example)]
pub struct Export {
    pub exported_at: DateTime<Utc>,
    pub profile: User,
    pub orders: Vec<ExportedOrder>,
    pub api_keys: Vec<ExportedApiKey>,
    pub sessions: Vec<ExportedSession>,
    pub emails: Vec<ExportedEmail>,
}

type Chunk = Result<Vec<u8>, std::io::Error>;

/// The export of `user` as a stream of JSON chunks. A database error mid-way ends the
/// stream with an error (the response is cut short, never silently incomplete).
pub fn export(db: Db, user: users::Model) -> impl futures_util::Stream<Item = Chunk> + Send {
    let (tx, rx) = mpsc::channel::<Chunk>(BUFFERED);
    tokio::spawn(async move {
        let out = Writer { tx };
        if let Err(e) = write(&db, &user, &out).await {
            tracing::warn!(user.id = %user.id, error = %e, "export cut short");
            let _ = out.tx.send(Err(std::io::Error::other(e.to_string()))).await;
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

struct Writer {
    tx: mpsc::Sender<Chunk>,
}

/// The client went away: stop reading.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error("the client went away")]
    Gone,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl Writer {
    async fn raw(&self, text: String) -> Result<(), WriteError> {
        self.tx
            .send(Ok(text.into_bytes()))
            .await
            .map_err(|_| WriteError::Gone)
    }

    /// Writes `items` as array elements; `first` says whether one was written yet.
    async fn items<T: ToJSON>(&self, items: Vec<T>, first: &mut bool) -> Result<(), WriteError> {
        let mut text = String::new();
        for item in items {
            if !std::mem::take(first) {
                text.push(',');
            }
            text.push_str(&item.to_json_string());
        }
        self.raw(text).await
    }
}

async fn write(db: &Db, user: &users::Model, out: &Writer) -> Result<(), WriteError> {
    let conn = db.write();
    let profile = User::from(user.clone()).to_json_string();
    let now = Utc::now().to_json_string();
    out.raw(format!(
        r#"{{"exported_at":{now},"profile":{profile},"orders":["#
    ))
    .await?;
    let (mut first, mut after) = (true, None::<Uuid>);
    loop {
        let mut query = order::Entity::find()
            .filter(order::Column::UserId.eq(user.id))
            .order_by_asc(order::Column::Id)
            .limit(PAGE);
        if let Some(after) = after {
            query = query.filter(order::Column::Id.gt(after));
        }
        let orders = query.all(conn).await?;
        let Some(last) = orders.last() else { break };
        after = Some(last.id);
        let ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
        let mut lines = line::Entity::find()
            .filter(line::Column::OrderId.is_in(ids))
            .order_by_asc(line::Column::OrderId)
            .order_by_asc(line::Column::LineNo)
            .all(conn)
            .await?;
        let exported = orders
            .into_iter()
            .map(|o| {
                let (mine, rest) = lines.drain(..).partition(|l| l.order_id == o.id);
                lines = rest;
                exported_order(o, mine)
            })
            .collect();
        out.items(exported, &mut first).await?;
    }
    out.raw(r#"],"api_keys":["#.into()).await?;
    let keys = api_key::Entity::find()
        .filter(api_key::Column::CreatedBy.eq(user.id))
        .order_by_asc(api_key::Column::CreatedAt)
        .all(conn)
        .await?;
    let mut first = true;
    out.items(keys.into_iter().map(exported_key).collect(), &mut first)
        .await?;
    out.raw(r#"],"sessions":["#.into()).await?;
    let live = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(user.id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(refresh_token::Column::CreatedAt)
        .all(conn)
        .await?;
    let sessions = live
        .into_iter()
        .map(|t| ExportedSession {
            id: t.family_id,
            refreshed_at: t.created_at,
            expires_at: t.expires_at,
        })
        .collect();
    let mut first = true;
    out.items(sessions, &mut first).await?;
    out.raw(r#"],"emails":["#.into()).await?;
    let (mut first, mut after) = (true, None);
    loop {
        let page = crate::mail::to_recipient(conn, user.email.as_str(), after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let emails = page
            .into_iter()
            .map(|m| ExportedEmail {
                id: m.id,
                subject: m.subject,
                text_body: m.text_body,
                created_at: m.created_at,
            })
            .collect();
        out.items(emails, &mut first).await?;
    }
    out.raw("]}".into()).await
}

fn exported_order(o: order::Model, lines: Vec<line::Model>) -> ExportedOrder {
    ExportedOrder {
        id: o.id,
        status: o.status,
        currency: o.currency.to_string(),
        total_amount: o.total_amount,
        shipping_address: serde_json::from_str(&o.shipping_address)
            .unwrap_or(serde_json::Value::Null),
        items: lines
            .into_iter()
            .map(|l| ExportedLine {
                sku: l.sku.to_string(),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect(),
        created_at: o.created_at,
    }
}

fn exported_key(k: api_key::Model) -> ExportedApiKey {
    let scopes = crate::auth::api_keys::scopes_of(&k)
        .into_iter()
        .map(|s| s.as_str().to_string())
        .collect();
    ExportedApiKey {
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        scopes,
        created_at: k.created_at,
        expires_at: k.expires_at,
        last_used_at: k.last_used_at,
        revoked_at: k.revoked_at,
    }
}
