//! levee through a real pgbouncer in session mode (the mode the README documents):
//! concurrent statements never get each other's results, and per-connection settings such
//! as `statement_timeout` reach the server although pgbouncer drops startup options.

use crate::helpers::{Backend, PGBOUNCER_ENV, TestApp, env_url, skip, through};
use sea_orm::{ConnectionTrait, Statement};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_through_pgbouncer_get_their_own_results() {
    let Some(bouncer) = env_url(PGBOUNCER_ENV) else {
        skip("pgbouncer tests", PGBOUNCER_ENV);
        return;
    };
    let Some(app) = TestApp::spawn_with(
        Backend::Postgres,
        move |c| {
            let direct = c
                .database
                .direct_url
                .clone()
                .unwrap_or(c.database.url.clone());
            c.database.url = through(&bouncer, &direct);
            c.database.direct_url = Some(direct);
            c.database.max_connections = levee::config::IntIn::new(8);
        },
        None,
    )
    .await
    else {
        return;
    };
    let db = app.state.db().clone();
    let timeout = db
        .write()
        .query_one_raw(Statement::from_string(
            db.write().get_database_backend(),
            "SELECT current_setting('statement_timeout') AS t",
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get::<String>("", "t")
        .expect("t");
    assert_eq!(
        timeout, "30s",
        "database.statement_timeout reaches the server"
    );

    // Prepared statements with parameters from many tasks at once: in transaction mode on
    // pgbouncer 1.18 these fail or return another client's rows (docs/PGBOUNCER.md).
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..16i64 {
        let db = db.clone();
        tasks.spawn(async move {
            for i in 0..50i64 {
                let row = db
                    .read()
                    .query_one_raw(Statement::from_sql_and_values(
                        sea_orm::DbBackend::Postgres,
                        "SELECT $1::bigint * 1000 + $2::bigint AS n",
                        [client.into(), i.into()],
                    ))
                    .await
                    .expect("query through pgbouncer")
                    .expect("row");
                assert_eq!(row.try_get::<i64>("", "n").expect("n"), client * 1000 + i);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("no task saw another client's result");
    }
    // And the API works end to end through it.
    assert_eq!(app.get("/posts").await.status(), 200);
    assert_eq!(app.get("/ready").await.status(), 200);
}
