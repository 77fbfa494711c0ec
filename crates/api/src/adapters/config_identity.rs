//! Identity from static users in the configuration (`[[users]]`): a bearer token stands for
//! a user, who is an admin or a member of the listed projects; and from its main accounts
//! and sub-accounts (`[[sub_accounts]]`). Meant for local use and small deployments; a
//! platform identity service replaces it in production.

use async_trait::async_trait;
use domain::account::SubAccounts;
use domain::ids::ProjectId;
use domain::ports::Identity;
use domain::principal::Principal;

use crate::config::StaticUser;

#[derive(Clone, Debug)]
pub struct ConfigIdentity {
    users: Vec<StaticUser>,
    relation: SubAccounts,
}

impl ConfigIdentity {
    pub fn new(users: Vec<StaticUser>, relation: SubAccounts) -> Self {
        Self { users, relation }
    }
}

/// Compares every byte whatever the first difference, so the time taken does not tell an
/// attacker how much of a guessed token was right.
fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[async_trait]
impl Identity for ConfigIdentity {
    async fn authenticate(&self, token: &str) -> domain::Result<Principal> {
        // Every user is compared, match or not, for the same reason as in `same_token`.
        self.users
            .iter()
            .filter(|u| same_token(&u.token, token))
            .fold(None, |found, u| found.or(Some(u.principal.clone())))
            .ok_or(domain::Error::Unauthenticated)
    }

    async fn is_member(&self, principal: &Principal, project: &ProjectId) -> domain::Result<bool> {
        Ok(self
            .users
            .iter()
            .find(|u| u.principal.user == principal.user)
            .is_some_and(|u| u.projects.contains(project)))
    }

    async fn main_account(
        &self,
        _principal: &Principal,
        project: &ProjectId,
    ) -> domain::Result<Option<ProjectId>> {
        Ok(self.relation.main_account(project).cloned())
    }

    async fn sub_accounts(
        &self,
        _principal: &Principal,
        project: &ProjectId,
    ) -> domain::Result<Vec<ProjectId>> {
        Ok(self.relation.sub_accounts(project).to_vec())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::ids::UserName;

    use super::*;

    fn user(name: &str, token: &str, admin: bool, projects: &[&str]) -> StaticUser {
        StaticUser {
            principal: Principal {
                user: UserName::parse(name).unwrap(),
                admin,
                credential: None,
            },
            token: token.into(),
            projects: projects
                .iter()
                .map(|p| ProjectId::parse(p).unwrap())
                .collect(),
        }
    }

    fn identity() -> ConfigIdentity {
        let relation = SubAccounts::new(vec![(
            ProjectId::parse("demo").unwrap(),
            vec![ProjectId::parse("demo-dev").unwrap()],
        )])
        .unwrap();
        ConfigIdentity::new(
            vec![
                user("demo", "demo-token", false, &["demo", "shared"]),
                user("admin", "admin-token", true, &[]),
            ],
            relation,
        )
    }

    #[tokio::test]
    async fn a_known_token_yields_its_user() {
        let principal = identity().authenticate("admin-token").await.unwrap();
        assert_eq!(principal.user.as_str(), "admin");
        assert!(principal.admin);
    }

    #[tokio::test]
    async fn unknown_prefix_and_empty_tokens_are_unauthenticated() {
        for token in ["nope", "demo-toke", "demo-token2", ""] {
            assert_eq!(
                identity().authenticate(token).await,
                Err(domain::Error::Unauthenticated),
                "{token}"
            );
        }
    }

    #[tokio::test]
    async fn membership_follows_the_project_list() {
        let identity = identity();
        let demo = identity.authenticate("demo-token").await.unwrap();
        let project = |p: &str| ProjectId::parse(p).unwrap();
        assert!(identity.is_member(&demo, &project("shared")).await.unwrap());
        assert!(!identity
            .is_member(&demo, &project("alice-project"))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn an_admin_is_a_member_of_nothing_by_list() {
        let identity = identity();
        let admin = identity.authenticate("admin-token").await.unwrap();
        assert!(!identity
            .is_member(&admin, &ProjectId::parse("demo").unwrap())
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn the_relation_is_the_configured_one_whoever_asks() {
        let identity = identity();
        let project = |p: &str| ProjectId::parse(p).unwrap();
        for token in ["demo-token", "admin-token"] {
            let caller = identity.authenticate(token).await.unwrap();
            assert_eq!(
                identity.main_account(&caller, &project("demo-dev")).await,
                Ok(Some(project("demo")))
            );
            assert_eq!(
                identity.main_account(&caller, &project("demo")).await,
                Ok(None)
            );
            assert_eq!(
                identity.sub_accounts(&caller, &project("demo")).await,
                Ok(vec![project("demo-dev")])
            );
            assert_eq!(
                identity.sub_accounts(&caller, &project("shared")).await,
                Ok(Vec::new())
            );
        }
    }
}
