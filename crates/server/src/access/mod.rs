//! Access: who is asking and what they may do, and the rules for accounts and credentials.
//! No routes live here, so the CLI takes the same rules (`waymark user`, `waymark key`, the
//! demo's admin) from this module that the HTTP routes use.
//!
//! - [`credentials`]: argon2 password hashes, random tokens, digests of session ids and keys,
//!   constant-time comparison, the injected [`Clock`];
//! - [`principal`]: [`Principal`], [`Need`], [`Scope`] and the permission check;
//! - [`authenticate`]: credentials of a request → a principal, and the one `authorize` check;
//! - [`accounts`]: account, session, key and link rules (a new password ends the sessions);
//! - [`limiter`]: failed password attempts per client address, and argon2's permits;
//! - [`unlock`]: the unlock cookies of password-protected shared links;
//! - [`error`]: [`AccessError`], each reason with its kind.
//!
//! The rules and the route table are in `docs/access.md`.

pub mod accounts;
pub mod authenticate;
pub mod credentials;
pub mod error;
pub mod limiter;
pub mod principal;
pub mod unlock;

pub use authenticate::{
    authenticate, authorize, authorize_body_site, authorize_with, bearer, find_link, visible_sites,
    SHARE_HEADER,
};
pub use credentials::{Clock, KEY_PREFIX};
pub use error::AccessError;
pub use limiter::LoginLimiter;
pub use principal::{Need, Principal, Scope};
