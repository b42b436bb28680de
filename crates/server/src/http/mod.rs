//! HTTP plumbing with no rules of its own: the client address behind trusted proxies,
//! cookies, and the CSRF double-submit token.

pub mod client_ip;
pub mod cookies;
pub mod csrf;
