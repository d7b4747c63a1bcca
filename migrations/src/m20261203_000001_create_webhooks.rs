//! Webhooks: endpoints admins register, the events levee emits (the stable payload each
//! delivery sends), one delivery per event and subscribed endpoint, and one row per
//! delivery attempt. Events (with their deliveries and attempts) are pruned after 30 days.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Description,
    EventTypes,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    Enabled,
    DisabledReason,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    Id,
    EventType,
    Data,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EventId,
    EndpointId,
    Status,
    Attempts,
    LastStatusCode,
    LastLatencyMs,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    EndpointId,
    Outcome,
    StatusCode,
    LatencyMs,
    Error,
    CreatedAt,
}

fn timestamp(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn cascade(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).to_owned();
    for col in cols {
        index.col(col);
    }
    manager.create_index(index).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookEndpoints as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(ColumnDef::new(E::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(E::Url).string_len(2048).not_null())
                    .col(ColumnDef::new(E::Description).string_len(500).not_null())
                    .col(ColumnDef::new(E::EventTypes).text().not_null())
                    .col(ColumnDef::new(E::Secret).string_len(100).not_null())
                    .col(ColumnDef::new(E::PreviousSecret).string_len(100).null())
                    .col(
                        ColumnDef::new(E::PreviousSecretUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(E::Enabled).boolean().not_null())
                    .col(ColumnDef::new(E::DisabledReason).string_len(200).null())
                    .col(
                        ColumnDef::new(E::FailingSince)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(E::CreatedAt))
                    .col(timestamp(E::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Emission reads the enabled endpoints on every order transition: one indexed query.
        index(
            manager,
            "idx_webhook_endpoints_enabled",
            E::Table,
            vec![E::Enabled.into_iden()],
        )
        .await?;

        use WebhookEvents as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .col(ColumnDef::new(V::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(V::EventType).string_len(32).not_null())
                    .col(ColumnDef::new(V::Data).text().not_null())
                    .col(timestamp(V::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_webhook_events_created",
            V::Table,
            vec![V::CreatedAt.into_iden()],
        )
        .await?;

        use WebhookDeliveries as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(ColumnDef::new(D::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(D::EventId).uuid().not_null())
                    .col(ColumnDef::new(D::EndpointId).uuid().not_null())
                    .col(ColumnDef::new(D::Status).string_len(16).not_null().check(
                        Expr::col(D::Status).is_in(["pending", "retrying", "delivered", "dead"]),
                    ))
                    .col(ColumnDef::new(D::Attempts).integer().not_null())
                    .col(ColumnDef::new(D::LastStatusCode).integer().null())
                    .col(ColumnDef::new(D::LastLatencyMs).big_integer().null())
                    .col(ColumnDef::new(D::LastError).string_len(300).null())
                    .col(timestamp(D::CreatedAt))
                    .col(timestamp(D::UpdatedAt))
                    .foreign_key(&mut cascade((D::Table, D::EventId), (V::Table, V::Id)))
                    .foreign_key(&mut cascade((D::Table, D::EndpointId), (E::Table, E::Id)))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_webhook_deliveries_event",
            D::Table,
            vec![D::EventId.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_webhook_deliveries_endpoint",
            D::Table,
            vec![D::EndpointId.into_iden(), D::Id.into_iden()],
        )
        .await?;

        use WebhookAttempts as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(ColumnDef::new(A::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(A::DeliveryId).uuid().not_null())
                    .col(ColumnDef::new(A::EndpointId).uuid().not_null())
                    .col(ColumnDef::new(A::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(A::StatusCode).integer().null())
                    .col(ColumnDef::new(A::LatencyMs).big_integer().not_null())
                    .col(ColumnDef::new(A::Error).string_len(300).null())
                    .col(timestamp(A::CreatedAt))
                    .foreign_key(&mut cascade((A::Table, A::DeliveryId), (D::Table, D::Id)))
                    .foreign_key(&mut cascade((A::Table, A::EndpointId), (E::Table, E::Id)))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_webhook_attempts_delivery",
            A::Table,
            vec![A::DeliveryId.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_webhook_attempts_endpoint",
            A::Table,
            vec![A::EndpointId.into_iden(), A::Id.into_iden()],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEvents::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
