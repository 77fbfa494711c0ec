//! A project's quota as the service writes it (`ResourceQuota` `standard-quota`,
//! `spec.hard` with `limits.cpu`/`requests.cpu` and `limits.memory`/`requests.memory`),
//! read back in comparable units whatever notation the service chose ("4", "4000m",
//! "8Gi", "8192Mi", a bare number).

use serde_json::Value;

/// CPU in millicores, memory in MiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub cpu_millis: i64,
    pub memory_mib: i64,
}

impl Quota {
    pub fn new(cores: i64, gib: i64) -> Self {
        Self {
            cpu_millis: cores * 1000,
            memory_mib: gib * 1024,
        }
    }

    /// From a quota object (or a request body carrying one); `None` if it holds no cpu or
    /// memory limit.
    pub fn of(object: &Value) -> Option<Self> {
        let hard = &object["spec"]["hard"];
        let pick = |keys: &[&str]| keys.iter().map(|k| &hard[*k]).find(|v| !v.is_null());
        Some(Self {
            cpu_millis: cpu_millis(pick(&["limits.cpu", "requests.cpu", "cpu"])?)?,
            memory_mib: memory_mib(pick(&["limits.memory", "requests.memory", "memory"])?)?,
        })
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.replace(' ', "")),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn cpu_millis(value: &Value) -> Option<i64> {
    let text = text(value)?;
    match text.strip_suffix('m') {
        Some(millis) => millis.parse().ok(),
        None => text
            .parse::<f64>()
            .ok()
            .map(|cores| (cores * 1000.0).round() as i64),
    }
}

fn memory_mib(value: &Value) -> Option<i64> {
    let text = text(value)?;
    const MIB: f64 = 1024.0 * 1024.0;
    // "Gi" before "G", which it ends with.
    let units = [
        ("Gi", 1024.0),
        ("G", 1e9 / MIB),
        ("Mi", 1.0),
        ("M", 1e6 / MIB),
    ];
    for (suffix, mib) in units {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<f64>().ok().map(|n| (n * mib).round() as i64);
        }
    }
    // A bare number is bytes.
    text.parse::<f64>()
        .ok()
        .map(|bytes| (bytes / MIB).round() as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn notations_compare_equal() {
        let four_cores = Quota::new(4, 8);
        for (cpu, memory) in [
            (json!("4"), json!("8Gi")),
            (json!("4000m"), json!("8192Mi")),
            (json!(4), json!("8 Gi")),
        ] {
            let object = json!({"spec": {"hard": {"limits.cpu": cpu, "limits.memory": memory}}});
            assert_eq!(Quota::of(&object), Some(four_cores), "{object}");
        }
        let zero = json!({"spec": {"hard": {"requests.cpu": "0", "requests.memory": "0"}}});
        assert_eq!(Quota::of(&zero), Some(Quota::new(0, 0)));
        assert_eq!(Quota::of(&json!({"spec": {}})), None);
    }
}
