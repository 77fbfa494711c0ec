//! A persistent volume, created and deleted through the region's volume service.
//!
//! Contract assumed of the volume service (the original's calls, with the admin token):
//! - create: `POST {volume}/lapi/v1/namespaces/{project}/volumes` with
//!   `{"name":"<resource name>","namespace":"<project>","size":<GB>,
//!   "metadata":{"annotations":{"dadafoundry.io/create-by":"<order creator>",
//!   "serviceusage.io/order":"<order id>"}}}` (the creator's key keeps the original's
//!   spelling; the order's tells an operator which order created the volume); `2xx` =
//!   created, `409` = the name is taken.
//! - delete: `DELETE {volume}/lapi/v1/namespaces/{project}/volumes/{name}`; `2xx` =
//!   deleted, `404` = already gone (the original failed on it; a release must not).

use serde_json::json;

use super::call::AdminCall;

/// Who asked for the volume (the original's key, spelling included).
const CREATOR_ANNOTATION: &str = "dadafoundry.io/create-by";
/// The order that created the volume, for an operator to trace it back.
const ORDER_ANNOTATION: &str = "serviceusage.io/order";

fn volumes(call: &AdminCall<'_>) -> domain::Result<String> {
    if call.region.volume_url.is_empty() {
        let why = call.what(&format!(
            "region {} has no volume service configured",
            call.region.region
        ));
        log::error!("{why}");
        return Err(domain::Error::Internal(why));
    }
    Ok(format!(
        "{}/lapi/v1/namespaces/{}/volumes",
        call.region.volume_url,
        call.namespace()
    ))
}

pub(super) async fn create(call: &AdminCall<'_>, name: &str, size_gb: u32) -> domain::Result<()> {
    let what = call.what(&format!(
        "create volume {name} of {size_gb} GB in {}",
        call.namespace()
    ));
    let url = volumes(call)?;
    let body = json!({
        "name": name,
        "namespace": call.namespace(),
        "size": size_gb,
        "metadata": {
            "annotations": {
                CREATOR_ANNOTATION: call.resource.creator.as_str(),
                ORDER_ANNOTATION: call.resource.order_id.as_str(),
            }
        },
    });
    call.create_named(&what, &url, name, &body).await
}

pub(super) async fn delete(call: &AdminCall<'_>, name: &str) -> domain::Result<()> {
    let what = call.what(&format!("delete volume {name} in {}", call.namespace()));
    let url = format!("{}/{name}", volumes(call)?);
    call.delete_at(&what, &url).await
}
