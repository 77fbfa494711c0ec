//! A backing-service instance (BSI), a DataFoundry resource of the platform API.
//!
//! Create: `GET /oapi/v1/namespaces/{project}/backingserviceinstances/{name}`; `404` →
//! `POST /oapi/v1/namespaces/{project}/backingserviceinstances` with
//! `{metadata:{name}, spec:{provisioning:{backingservice_name: <plan belong>,
//! backingservice_plan_guid: <plan id>}}}`; an instance of that name already there (or a
//! `409` to the POST) is a duplicate name. Release: `DELETE` the instance; `404` = already
//! gone. The original first unbound the instance's bindings and waited for it to be
//! unbound; this adapter deletes directly, so a platform that refuses to delete a bound
//! instance fails the release (the caller logs it) and leaves the instance to an operator.

use reqwest::StatusCode;
use serde_json::json;

use super::call::AdminCall;

fn instances(call: &AdminCall<'_>) -> String {
    format!(
        "{}/oapi/v1/namespaces/{}/backingserviceinstances",
        call.region.api_url,
        call.namespace()
    )
}

pub(super) async fn create(call: &AdminCall<'_>, name: &str, service: &str) -> domain::Result<()> {
    let what = call.what(&format!(
        "create {service} instance {name} in {}",
        call.namespace()
    ));
    let url = instances(call);
    let existing = call.get(&what, &format!("{url}/{name}")).await?;
    if existing.is_success() {
        return Err(call.duplicate(&what, name));
    }
    if existing.status != StatusCode::NOT_FOUND {
        return Err(call.refused(&what, &existing));
    }
    let body = json!({
        "kind": "BackingServiceInstance",
        "apiVersion": "v1",
        "metadata": { "name": name },
        "spec": {
            "provisioning": {
                "backingservice_name": service,
                "backingservice_plan_guid": call.resource.plan_id.as_str(),
            }
        }
    });
    call.create_named(&what, &url, name, &body).await
}

pub(super) async fn delete(call: &AdminCall<'_>, name: &str) -> domain::Result<()> {
    let what = call.what(&format!("delete instance {name} in {}", call.namespace()));
    let url = format!("{}/{name}", instances(call));
    call.delete_at(&what, &url).await
}
