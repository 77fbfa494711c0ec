//! Provisioning when some regions create their resources on the platform: an order goes
//! to its region's adapter, the platform's or the embedded record in the database.

use std::sync::Arc;

use async_trait::async_trait;
use domain::ids::Region;
use domain::order::Order;
use domain::ports::Provisioning;

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

    fn of(&self, order: &Order) -> &dyn Provisioning {
        if self.remote_regions.contains(&order.region) {
            self.remote.as_ref()
        } else {
            self.embedded.as_ref()
        }
    }
}

#[async_trait]
impl Provisioning for RegionalProvisioning {
    async fn provision(&self, order: &Order) -> domain::Result<()> {
        self.of(order).provision(order).await
    }

    async fn release(&self, order: &Order) -> domain::Result<()> {
        self.of(order).release(order).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::ids::{PlanId, PlanType};
    use domain::ports::MockProvisioning;

    use super::*;
    use crate::test_support;

    /// A `vol` (`volume`) order in `region`: provisioning is routed by region alone.
    fn order(region: &str) -> Order {
        Order {
            plan_id: PlanId::parse("vol").unwrap(),
            plan_type: PlanType::parse("volume").unwrap(),
            ..test_support::order("o1", region)
        }
    }

    /// A mock that expects `calls` provisions and releases, of orders `in_region` accepts;
    /// releases fail, to show the answer is passed on.
    fn expecting(calls: usize, in_region: fn(&str) -> bool) -> MockProvisioning {
        let mut mock = MockProvisioning::new();
        mock.expect_provision()
            .withf(move |o| in_region(o.region.as_str()))
            .times(calls)
            .returning(|_| Ok(()));
        mock.expect_release()
            .withf(move |o| in_region(o.region.as_str()))
            .times(calls)
            .returning(|_| Err(domain::Error::ProvisioningFailed("busy".into())));
        mock
    }

    #[tokio::test]
    async fn an_order_goes_to_its_regions_adapter_with_its_answer() {
        let router = RegionalProvisioning::new(
            Arc::new(expecting(2, |r| r != "far")),
            Arc::new(expecting(1, |r| r == "far")),
            vec![Region::parse("far").unwrap()],
        );
        for region in ["local", "unlisted", "far"] {
            router.provision(&order(region)).await.unwrap();
            assert!(matches!(
                router.release(&order(region)).await,
                Err(domain::Error::ProvisioningFailed(_))
            ));
        }
    }
}
