//! Access policy (product §4): who may sign up, log in, accept invites and create orgs.
//! Deny lists are checked first; domains match case-insensitively, subdomains included.

use crate::domain::Email;
use crate::env::Source;

/// Why the policy refused; the message tells the person what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRefusal {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    allowed_domains: Vec<String>,
    allowed_owner_emails: Vec<String>,
    blocked_emails: Vec<String>,
    blocked_domains: Vec<String>,
}

fn list(src: &dyn Source, name: &str) -> Vec<String> {
    src.get(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().trim_start_matches('@').to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn domain_matches(domain: &str, rule: &str) -> bool {
    domain == rule || domain.strip_suffix(rule).is_some_and(|head| head.ends_with('.'))
}

impl AccessPolicy {
    pub fn from_source(src: &dyn Source) -> Self {
        Self {
            allowed_domains: list(src, "AGNUS_ACCESS_ALLOWED_DOMAINS"),
            allowed_owner_emails: list(src, "AGNUS_ACCESS_ALLOWED_OWNER_EMAILS"),
            blocked_emails: list(src, "AGNUS_ACCESS_BLOCKED_EMAILS"),
            blocked_domains: list(src, "AGNUS_ACCESS_BLOCKED_DOMAINS"),
        }
    }

    /// May this email hold an account here at all (sign up, log in, accept an invite)?
    pub fn check_account(&self, email: &Email) -> Result<(), PolicyRefusal> {
        let domain = email.domain();
        if self.blocked_emails.iter().any(|b| b == email.as_str())
            || self.blocked_domains.iter().any(|b| domain_matches(domain, b))
        {
            return Err(PolicyRefusal {
                code: "access_blocked",
                message: "this email address is not allowed to use this service; contact your administrator".into(),
            });
        }
        if !self.allowed_domains.is_empty() && !self.allowed_domains.iter().any(|a| domain_matches(domain, a)) {
            return Err(PolicyRefusal {
                code: "domain_not_allowed",
                message: format!(
                    "only email addresses from these domains may use this service: {}; use an address from one of them",
                    self.allowed_domains.join(", ")
                ),
            });
        }
        Ok(())
    }

    /// May this email create an organization? (System admins bypass this check.)
    pub fn check_org_creation(&self, email: &Email) -> Result<(), PolicyRefusal> {
        self.check_account(email)?;
        if !self.allowed_owner_emails.is_empty() && !self.allowed_owner_emails.iter().any(|a| a == email.as_str()) {
            return Err(PolicyRefusal {
                code: "org_creation_not_allowed",
                message: "creating organizations is restricted on this deployment; ask an organization admin for an invitation".into(),
            });
        }
        Ok(())
    }

    /// Does the deployment restrict who may join by address (either allow list set)?
    pub fn has_allow_lists(&self) -> bool {
        !self.allowed_domains.is_empty() || !self.allowed_owner_emails.is_empty()
    }

    /// [`Self::check_org_creation`] for an existing account: when an allow list is set, an
    /// address counts only once its owner verified it (anyone can type an allowed address).
    pub fn check_org_creation_verified(&self, email: &Email, verified: bool) -> Result<(), PolicyRefusal> {
        self.check_org_creation(email)?;
        if self.has_allow_lists() && !verified {
            return Err(PolicyRefusal {
                code: "email_not_verified",
                message: "verify your email address first (use the link we sent you, or ask for a new one with POST /api/auth/resend-verification)".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn policy(pairs: &[(&str, &str)]) -> AccessPolicy {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        AccessPolicy::from_source(&m)
    }
    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn empty_policy_allows_everyone() {
        let p = policy(&[]);
        assert!(p.check_account(&email("a@x.io")).is_ok());
        assert!(p.check_org_creation(&email("a@x.io")).is_ok());
    }

    #[test]
    fn allowed_domains_include_subdomains_case_insensitively() {
        let p = policy(&[("AGNUS_ACCESS_ALLOWED_DOMAINS", " Example.com , @corp.io")]);
        assert!(p.check_account(&email("a@example.com")).is_ok());
        assert!(p.check_account(&email("a@eu.EXAMPLE.com")).is_ok());
        assert!(p.check_account(&email("a@corp.io")).is_ok());
        assert_eq!(
            p.check_account(&email("a@badexample.com")).unwrap_err().code,
            "domain_not_allowed"
        );
        assert!(p.check_account(&email("a@example.com.evil.io")).is_err());
    }

    #[test]
    fn blocked_lists_win_over_allowed() {
        let p = policy(&[
            ("AGNUS_ACCESS_ALLOWED_DOMAINS", "example.com"),
            ("AGNUS_ACCESS_BLOCKED_DOMAINS", "contractors.example.com"),
            ("AGNUS_ACCESS_BLOCKED_EMAILS", "Mallory@Example.com"),
            ("AGNUS_ACCESS_ALLOWED_OWNER_EMAILS", "mallory@example.com"),
        ]);
        assert_eq!(
            p.check_account(&email("mallory@example.com")).unwrap_err().code,
            "access_blocked"
        );
        assert_eq!(
            p.check_org_creation(&email("mallory@example.com")).unwrap_err().code,
            "access_blocked"
        );
        assert_eq!(
            p.check_account(&email("x@a.contractors.example.com")).unwrap_err().code,
            "access_blocked"
        );
        assert!(p.check_account(&email("x@example.com")).is_ok());
    }

    #[test]
    fn allow_lists_count_an_address_only_once_verified() {
        let open = policy(&[]);
        assert!(open.check_org_creation_verified(&email("a@x.io"), false).is_ok());
        for p in [
            policy(&[("AGNUS_ACCESS_ALLOWED_DOMAINS", "example.com")]),
            policy(&[("AGNUS_ACCESS_ALLOWED_OWNER_EMAILS", "a@example.com")]),
        ] {
            assert_eq!(
                p.check_org_creation_verified(&email("a@example.com"), false)
                    .unwrap_err()
                    .code,
                "email_not_verified"
            );
            assert!(p.check_org_creation_verified(&email("a@example.com"), true).is_ok());
        }
        let blocked = policy(&[("AGNUS_ACCESS_BLOCKED_EMAILS", "a@x.io")]);
        assert_eq!(
            blocked
                .check_org_creation_verified(&email("a@x.io"), true)
                .unwrap_err()
                .code,
            "access_blocked"
        );
    }

    #[test]
    fn owner_list_restricts_org_creation_only() {
        let p = policy(&[("AGNUS_ACCESS_ALLOWED_OWNER_EMAILS", "boss@example.com")]);
        assert!(p.check_org_creation(&email("BOSS@example.com")).is_ok());
        let refusal = p.check_org_creation(&email("dev@example.com")).unwrap_err();
        assert_eq!(refusal.code, "org_creation_not_allowed");
        assert!(refusal.message.contains("invitation"));
        assert!(p.check_account(&email("dev@example.com")).is_ok());
    }
}
