//! Which scopes of an API a client obtains: requested ∩ what the API's access policy and the
//! client grant allow (spec auth0 §4.3). User flows add RBAC and consent on top (built with the
//! authorization server).

use crate::api_resource::{ApiResource, PolicyMode};
use crate::client_grant::ClientGrant;

/// Why no token may be issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The API's policy for this flow is `deny_all`.
    PolicyDenies,
    /// The policy needs a client grant and there is none.
    NoClientGrant,
    /// Scopes were requested and none of them is allowed.
    NoScopeAllowed,
}

/// Scopes a client may obtain for itself (client credentials): the client-flow policy decides;
/// `allow_all` is not a client-flow policy, so it is treated like `require_client_grant`.
/// With no scope requested the client gets everything its grant allows, as Auth0 does.
pub fn client_credentials_scopes(
    api: &ApiResource,
    grant: Option<&ClientGrant>,
    requested: Option<&[String]>,
) -> Result<Vec<String>, Denied> {
    if api.policy.client == PolicyMode::DenyAll {
        return Err(Denied::PolicyDenies);
    }
    let grant = grant.ok_or(Denied::NoClientGrant)?;
    let allowed = grant.scopes.iter().filter(|s| api.has_scope(s));
    let scopes: Vec<String> = match requested {
        Some(req) => allowed.filter(|s| req.contains(s)).cloned().collect(),
        None => allowed.cloned().collect(),
    };
    if requested.is_some_and(|r| !r.is_empty()) && scopes.is_empty() {
        return Err(Denied::NoScopeAllowed);
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_resource::{AccessPolicy, ApiId, ApiScope, SystemApi};
    use crate::client_grant::{ClientGrantId, SubjectType};

    fn api(client: PolicyMode) -> ApiResource {
        let mut a = ApiResource::system(SystemApi::Management, 0);
        a.system = None;
        a.scopes =
            ["a", "b", "c"].iter().map(|s| ApiScope { value: (*s).into(), description: String::new() }).collect();
        a.policy = AccessPolicy { user: PolicyMode::AllowAll, client };
        a
    }

    fn grant(scopes: &[&str]) -> ClientGrant {
        ClientGrant {
            id: ClientGrantId("cgr_1".into()),
            client_id: "c".into(),
            api_id: ApiId("x".into()),
            subject_type: SubjectType::Client,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            created_at: 0,
        }
    }

    #[test]
    fn the_policy_and_grant_bound_the_scopes() {
        let req = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let g = grant(&["a", "b", "gone"]);
        let rcg = api(PolicyMode::RequireClientGrant);
        assert_eq!(client_credentials_scopes(&rcg, Some(&g), None), Ok(req(&["a", "b"])));
        assert_eq!(client_credentials_scopes(&rcg, Some(&g), Some(&req(&["b", "c"]))), Ok(req(&["b"])));
        assert_eq!(client_credentials_scopes(&rcg, Some(&g), Some(&req(&["c"]))), Err(Denied::NoScopeAllowed));
        assert_eq!(client_credentials_scopes(&rcg, None, None), Err(Denied::NoClientGrant));
        assert_eq!(client_credentials_scopes(&api(PolicyMode::DenyAll), Some(&g), None), Err(Denied::PolicyDenies));
        // The My Account API's client policy is deny_all: never a token, whatever the grant.
        let me = ApiResource::system(SystemApi::MyAccount, 0);
        assert_eq!(client_credentials_scopes(&me, Some(&g), None), Err(Denied::PolicyDenies));
    }
}

/// Scopes a client obtains for an API on behalf of a user (spec auth0 §4.3):
/// requested ∩ user-flow policy (`allow_all` → every scope of the API; `require_client_grant` →
/// the user-subject grant's scopes; `deny_all` → nothing) ∩ the user's RBAC permissions when the
/// API enforces policies. Third-party applications never reach built-in APIs; for other APIs the
/// caller still intersects with the user's consent (the consent page).
pub fn user_scopes(
    api: &ApiResource,
    is_first_party: bool,
    grant: Option<&ClientGrant>,
    rbac_permissions: Option<&[String]>,
    requested: &[String],
) -> Result<Vec<String>, Denied> {
    if !is_first_party && api.system.is_some() {
        return Err(Denied::PolicyDenies);
    }
    let allowed: Vec<&String> = match api.policy.user {
        PolicyMode::DenyAll => return Err(Denied::PolicyDenies),
        PolicyMode::AllowAll => api.scopes.iter().map(|s| &s.value).collect(),
        PolicyMode::RequireClientGrant => {
            grant.ok_or(Denied::NoClientGrant)?.scopes.iter().filter(|s| api.has_scope(s)).collect()
        }
    };
    Ok(allowed
        .into_iter()
        .filter(|s| requested.contains(s))
        .filter(|s| !api.enforce_policies || rbac_permissions.is_some_and(|p| p.contains(s)))
        .cloned()
        .collect())
}

#[cfg(test)]
mod user_flow_tests {
    use super::*;
    use crate::api_resource::{AccessPolicy, ApiId, ApiScope, SystemApi};
    use crate::client_grant::{ClientGrantId, SubjectType};

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// Every user-flow policy × grant present/absent × RBAC on/off × role present/absent ×
    /// first/third party → exactly the expected scopes.
    #[test]
    fn effective_user_scopes_table() {
        let mut api = ApiResource::system(SystemApi::MyAccount, 0);
        api.system = None;
        api.scopes =
            ["a", "b", "c"].iter().map(|v| ApiScope { value: (*v).into(), description: String::new() }).collect();
        let grant = ClientGrant {
            id: ClientGrantId("cgr".into()),
            client_id: "c".into(),
            api_id: ApiId("x".into()),
            subject_type: SubjectType::User,
            scopes: s(&["a", "b"]),
            created_at: 0,
        };
        let requested = s(&["a", "b", "c", "unknown"]);
        let role = s(&["b", "c"]);
        use PolicyMode::*;
        #[rustfmt::skip]
        type Row = (PolicyMode, bool, bool, bool, bool, Result<&'static [&'static str], Denied>);
        let table: &[Row] = &[
            // policy, grant, rbac, role, first party → result
            (AllowAll, false, false, false, true, Ok(&["a", "b", "c"])),
            (AllowAll, true, false, false, true, Ok(&["a", "b", "c"])),
            (AllowAll, false, true, false, true, Ok(&[])),
            (AllowAll, false, true, true, true, Ok(&["b", "c"])),
            (RequireClientGrant, false, false, false, true, Err(Denied::NoClientGrant)),
            (RequireClientGrant, true, false, false, true, Ok(&["a", "b"])),
            (RequireClientGrant, true, true, false, true, Ok(&[])),
            (RequireClientGrant, true, true, true, true, Ok(&["b"])),
            (RequireClientGrant, false, true, true, true, Err(Denied::NoClientGrant)),
            (DenyAll, true, false, false, true, Err(Denied::PolicyDenies)),
            (DenyAll, true, true, true, true, Err(Denied::PolicyDenies)),
            // Third-party apps: the same policy result; consent is applied on top by the caller.
            (AllowAll, true, false, false, false, Ok(&["a", "b", "c"])),
            (RequireClientGrant, true, true, true, false, Ok(&["b"])),
            (DenyAll, true, false, false, false, Err(Denied::PolicyDenies)),
        ];
        for (policy, has_grant, rbac, has_role, first_party, expected) in table {
            api.policy = AccessPolicy { user: *policy, client: PolicyMode::DenyAll };
            api.enforce_policies = *rbac;
            let perms = if *has_role { role.clone() } else { vec![] };
            let got = user_scopes(&api, *first_party, has_grant.then_some(&grant), Some(&perms), &requested);
            let expected = expected.clone().map(s);
            assert_eq!(got, expected, "{policy:?} grant={has_grant} rbac={rbac} role={has_role} first={first_party}");
        }
        // Third-party apps never reach a built-in API, whatever the policy.
        let mut me = ApiResource::system(SystemApi::MyAccount, 0);
        me.policy = AccessPolicy { user: AllowAll, client: PolicyMode::DenyAll };
        assert_eq!(user_scopes(&me, false, Some(&grant), None, &s(&["read:me:factors"])), Err(Denied::PolicyDenies));
        // Only requested scopes come back.
        api.policy = AccessPolicy { user: AllowAll, client: PolicyMode::DenyAll };
        api.enforce_policies = false;
        assert_eq!(user_scopes(&api, true, None, None, &s(&["b"])), Ok(s(&["b"])));
    }
}
