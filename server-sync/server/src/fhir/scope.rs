//! What an API client may read, as data: its scopes (SMART on FHIR v1
//! back-end style, `system/<Resource>.read`), how much of a person's
//! identity it may see, and the addresses it may call from (S4). Pure.

use std::net::IpAddr;

/// The resources served (read only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    Patient,
    Appointment,
    ServiceRequest,
    Observation,
    DiagnosticReport,
}

impl ResourceType {
    pub const ALL: [ResourceType; 5] = [
        ResourceType::Patient,
        ResourceType::Appointment,
        ResourceType::ServiceRequest,
        ResourceType::Observation,
        ResourceType::DiagnosticReport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Patient => "Patient",
            ResourceType::Appointment => "Appointment",
            ResourceType::ServiceRequest => "ServiceRequest",
            ResourceType::Observation => "Observation",
            ResourceType::DiagnosticReport => "DiagnosticReport",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The resource type a `/fhir/...` path reads: a report's PDF
    /// (`Binary`) is part of the report, so it needs the report's scope.
    pub fn of_path(path: &str) -> Option<Self> {
        let first = path.strip_prefix("/fhir/")?.split('/').next()?;
        match first {
            "Binary" => Some(ResourceType::DiagnosticReport),
            other => Self::parse(other),
        }
    }
}

/// One granted scope: read one resource type, or (`*`) all of them.
///
/// Only `system/` scopes: SMART's `patient/` and `user/` scopes mean "in
/// the context of a signed-in patient or user", and a back-end client
/// (the mini-program's server, the hospital platform) has no such context;
/// it reads on its own authority, which is what `system/` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope(pub Option<ResourceType>);

impl Scope {
    pub fn parse(s: &str) -> Result<Self, String> {
        let rest = s.strip_prefix("system/").ok_or_else(|| {
            format!("scope {s:?}: only system/<Resource>.read scopes are granted")
        })?;
        let res = rest
            .strip_suffix(".read")
            .ok_or_else(|| format!("scope {s:?}: only read access (.read) is served"))?;
        if res == "*" {
            return Ok(Scope(None));
        }
        ResourceType::parse(res)
            .map(|r| Scope(Some(r)))
            .ok_or_else(|| format!("scope {s:?}: no such resource type here"))
    }

    pub fn covers(self, r: ResourceType) -> bool {
        self.0.is_none_or(|x| x == r)
    }

    /// Whether every read this scope allows, `granted` allows.
    pub fn within(self, granted: &[Scope]) -> bool {
        granted.iter().any(|g| match self.0 {
            None => g.0.is_none(),
            Some(r) => g.covers(r),
        })
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => write!(f, "system/*.read"),
            Some(r) => write!(f, "system/{}.read", r.as_str()),
        }
    }
}

/// Parses a space-separated scope list (RFC 6749 §3.3), duplicates dropped.
pub fn parse_scopes(s: &str) -> Result<Vec<Scope>, String> {
    let mut out: Vec<Scope> = Vec::new();
    for part in s.split_whitespace() {
        let sc = Scope::parse(part)?;
        if !out.contains(&sc) {
            out.push(sc);
        }
    }
    Ok(out)
}

pub fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// How much of a person's identity a client sees (PIPL: the minimum its
/// purpose needs, decided by the administrator per client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityLevel {
    /// ID number and mobile masked, the name masked, the birth year only.
    /// The client can still find a person whose ID number it already
    /// knows (`identifier=` search), but learns no number it did not know.
    Masked,
    /// Everything held: for the hospital's own platform (HIS master index).
    Full,
}

impl IdentityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityLevel::Masked => "masked",
            IdentityLevel::Full => "full",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "masked" => Some(IdentityLevel::Masked),
            "full" => Some(IdentityLevel::Full),
            _ => None,
        }
    }
}

/// The addresses a client may call from (S4: allow-listed sources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList(Vec<Net>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    Any,
    Prefix(IpAddr, u8),
}

