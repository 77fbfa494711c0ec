//! Who is calling.

use std::fmt;

use crate::ids::UserName;

/// An authenticated caller. Admins may act on any project; others only on projects they
/// are members of, as the identity port says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Who acts, as recorded with what they do (a recharge's operator).
    pub user: UserName,
    /// Admins act on every project; the identity port answers membership for the others.
    pub admin: bool,
    /// The caller's own bearer token, for identity adapters that must ask the platform on
    /// the caller's behalf: a platform answers "is this user a member of that project?"
    /// only to the user's own token. `None` where the adapter needs no such thing.
    pub credential: Option<Credential>,
}

/// A secret the caller presented. Never shown: `Debug` redacts it, so a logged principal
/// cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential(String);

impl Credential {
    /// Wraps a secret the caller presented, so it is redacted wherever it is printed.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the one request that must carry it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?}", Credential::new("s3cr3t-token"));
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
