//! The demo plans of `config/default.toml`, as the seeding tool needs them.

/// CHARGING_MODE codes.
pub const PREPAID: i16 = 0;
pub const POSTPAID: i16 = 1;

/// One plan of the shipped catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub id: &'static str,
    pub plan_type: &'static str,
    pub region: &'static str,
    pub mode: i16,
    /// Price of one cycle in ten-thousandths.
    pub price: i64,
    /// 1 for a natural month, 12 for a year.
    pub months: u32,
    pub needs_resource_name: bool,
}

pub const CPU: Plan = Plan {
    id: "cpuquota-monthly",
    plan_type: "cpuquota",
    region: "cn-north-1",
    mode: PREPAID,
    price: 990_000,
    months: 1,
    needs_resource_name: false,
};
pub const VOLUME: Plan = Plan {
    id: "volume-10g-monthly",
    plan_type: "volume",
    region: "cn-north-1",
    mode: PREPAID,
    price: 125_000,
    months: 1,
    needs_resource_name: true,
};
pub const BSI: Plan = Plan {
    id: "bsi-mysql-yearly",
    plan_type: "bsi",
    region: "cn-north-1",
    mode: PREPAID,
    price: 9_990_000,
    months: 12,
    needs_resource_name: true,
};
pub const POSTPAID_CPU: Plan = Plan {
    id: "cpuquota-postpaid",
    plan_type: "cpuquota",
    region: "cn-north-1",
    mode: POSTPAID,
    price: 1_200_000,
    months: 1,
    needs_resource_name: false,
};
pub const NORTH2: Plan = Plan {
    id: "cpuquota-monthly-north2",
    plan_type: "cpuquota",
    region: "cn-north-2",
    mode: PREPAID,
    price: 890_000,
    months: 1,
    needs_resource_name: false,
};

pub const ALL: [Plan; 5] = [CPU, VOLUME, BSI, POSTPAID_CPU, NORTH2];
pub const PREPAID_PLANS: [Plan; 4] = [CPU, VOLUME, BSI, NORTH2];

/// The plan of this id, if the demo catalog has it.
pub fn find(id: &str) -> Option<Plan> {
    ALL.into_iter().find(|plan| plan.id == id)
}
