//! Who a bearer token belongs to and which projects they are in, asked of an
//! OpenShift-style platform API with the caller's own token, as the original did.
//!
//! Contract assumed of the platform:
//! - `GET {base}/oapi/v1/users/~` with `Authorization: Bearer <token>` answers `200` with
//!   the user, `{"metadata":{"name":"<user>"},…}`, for a valid token; `401`/`403` for an
//!   invalid one.
//! - `GET {base}/oapi/v1/projects/{project}` with the same token answers `2xx` when the
//!   user is a member, `401`/`403`/`404` when not (the platform hides projects one cannot
//!   see).
//!
//! A `5xx`, `429`, a timeout or a connection error is `DependencyUnavailable` (the caller
//! gets a 503, the token is not judged). Only positive answers are cached, for the
//! configured time, keyed by a SHA-256 of the token so no map holds a token as a key: a
//! token that failed, or a project the user was not in, is asked again next time.
//! Tokens never appear in logs or errors.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::ids::{ProjectId, UserName};
use domain::ports::Identity;
use domain::principal::{Credential, Principal};
use domain::{Error, Result};
use reqwest::StatusCode;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::cache::TtlCache;
use crate::http::{parse_base_url, BuildError, HttpClient, HttpSettings, Reply};
use crate::telemetry::Service;

type TokenHash = [u8; 32];

/// [`Identity`] on an OpenShift-style platform API.
#[derive(Clone, Debug)]
pub struct PlatformIdentity {
    base: String,
    admins: Vec<UserName>,
    http: HttpClient,
    principals: Arc<TtlCache<TokenHash, Principal>>,
    memberships: Arc<TtlCache<(UserName, TokenHash, ProjectId), ()>>,
}

impl PlatformIdentity {
    /// `admins`: user names that may act on every project. Positive answers are cached
    /// `cache_ttl`.
    pub fn new(
        base_url: String,
        admins: Vec<UserName>,
        http: HttpSettings,
        cache_ttl: Duration,
    ) -> Result<Self, BuildError> {
        Ok(Self {
            base: parse_base_url(&base_url)?,
            admins,
            http: HttpClient::new(Service::Identity, http)?,
            principals: Arc::new(TtlCache::new(cache_ttl)),
            memberships: Arc::new(TtlCache::new(cache_ttl)),
        })
    }
}

fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

fn unavailable(what: &str, why: &str) -> Error {
    log::warn!("{what}: {why}");
    Error::DependencyUnavailable(format!("{what}: {why}"))
}

#[derive(Deserialize)]
struct UserDto {
    metadata: MetadataDto,
}

#[derive(Deserialize)]
struct MetadataDto {
    #[serde(default)]
    name: String,
}

#[async_trait]
impl Identity for PlatformIdentity {
    async fn authenticate(&self, token: &str) -> Result<Principal> {
        if token.trim().is_empty() {
            return Err(Error::Unauthenticated);
        }
        let hash = token_hash(token);
        if let Some(principal) = self.principals.get(&hash) {
            return Ok(principal);
        }
        let what = "platform identity: who is the caller";
        let url = format!("{}/oapi/v1/users/~", self.base);
        let reply = self
            .http
            .get(what, |client| client.get(&url).bearer_auth(token))
            .await
            .map_err(|e| unavailable(what, &e.to_string()))?;
        let user = user_of(what, &reply)?;
        let principal = Principal {
            admin: self.admins.contains(&user),
            user,
            credential: Some(Credential::new(token)),
        };
        self.principals.insert(hash, principal.clone());
        Ok(principal)
    }

    async fn is_member(&self, principal: &Principal, project: &ProjectId) -> Result<bool> {
        let Some(credential) = &principal.credential else {
            return Ok(false);
        };
        let key = (
            principal.user.clone(),
            token_hash(credential.expose()),
            project.clone(),
        );
        if self.memberships.get(&key).is_some() {
            return Ok(true);
        }
        let what = format!(
            "platform identity: is {} a member of {project}",
            principal.user
        );
        let url = format!("{}/oapi/v1/projects/{project}", self.base);
        let reply = self
            .http
            .get(&what, |client| {
                client.get(&url).bearer_auth(credential.expose())
            })
            .await
            .map_err(|e| unavailable(&what, &e.to_string()))?;
        if reply.is_success() {
            self.memberships.insert(key, ());
            return Ok(true);
        }
        if reply.is_unavailable() {
            return Err(unavailable(
                &what,
                &reply.summary(Some(credential.expose())),
            ));
        }
        if !matches!(
            reply.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        ) {
            log::warn!("{what}: unexpected HTTP {}; taken as no", reply.status);
        }
        Ok(false)
    }
}

/// The user a `users/~` answer names. A refusal is `Unauthenticated`; an answer that
/// names no valid user too, since nothing can be granted to it.
fn user_of(what: &str, reply: &Reply) -> Result<UserName> {
    if reply.is_unavailable() {
        return Err(unavailable(what, &reply.summary(None)));
    }
    if !reply.is_success() {
        if !matches!(
            reply.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            log::warn!("{what}: unexpected HTTP {}; token refused", reply.status);
        }
        return Err(Error::Unauthenticated);
    }
    let user: UserDto = reply
        .json()
        .map_err(|e| unavailable(what, &format!("malformed answer: {e}")))?;
    UserName::parse(&user.metadata.name).map_err(|e| {
        log::warn!("{what}: the platform named an unusable user: {e}");
        Error::Unauthenticated
    })
}
