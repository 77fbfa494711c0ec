//! Enumerations: what a console's drop-downs offer, each value with its labels.

use domain::enumeration::Enumerated;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One value of an enumeration, as filters take it, with an English and a Chinese label.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"value": "volume", "en": "Persistent volume", "zh": "存储卷"}))]
pub struct EnumeratedJson {
    /// What a filter takes and a result shows.
    pub value: String,
    /// The English label.
    pub en: String,
    /// The Chinese label.
    pub zh: String,
}

impl From<&Enumerated> for EnumeratedJson {
    fn from(enumerated: &Enumerated) -> Self {
        Self {
            value: enumerated.value.clone(),
            en: enumerated.en.clone(),
            zh: enumerated.zh.clone(),
        }
    }
}

/// `GET /resource-types` query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceTypesQuery {
    /// Only the types of this region's plans.
    #[param(value_type = String, required = false, pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub region: Option<String>,
}
