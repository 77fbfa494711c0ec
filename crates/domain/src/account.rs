//! Main accounts and sub-accounts (51idc's account type). A project may be a sub-account
//! of one other project, its main account; one level only, so a sub-account has no
//! sub-accounts of its own. Members of a main account may read what its sub-accounts
//! hold (orders, usages, records, balances); a sub-account sees nothing of its main
//! account or its siblings, and nobody may write through the relation.
//!
//! Who is whose sub-account is an identity's answer ([`crate::ports::Identity`]); this
//! module holds the rules that follow from it: which projects a list reads, and how each
//! of its rows is labelled.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::ids::ProjectId;
use crate::page::Page;

/// What a project is in the relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountType {
    /// A project that is nobody's sub-account (51idc `admin`), with or without
    /// sub-accounts of its own.
    Main,
    /// A project with a main account (51idc `sub`).
    Sub,
}

impl AccountType {
    /// Every account type, in the order enumerations list them.
    pub const ALL: [AccountType; 2] = [AccountType::Main, AccountType::Sub];

    /// The name the API shows and filters by (51idc's).
    pub fn label(self) -> &'static str {
        match self {
            AccountType::Main => "admin",
            AccountType::Sub => "sub",
        }
    }
}

/// Whose rows a list of a project reads: the `account_type` filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccountSelection {
    /// The project's own, as every list did before sub-accounts (the default).
    #[default]
    Own,
    /// Those of the main account: the project's own when it is one, none when it is a
    /// sub-account (its main account is not its to see).
    Main,
    /// Those of sub-accounts: the project's sub-accounts' when it is a main account, its
    /// own when it is a sub-account.
    Sub,
    /// Both: a main account's and all its sub-accounts'; a sub-account's own.
    All,
}

impl AccountSelection {
    /// Parses an `account_type` filter: absent for [`AccountSelection::Own`], `admin`,
    /// `sub` or `all`. Errors: `InvalidParameter` naming the choices.
    pub fn parse(text: Option<&str>) -> Result<Self> {
        match text {
            None => Ok(Self::Own),
            Some("admin") => Ok(Self::Main),
            Some("sub") => Ok(Self::Sub),
            Some("all") => Ok(Self::All),
            Some(other) => Err(Error::invalid(format!(
                "account_type must be one of admin, sub, all (got {other:?})"
            ))),
        }
    }

    /// Whether the selection can take rows of sub-accounts of a main account, so that
    /// they must be asked for.
    pub fn wants_sub_accounts(self) -> bool {
        matches!(self, Self::Sub | Self::All)
    }
}

/// A project as a list of it sees it: the project the request named, and what it is.
/// It labels each row of the list (51idc's `account_type` and `is_self`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountView {
    /// The project the request named.
    pub project: ProjectId,
    /// What it is in the relation.
    pub account_type: AccountType,
}

impl AccountView {
    /// Whether a row of `owner` is the named project's own.
    pub fn is_self(&self, owner: &ProjectId) -> bool {
        *owner == self.project
    }

    /// What `owner`, a project of this view's list, is: the named project is what it
    /// is; any other project of its list is one of its sub-accounts.
    pub fn account_type_of(&self, owner: &ProjectId) -> AccountType {
        if self.is_self(owner) {
            self.account_type
        } else {
            AccountType::Sub
        }
    }

    /// The projects `selection` reads, the named project first, each once; `sub_accounts`
    /// are the named project's (consulted only when it is a main account). An identity
    /// that named the project among its own sub-accounts, or one twice, cannot make a list
    /// read it twice.
    pub fn scope(&self, selection: AccountSelection, sub_accounts: &[ProjectId]) -> Vec<ProjectId> {
        let own = || vec![self.project.clone()];
        let mut subs = Vec::with_capacity(sub_accounts.len());
        for sub in sub_accounts {
            if *sub != self.project && !subs.contains(sub) {
                subs.push(sub.clone());
            }
        }
        match (self.account_type, selection) {
            (_, AccountSelection::Own) | (AccountType::Main, AccountSelection::Main) => own(),
            (AccountType::Sub, AccountSelection::Main) => Vec::new(),
            (AccountType::Sub, AccountSelection::Sub | AccountSelection::All) => own(),
            (AccountType::Main, AccountSelection::Sub) => subs,
            (AccountType::Main, AccountSelection::All) => {
                let mut projects = own();
                projects.extend(subs);
                projects
            }
        }
    }
}

