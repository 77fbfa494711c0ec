//! A plan's raw specification and the sizes provisioning reads from it, parsed by the
//! original's rules (`ParsePlanQuotas`, `ParsePlanVolume`, `ParsePlanBSI`): the plan service
//! describes sizes in words ("16 CPU Cores", "32 GB RAM", "100 GB"), and the number
//! before the unit is the size.

/// The plan service's raw specification of a plan, which provisioning reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanSpecification {
    pub plan_type: String,
    pub specification1: String,
    pub specification2: String,
    pub belong: String,
}

/// A project quota: CPU cores and memory in GiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaSize {
    pub cores: u32,
    pub memory_gib: u32,
}

impl QuotaSize {
    /// What a project holds once its quota order ends (the original reset to this).
    pub const NONE: QuotaSize = QuotaSize {
        cores: 0,
        memory_gib: 0,
    };
}

impl PlanSpecification {
    /// Cores: the integer before `" CPU Core"` in specification1; memory: the integer
    /// before `" GB RAM"` in specification2. Zero is allowed, as in the original.
    pub fn quota(&self) -> Result<QuotaSize, String> {
        Ok(QuotaSize {
            cores: number_before(&self.specification1, " CPU Core")?,
            memory_gib: number_before(&self.specification2, " GB RAM")?,
        })
    }

    /// Gigabytes: the integer before `" GB"` in specification1, at least 1.
    pub fn volume_gb(&self) -> Result<u32, String> {
        match number_before(&self.specification1, " GB")? {
            0 => Err(format!(
                "volume size {:?} must be at least 1 GB",
                self.specification1
            )),
            size => Ok(size),
        }
    }

    /// The backing service a `bsi` plan instantiates (`belong`), never blank.
    pub fn backing_service(&self) -> Result<&str, String> {
        let name = self.belong.trim();
        if name.is_empty() {
            Err("the plan names no backing service (belong is blank)".to_owned())
        } else {
            Ok(name)
        }
    }
}

fn number_before(text: &str, unit: &str) -> Result<u32, String> {
    let malformed = || format!("{text:?} is not \"<number>{unit}…\"");
    let (number, _) = text.split_once(unit).ok_or_else(malformed)?;
    number.trim().parse().map_err(|_| malformed())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn spec(specification1: &str, specification2: &str) -> PlanSpecification {
        PlanSpecification {
            plan_type: "resources".into(),
            specification1: specification1.into(),
            specification2: specification2.into(),
            belong: String::new(),
        }
    }

    #[test]
    fn quota_reads_cores_and_memory() {
        assert_eq!(
            spec("16 CPU Cores", "32 GB RAM").quota(),
            Ok(QuotaSize {
                cores: 16,
                memory_gib: 32
            })
        );
        assert_eq!(
            spec("1 CPU Core", "0 GB RAM").quota(),
            Ok(QuotaSize {
                cores: 1,
                memory_gib: 0
            })
        );
    }

    #[test]
    fn quota_rejects_other_formats() {
        for (one, two) in [
            ("16 Cores", "32 GB RAM"),
            ("16 CPU Cores", "32 GiB"),
            ("-1 CPU Cores", "32 GB RAM"),
            ("x CPU Cores", "32 GB RAM"),
            ("", ""),
        ] {
            assert!(spec(one, two).quota().is_err(), "{one:?} {two:?}");
        }
    }

    #[test]
    fn volume_size_is_at_least_one_gigabyte() {
        assert_eq!(spec("16 GB", "").volume_gb(), Ok(16));
        assert!(spec("0 GB", "").volume_gb().is_err());
        assert!(spec("16 TB", "").volume_gb().is_err());
    }

    #[test]
    fn backing_service_must_be_named() {
        let mut bsi = spec("", "");
        assert!(bsi.backing_service().is_err());
        bsi.belong = "mysql".into();
        assert_eq!(bsi.backing_service(), Ok("mysql"));
    }
}
