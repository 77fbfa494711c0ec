//! A project's CPU and memory quota: the `ResourceQuota` named `standard-quota`, read,
//! then created or replaced whole, as the original did. The original also set a
//! `LimitRange` and deleted other quotas; those are platform policy and left to it.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::call::AdminCall;
use crate::specification::QuotaSize;

const QUOTA_NAME: &str = "standard-quota";

/// Sets the project's quota to `size` (`QuotaSize::NONE` on release).
pub(super) async fn set(call: &AdminCall<'_>, size: QuotaSize) -> domain::Result<()> {
    let what = call.what(&format!(
        "quota of {} to {} cores, {} GiB",
        call.namespace(),
        size.cores,
        size.memory_gib
    ));
    let quotas = format!(
        "{}/api/v1/namespaces/{}/resourcequotas",
        call.region.api_url,
        call.namespace()
    );
    let named = format!("{quotas}/{QUOTA_NAME}");
    let existing = call.get(&what, &named).await?;
    let body = quota(call.namespace(), size);
    let written = if existing.status == StatusCode::NOT_FOUND {
        call.send(&what, Method::POST, &quotas, Some(&body)).await?
    } else if existing.is_success() {
        call.send(&what, Method::PUT, &named, Some(&body)).await?
    } else {
        return Err(call.refused(&what, &existing));
    };
    if !written.is_success() {
        return Err(call.refused(&what, &written));
    }
    call.done(&what);
    Ok(())
}

/// `limits` and `requests` alike, memory in binary gigabytes ("32Gi").
fn quota(namespace: &str, size: QuotaSize) -> serde_json::Value {
    let cpu = size.cores.to_string();
    let memory = format!("{}Gi", size.memory_gib);
    json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": { "name": QUOTA_NAME, "namespace": namespace },
        "spec": {
            "hard": {
                "limits.cpu": cpu,
                "requests.cpu": cpu,
                "limits.memory": memory,
                "requests.memory": memory,
            }
        }
    })
}
