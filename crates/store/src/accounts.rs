//! Dashboard accounts: users (with argon2 PHC password hashes, never plain text), login
//! sessions (stored by a hash of the session id, never the id itself), per-site grants,
//! personal API keys (stored by digest) and shared links. Plain data, no backend types: the
//! server hashes passwords, ids and keys before they reach a store.

/// A dashboard user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Lower-cased email address; the login name.
    pub email: String,
    /// Password hash as a PHC string (`$argon2id$...`).
    pub password_hash: String,
    /// Whether the user may manage sites and users.
    pub admin: bool,
    /// Creation time, UTC milliseconds.
    pub created_ms: i64,
}

/// A login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    /// Hex digest of the random session id the browser holds in its cookie.
    pub id_hash: String,
    /// The user's email.
    pub email: String,
    /// Creation time, UTC milliseconds.
    pub created_ms: i64,
    /// Expiry, UTC milliseconds.
    pub expires_ms: i64,
}

/// A personal API key. The key itself is never stored: only a digest of it (for lookup) and
/// its first characters (so people can tell their keys apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Random identifier used to list and delete the key.
    pub id: String,
    /// The owner's email; the key acts with the owner's rights, narrowed by `scopes`.
    pub email: String,
    /// A label chosen by the owner.
    pub name: String,
    /// The key's first characters, for display.
    pub prefix: String,
    /// Hex digest of the full key.
    pub key_hash: String,
    /// Scope names, e.g. `stats:read`.
    pub scopes: Vec<String>,
    /// Creation time, UTC milliseconds.
    pub created_ms: i64,
    /// Last time the key authenticated a request, UTC milliseconds.
    pub last_used_ms: Option<i64>,
}

/// A read-only link to one site's dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLink {
    /// Random identifier used to list and delete the link.
    pub id: String,
    /// The site it shows.
    pub site: String,
    /// A label chosen by its creator.
    pub name: String,
    /// The random token in the link's URL (`/share/{token}`).
    pub token: String,
    /// Argon2 PHC hash of the link's password, when it has one.
    pub password_hash: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// Creation time, UTC milliseconds.
    pub created_ms: i64,
}

/// Access control data: per-site grants for users, personal API keys and shared links.
/// Every [`crate::EventStore`] implements it.
pub trait AccessStore: Send + Sync {
    /// Every `(email, site)` grant, ordered by email then site.
    fn grants(&self) -> Result<Vec<(String, String)>, crate::StoreError>;
    /// The sites granted to one user.
    fn grants_of(&self, email: &str) -> Result<Vec<String>, crate::StoreError> {
        Ok(self
            .grants()?
            .into_iter()
            .filter(|(e, _)| e == email)
            .map(|(_, s)| s)
            .collect())
    }
    /// Grants a user read access to a site. Returns whether the grant is new.
    fn grant(&self, email: &str, site: &str) -> Result<bool, crate::StoreError>;
    /// Removes a grant. Returns whether it existed.
    fn revoke(&self, email: &str, site: &str) -> Result<bool, crate::StoreError>;
    /// Replaces all of a user's grants.
    fn set_grants(&self, email: &str, sites: &[String]) -> Result<(), crate::StoreError>;

    /// Stores a new API key.
    fn save_api_key(&self, key: &ApiKey) -> Result<(), crate::StoreError>;
    /// All API keys, oldest first.
    fn api_keys(&self) -> Result<Vec<ApiKey>, crate::StoreError>;
    /// The key with this digest.
    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, crate::StoreError>;
    /// Deletes a key. Returns whether it existed.
    fn delete_api_key(&self, id: &str) -> Result<bool, crate::StoreError>;
    /// Records that a key was used.
    fn touch_api_key(&self, id: &str, used_ms: i64) -> Result<(), crate::StoreError>;

    /// Stores a new shared link.
    fn save_shared_link(&self, link: &SharedLink) -> Result<(), crate::StoreError>;
    /// A site's shared links, oldest first.
    fn shared_links(&self, site: &str) -> Result<Vec<SharedLink>, crate::StoreError>;
    /// The link with this token.
    fn shared_link_by_token(&self, token: &str) -> Result<Option<SharedLink>, crate::StoreError>;
    /// Deletes a site's link. Returns whether it existed.
    fn delete_shared_link(&self, site: &str, id: &str) -> Result<bool, crate::StoreError>;
}
