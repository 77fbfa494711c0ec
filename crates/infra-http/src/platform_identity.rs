//! SKELETON: platform identity.

use std::time::Duration;

use async_trait::async_trait;
use domain::ids::{ProjectId, UserName};
use domain::ports::Identity;
use domain::principal::Principal;
use domain::{Error, Result};

use crate::http::{BuildError, HttpSettings};

/// [`Identity`] on an OpenShift-style platform API.
#[derive(Clone, Debug)]
pub struct PlatformIdentity {}

impl PlatformIdentity {
    /// `admins`: user names that may act on every project. Positive answers are cached
    /// `cache_ttl`.
    pub fn new(
        _base_url: String,
        _admins: Vec<UserName>,
        _http: HttpSettings,
        _cache_ttl: Duration,
    ) -> Result<Self, BuildError> {
        Ok(Self {})
    }
}

#[async_trait]
impl Identity for PlatformIdentity {
    async fn authenticate(&self, _token: &str) -> Result<Principal> {
        Err(Error::Internal("SKELETON".into()))
    }

    async fn is_member(&self, _principal: &Principal, _project: &ProjectId) -> Result<bool> {
        Err(Error::Internal("SKELETON".into()))
    }
}
