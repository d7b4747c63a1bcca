//! Who is calling, and the one explicit permission check every protected route makes.

use crate::db::ids::UserId;
use crate::error::ApiError;
use crate::idempotency::KeyScope;
use crate::users::Role;
use uuid::Uuid;

/// A scope an API key can hold. Each protected operation names the scope it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    UsersRead,
    UsersWrite,
    PostsWrite,
    ProductsWrite,
    InventoryRead,
    InventoryWrite,
    JobsAdmin,
    MailRead,
    OrdersRead,
    OrdersWrite,
    WebhooksAdmin,
    ReportsRead,
}

impl Scope {
    pub const ALL: [Scope; 12] = [
        Scope::UsersRead,
        Scope::UsersWrite,
        Scope::PostsWrite,
        Scope::ProductsWrite,
        Scope::InventoryRead,
        Scope::InventoryWrite,
        Scope::JobsAdmin,
        Scope::MailRead,
        Scope::OrdersRead,
        Scope::OrdersWrite,
        Scope::WebhooksAdmin,
        Scope::ReportsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::UsersRead => "users:read",
            Scope::UsersWrite => "users:write",
            Scope::PostsWrite => "posts:write",
            Scope::ProductsWrite => "products:write",
            Scope::InventoryRead => "inventory:read",
            Scope::InventoryWrite => "inventory:write",
            Scope::JobsAdmin => "jobs:admin",
            Scope::MailRead => "mail:read",
            Scope::OrdersRead => "orders:read",
            Scope::OrdersWrite => "orders:write",
            Scope::WebhooksAdmin => "webhooks:admin",
            Scope::ReportsRead => "reports:read",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// An operation that needs more than being signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadUsers,
    ManageUsers,
    /// Change a user's role. No scope grants it: a key minted by one admin must not be
    /// able to create more admins.
    ChangeRoles,
    /// Only people (admins) manage API keys; keys cannot mint keys.
    ManageApiKeys,
    /// Write posts and see drafts.
    ManagePosts,
    ManageProducts,
    ReadInventory,
    AdjustInventory,
    ManageJobs,
    /// Read the outbox (the dev mailbox), which holds personal data.
    ReadMail,
    /// See and filter every customer's orders.
    ReadOrders,
    /// Cancel any customer's order.
    ManageOrders,
    /// Register, edit and test webhook endpoints; see and resend their deliveries.
    ManageWebhooks,
    /// Request and download exports (reports hold every customer's data).
    RunReports,
    /// See how the service runs — routes, cache, pools, limits, settings — and purge the
    /// cache: the console's operations pages. No API route needs it.
    Operate,
}

impl Permission {
    /// Whether a signed-in user with `role` holds this permission.
    pub fn granted_to(self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    fn roles(self) -> &'static [Role] {
        match self {
            Permission::ManagePosts => &[Role::Admin, Role::Editor],
            Permission::ReadUsers
            | Permission::ManageUsers
            | Permission::ChangeRoles
            | Permission::ManageApiKeys
            | Permission::ManageProducts
            | Permission::ReadInventory
            | Permission::AdjustInventory
            | Permission::ManageJobs
            | Permission::ReadMail
            | Permission::ReadOrders
            | Permission::ManageOrders
            | Permission::ManageWebhooks
            | Permission::RunReports
            | Permission::Operate => &[Role::Admin],
        }
    }

    fn scope(self) -> Option<Scope> {
        match self {
            Permission::ReadUsers => Some(Scope::UsersRead),
            Permission::ManageUsers => Some(Scope::UsersWrite),
            Permission::ChangeRoles | Permission::ManageApiKeys | Permission::Operate => None,
            Permission::ManagePosts => Some(Scope::PostsWrite),
            Permission::ManageProducts => Some(Scope::ProductsWrite),
            Permission::ReadInventory => Some(Scope::InventoryRead),
            Permission::AdjustInventory => Some(Scope::InventoryWrite),
            Permission::ManageJobs => Some(Scope::JobsAdmin),
            Permission::ReadMail => Some(Scope::MailRead),
            Permission::ReadOrders => Some(Scope::OrdersRead),
            Permission::ManageOrders => Some(Scope::OrdersWrite),
            Permission::ManageWebhooks => Some(Scope::WebhooksAdmin),
            Permission::RunReports => Some(Scope::ReportsRead),
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in user; `session` is the refresh family their access token belongs to
    /// (the `sid` claim; `None` for tokens minted outside a session, like `levee seed`'s).
    User {
        id: UserId,
        role: Role,
        session: Option<Uuid>,
    },
    ApiKey {
        id: Uuid,
        scopes: Vec<Scope>,
    },
}

impl Principal {
    /// Whose `Idempotency-Key`s this caller's are: a user's own, or one API key's.
    pub fn idempotency_scope(&self) -> KeyScope {
        match self {
            Principal::User { id, .. } => KeyScope::of("user", id),
            Principal::ApiKey { id, .. } => KeyScope::of("api-key", id),
        }
    }

    pub fn allows(&self, permission: Permission) -> bool {
        match self {
            Principal::User { role, .. } => permission.granted_to(*role),
            Principal::ApiKey { scopes, .. } => {
                permission.scope().is_some_and(|s| scopes.contains(&s))
            }
        }
    }

    /// 403 unless the caller holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.allows(permission) {
            return Ok(());
        }
        Err(ApiError::Forbidden(match (self, permission.scope()) {
            (Principal::ApiKey { .. }, Some(scope)) => {
                format!("this API key lacks the `{}` scope", scope.as_str())
            }
            (Principal::ApiKey { .. }, None) => "API keys cannot perform this operation".into(),
            (Principal::User { .. }, _) => "your role does not allow this operation".into(),
        }))
    }

    /// The signed-in user, or 403 for API keys on routes that are about "me".
    pub fn user_id(&self) -> Result<UserId, ApiError> {
        match self {
            Principal::User { id, .. } => Ok(*id),
            Principal::ApiKey { .. } => Err(ApiError::Forbidden(
                "this operation needs a signed-in user, not an API key".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes_grant_exactly_their_permissions() {
        let admin = Principal::User {
            id: UserId(Uuid::nil()),
            role: Role::Admin,
            session: None,
        };
        let customer = Principal::User {
            id: UserId(Uuid::nil()),
            role: Role::Customer,
            session: None,
        };
        let reader = Principal::ApiKey {
            id: Uuid::nil(),
            scopes: vec![Scope::UsersRead],
        };
        assert!(admin.allows(Permission::ManageUsers) && admin.allows(Permission::ManageApiKeys));
        assert!(!customer.allows(Permission::ReadUsers));
        assert!(reader.allows(Permission::ReadUsers));
        assert!(!reader.allows(Permission::ManageUsers));
        assert!(!reader.allows(Permission::ManageApiKeys));
        let writer = Principal::ApiKey {
            id: Uuid::nil(),
            scopes: Scope::ALL.to_vec(),
        };
        assert!(admin.allows(Permission::ChangeRoles) && !writer.allows(Permission::ChangeRoles));
        assert!(reader.require(Permission::ManageUsers).is_err());
    }

    #[test]
    fn scopes_parse_from_their_names() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("users:delete"), None);
    }
}
