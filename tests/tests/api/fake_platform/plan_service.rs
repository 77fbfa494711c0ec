//! The fake plan service: `GET /charge/v1/plans/{id}?region=` and the paged list
//! `GET /charge/v1/plans?region=&page=&size=`, in the `{code, msg, data}` envelope, with
//! prices as JSON numbers. An unknown plan is a 200 without data, as the original answers.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::Request;

use super::amount::number;
use super::journal::Service;
use super::server::{query, segments_after, Answer, Condition, Fake};

/// One plan as the plan service describes it.
#[derive(Clone, Debug)]
pub struct RemotePlan {
    pub id: &'static str,
    pub name: &'static str,
    pub plan_type: &'static str,
    pub belong: &'static str,
    pub specification1: &'static str,
    pub specification2: &'static str,
    /// Decimal text, sent as a JSON number.
    pub price: &'static str,
    pub region: &'static str,
}

impl RemotePlan {
    fn json(&self) -> Value {
        json!({
            "plan_id": self.id,
            "plan_name": self.name,
            "plan_type": self.plan_type,
            "plan_level": 1,
            "belong": self.belong,
            "specification1": self.specification1,
            "specification2": self.specification2,
            "price": number(self.price),
            "cycle": "M",
            "region": self.region,
            "status": "A",
        })
    }
}

#[derive(Debug, Default)]
struct State {
    plans: Vec<RemotePlan>,
    condition: Condition,
}

/// A handle on the fake; clones share it.
#[derive(Clone, Debug, Default)]
pub struct FakePlanService(Arc<Mutex<State>>);

const PREFIX: &str = "/charge/v1/plans";

impl FakePlanService {
    pub fn new(plans: Vec<RemotePlan>) -> Self {
        Self(Arc::new(Mutex::new(State {
            plans,
            condition: Condition::Up,
        })))
    }

    pub fn set_condition(&self, condition: Condition) {
        self.0.lock().unwrap().condition = condition;
    }

    fn in_region(&self, region: &str) -> Vec<RemotePlan> {
        self.0
            .lock()
            .unwrap()
            .plans
            .iter()
            .filter(|plan| plan.region.eq_ignore_ascii_case(region))
            .cloned()
            .collect()
    }

    fn handle(&self, request: &Request) -> Answer {
        let Some(segments) = segments_after(request, PREFIX) else {
            return Answer::json(404, json!({"code": 1300, "msg": "no such endpoint"}));
        };
        if request.method.as_str() != "GET" {
            return Answer::json(405, json!({"code": 1300, "msg": "read only fake"}));
        }
        let Some(region) = query(request, "region") else {
            return Answer::json(400, json!({"code": 1311, "msg": "region missing"}));
        };
        let plans = self.in_region(&region);
        match segments.as_slice() {
            [] => {
                let page: usize = query(request, "page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                let size: usize = query(request, "size")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(30);
                let results: Vec<Value> = plans
                    .iter()
                    .skip(page.saturating_sub(1) * size)
                    .take(size)
                    .map(RemotePlan::json)
                    .collect();
                Answer::json(
                    200,
                    json!({"code": 0, "msg": "OK", "data": {"total": plans.len(), "results": results}}),
                )
            }
            [id] => match plans.iter().find(|plan| plan.id == *id) {
                Some(plan) => {
                    Answer::json(200, json!({"code": 0, "msg": "OK", "data": plan.json()}))
                }
                None => Answer::json(200, json!({"code": 0, "msg": "OK"})),
            },
            _ => Answer::json(404, json!({"code": 1300, "msg": "no such endpoint"})),
        }
    }
}

impl Fake for FakePlanService {
    const SERVICE: Service = Service::Plans;

    fn answer(&self, request: &Request) -> Answer {
        let condition = self.0.lock().unwrap().condition;
        condition.apply(|| self.handle(request))
    }
}
