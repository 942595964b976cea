//! Parsed domain values. Every constructor validates, so a value of these types is
//! known-good wherever it travels ("parse, don't validate").

use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why an input was refused; rendered as a 400 with the field's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| ValidationError::new("invalid_id", concat!("not a valid ", stringify!($name))))
            }
        }
    };
}

uuid_id!(
    /// A user's id.
    UserId
);
uuid_id!(
    /// An organization's id; the tenant boundary of every org-owned item.
    OrgId
);
uuid_id!(
    /// A login session's id (the `sid` claim); its record is checked on every request.
    SessionId
);

/// A normalized email address: trimmed, lower-cased, structurally valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let normalized = raw.trim().to_lowercase();
        let invalid = || ValidationError::new("invalid_email", "email must be a valid address like name@example.com");
        if normalized.is_empty() || normalized.len() > Self::MAX_LEN {
            return Err(invalid());
        }
        let (local, domain) = normalized.rsplit_once('@').ok_or_else(invalid)?;
        // Plain addresses only: no quoted local parts, IP-literal domains or dotless hosts.
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('"')
            && local.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if !domain_ok || !local_ok || !email_address::EmailAddress::is_valid(&normalized) {
            return Err(invalid());
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An organization slug: immutable, URL-safe, 3–40 chars of `a-z0-9-`, no leading,
/// trailing or doubled hyphen, not a reserved word (reserved words collide with routes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 40;
    /// Words that are routes or that the system reserves (`default` is the migrated org).
    pub const RESERVED: &'static [&'static str] = &[
        "admin", "api", "app", "auth", "default", "help", "invites", "login", "logout", "me", "new", "orgs", "repos",
        "settings", "signup", "support", "system", "webhooks", "www",
    ];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let shape = || {
            ValidationError::new(
                "invalid_slug",
                "slug must be 3-40 characters of lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
            )
        };
        if s.len() < Self::MIN_LEN || s.len() > Self::MAX_LEN {
            return Err(shape());
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || s.starts_with('-')
            || s.ends_with('-')
            || s.contains("--")
        {
            return Err(shape());
        }
        if Self::RESERVED.contains(&s) {
            return Err(ValidationError::new(
                "reserved_slug",
                format!("the slug '{s}' is reserved; choose another"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Reserved words are allowed only for system-created orgs (the migration's `default`).
    pub fn system(raw: &str) -> Result<Self, ValidationError> {
        match Self::parse(raw) {
            Err(e) if e.code == "reserved_slug" => Ok(Self(raw.to_owned())),
            other => other,
        }
    }

    /// Suggests a slug from an org name ("Acme Corp!" → "acme-corp"); pads short results.
    pub fn suggest(name: &str) -> Self {
        let mut out = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        out.truncate(Self::MAX_LEN - 5);
        let mut out = out.trim_matches('-').to_owned();
        if out.len() < Self::MIN_LEN || Self::RESERVED.contains(&out.as_str()) {
            if !out.is_empty() {
                out.push('-');
            }
            out.push_str("org");
            out.push('-');
            out.push_str(&Uuid::new_v4().simple().to_string()[..4]);
        }
        Self(out)
    }

    /// The same slug with a random 4-char suffix, for retrying a taken suggestion.
    pub fn with_random_suffix(&self) -> Self {
        let mut base = self.0.clone();
        base.truncate(Self::MAX_LEN - 5);
        let base = base.trim_end_matches('-');
        Self(format!("{base}-{}", &Uuid::new_v4().simple().to_string()[..4]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An organization's display name: 1–100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OrgName(String);

impl OrgName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        display_name(raw, Self::MAX_LEN).map(Self).map_err(|_| {
            ValidationError::new(
                "invalid_org_name",
                "organization name must be 1-100 characters without control or invisible formatting characters",
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A candidate password: 12–256 characters. Kept secret; `Debug` never prints it.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(raw: SecretString) -> Result<Self, ValidationError> {
        let n = raw.expose_secret().chars().count();
        if n < Self::MIN_CHARS {
            return Err(ValidationError::new(
                "password_too_short",
                format!("password must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "password_too_long",
                format!("password must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A member's role in one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Owners and admins administer an org; members only use it.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl FromStr for Role {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            _ => Err(ValidationError::new(
                "invalid_role",
                "role must be one of owner, admin, member",
            )),
        }
    }
}

/// An organization's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Team,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Team => "team",
            Plan::Enterprise => "enterprise",
        }
    }
}

impl FromStr for Plan {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Plan::Free),
            "team" => Ok(Plan::Team),
            "enterprise" => Ok(Plan::Enterprise),
            _ => Err(ValidationError::new(
                "invalid_plan",
                "plan must be one of free, team, enterprise",
            )),
        }
    }
}

/// A VCS provider that sends webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Github,
    Gitlab,
    Azure,
    Bitbucket,
}

impl Provider {
    pub const ALL: [Provider; 4] = [Provider::Github, Provider::Gitlab, Provider::Azure, Provider::Bitbucket];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Azure => "azure",
            Provider::Bitbucket => "bitbucket",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "github" => Ok(Provider::Github),
            "gitlab" => Ok(Provider::Gitlab),
            "azure" | "azure-devops" => Ok(Provider::Azure),
            "bitbucket" => Ok(Provider::Bitbucket),
            _ => Err(ValidationError::new(
                "invalid_provider",
                "provider must be one of github, gitlab, azure, bitbucket",
            )),
        }
    }
}

/// A repository's identity at its provider: the provider and its full name, lower-cased
/// (`owner/name`; GitLab `group/sub/name`; Azure DevOps `org/project/repo`). Parsed from
/// a full name or a clone/web URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RepoRef {
    pub provider: Provider,
    pub full_name: String,
}

/// `%XX` escapes of a URL path decoded (`None`: a broken escape or not UTF-8).
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = path.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl RepoRef {
    pub fn parse(provider: Provider, raw: &str) -> Result<Self, ValidationError> {
        let invalid = || {
            ValidationError::new(
                "invalid_repo",
                match provider {
                    Provider::Github => "repository must be owner/name or a github.com URL",
                    Provider::Gitlab => "repository must be group/name (subgroups allowed) or a GitLab URL",
                    Provider::Azure => "repository must be org/project/repo or a dev.azure.com URL",
                    Provider::Bitbucket => "repository must be workspace/repo or a bitbucket.org URL",
                },
            )
        };
        let raw = raw.trim();
        let path = if let Some(rest) = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://")) {
            // Drop credentials (`user@host`), the host, and the `.git` suffix.
            let (host, path) = rest.split_once('/').ok_or_else(invalid)?;
            let host = host.rsplit('@').next().unwrap_or(host).to_ascii_lowercase();
            let path = path.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
            let path = path.strip_suffix(".git").unwrap_or(path);
            // Azure DevOps project names may hold spaces: `remoteUrl` percent-encodes them.
            let decoded = percent_decode(path).ok_or_else(invalid)?;
            let path = decoded.as_str();
            match provider {
                Provider::Azure if host == "dev.azure.com" || host == "ssh.dev.azure.com" => {
                    path.replace("/_git/", "/")
                }
                Provider::Azure if host.ends_with(".visualstudio.com") => {
                    let org = host.trim_end_matches(".visualstudio.com");
                    format!("{org}/{}", path.replace("/_git/", "/"))
                }
                Provider::Azure => return Err(invalid()),
                Provider::Github if host != "github.com" => return Err(invalid()),
                Provider::Bitbucket if host != "bitbucket.org" => return Err(invalid()),
                _ => path.to_owned(),
            }
        } else {
            raw.to_owned()
        };
        let full_name = path.to_lowercase();
        let segments: Vec<&str> = full_name.split('/').collect();
        let count_ok = match provider {
            Provider::Github | Provider::Bitbucket => segments.len() == 2,
            Provider::Gitlab => (2..=20).contains(&segments.len()),
            Provider::Azure => segments.len() == 3,
        };
        let chars_ok = segments.iter().all(|s| {
            !s.is_empty()
                && s.len() <= 100
                && *s != "."
                && *s != ".."
                && s.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
        });
        if !count_ok || !chars_ok || full_name.len() > 300 {
            return Err(invalid());
        }
        Ok(Self { provider, full_name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_refs_from_names_and_urls() {
        let p = |prov, s: &str| RepoRef::parse(prov, s).map(|r| r.full_name);
        assert_eq!(p(Provider::Github, "Octo/Hello-World").unwrap(), "octo/hello-world");
        assert_eq!(
            p(Provider::Github, "https://github.com/Octo/Hello-World.git").unwrap(),
            "octo/hello-world"
        );
        assert!(p(Provider::Github, "https://evil.com/octo/x").is_err());
        assert!(p(Provider::Github, "octo").is_err());
        assert!(p(Provider::Github, "octo/../x").is_err());
        assert_eq!(
            p(Provider::Gitlab, "https://gitlab.com/group/sub/proj").unwrap(),
            "group/sub/proj"
        );
        assert_eq!(
            p(
                Provider::Azure,
                "https://fabrikam@dev.azure.com/fabrikam/Fabrikam/_git/Fabrikam"
            )
            .unwrap(),
            "fabrikam/fabrikam/fabrikam"
        );
        assert_eq!(
            p(Provider::Azure, "https://fabrikam.visualstudio.com/Proj/_git/Repo").unwrap(),
            "fabrikam/proj/repo"
        );
        assert_eq!(
            p(Provider::Azure, "https://dev.azure.com/fabrikam/My%20Project/_git/Repo").unwrap(),
            "fabrikam/my project/repo"
        );
        assert!(p(Provider::Azure, "https://dev.azure.com/fabrikam/x%2/_git/Repo").is_err());
        assert!(
            p(Provider::Github, "https://github.com/o/a%2Fb").is_err(),
            "an encoded slash is no path"
        );
        assert_eq!(
            p(Provider::Bitbucket, "https://bitbucket.org/ws/repo").unwrap(),
            "ws/repo"
        );
    }

    #[test]
    fn providers_round_trip() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), p);
        }
        assert_eq!("azure-devops".parse::<Provider>().unwrap(), Provider::Azure);
        assert!("svn".parse::<Provider>().is_err());
    }

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let e = Email::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "alice@example.com");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "a b@example.com",
            "\"a\"@example.com",
            "alice@[127.0.0.1]",
            "alice@-x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn slug_rules() {
        assert!(Slug::parse("acme").is_ok());
        assert!(Slug::parse("acme-corp-2").is_ok());
        for bad in [
            "ab",
            "Acme",
            "-acme",
            "acme-",
            "ac--me",
            "ac_me",
            "ac me",
            &"a".repeat(41),
        ] {
            assert_eq!(Slug::parse(bad).unwrap_err().code, "invalid_slug", "{bad:?}");
        }
        assert_eq!(Slug::parse("me").unwrap_err().code, "invalid_slug");
        assert_eq!(Slug::parse("admin").unwrap_err().code, "reserved_slug");
        assert_eq!(Slug::system("default").unwrap().as_str(), "default");
    }

    #[test]
    fn suggested_slugs_are_valid() {
        assert_eq!(Slug::suggest("Acme Corp!").as_str(), "acme-corp");
        for name in [
            "A",
            "!!!",
            "Über Straße GmbH",
            "admin",
            &"x".repeat(300),
            "  --hello--  ",
        ] {
            let s = Slug::suggest(name);
            assert!(Slug::parse(s.as_str()).is_ok(), "{name:?} -> {s}");
            assert!(Slug::parse(s.with_random_suffix().as_str()).is_ok(), "{name:?} suffix");
        }
    }

    #[test]
    fn password_length_counts_characters() {
        let p = |s: &str| Password::parse(SecretString::from(s.to_owned()));
        assert_eq!(p("short").unwrap_err().code, "password_too_short");
        assert!(p("ééééééééééé").is_err(), "11 chars even if 22 bytes");
        assert!(p("twelve chars").is_ok());
        assert_eq!(p(&"x".repeat(257)).unwrap_err().code, "password_too_long");
        assert!(
            format!("{:?}", p("supersecretpassword").unwrap())
                .find("supersecret")
                .is_none()
        );
    }

    #[test]
    fn org_name_rules() {
        assert_eq!(OrgName::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert!(OrgName::parse("   ").is_err());
        assert!(OrgName::parse("a\u{0}b").is_err());
        assert!(OrgName::parse(&"n".repeat(101)).is_err());
    }

    #[test]
    fn ids_round_trip() {
        let id = OrgId::new();
        assert_eq!(id.to_string().parse::<OrgId>().unwrap(), id);
        assert!("nope".parse::<UserId>().is_err());
    }
}

