//! levee's schema migrations, portable to SQLite and PostgreSQL. One file per change,
//! named by date; released migrations are never edited.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261125_000001_create_users;
mod m20261125_000002_create_auth_tables;
mod m20261125_000003_create_posts;
mod m20261125_000004_create_catalog;
mod m20261125_000005_create_jobs;
mod m20261125_000006_create_cron;
mod m20261125_000007_create_job_probe_runs;
mod m20261125_000008_create_mail_outbox;
mod m20261130_000001_refresh_token_successor_salt;
mod m20261130_000002_create_admin_sessions;
mod m20261201_000001_create_instance_snapshots;
mod m20261201_000002_create_idempotency_keys;
mod m20261201_000003_create_orders;
mod m20261202_000001_order_charge_requested;
mod m20261203_000001_create_webhooks;
mod m20261203_000002_create_reports;
mod m20261204_000001_create_account_tokens;
mod m20261205_000001_account_token_new_email;
mod m20261206_000001_user_deleted_at;
mod m20261207_000001_create_cache_invalidations;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_auth_tables::Migration),
            Box::new(m20261125_000003_create_posts::Migration),
            Box::new(m20261125_000004_create_catalog::Migration),
            Box::new(m20261125_000005_create_jobs::Migration),
            Box::new(m20261125_000006_create_cron::Migration),
            Box::new(m20261125_000007_create_job_probe_runs::Migration),
            Box::new(m20261125_000008_create_mail_outbox::Migration),
            Box::new(m20261130_000001_refresh_token_successor_salt::Migration),
            Box::new(m20261130_000002_create_admin_sessions::Migration),
            Box::new(m20261201_000001_create_instance_snapshots::Migration),
            Box::new(m20261201_000002_create_idempotency_keys::Migration),
            Box::new(m20261201_000003_create_orders::Migration),
            Box::new(m20261202_000001_order_charge_requested::Migration),
            Box::new(m20261203_000002_create_reports::Migration),
            Box::new(m20261203_000001_create_webhooks::Migration),
            Box::new(m20261204_000001_create_account_tokens::Migration),
            Box::new(m20261205_000001_account_token_new_email::Migration),
            Box::new(m20261206_000001_user_deleted_at::Migration),
            Box::new(m20261207_000001_create_cache_invalidations::Migration),
        ]
    }
}
