//! One resource's calls to its region's platform with the admin token: the request builders,
//! the log lines (with the order id, never the token) and the reading of failures.

use domain::provisioning::Resource;
use domain::Error;
use reqwest::{Method, RequestBuilder, StatusCode};

use super::PlatformRegion;
use crate::http::{HttpClient, Reply};

pub(super) struct AdminCall<'a> {
    http: &'a HttpClient,
    pub(super) resource: &'a Resource,
    pub(super) region: &'a PlatformRegion,
}

impl<'a> AdminCall<'a> {
    pub(super) fn new(
        http: &'a HttpClient,
        resource: &'a Resource,
        region: &'a PlatformRegion,
    ) -> Self {
        Self {
            http,
            resource,
            region,
        }
    }

    /// The resource's project, the platform's namespace.
    pub(super) fn namespace(&self) -> &str {
        self.resource.project.as_str()
    }

    /// `order X: <action>`, the prefix of every log line and error of the call: the order
    /// that provides (or was to provide) the resource.
    pub(super) fn what(&self, action: &str) -> String {
        format!("order {}: {action}", self.resource.order_id)
    }

    /// A retried read.
    pub(super) async fn get(&self, what: &str, url: &str) -> Result<Reply, Error> {
        log::debug!("{what}: GET {url}");
        let token = self.region.admin_token.expose();
        self.http
            .get(what, |client| client.get(url).bearer_auth(token))
            .await
            .map_err(|e| unavailable(what, &e.to_string()))
    }

    /// A write, sent once, with a JSON body when given one.
    pub(super) async fn send(
        &self,
        what: &str,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, Error> {
        log::debug!("{what}: {method} {url}");
        let mut request: RequestBuilder = self
            .http
            .client()
            .request(method, url)
            .bearer_auth(self.region.admin_token.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        self.http
            .send(request)
            .await
            .map_err(|e| unavailable(what, &e.to_string()))
    }

    /// The error for an answer that is not the expected one: the platform down or busy
    /// is `DependencyUnavailable`, anything else a refusal, `ProvisioningFailed`.
    pub(super) fn refused(&self, what: &str, reply: &Reply) -> Error {
        let why = reply.summary(Some(self.region.admin_token.expose()));
        if reply.is_unavailable() {
            unavailable(what, &why)
        } else {
            log::error!("{what}: {why}");
            Error::ProvisioningFailed(format!("{what}: {why}"))
        }
    }

    /// Logs and returns the error for a name the platform already holds.
    pub(super) fn duplicate(&self, what: &str, name: &str) -> Error {
        log::warn!("{what}: {name} already exists");
        Error::DuplicateResourceName(name.to_owned())
    }

    pub(super) fn done(&self, what: &str) {
        log::debug!("{what}: done");
    }

    /// POSTs a named resource, once, and reads the answer the same way for every kind
    /// the platform creates: `2xx` is done, `409` means the name is taken, anything else
    /// is a refusal.
    pub(super) async fn create_named(
        &self,
        what: &str,
        url: &str,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<(), Error> {
        let reply = self.send(what, Method::POST, url, Some(body)).await?;
        if reply.is_success() {
            self.done(what);
            Ok(())
        } else if reply.status == StatusCode::CONFLICT {
            Err(self.duplicate(what, name))
        } else {
            Err(self.refused(what, &reply))
        }
    }

    /// DELETEs a resource, once; a `404` counts as done because a release must succeed
    /// on a resource that is already gone.
    pub(super) async fn delete_at(&self, what: &str, url: &str) -> Result<(), Error> {
        let reply = self.send(what, Method::DELETE, url, None).await?;
        if reply.is_success() || reply.status == StatusCode::NOT_FOUND {
            self.done(what);
            Ok(())
        } else {
            Err(self.refused(what, &reply))
        }
    }
}

fn unavailable(what: &str, why: &str) -> Error {
    log::warn!("{what}: {why}");
    Error::DependencyUnavailable(format!("{what}: {why}"))
}
