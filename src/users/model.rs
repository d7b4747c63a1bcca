//! Validated values of the users domain: emails, roles, statuses, display names.

use crate::error::FieldError;
use crate::validate::TextRule;

crate::stored_enum! {
    /// What a user may do. Stored as snake_case text.
    pub enum Role {
        Admin,
        Editor,
        Customer,
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Customer => "customer",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        [Role::Admin, Role::Editor, Role::Customer]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}

crate::stored_enum! {
    /// Disabled users cannot log in or refresh.
    pub enum UserStatus {
        Active,
        Disabled,
    }
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }
}

/// An email address, trimmed and lower-cased so uniqueness is case-insensitive. Stored
/// as the text it holds; only [`Email::parse`] makes one from input.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::DeriveValueType)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Email, FieldError> {
        let email = raw.trim().to_lowercase();
        let invalid = |why: &str| FieldError::at("/email", why.to_string());
        if email.len() > Self::MAX_LEN {
            return Err(invalid("must be at most 254 characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid("must be an email address like name@example.com"));
        };
        let valid_local = !local.is_empty() && local.len() <= 64;
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && label.len() <= 63);
        if !valid_local
            || !valid_domain
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
            || domain.contains('@')
        {
            return Err(invalid("must be an email address like name@example.com"));
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address a deleted account is left with: unique, and undeliverable by design
    /// (`.invalid` is reserved, RFC 2606).
    pub fn deleted(id: crate::db::ids::UserId) -> Email {
        Email(format!("deleted-{}@deleted.invalid", id.0.simple()))
    }

    /// The part before `@`, used as a default display name.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

/// A display name (users, API keys): 1 to 100 characters after trimming.
pub const NAME: TextRule = TextRule::required("/name", 100);

/// Checks a new password's length: at least `min` characters, at most 1024 bytes (argon2
/// cost grows with input; nobody needs more).
pub fn check_password(password: &str, min: usize, pointer: &str) -> Result<(), FieldError> {
    if password.chars().count() < min {
        return Err(FieldError::at(
            pointer,
            format!("must be at least {min} characters"),
        ));
    }
    if password.len() > 1024 {
        return Err(FieldError::at(pointer, "must be at most 1024 bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "a@b@example.com",
            "ada@.example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn names_and_passwords_have_bounds() {
        assert_eq!(NAME.parse("  Ada "), Ok("Ada".into()));
        assert!(NAME.parse("   ").is_err());
        assert!(NAME.parse(&"x".repeat(101)).is_err());
        assert!(check_password("short", 10, "/password").is_err());
        assert!(check_password("long enough!", 10, "/password").is_ok());
        assert!(check_password(&"x".repeat(1025), 10, "/password").is_err());
    }
}
