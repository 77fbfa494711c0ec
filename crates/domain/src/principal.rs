//! Who is calling.

use crate::ids::UserName;

/// An authenticated caller. Admins may act on any project; others only on projects they
/// are members of, as the identity port says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user: UserName,
    pub admin: bool,
}