impl AllowList {
    /// Comma- or space-separated addresses and CIDR prefixes; `*` is any
    /// address and must be said explicitly (an empty list is refused).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for part in s.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
            if part == "*" {
                nets.push(Net::Any);
                continue;
            }
            let (addr, len) = match part.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (part, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{part:?} is not an address or CIDR prefix"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = match len {
                None => max,
                Some(l) => l
                    .parse::<u8>()
                    .ok()
                    .filter(|&l| l <= max)
                    .ok_or_else(|| format!("{part:?}: bad prefix length"))?,
            };
            nets.push(Net::Prefix(ip, len));
        }
        if nets.is_empty() {
            return Err("no allowed source addresses (use * for any)".into());
        }
        Ok(Self(nets))
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        // An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|n| match *n {
            Net::Any => true,
            Net::Prefix(net, len) => in_prefix(ip, net, len),
        })
    }
}

impl std::fmt::Display for AllowList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|n| match n {
                Net::Any => "*".into(),
                Net::Prefix(ip, len) if (ip.is_ipv4() && *len == 32) || *len == 128 => {
                    ip.to_string()
                }
                Net::Prefix(ip, len) => format!("{ip}/{len}"),
            })
            .collect();
        write!(f, "{}", parts.join(","))
    }
}

fn in_prefix(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_cover() {
        let s = parse_scopes("system/Patient.read  system/*.read system/Patient.read").unwrap();
        assert_eq!(s, vec![Scope(Some(ResourceType::Patient)), Scope(None)]);
        assert_eq!(scopes_text(&s), "system/Patient.read system/*.read");
        assert!(Scope(None).covers(ResourceType::Observation));
        assert!(!Scope(Some(ResourceType::Patient)).covers(ResourceType::Appointment));
        for bad in [
            "patient/*.read",
            "user/Patient.read",
            "system/Patient.write",
            "system/Encounter.read",
            "system/*.*",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_requested_scope_must_lie_within_the_grant() {
        let granted = [Scope(Some(ResourceType::Patient))];
        assert!(Scope(Some(ResourceType::Patient)).within(&granted));
        assert!(!Scope(None).within(&granted));
        assert!(!Scope(Some(ResourceType::Appointment)).within(&granted));
        assert!(Scope(Some(ResourceType::Appointment)).within(&[Scope(None)]));
    }

    #[test]
    fn a_path_names_its_resource() {
        use ResourceType::*;
        assert_eq!(ResourceType::of_path("/fhir/Patient/abc"), Some(Patient));
        assert_eq!(
            ResourceType::of_path("/fhir/Appointment"),
            Some(Appointment)
        );
        assert_eq!(
            ResourceType::of_path("/fhir/Binary/7"),
            Some(DiagnosticReport)
        );
        assert_eq!(ResourceType::of_path("/fhir/metadata"), None);
        assert_eq!(ResourceType::of_path("/api/x"), None);
    }

    #[test]
    fn allow_lists_match_addresses_and_prefixes() {
        let a = AllowList::parse("127.0.0.1, 10.20.0.0/16 fd00::/8").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(a.allows(ip("127.0.0.1")));
        assert!(a.allows(ip("::ffff:127.0.0.1")));
        assert!(!a.allows(ip("127.0.0.2")));
        assert!(a.allows(ip("10.20.255.1")));
        assert!(!a.allows(ip("10.21.0.1")));
        assert!(a.allows(ip("fd12::1")));
        assert!(!a.allows(ip("fe80::1")));
        assert_eq!(a.to_string(), "127.0.0.1,10.20.0.0/16,fd00::/8");
        assert!(AllowList::parse("*").unwrap().allows(ip("8.8.8.8")));
        assert!(AllowList::parse("").is_err());
        assert!(AllowList::parse("10.0.0.0/33").is_err());
        assert!(AllowList::parse("example.org").is_err());
        assert!(AllowList::parse("0.0.0.0/0").unwrap().allows(ip("1.2.3.4")));
    }
}
