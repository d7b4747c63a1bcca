//! `levee user create | reset-password`: account administration from the shell, e.g. the
//! first admin of a fresh install. Passwords come from a prompt, or from the first line of
//! standard input when it is not a terminal — never from the command line.

use super::{CliError, connect};
use crate::auth::{Auth, LoginThrottle};
use crate::config::Config;
use crate::db::{Db, migrate};
use crate::users::{self, Email, Role};
use std::io::{BufRead, IsTerminal};

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Create an account (the password is prompted for, or read from stdin).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role, default_value = "customer")]
        role: Role,
        /// Display name; defaults to the part of the email before `@`.
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a new password for an account and sign it out everywhere.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| format!("expected admin, editor or customer, got {raw:?}"))
}

pub async fn run(config: Config, args: UserArgs) -> Result<(), CliError> {
    let db = connect(&config).await?;
    let outcome = act(&config, &db, args.action).await;
    db.close().await;
    outcome
}

async fn act(config: &Config, db: &Db, action: Action) -> Result<(), CliError> {
    if config.database.auto_migrate {
        migrate::up(db).await.map_err(CliError::runtime)?;
    }
    migrate::check(db).await.map_err(CliError::runtime)?;
    // The CLI never logs in: in-process failure counters are never consulted.
    let auth = Auth::load(
        &config.auth,
        db,
        LoginThrottle::new(&config.auth, None, true),
    )
    .await
    .map_err(CliError::runtime)?;
    let invalid = |field: &str, detail: String| CliError::Invalid(format!("--{field}: {detail}"));
    match action {
        Action::Create { email, role, name } => {
            let email = Email::parse(&email).map_err(|e| invalid("email", e.detail))?;
            let name = users::NAME
                .parse(name.as_deref().unwrap_or(email.local_part()))
                .map_err(|e| invalid("name", e.detail))?;
            let password = read_password()?;
            auth.check_new_password(&password, "/password")
                .map_err(|e| CliError::Invalid(format!("password: {}", e.detail)))?;
            let password_hash = auth
                .hasher()
                .hash(&password)
                .await
                .map_err(CliError::runtime)?;
            let user = users::create(
                db.write(),
                users::NewUser {
                    email,
                    name,
                    role,
                    password_hash,
                    // An admin vouches for the address they typed.
                    email_verified_at: Some(chrono::Utc::now()),
                },
            )
            .await
            .map_err(|e| CliError::Runtime(format!("--email: {e}")))?;
            println!(
                "created {} {} ({})",
                user.role.as_str(),
                user.email,
                user.id
            );
        }
        Action::ResetPassword { email } => {
            let email = Email::parse(&email).map_err(|e| invalid("email", e.detail))?;
            let user = users::find_by_email(db.write(), &email)
                .await
                .map_err(CliError::runtime)?
                .ok_or_else(|| {
                    CliError::Runtime(format!("--email: no account with email {}", email.as_str()))
                })?;
            let password = read_password()?;
            auth.set_password(db, user.id, &password)
                .await
                .map_err(|e| CliError::Invalid(format!("password: {e}")))?;
            println!(
                "password reset for {}; every session was signed out",
                user.email
            );
        }
    }
    Ok(())
}

/// Prompts twice on a terminal; otherwise takes stdin's first line, accepting an identical
/// second line (the same input a prompt would get).
fn read_password() -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(CliError::runtime)?;
        let again = rpassword::prompt_password("Repeat password: ").map_err(CliError::runtime)?;
        if first != again {
            return Err(CliError::Invalid("password: the two entries differ".into()));
        }
        return Ok(first);
    }
    let mut lines = std::io::stdin().lock().lines();
    let first = lines
        .next()
        .transpose()
        .map_err(CliError::runtime)?
        .ok_or_else(|| {
            CliError::Invalid("password: expected it on the first line of standard input".into())
        })?;
    if let Some(second) = lines.next().transpose().map_err(CliError::runtime)?
        && !second.is_empty()
        && second != first
    {
        return Err(CliError::Invalid(
            "password: the second line of standard input differs from the first".into(),
        ));
    }
    Ok(first)
}
