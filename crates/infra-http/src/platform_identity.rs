//! Who a bearer token belongs to, which projects they are in, and which projects are
//! whose sub-accounts, asked of an OpenShift-style platform API with the caller's own
//! token, as the original did.
//!
//! Contract assumed of the platform:
//! - `GET {base}/oapi/v1/users/~` with `Authorization: Bearer <token>` answers `200` with
//!   the user, `{"metadata":{"name":"<user>"},…}`, for a valid token; `401`/`403` for an
//!   invalid one.
//! - `GET {base}/oapi/v1/projects/{project}` with the same token answers `2xx` when the
//!   user is a member, `401`/`403`/`404` when not (the platform hides projects one cannot
//!   see).
//! - A sub-account is a project carrying the label
//!   `serviceusage.io/main-account: <main project name>`. Platform admins set it; project
//!   admins cannot edit a namespace's labels on OpenShift, so no project makes itself
//!   anyone's sub-account. `main_account(P)` reads the label from the `2xx` answer of
//!   `GET {base}/oapi/v1/projects/{P}`: absent is no main account; a value that is not a
//!   project name, or that names `P` itself, is logged and taken as none.
//! - `GET {base}/oapi/v1/projects?labelSelector=serviceusage.io%2Fmain-account%3D{M}`
//!   answers `{"items":[{"metadata":{"name":"…","labels":{…}}},…]}`. `sub_accounts(M)`
//!   keeps, sorted and once each, the items whose label really is `M` (the selector alone
//!   is not trusted) and whose name is a project name other than `M`.
//! - For both, `401`/`403`/`404` means the platform hides the project: no relation is
//!   known (no main account, no sub-accounts).
//!
//! The relation grants nobody more than the platform does. Both reads go with the caller's
//! token, so they learn only what the platform already shows the caller (a project's
//! labels, the projects it lists to them), and the platform still decides who may read a
//! project. What the relation adds is the family
//! view: a main account's lists (its orders, for one) can hold its sub-accounts' rows too.
//! A platform without the label has no sub-accounts: every project is a main account.
//!
//! A `5xx`, `429`, a timeout, a connection error, or a `2xx` whose body is not the JSON
//! promised is `DependencyUnavailable` (the caller gets a 503, the token is not judged).
//! Only positive answers are cached, for the configured time, keyed by a SHA-256 of the
//! token so no map holds a token as a key: a token that failed, or a project the user was
//! not in, is asked again next time. For the relation, positive means a `2xx`, whatever it
//! says; a hidden project is asked again. Tokens never appear in logs or errors.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::ids::{ProjectId, UserName};
use domain::ports::Identity;
use domain::principal::{Credential, Principal};
use domain::{Error, Result};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::cache::TtlCache;
use crate::http::{parse_base_url, BuildError, HttpClient, HttpSettings, Reply};
use crate::telemetry::Service;

type TokenHash = [u8; 32];

/// What an answer about one project for one caller is cached under: the user, a hash of
/// their token (another token may see other projects) and the project.
type ProjectKey = (UserName, TokenHash, ProjectId);

/// The label that makes a project a sub-account of the project it names.
const MAIN_ACCOUNT_LABEL: &str = "serviceusage.io/main-account";

/// Longest piece of a label value or project name quoted in a log line; the platform
/// allows 63 characters, so a longer one is cut short rather than flooding the log.
const NAME_QUOTE_MAX: usize = 64;

