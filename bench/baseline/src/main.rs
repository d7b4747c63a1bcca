//! Same-run baselines for `bench/run`: the ceilings levee's figures are divided by.
//!
//! - `levee-bench-baseline hello PORT`: poem answering `GET /hello` with a constant JSON body —
//!   the HTTP ceiling (same poem, tokio multi-thread runtime, mimalloc and idle timeout as
//!   `levee serve`, no middleware).
//! - `levee-bench-baseline select PORT DATABASE_URL POOL_SIZE`: poem answering
//!   `GET /products/{sku}` with one `SELECT` by the unique SKU (the product joined with its
//!   stock, the data levee's uncached read returns) through an sqlx pool of POOL_SIZE
//!   connections — the database ceiling for levee's uncached read.
//!
//! Both print nothing and serve until killed; the script polls the port.

use poem::http::StatusCode;
use poem::listener::TcpListener;
use poem::web::{Data, Path};
use poem::{EndpointExt, Response, Route, Server, get, handler};
use sea_orm::sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HELLO: &str = r#"{"status":"ok","service":"levee-bench-baseline"}"#;

/// The product and its stock in one statement, by the unique SKU.
const SELECT: &str = "SELECT p.id::text, p.sku, p.name, p.description, p.price_amount, p.currency, \
     p.version, p.updated_at::text, COALESCE(i.on_hand, 0), COALESCE(i.reserved, 0) \
     FROM products p LEFT JOIN inventory i ON i.product_id = p.id \
     WHERE p.sku = $1 AND p.active";

type Row = (
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    String,
    i64,
    i64,
);

#[handler]
fn hello() -> Response {
    Response::builder()
        .content_type("application/json")
        .body(HELLO)
}

#[handler]
async fn product(Path(sku): Path<String>, pool: Data<&PgPool>) -> Response {
    let row: Result<Option<Row>, _> = sea_orm::sqlx::query_as(SELECT)
        .bind(&sku)
        .fetch_optional(*pool)
        .await;
    match row {
        Ok(Some((
            id,
            sku,
            name,
            description,
            amount,
            currency,
            version,
            updated_at,
            on_hand,
            reserved,
        ))) => {
            let body = serde_json::json!({
                "id": id, "sku": sku, "name": name, "description": description,
                "price": {"amount": amount, "currency": currency},
                "version": version, "updated_at": updated_at,
                "stock": {"on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved},
            });
            Response::builder()
                .content_type("application/json")
                .body(body.to_string())
        }
        Ok(None) => StatusCode::NOT_FOUND.into(),
        Err(e) => {
            eprintln!("select failed: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into()
        }
    }
}

fn usage() -> std::process::ExitCode {
    eprintln!("usage: levee-bench-baseline hello PORT | select PORT DATABASE_URL POOL_SIZE");
    std::process::ExitCode::from(2)
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, port) = match (
        args.first(),
        args.get(1).and_then(|p| p.parse::<u16>().ok()),
    ) {
        (Some(mode), Some(port)) => (mode.as_str(), port),
        _ => return usage(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let served = match mode {
        "hello" => runtime.block_on(serve(port, Route::new().at("/hello", get(hello)))),
        "select" => {
            let (Some(url), Some(size)) = (args.get(2), args.get(3).and_then(|s| s.parse().ok()))
            else {
                return usage();
            };
            runtime.block_on(async {
                let pool = PgPoolOptions::new()
                    .max_connections(size)
                    .connect(url)
                    .await
                    .map_err(std::io::Error::other)?;
                serve(
                    port,
                    Route::new().at("/products/:sku", get(product)).data(pool),
                )
                .await
            })
        }
        _ => return usage(),
    };
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("levee-bench-baseline {mode}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(port: u16, routes: impl poem::Endpoint + 'static) -> std::io::Result<()> {
    Server::new(TcpListener::bind(("127.0.0.1", port)))
        .idle_timeout(Duration::from_secs(75))
        .run(routes)
        .await
}
