//! What can go wrong, in business words. Adapters translate their failures into these
//! variants; the HTTP layer maps each one to a status and code in a single place.

use crate::money::Money;

/// Result of every port and use case.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure of a use case or port, described in business terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A parameter is missing, malformed or out of range; the message names it.
    #[error("invalid parameters: {0}")]
    InvalidParameter(String),
    /// No valid credentials were presented.
    #[error("auth failed")]
    Unauthenticated,
    /// The caller is known but may not do this.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The named thing does not exist (or is not visible in the caller's project).
    #[error("not found: {0}")]
    NotFound(String),
    /// The project's balance does not cover the charge; nothing was written.
    #[error("insufficient balance: {needed} needed, {available} available")]
    InsufficientBalance {
        /// What the step needed the balance to hold.
        needed: Money,
        /// What it held when the step was refused.
        available: Money,
    },
    /// Another not-ended order of the project already holds this resource name.
    #[error("duplicated resource name: {0}")]
    DuplicateResourceName(String),
    /// The order is not in a state that allows the action, or changed concurrently.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The plan catalog could not be reached.
    #[error("failed to get plan: {0}")]
    PlanCatalogUnavailable(String),
    /// The charge service declined a deduction for want of balance (its code 1309); it
    /// does not say how much the balance holds. Nothing was taken.
    #[error("insufficient balance: {needed} needed ({detail})")]
    PaymentDeclined {
        /// The amount the payment asked for: what the caller is told.
        needed: Money,
        /// Why, for the log (the region, the payment, arrears): never shown to the caller.
        detail: String,
    },
    /// The charge service holds another amount under a payment's id: the payment is not
    /// believed taken, nor sent again; an operator must look (`serviceusage reconcile`).
    #[error("payment mismatch: {0}")]
    PaymentMismatch(String),
    /// The idempotency key was already used by the project: the first request's answer
    /// stands.
    #[error("duplicate request: {0}")]
    DuplicateRequest(String),
    /// A platform service (charge, identity, provisioning, webhook receiver) could not be
    /// reached or answered with a server error. For a payment the outcome is unknown, and
    /// retrying with the same reason resolves it.
    #[error("service unavailable: {0}")]
    DependencyUnavailable(String),
    /// The platform refused or failed to create the order's resource before anything was
    /// charged; nothing was written.
    #[error("failed to create resource: {0}")]
    ProvisioningFailed(String),
    /// The order was charged, then its resource could not be created; the charge was
    /// refunded and the order ended.
    #[error("charged but failed to create resource: {0}")]
    ChargedButNotProvisioned(String),
    /// The store could not be reached (pool exhausted, connection lost, locked too long).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A fault that is nobody's input: a broken invariant or an unexpected store error.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Shorthand for [`Error::InvalidParameter`].
    pub fn invalid(detail: impl Into<String>) -> Self {
        Error::InvalidParameter(detail.into())
    }
}
