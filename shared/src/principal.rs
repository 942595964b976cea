//! Who is calling: the authenticated principal of a request (defined with the org scope in
//! `store::tenancy`).

pub use crate::store::Principal;
