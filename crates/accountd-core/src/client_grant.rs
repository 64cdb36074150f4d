//! Client grants: which scopes of an API an application may obtain, per subject type.

use crate::api_resource::ApiId;
use crate::clock::Millis;

/// A client grant's id (`cgr_` and 16 alphanumerics, as Auth0's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientGrantId(pub String);

impl ClientGrantId {
    /// A fresh id.
    pub fn generate() -> Self {
        Self(format!("cgr_{}", crate::secret::random_alnum(16)))
    }
}

/// Whether a grant covers flows on behalf of users or the client acting as itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectType {
    /// User flows (authorization code, refresh token).
    User,
    /// Client credentials.
    Client,
}

impl SubjectType {
    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::User => "user",
            SubjectType::Client => "client",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(SubjectType::User),
            "client" => Some(SubjectType::Client),
            _ => None,
        }
    }
}

/// A client grant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    /// Its id.
    pub id: ClientGrantId,
    /// The application.
    pub client_id: String,
    /// The API.
    pub api_id: ApiId,
    /// User or client flows.
    pub subject_type: SubjectType,
    /// The most the client may obtain.
    pub scopes: Vec<String>,
    /// When it was created.
    pub created_at: Millis,
}
