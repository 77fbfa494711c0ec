//! SKELETON: the charge service.

use async_trait::async_trait;
use domain::ids::Region;
use domain::payment::{MoneyKeeper, Payment};
use domain::ports::Charging;
use domain::{Error, Result};

use crate::http::{BuildError, HttpSettings, Secret};

/// One region's charge service.
#[derive(Clone, Debug)]
pub struct ChargeRegion {
    pub region: Region,
    pub base_url: String,
    /// The platform admin's bearer token the charge service requires.
    pub admin_token: Secret,
}

/// [`Charging`] on the regions' charge services; other regions are the store's.
#[derive(Clone, Debug)]
pub struct ChargeService {}

impl ChargeService {
    pub fn new(_regions: Vec<ChargeRegion>, _http: HttpSettings) -> Result<Self, BuildError> {
        Ok(Self {})
    }
}

#[async_trait]
impl Charging for ChargeService {
    fn keeper(&self, _region: &Region) -> MoneyKeeper {
        MoneyKeeper::Store
    }

    fn charged_regions(&self) -> Vec<Region> {
        Vec::new()
    }

    async fn deduct(&self, _payment: &Payment) -> Result<()> {
        Err(Error::Internal("SKELETON".into()))
    }

    async fn credit(&self, _payment: &Payment) -> Result<()> {
        Err(Error::Internal("SKELETON".into()))
    }
}