/// [`Identity`] on an OpenShift-style platform API.
#[derive(Clone, Debug)]
pub struct PlatformIdentity {
    base: String,
    admins: Vec<UserName>,
    http: HttpClient,
    principals: Arc<TtlCache<TokenHash, Principal>>,
    memberships: Arc<TtlCache<ProjectKey, ()>>,
    main_accounts: Arc<TtlCache<ProjectKey, Option<ProjectId>>>,
    sub_accounts: Arc<TtlCache<ProjectKey, Vec<ProjectId>>>,
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
            main_accounts: Arc::new(TtlCache::new(cache_ttl)),
            sub_accounts: Arc::new(TtlCache::new(cache_ttl)),
        })
    }

    /// A read of the platform with the caller's own token: the answer when it is a `2xx`,
    /// `None` when the platform hides what was asked (`401`/`403`/`404`; any other refusal
    /// too, logged). Errors: `DependencyUnavailable` for a `5xx`, a `429`, a timeout or a
    /// connection error, which say nothing about what the caller may see.
    async fn read_as_caller(
        &self,
        what: &str,
        token: &str,
        request: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Option<Reply>> {
        let reply = self
            .http
            .get(what, |client| request(client).bearer_auth(token))
            .await
            .map_err(|e| unavailable(what, &e.to_string()))?;
        if reply.is_success() {
            return Ok(Some(reply));
        }
        if reply.is_unavailable() {
            return Err(unavailable(what, &reply.summary(Some(token))));
        }
        if !matches!(
            reply.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        ) {
            log::warn!("{what}: unexpected HTTP {}; taken as hidden", reply.status);
        }
        Ok(None)
    }
}

fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

fn project_key(principal: &Principal, credential: &Credential, project: &ProjectId) -> ProjectKey {
    (
        principal.user.clone(),
        token_hash(credential.expose()),
        project.clone(),
    )
}

fn unavailable(what: &str, why: &str) -> Error {
    log::warn!("{what}: {why}");
    Error::DependencyUnavailable(format!("{what}: {why}"))
}

/// A `2xx` answer's JSON. One that does not parse is unavailable rather than "no
/// relation": the platform said something other than what it promises, so nothing can be
/// concluded from it. A parse error may quote a piece of the body, so `token` is blanked
/// out should the platform have echoed it.
fn answer<T: DeserializeOwned>(what: &str, reply: &Reply, token: &str) -> Result<T> {
    reply.json().map_err(|e| {
        let mut why = format!("malformed answer: {e}");
        if !token.is_empty() {
            why = why.replace(token, "<redacted>");
        }
        unavailable(what, &why)
    })
}

