use serde_json::json;
use zeroize::Zeroizing;

use super::{Core, changed};
use crate::audit::{AuditEvent, Context};
use crate::clock::now_millis;
use crate::error::{Entity, Error, Result};
use crate::store::{Page, UserQuery};
use crate::tenant::TenantId;
use crate::user::{NewUser, User, UserFields, UserId, merge_metadata, normalize_email, validate_password};

impl Core {
    /// Creates a user; at least one of email, username or phone number is required.
    pub async fn create_user(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        fields: UserFields,
        password: Option<Zeroizing<String>>,
    ) -> Result<User> {
        let f = fields.validate()?;
        if f.email.is_none() && f.username.is_none() && f.phone_number.is_none() {
            return Err(Error::invalid("email", "one of email, username or phone_number is required"));
        }
        if let Some(p) = &password {
            validate_password(p, self.settings.password_min_length)?;
        }
        let password_hash = match password {
            Some(p) => Some(self.settings.password_hashing.hash(p).await?),
            None => None,
        };
        let now = now_millis();
        let user = User {
            id: UserId::generate(),
            email: f.email,
            email_verified: f.email_verified.unwrap_or(false),
            username: f.username,
            phone_number: f.phone_number,
            phone_verified: f.phone_verified.unwrap_or(false),
            name: f.name,
            given_name: f.given_name,
            family_name: f.family_name,
            nickname: f.nickname,
            picture: f.picture,
            claims: Default::default(),
            user_metadata: f.user_metadata.unwrap_or_else(|| json!({})),
            app_metadata: f.app_metadata.unwrap_or_else(|| json!({})),
            blocked: f.blocked.unwrap_or(false),
            created_at: now,
            updated_at: now,
            last_login_at: None,
            logins_count: 0,
        };
        let tx = self.store.begin().await?;
        tx.insert_user(tenant, &NewUser { user: user.clone(), password_hash }).await?;
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "user.create", "user", &user.id.0, json!({}))).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// A user by id.
    pub async fn get_user(&self, tenant: &TenantId, id: &str) -> Result<User> {
        self.store.find_user(tenant, &UserId(id.into())).await?.ok_or(Error::NotFound(Entity::User))
    }

    /// A user by email (any case).
    pub async fn find_user_by_email(&self, tenant: &TenantId, email: &str) -> Result<Option<User>> {
        let Ok(email) = normalize_email(email) else {
            return Ok(None);
        };
        let (mut users, _) = self.store.list_users(tenant, &UserQuery { email: Some(email) }, Page::new(0, 1)).await?;
        Ok(users.pop())
    }

    /// A page of users, optionally by email, with the total count.
    pub async fn list_users(&self, tenant: &TenantId, email: Option<&str>, page: Page) -> Result<(Vec<User>, u64)> {
        let email = match email {
            Some(e) => match normalize_email(e) {
                Ok(e) => Some(e),
                Err(_) => return Ok((vec![], 0)),
            },
            None => None,
        };
        Ok(self.store.list_users(tenant, &UserQuery { email }, page).await?)
    }

    /// Updates profile fields (metadata is merged) and optionally the password.
    pub async fn update_user(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        id: &str,
        fields: UserFields,
        password: Option<Zeroizing<String>>,
    ) -> Result<User> {
        let f = fields.validate()?;
        if let Some(p) = &password {
            validate_password(p, self.settings.password_min_length)?;
        }
        let mut user = self.get_user(tenant, id).await?;
        let detail = changed(&[
            ("email", f.email.is_some()),
            ("email_verified", f.email_verified.is_some()),
            ("username", f.username.is_some()),
            ("phone_number", f.phone_number.is_some()),
            ("phone_verified", f.phone_verified.is_some()),
            ("name", f.name.is_some()),
            ("given_name", f.given_name.is_some()),
            ("family_name", f.family_name.is_some()),
            ("nickname", f.nickname.is_some()),
            ("picture", f.picture.is_some()),
            ("user_metadata", f.user_metadata.is_some()),
            ("app_metadata", f.app_metadata.is_some()),
            ("blocked", f.blocked.is_some()),
            ("password", password.is_some()),
        ]);
        if let Some(email) = f.email {
            if user.email.as_deref() != Some(email.as_str()) {
                // A new address is unverified unless the caller says otherwise.
                user.email_verified = false;
            }
            user.email = Some(email);
        }
        if let Some(v) = f.email_verified {
            user.email_verified = v;
        }
        if let Some(v) = f.username {
            user.username = Some(v);
        }
        if let Some(phone) = f.phone_number {
            if user.phone_number.as_deref() != Some(phone.as_str()) {
                user.phone_verified = false;
            }
            user.phone_number = Some(phone);
        }
        if let Some(v) = f.phone_verified {
            user.phone_verified = v;
        }
        for (slot, v) in [
            (&mut user.name, f.name),
            (&mut user.given_name, f.given_name),
            (&mut user.family_name, f.family_name),
            (&mut user.nickname, f.nickname),
            (&mut user.picture, f.picture),
        ] {
            if let Some(v) = v {
                *slot = Some(v);
            }
        }
        if let Some(m) = f.user_metadata {
            merge_metadata(&mut user.user_metadata, m);
        }
        if let Some(m) = f.app_metadata {
            merge_metadata(&mut user.app_metadata, m);
        }
        if let Some(v) = f.blocked {
            user.blocked = v;
        }
        let now = now_millis();
        user.updated_at = now;
        let password_hash = match password {
            Some(p) => Some(self.settings.password_hashing.hash(p).await?),
            None => None,
        };
        let tx = self.store.begin().await?;
        if !tx.update_user(tenant, &user).await? {
            return Err(Error::NotFound(Entity::User));
        }
        if let Some(h) = &password_hash {
            tx.set_password_hash(tenant, &user.id, h, now).await?;
        }
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "user.update", "user", &user.id.0, detail)).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Sets a user's password.
    pub async fn set_password(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        id: &str,
        password: Zeroizing<String>,
    ) -> Result<()> {
        self.update_user(ctx, tenant, id, UserFields::default(), Some(password)).await.map(|_| ())
    }

    /// Checks a user's password (constant time inside Argon2; runs off the async runtime).
    pub async fn check_password(&self, tenant: &TenantId, user: &UserId, password: Zeroizing<String>) -> Result<bool> {
        match self.store.load_password_hash(tenant, user).await? {
            Some(phc) => self.settings.password_hashing.verify(password, phc).await,
            None => Ok(false),
        }
    }

    /// Deletes a user and everything that belongs to it.
    pub async fn delete_user(&self, ctx: &Context, tenant: &TenantId, id: &str) -> Result<()> {
        let tx = self.store.begin().await?;
        if !tx.delete_user(tenant, &UserId(id.into())).await? {
            return Err(Error::NotFound(Entity::User));
        }
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "user.delete", "user", id, json!({}))).await?;
        tx.commit().await?;
        Ok(())
    }
}
