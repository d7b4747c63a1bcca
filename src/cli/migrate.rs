//! `levee migrate up | down [N] | status`.

use super::{CliError, connect};
use crate::config::Config;
use crate::db::migrate;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Apply every pending migration (safe to run from several processes at once).
    Up,
    /// Revert the most recent migrations.
    Down {
        /// How many migrations to revert.
        #[arg(default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        steps: u32,
    },
    /// List every migration and whether it is applied.
    Status,
}

pub async fn run(config: Config, args: MigrateArgs) -> Result<(), CliError> {
    let db = connect(&config).await?;
    let outcome = match args.action {
        Action::Up => migrate::up(&db)
            .await
            .map(|names| report("applied", &names))
            .map_err(CliError::runtime),
        Action::Down { steps } => migrate::down(&db, steps)
            .await
            .map(|names| report("reverted", &names))
            .map_err(CliError::runtime),
        Action::Status => migrate::status(&db)
            .await
            .map_err(CliError::runtime)
            .map(|states| {
                for state in states {
                    println!(
                        "{:<8} {}",
                        if state.applied() {
                            "applied"
                        } else {
                            "pending"
                        },
                        state.name
                    );
                }
            }),
    };
    db.close().await;
    outcome
}

fn report(verb: &str, names: &[String]) {
    if names.is_empty() {
        println!("nothing to do: the schema is current");
    }
    for name in names {
        println!("{verb} {name}");
    }
}
