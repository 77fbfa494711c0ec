//! The fake platform API server: identity and the namespaced objects behind one base URL,
//! as on the real platform (`[identity] url` and a region's `platform_url` may be the same).

use serde_json::json;
use wiremock::Request;

use super::cluster::FakeCluster;
use super::identity::FakeIdentity;
use super::journal::Service;
use super::server::{Answer, Fake};

#[derive(Clone, Debug)]
pub struct FakePlatformApi {
    pub identity: FakeIdentity,
    pub cluster: FakeCluster,
}

impl Fake for FakePlatformApi {
    const SERVICE: Service = Service::Platform;

    fn answer(&self, request: &Request) -> Answer {
        self.identity
            .answer(request)
            .or_else(|| self.cluster.answer(request))
            .unwrap_or_else(|| {
                Answer::json(
                    404,
                    json!({"kind": "Status", "code": 404, "reason": "NotFound"}),
                )
            })
    }
}
