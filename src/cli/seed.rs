//! `levee seed`: demo and benchmark data — published posts with unique slugs and products
//! with stock. Idempotent (fixed slugs and SKUs; existing rows are kept), batched, and safe
//! while `serve` runs (each batch is its own short transaction).

use super::{CliError, connect};
use crate::config::Config;
use crate::db::ids::UserId;
use crate::db::{Db, migrate};
use crate::products::{Currency, Money, NewProduct, Sku};
use crate::users::{self, Email, Role};
use std::time::Instant;

/// Rows per INSERT: well under SQLite's bound-parameter limit.
const BATCH: u64 = 500;
const AUTHOR_EMAIL: &str = "seed-author@levee.invalid";

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// Published posts to ensure exist (`seed-post-000001` …).
    #[arg(long, default_value_t = 0)]
    posts: u64,
    /// Products to ensure exist (`SEED-000001` …), each with 100 units in stock.
    #[arg(long, default_value_t = 0)]
    products: u64,
}

pub async fn run(config: Config, args: SeedArgs) -> Result<(), CliError> {
    let db = connect(&config).await?;
    let outcome = seed(&config, &db, args).await;
    db.close().await;
    outcome
}

async fn seed(config: &Config, db: &Db, args: SeedArgs) -> Result<(), CliError> {
    if config.database.auto_migrate {
        migrate::up(db).await.map_err(CliError::runtime)?;
    }
    migrate::check(db).await.map_err(CliError::runtime)?;
    let started = Instant::now();
    if args.posts > 0 {
        let author = seed_author(db).await?;
        for start in (1..=args.posts).step_by(BATCH as usize) {
            let end = (start + BATCH - 1).min(args.posts);
            let batch = (start..=end)
                .map(|i| {
                    (
                        format!("seed-post-{i:06}"),
                        format!("Seed post {i}"),
                        seed_body(i),
                    )
                })
                .collect();
            let txn = db.begin_write().await.map_err(CliError::runtime)?;
            crate::posts::insert_published_batch(&txn, author, batch)
                .await
                .map_err(CliError::runtime)?;
            txn.commit().await.map_err(CliError::runtime)?;
        }
        println!(
            "posts: {} seed posts present",
            crate::posts::count_with_slug_prefix(db.write(), "seed-post-")
                .await
                .map_err(CliError::runtime)?
        );
    }
    if args.products > 0 {
        let mut created = 0;
        for start in (1..=args.products).step_by(BATCH as usize) {
            let end = (start + BATCH - 1).min(args.products);
            created += seed_products(db, start..=end).await?;
        }
        println!(
            "products: {created} created, {} already present",
            args.products - created
        );
    }
    println!("seeded in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The editor the seed posts belong to; it cannot log in (its password is random).
async fn seed_author(db: &Db) -> Result<UserId, CliError> {
    let email = Email::parse(AUTHOR_EMAIL).map_err(|e| CliError::Runtime(e.detail))?;
    if let Some(user) = users::find_by_email(db.write(), &email)
        .await
        .map_err(CliError::runtime)?
    {
        return Ok(user.id);
    }
    // A hash of nothing anyone knows: no password verifies against it.
    let new = users::NewUser {
        email: email.clone(),
        name: "Seed author".into(),
        role: Role::Editor,
        password_hash: "!".into(),
    };
    match users::create(db.write(), new).await {
        Ok(user) => Ok(user.id),
        // A concurrent seeder created it first.
        Err(users::UsersError::EmailTaken) => users::find_by_email(db.write(), &email)
            .await
            .map_err(CliError::runtime)?
            .map(|u| u.id)
            .ok_or_else(|| CliError::Runtime("the seed author vanished".into())),
        Err(e) => Err(CliError::runtime(e)),
    }
}

fn seed_body(i: u64) -> String {
    format!(
        "Post number {i}. levee keeps this site up when traffic surges: pooled connections, \
         cached reads, rate limits and background jobs in one binary. This paragraph exists so \
         responses have a realistic size for benchmarks."
    )
}

async fn seed_products(db: &Db, range: std::ops::RangeInclusive<u64>) -> Result<u64, CliError> {
    let invalid = |e: crate::error::FieldError| CliError::Runtime(e.detail);
    let skus = range
        .clone()
        .map(|i| Sku::parse(&format!("SEED-{i:06}"), "/sku"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let currency = Currency::parse("EUR", "/currency").map_err(invalid)?;
    let txn = db.begin_write().await.map_err(CliError::runtime)?;
    let existing = crate::products::existing_skus(&txn, skus.clone())
        .await
        .map_err(CliError::runtime)?;
    let mut created = 0;
    for (i, sku) in range.zip(skus).filter(|(_, sku)| !existing.contains(sku)) {
        let new = NewProduct {
            sku,
            name: format!("Seed product {i}"),
            description: "A product created by `levee seed`.".into(),
            price: Money {
                amount: i64::try_from(99 + (i * 137) % 9_900).unwrap_or(99),
                currency: currency.clone(),
            },
            stock: 100,
        };
        crate::products::insert(&txn, new, "system:seed")
            .await
            .map_err(CliError::runtime)?;
        created += 1;
    }
    txn.commit().await.map_err(CliError::runtime)?;
    Ok(created)
}