/// A page of a list of a project, and the view that labels its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountPage<T> {
    /// The project the request named, and what it is.
    pub view: AccountView,
    /// The rows of every project the list read.
    pub page: Page<T>,
}

/// A relation between main accounts and sub-accounts that some identity keeps itself
/// (the embedded identity reads it from the configuration), checked whole: one level,
/// one main account per sub-account, no project its own sub-account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubAccounts {
    main_of: HashMap<ProjectId, ProjectId>,
    subs_of: HashMap<ProjectId, Vec<ProjectId>>,
}

impl SubAccounts {
    /// The relation from each main account and its sub-accounts. Errors:
    /// `InvalidParameter` naming the first project that breaks a rule.
    pub fn new(families: Vec<(ProjectId, Vec<ProjectId>)>) -> Result<Self> {
        let mains: HashSet<&ProjectId> = families.iter().map(|(main, _)| main).collect();
        let mut relation = Self::default();
        for (main, subs) in &families {
            if relation.subs_of.contains_key(main) {
                return Err(Error::invalid(format!(
                    "main account {main} is listed twice: list its sub-accounts once"
                )));
            }
            for (i, sub) in subs.iter().enumerate() {
                if subs[..i].contains(sub) {
                    return Err(Error::invalid(format!(
                        "project {sub} is listed twice among the sub-accounts of {main}"
                    )));
                }
                if sub == main {
                    return Err(Error::invalid(format!(
                        "project {sub} cannot be its own sub-account"
                    )));
                }
                if mains.contains(sub) {
                    return Err(Error::invalid(format!(
                        "project {sub} is a main account and cannot also be a sub-account \
                         (one level only)"
                    )));
                }
                if let Some(other) = relation.main_of.insert(sub.clone(), main.clone()) {
                    return Err(Error::invalid(format!(
                        "project {sub} is a sub-account of both {other} and {main}"
                    )));
                }
            }
            relation.subs_of.insert(main.clone(), subs.clone());
        }
        Ok(relation)
    }

    /// The main account `project` is a sub-account of, if any.
    pub fn main_account(&self, project: &ProjectId) -> Option<&ProjectId> {
        self.main_of.get(project)
    }

