//! SKELETON: placeholders until the infra-mysql stores and the ledger charging adapter land.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ids::Region;
use domain::order::Order;
use domain::payment::{MoneyKeeper, Payment};
use domain::ports::{Charging, CreditQueue, Provisioning, QueuedCredit};
use domain::{Error, Result};

pub struct SkeletonCharging;

#[async_trait]
impl Charging for SkeletonCharging {
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

#[async_trait]
impl CreditQueue for SkeletonCharging {
    async fn due(&self, _now: DateTime<Utc>, _limit: u32) -> Result<Vec<QueuedCredit>> {
        Ok(Vec::new())
    }
    async fn delivered(&self, _id: u64, _at: DateTime<Utc>) -> Result<()> {
        Ok(())
    }
    async fn failed(&self, _id: u64, _next: DateTime<Utc>, _error: String) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl Provisioning for SkeletonCharging {
    async fn provision(&self, _order: &Order) -> Result<()> {
        Ok(())
    }
    async fn release(&self, _order: &Order) -> Result<()> {
        Ok(())
    }
}
