//! `levee seed`: demo and benchmark data — published posts with unique slugs, products
//! with stock, and customers with access tokens. Idempotent (fixed slugs, SKUs and emails;
//! existing rows are kept), batched, and safe while `serve` runs (each batch is its own
//! short transaction).

use super::{CliError, connect};
use crate::auth::TokenIssuer;
use crate::config::Config;
use crate::db::ids::UserId;
use crate::db::{Db, migrate};
use crate::products::{Currency, Money, NewProduct, Sku};
use crate::users::{self, Email, Role};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Rows per INSERT: well under SQLite's bound-parameter limit.
const BATCH: u64 = 500;
const AUTHOR_EMAIL: &str = "seed-author@levee.invalid";

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// Published posts to ensure exist (`seed-post-000001` …).
    #[arg(long, default_value_t = 0)]
    posts: u64,
    /// Products to ensure exist (`SEED-000001` …), each created with `--stock` units.
    #[arg(long, default_value_t = 0)]
    products: u64,
    /// Units in stock of each product this run creates.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(0..))]
    stock: i64,
    /// Customers to ensure exist (`seed-customer-000001@levee.invalid` …). They have no
    /// password: they act only through the tokens `--tokens` writes.
    #[arg(long, default_value_t = 0)]
    customers: u64,
    /// Write a fresh access token for each seeded customer to this file, one per line (valid
    /// for auth.access_token_ttl), so a load generator acts as many customers without a
    /// password hash per sign-in.
    #[arg(long, value_name = "PATH", requires = "customers")]
    tokens: Option<PathBuf>,
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
        // Distinct timestamps, one millisecond apart across every batch, keep the seeded
        // feed in a stable order: `seed-post-000001` is the newest (bench scripts rank
        // popularity newest first).
        let newest = chrono::Utc::now();
        for start in (1..=args.posts).step_by(BATCH as usize) {
            let end = (start + BATCH - 1).min(args.posts);
            let batch = (start..=end)
                .map(|i| {
                    (
                        format!("seed-post-{i:06}"),
                        format!("Seed post {i}"),
                        seed_body(i),
                        newest - chrono::Duration::milliseconds(i64::try_from(i).unwrap_or(0)),
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
            created += seed_products(db, start..=end, args.stock).await?;
        }
        println!(
            "products: {created} created, {} already present",
            args.products - created
        );
    }
    if args.customers > 0 {
        let mut customers = Vec::new();
        for start in (1..=args.customers).step_by(BATCH as usize) {
            let end = (start + BATCH - 1).min(args.customers);
            customers.extend(seed_customers(db, start..=end).await?);
        }
        println!("customers: {} seed customers present", customers.len());
        if let Some(path) = &args.tokens {
            write_tokens(config, db, &customers, path).await?;
            println!("tokens: {} written to {}", customers.len(), path.display());
        }
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
        email_verified_at: Some(chrono::Utc::now()),
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

async fn seed_products(
    db: &Db,
    range: std::ops::RangeInclusive<u64>,
    stock: i64,
) -> Result<u64, CliError> {
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
            stock,
        };
        crate::products::insert(&txn, new, "system:seed")
            .await
            .map_err(CliError::runtime)?;
        created += 1;
    }
    txn.commit().await.map_err(CliError::runtime)?;
    Ok(created)
}

/// Ensures the customers numbered `range` exist and returns their ids. Like the seed author,
/// they have a hash no password verifies against.
async fn seed_customers(
    db: &Db,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Vec<UserId>, CliError> {
    let txn = db.begin_write().await.map_err(CliError::runtime)?;
    let mut ids = Vec::new();
    for i in range {
        let email = Email::parse(&format!("seed-customer-{i:06}@levee.invalid"))
            .map_err(|e| CliError::Runtime(e.detail))?;
        let existing = users::find_by_email(&txn, &email)
            .await
            .map_err(CliError::runtime)?;
        let user = match existing {
            Some(user) => user,
            None => {
                let new = users::NewUser {
                    email,
                    name: format!("Seed customer {i}"),
                    role: Role::Customer,
                    password_hash: "!".into(),
                    // Benchmark customers place orders even under require_verified_email.
                    email_verified_at: Some(chrono::Utc::now()),
                };
                users::create(&txn, new).await.map_err(CliError::runtime)?
            }
        };
        ids.push(user.id);
    }
    txn.commit().await.map_err(CliError::runtime)?;
    Ok(ids)
}

/// Writes an access token per customer to `path`, readable by its owner only: the tokens
/// are credentials.
async fn write_tokens(
    config: &Config,
    db: &Db,
    customers: &[UserId],
    path: &std::path::Path,
) -> Result<(), CliError> {
    let issuer = TokenIssuer::load(db.write(), &config.auth)
        .await
        .map_err(CliError::runtime)?;
    let mut lines = String::new();
    for id in customers {
        lines.push_str(&issuer.issue(*id, Role::Customer, None));
        lines.push('\n');
    }
    let write = || {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?
            .write_all(lines.as_bytes())
    };
    write().map_err(|e| CliError::Runtime(format!("cannot write {}: {e}", path.display())))
}
