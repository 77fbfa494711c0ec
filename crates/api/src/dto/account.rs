//! Main accounts and sub-accounts: how a row of a list says whose it is.

use domain::account::AccountView;
use domain::ids::ProjectId;
use serde::Serialize;
use utoipa::ToSchema;

use super::labels;

/// Whose a row of a list is, from the side of the project the request named (51idc's
/// `account_type` and `is_self`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountJson {
    /// `admin`: the row's project is a main account; `sub`: a sub-account.
    #[schema(schema_with = labels::account_type)]
    pub account_type: &'static str,
    /// Whether the row is the named project's own (not one of its sub-accounts').
    pub is_self: bool,
}

impl AccountJson {
    pub fn new(view: &AccountView, owner: &ProjectId) -> Self {
        Self {
            account_type: view.account_type_of(owner).label(),
            is_self: view.is_self(owner),
        }
    }
}
