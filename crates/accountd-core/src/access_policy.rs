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
