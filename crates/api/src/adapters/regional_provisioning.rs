//! Provisioning when some regions create their resources on the platform: a resource goes
//! to its region's adapter, the platform's or the embedded record in the database.

use std::sync::Arc;

use async_trait::async_trait;
use domain::ids::Region;
use domain::ports::Provisioning;
use domain::provisioning::Resource;

/// The platform for `remote_regions`, the embedded adapter for every other region.
pub struct RegionalProvisioning {
    embedded: Arc<dyn Provisioning>,
    remote: Arc<dyn Provisioning>,
    remote_regions: Vec<Region>,
}

impl RegionalProvisioning {
    pub fn new(
        embedded: Arc<dyn Provisioning>,
        remote: Arc<dyn Provisioning>,
        remote_regions: Vec<Region>,
    ) -> Self {
        Self {
            embedded,
            remote,
            remote_regions,
        }
    }

    fn of(&self, resource: &Resource) -> &dyn Provisioning {
        if self.remote_regions.contains(&resource.region) {
            self.remote.as_ref()
        } else {
            self.embedded.as_ref()
        }
    }
}

#[async_trait]
impl Provisioning for RegionalProvisioning {
    async fn provision(&self, resource: &Resource) -> domain::Result<()> {
        self.of(resource).provision(resource).await
    }

    async fn release(&self, resource: &Resource) -> domain::Result<()> {
        self.of(resource).release(resource).await
    }

    fn kept_in_store(&self, resource: &Resource) -> bool {
        self.of(resource).kept_in_store(resource)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::ports::MockProvisioning;
    use domain::testing::OrderBuilder;

    use super::*;

    /// The resource of a `volume` order in `region`: provisioning is routed by region alone.
    fn resource(region: &str) -> Resource {
        let order = OrderBuilder::default()
            .region(region)
            .resource_name("data")
            .build();
        Resource::of(&order).unwrap()
    }

    /// A mock that expects `calls` provisions and releases, of resources `in_region`
    /// accepts; releases fail, to show the answer is passed on.
    fn expecting(calls: usize, in_region: fn(&str) -> bool) -> MockProvisioning {
        let mut mock = MockProvisioning::new();
        mock.expect_provision()
            .withf(move |r| in_region(r.region.as_str()))
            .times(calls)
            .returning(|_| Ok(()));
        mock.expect_release()
            .withf(move |r| in_region(r.region.as_str()))
            .times(calls)
            .returning(|_| Err(domain::Error::ProvisioningFailed("busy".into())));
        mock
    }

    #[tokio::test]
    async fn a_resource_goes_to_its_regions_adapter_with_its_answer() {
        let router = RegionalProvisioning::new(
            Arc::new(expecting(2, |r| r != "far")),
            Arc::new(expecting(1, |r| r == "far")),
            vec![Region::parse("far").unwrap()],
        );
        for region in ["local", "unlisted", "far"] {
            router.provision(&resource(region)).await.unwrap();
            assert!(matches!(
                router.release(&resource(region)).await,
                Err(domain::Error::ProvisioningFailed(_))
            ));
        }
    }

    #[test]
    fn whether_the_store_keeps_a_resource_is_its_regions_adapter_s_answer() {
        let kept = |answer: bool| {
            let mut mock = MockProvisioning::new();
            mock.expect_kept_in_store().return_const(answer);
            Arc::new(mock)
        };
        let router =
            RegionalProvisioning::new(kept(true), kept(false), vec![Region::parse("far").unwrap()]);
        assert!(router.kept_in_store(&resource("local")));
        assert!(!router.kept_in_store(&resource("far")));
    }
}