/// A name from the platform, fit for a log line: escaped and cut short.
fn quoted(text: &str) -> String {
    format!(
        "{:?}",
        text.chars().take(NAME_QUOTE_MAX).collect::<String>()
    )
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

#[derive(Deserialize)]
struct ProjectListDto {
    /// Absent or `null` for an empty list, as Kubernetes-style lists may send it.
    #[serde(default)]
    items: Option<Vec<ProjectDto>>,
}

#[derive(Deserialize)]
struct ProjectDto {
    metadata: ProjectMetadataDto,
}

#[derive(Deserialize)]
struct ProjectMetadataDto {
    #[serde(default)]
    name: String,
    /// Absent (or `null`) when the project has no label.
    #[serde(default)]
    labels: Option<HashMap<String, String>>,
}

impl ProjectMetadataDto {
    fn main_account_label(&self) -> Option<&str> {
        self.labels
            .as_ref()?
            .get(MAIN_ACCOUNT_LABEL)
            .map(String::as_str)
    }
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
        let key = project_key(principal, credential, project);
        if self.memberships.get(&key).is_some() {
            return Ok(true);
        }
        let what = format!(
            "platform identity: is {} a member of {project}",
            principal.user
        );
        let url = format!("{}/oapi/v1/projects/{project}", self.base);
        let shown = self
            .read_as_caller(&what, credential.expose(), |client| client.get(&url))
            .await?;
        if shown.is_none() {
            return Ok(false);
        }
        self.memberships.insert(key, ());
        Ok(true)
    }

    async fn main_account(
        &self,
        principal: &Principal,
        project: &ProjectId,
    ) -> Result<Option<ProjectId>> {
        let Some(credential) = &principal.credential else {
            return Ok(None);
        };
        let key = project_key(principal, credential, project);
        if let Some(main) = self.main_accounts.get(&key) {
            return Ok(main);
        }
        let what = format!(
            "platform identity: main account of {project} for {}",
            principal.user
        );
        let url = format!("{}/oapi/v1/projects/{project}", self.base);
        let token = credential.expose();
        let Some(reply) = self
            .read_as_caller(&what, token, |client| client.get(&url))
            .await?
        else {
            return Ok(None);
        };
        let shown: ProjectDto = answer(&what, &reply, token)?;
        let main = main_account_named(&what, project, shown.metadata.main_account_label());
        self.main_accounts.insert(key.clone(), main.clone());
        // The same `2xx` answers `is_member`, which the use cases ask next: spare them the
        // second request.
        self.memberships.insert(key, ());
        Ok(main)
    }

    async fn sub_accounts(
        &self,
        principal: &Principal,
        project: &ProjectId,
    ) -> Result<Vec<ProjectId>> {
        let Some(credential) = &principal.credential else {
            return Ok(Vec::new());
        };
        let key = project_key(principal, credential, project);
        if let Some(subs) = self.sub_accounts.get(&key) {
            return Ok(subs);
        }
        let what = format!(
            "platform identity: sub-accounts of {project} for {}",
            principal.user
        );
        let url = format!("{}/oapi/v1/projects", self.base);
        let selector = format!("{MAIN_ACCOUNT_LABEL}={project}");
        let token = credential.expose();
        let Some(reply) = self
            .read_as_caller(&what, token, |client| {
                client.get(&url).query(&[("labelSelector", &selector)])
            })
            .await?
        else {
            return Ok(Vec::new());
        };
        let list: ProjectListDto = answer(&what, &reply, token)?;
        let subs = sub_accounts_listed(&what, project, list.items.unwrap_or_default());
        self.sub_accounts.insert(key, subs.clone());
        Ok(subs)
    }
}

/// The main account `project`'s label names, if any. A value that is not a project name,
/// or that names the project itself, is a platform admin's slip: logged, and taken as no
/// main account, so the project stays a main account rather than failing every request.
fn main_account_named(what: &str, project: &ProjectId, label: Option<&str>) -> Option<ProjectId> {
    let value = label?;
    match ProjectId::parse(value) {
        Ok(main) if main == *project => {
            log::warn!("{what}: the label {MAIN_ACCOUNT_LABEL} names the project itself; ignored");
            None
        }
        Ok(main) => Some(main),
        Err(e) => {
            log::warn!(
                "{what}: the label {MAIN_ACCOUNT_LABEL} is {}, not a project name ({e}); ignored",
                quoted(value)
            );
            None
        }
    }
}

/// The sub-accounts of `main` among the projects the platform listed for its label
/// selector, sorted and once each. Each project's own label is checked again: a platform
/// that ignored or misread the selector would otherwise make every project it lists a
/// sub-account of `main`.
fn sub_accounts_listed(what: &str, main: &ProjectId, listed: Vec<ProjectDto>) -> Vec<ProjectId> {
    let mut subs = BTreeSet::new();
    let mut unlabelled = 0_usize;
    for project in listed {
        let metadata = project.metadata;
        if metadata.main_account_label() != Some(main.as_str()) {
            unlabelled += 1;
            continue;
        }
        match ProjectId::parse(&metadata.name) {
            Ok(sub) if sub == *main => {
                log::warn!("{what}: the project is labelled its own sub-account; left out");
            }
            Ok(sub) => {
                subs.insert(sub);
            }
            Err(e) => log::warn!(
                "{what}: a labelled project is named {}, not a project name ({e}); left out",
                quoted(&metadata.name)
            ),
        }
    }
    if unlabelled > 0 {
        log::warn!(
            "{what}: the platform listed {unlabelled} project(s) not labelled \
             {MAIN_ACCOUNT_LABEL}={main}; left out (is the label selector honoured?)"
        );
    }
    subs.into_iter().collect()
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
