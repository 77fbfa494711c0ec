//! The platform's identity endpoints, OpenShift style: `GET /oapi/v1/users/~` names the
//! owner of the bearer token (401 for an unknown token) and `GET /oapi/v1/projects/{p}`
//! answers 200 to a member's own token and 403 to anyone else.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde_json::json;
use wiremock::Request;

use super::server::{bearer, segments_after, Answer, Condition};

#[derive(Debug, Default)]
struct State {
    /// Token → user name.
    users: BTreeMap<String, String>,
    /// User name → projects.
    members: BTreeMap<String, BTreeSet<String>>,
    condition: Condition,
}

/// A handle on the identity part of the fake platform; clones share it.
#[derive(Clone, Debug, Default)]
pub struct FakeIdentity(Arc<Mutex<State>>);

fn status(code: u16, reason: &str) -> Answer {
    Answer::json(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
               "reason": reason, "code": code}),
    )
}

impl FakeIdentity {
    pub fn add_user(&self, name: &str, token: &str, projects: &[&str]) {
        let mut state = self.0.lock().unwrap();
        state.users.insert(token.to_owned(), name.to_owned());
        state.members.insert(
            name.to_owned(),
            projects.iter().map(|p| (*p).to_owned()).collect(),
        );
    }

    pub fn set_condition(&self, condition: Condition) {
        self.0.lock().unwrap().condition = condition;
    }

    /// The answer for an identity path, `None` for other paths.
    pub fn answer(&self, request: &Request) -> Option<Answer> {
        let segments = segments_after(request, "/oapi/v1/")?;
        let target = match segments.as_slice() {
            ["users", "~" | "%7E" | "%7e"] => None,
            ["projects", project] => Some((*project).to_owned()),
            _ => return None,
        };
        let condition = self.0.lock().unwrap().condition;
        Some(condition.apply(|| self.handle(request, target)))
    }

    fn handle(&self, request: &Request, project: Option<String>) -> Answer {
        if request.method.as_str() != "GET" {
            return status(405, "MethodNotAllowed");
        }
        let state = self.0.lock().unwrap();
        let Some(name) = bearer(request).and_then(|token| state.users.get(&token).cloned()) else {
            return status(401, "Unauthorized");
        };
        match project {
            None => Answer::json(
                200,
                json!({"kind": "User", "apiVersion": "v1", "metadata": {"name": name},
                       "identities": [], "groups": []}),
            ),
            Some(project)
                if state
                    .members
                    .get(&name)
                    .is_some_and(|p| p.contains(&project)) =>
            {
                Answer::json(
                    200,
                    json!({"kind": "Project", "apiVersion": "v1",
                           "metadata": {"name": project}, "status": {"phase": "Active"}}),
                )
            }
            Some(_) => status(403, "Forbidden"),
        }
    }
}
