//! Audit events: every change an administrator or a user makes, with who, what and from where.

use serde_json::Value;

use crate::clock::Millis;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An application with a Management API token (its client id).
    Client(String),
    /// A user acting on their own account.
    User(String),
    /// The admin CLI on the server's machine.
    Cli,
    /// accountd itself (first-start bootstrap).
    System,
}

impl Actor {
    /// Storage form: `client:{id}`, `user:{id}`, `cli`, `system`.
    pub fn to_stored(&self) -> String {
        match self {
            Actor::Client(id) => format!("client:{id}"),
            Actor::User(id) => format!("user:{id}"),
            Actor::Cli => "cli".into(),
            Actor::System => "system".into(),
        }
    }

    /// Parses the storage form.
    pub fn from_stored(s: &str) -> Self {
        if let Some(id) = s.strip_prefix("client:") {
            Actor::Client(id.into())
        } else if let Some(id) = s.strip_prefix("user:") {
            Actor::User(id.into())
        } else if s == "cli" {
            Actor::Cli
        } else {
            Actor::System
        }
    }
}

/// The request context an event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Who acted.
    pub actor: Actor,
    /// Client IP, when over HTTP.
    pub ip: Option<String>,
    /// User agent, when over HTTP.
    pub user_agent: Option<String>,
}

impl Context {
    /// The admin CLI.
    pub fn cli() -> Self {
        Self { actor: Actor::Cli, ip: None, user_agent: None }
    }

    /// accountd itself.
    pub fn system() -> Self {
        Self { actor: Actor::System, ip: None, user_agent: None }
    }
}

/// Orders the events one process writes within the same millisecond.
static EVENT_SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// An audit event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Its id (time-ordered).
    pub id: String,
    /// When it happened.
    pub at: Millis,
    /// Who acted.
    pub actor: Actor,
    /// What happened, dotted (`client.create`, `user.delete`).
    pub action: String,
    /// Kind of the object acted on (`client`, `user`).
    pub target_type: String,
    /// Its id.
    pub target_id: String,
    /// Client IP.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// `success` or `failure`.
    pub result: String,
    /// Non-secret details (changed field names, never values of secrets).
    pub detail: Value,
}

impl AuditEvent {
    /// The user the event concerns, whose security timeline shows it: the target when it is a
    /// user, else the user its detail names (a method's or a session's owner).
    pub fn concerns(&self) -> Option<&str> {
        if self.target_type == "user" {
            return Some(self.target_id.as_str()).filter(|id| !id.is_empty());
        }
        ["user_id", "user"].iter().find_map(|k| self.detail.get(*k).and_then(Value::as_str))
    }

    /// A successful change made in `ctx`.
    pub fn success(ctx: &Context, action: &str, target_type: &str, target_id: &str, detail: Value) -> Self {
        let at = crate::clock::now_millis();
        // Millisecond prefix orders ids by time; the process-wide sequence orders events of the
        // same millisecond; the random tail keeps ids unique across nodes.
        let seq = EVENT_SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1_000_000_000;
        Self {
            id: format!("{at:013}{seq:09}{}", crate::secret::random_alnum(6)),
            at,
            actor: ctx.actor.clone(),
            action: action.into(),
            target_type: target_type.into(),
            target_id: target_id.into(),
            ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.clone(),
            result: "success".into(),
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_events_written_in_the_same_millisecond() {
        let ctx = Context::cli();
        let ids: Vec<String> =
            (0..1000).map(|i| AuditEvent::success(&ctx, "x", "y", &i.to_string(), serde_json::json!({})).id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
