//! What the server hands out as files: the dashboard's shell and assets, the tracker script
//! and the OpenAPI document.

pub mod dashboard;
pub mod openapi;
pub mod tracker;
