//! Roles (RBAC): named sets of permissions, each permission a scope of an API.

use crate::api_resource::ApiId;
use crate::clock::Millis;
use crate::error::{Error, FieldError, Result};

/// A role's id (`rol_` and 16 alphanumerics, as Auth0's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleId(pub String);

impl RoleId {
    /// A fresh id.
    pub fn generate() -> Self {
        Self(format!("rol_{}", crate::secret::random_alnum(16)))
    }
}

/// A role as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Its id.
    pub id: RoleId,
    /// Unique name in the tenant.
    pub name: String,
    /// Free text.
    pub description: String,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// A permission: one scope of one API.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission {
    /// The API.
    pub api_id: ApiId,
    /// The scope.
    pub permission_name: String,
}

impl PartialOrd for ApiId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ApiId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// Checks a role's name and description.
pub fn validate_role(name: Option<&str>, description: Option<&str>) -> Result<()> {
    let mut errors = Vec::new();
    if let Some(n) = name
        && (n.trim().is_empty() || n.chars().count() > 50)
    {
        errors.push(FieldError::new("name", "must be 1 to 50 characters"));
    }
    if description.is_some_and(|d| d.chars().count() > 140) {
        errors.push(FieldError::new("description", "must be at most 140 characters"));
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
}
