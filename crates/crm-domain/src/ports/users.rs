//! An organisation's users: their list and sort, credentials for login, and role changes.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::AuditContext;
use crate::error::RepoError;
use crate::list::{Page, Sort, SortField, Window};
use crate::permissions::Role;
use crate::string_enum;
use crate::user::{Principal, User, UserCredentials};
use crate::value::Email;

string_enum!(
    UserSortField {
        CreatedAt => "created_at",
        Name => "name",
        Email => "email",
    }
);

impl SortField for UserSortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, crate::error::FieldError> {
        UserSortField::parse("sort", name)
    }
}

impl User {
    pub fn position(&self, field: UserSortField) -> crate::list::KeysetPosition {
        use crate::list::{KeysetPosition, SortValue};
        let value = match field {
            UserSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            UserSortField::Name => SortValue::Text(self.name.as_str().to_owned()),
            UserSortField::Email => SortValue::Text(self.email.as_str().to_owned()),
        };
        KeysetPosition { value, id: self.id }
    }
}

/// A user list query, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    pub roles: Vec<Role>,
    pub active: Option<bool>,
    pub search: Option<String>,
    pub sort: Sort<UserSortField>,
    pub window: Window,
}

/// Reading and saving one user: [`RecordRepository<User>`](super::RecordRepository).
/// Saving a deactivated user revokes its refresh tokens in the same transaction.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Adds a user with its audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `email` when any user already has that email.
    async fn insert_user(&self, user: &User, password_hash: &str, audit: &AuditContext) -> Result<(), RepoError>;

    /// The user with this email and its password hash, in whichever organisation; `None` when
    /// there is none.
    async fn find_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, RepoError>;

    /// Who an access token acts as: `None` when the user does not exist in that organisation or
    /// is deactivated.
    async fn find_principal(&self, organization_id: Uuid, user_id: Uuid) -> Result<Option<Principal>, RepoError>;

    async fn list_users(&self, organization_id: Uuid, query: &UserQuery) -> Result<Page<User>, RepoError>;
}