/// A name people see (org names, key names, rule names): NFC-normalized, trimmed, 1 to
/// `max` characters, and free of control characters and Unicode format characters
/// (category Cf: bidi overrides such as U+202E, zero-width spaces, …), which can make a
/// name read differently from what it is (`"evil\u{202e}gnp.exe"`) or look empty.
pub fn display_name(raw: &str, max: usize) -> Result<String, ValidationError> {
    use unicode_normalization::UnicodeNormalization;
    let normalized: String = raw.trim().nfc().collect();
    let bad = |c: char| c.is_control() || crate::text::is_invisible(c);
    if normalized.is_empty() || normalized.chars().count() > max || normalized.chars().any(bad) {
        return Err(ValidationError::new(
            "invalid_name",
            format!("a name must be 1-{max} characters without control or invisible formatting characters"),
        ));
    }
    Ok(normalized)
}

#[cfg(test)]
mod display_name_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_bidi_overrides_and_invisible_characters() {
        for bad in [
            "evil\u{202e}gnp.exe",
            "\u{200b}\u{200b}",
            "a\u{2066}b",
            "x\u{feff}",
            "  ",
            "a\u{7}b",
        ] {
            assert!(display_name(bad, 100).is_err(), "{bad:?} accepted");
        }
        assert!(OrgName::parse("evil\u{202e}gnp.exe").is_err());
    }

    #[test]
    fn normalizes_to_nfc() {
        // "é" as e + combining acute becomes the one precomposed character.
        assert_eq!(display_name("Cafe\u{301}", 100).unwrap(), "Caf\u{e9}");
        assert_eq!(OrgName::parse("  Caf\u{e9} ").unwrap().as_str(), "Caf\u{e9}");
    }

    proptest! {
        #[test]
        fn accepted_names_are_nfc_bounded_and_visible(raw in any::<String>()) {
            if let Ok(name) = display_name(&raw, 100) {
                use unicode_normalization::UnicodeNormalization;
                prop_assert_eq!(name.nfc().collect::<String>(), name.clone());
                prop_assert!(name.chars().count() <= 100 && !name.is_empty());
                prop_assert!(!name.chars().any(char::is_control));
            }
        }
    }
}
