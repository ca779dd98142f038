//! People get in on their own (SPEC.md section 11): sign-up, email
//! verification, password reset, email change and invitations, each a flow
//! of pages that ends back at the authorization request the person started.
//!
//! - [`SelfService`] (in [`crate::config`]): who may sign up, the lifetimes
//!   and the mail limits;
//! - [`account`]: what a spent code does to the person, and the way back;
//! - [`flow`]: the browser's handle, the mailed code and link, the limits;
//! - [`rules`]: what a new password must be;
//! - [`pages`]: the pages.
//!
//! Every answer that could tell whether an address has an account is the
//! same either way: the same status, page and (through
//! [`flow::at_floor`]) time.

pub mod account;
pub mod flow;
pub mod pages;
pub mod rules;

pub use crate::config::self_service::{SelfService, SignUp};