    /// The sub-accounts of `project`, in the order they were listed; empty for none.
    pub fn sub_accounts(&self, project: &ProjectId) -> &[ProjectId] {
        self.subs_of.get(project).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn project(name: &str) -> ProjectId {
        ProjectId::parse(name).unwrap()
    }

    fn projects(names: &[&str]) -> Vec<ProjectId> {
        names.iter().map(|n| project(n)).collect()
    }

    #[test]
    fn the_filter_parses_its_three_values_and_nothing_else() {
        assert_eq!(AccountSelection::parse(None), Ok(AccountSelection::Own));
        assert_eq!(
            AccountSelection::parse(Some("admin")),
            Ok(AccountSelection::Main)
        );
        assert_eq!(
            AccountSelection::parse(Some("sub")),
            Ok(AccountSelection::Sub)
        );
        assert_eq!(
            AccountSelection::parse(Some("all")),
            Ok(AccountSelection::All)
        );
        for text in ["", "main", "Admin", "sub ", "self"] {
            assert!(
                matches!(AccountSelection::parse(Some(text)), Err(Error::InvalidParameter(m)) if m.contains("admin, sub, all")),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_main_account_reads_itself_its_sub_accounts_or_both() {
        let view = AccountView {
            project: project("acme"),
            account_type: AccountType::Main,
        };
        let subs = projects(&["acme-dev", "acme-test"]);
        assert_eq!(
            view.scope(AccountSelection::Own, &subs),
            projects(&["acme"])
        );
        assert_eq!(
            view.scope(AccountSelection::Main, &subs),
            projects(&["acme"])
        );
        assert_eq!(view.scope(AccountSelection::Sub, &subs), subs);
        assert_eq!(
            view.scope(AccountSelection::All, &subs),
            projects(&["acme", "acme-dev", "acme-test"])
        );
        assert_eq!(
            view.scope(AccountSelection::Sub, &[]),
            Vec::<ProjectId>::new()
        );
        let repeated = projects(&["acme-dev", "acme", "acme-dev", "acme-test"]);
        assert_eq!(
            view.scope(AccountSelection::All, &repeated),
            projects(&["acme", "acme-dev", "acme-test"])
        );
        assert_eq!(view.scope(AccountSelection::Sub, &repeated), subs);
    }

    #[test]
    fn a_sub_account_reads_only_itself_never_its_main_account() {
        let view = AccountView {
            project: project("acme-dev"),
            account_type: AccountType::Sub,
        };
        let own = projects(&["acme-dev"]);
        for selection in [
            AccountSelection::Own,
            AccountSelection::Sub,
            AccountSelection::All,
        ] {
            assert_eq!(view.scope(selection, &[]), own, "{selection:?}");
        }
        assert!(view.scope(AccountSelection::Main, &[]).is_empty());
    }

    #[test]
    fn rows_are_labelled_from_the_named_projects_side() {
        let main = AccountView {
            project: project("acme"),
            account_type: AccountType::Main,
        };
        assert!(main.is_self(&project("acme")));
        assert_eq!(main.account_type_of(&project("acme")), AccountType::Main);
        assert!(!main.is_self(&project("acme-dev")));
        assert_eq!(main.account_type_of(&project("acme-dev")), AccountType::Sub);
        let sub = AccountView {
            project: project("acme-dev"),
            account_type: AccountType::Sub,
        };
        assert!(sub.is_self(&project("acme-dev")));
        assert_eq!(sub.account_type_of(&project("acme-dev")), AccountType::Sub);
        assert_eq!(AccountType::Main.label(), "admin");
        assert_eq!(AccountType::Sub.label(), "sub");
    }

    #[test]
    fn the_relation_answers_both_ways() {
        let relation = SubAccounts::new(vec![(
            project("acme"),
            projects(&["acme-dev", "acme-test"]),
        )])
        .unwrap();
        assert_eq!(
            relation.main_account(&project("acme-dev")),
            Some(&project("acme"))
        );
        assert_eq!(relation.main_account(&project("acme")), None);
        assert_eq!(
            relation.sub_accounts(&project("acme")),
            projects(&["acme-dev", "acme-test"])
        );
        assert!(relation.sub_accounts(&project("acme-dev")).is_empty());
        assert!(relation.sub_accounts(&project("other")).is_empty());
    }

    #[test]
    fn a_relation_of_more_than_one_level_or_two_mains_is_refused() {
        let refused =
            |families: Vec<(ProjectId, Vec<ProjectId>)>, says: &str| match SubAccounts::new(
                families,
            ) {
                Err(Error::InvalidParameter(message)) => {
                    assert!(message.contains(says), "{message}");
                }
                other => panic!("accepted: {other:?}"),
            };
        refused(
            vec![(project("a"), projects(&["a"]))],
            "a cannot be its own sub-account",
        );
        refused(
            vec![
                (project("a"), projects(&["b"])),
                (project("b"), projects(&["c"])),
            ],
            "b is a main account",
        );
        refused(
            vec![
                (project("a"), projects(&["c"])),
                (project("b"), projects(&["c"])),
            ],
            "c is a sub-account of both a and b",
        );
        refused(
            vec![
                (project("a"), projects(&["b"])),
                (project("a"), projects(&["c"])),
            ],
            "main account a is listed twice",
        );
        refused(
            vec![(project("a"), projects(&["b", "c", "b"]))],
            "b is listed twice among the sub-accounts of a",
        );
    }
}
