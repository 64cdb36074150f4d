"""Sets up a fresh accountd for scripts/hostile-input and prints shell assignments of a token per
API: MGMT_TOKEN (Management API), ME_TOKEN (My Account API) and LOGTO_TOKEN (opaque, resource-less)."""
import base64
import hashlib
import http.cookiejar
import json
import re
import sys
import urllib.parse
import urllib.request

BASE, OUT = sys.argv[1], sys.argv[2]
CALLBACK = "http://localhost:3000/callback"
EMAIL, PASSWORD = "ada@example.com", "correct horse battery"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
ME_SCOPES = ["read:me:factors", "read:me:authentication_methods", "create:me:authentication_methods",
             "update:me:authentication_methods", "delete:me:authentication_methods", "read:me:profile",
             "update:me:profile", "create:me:connected_accounts", "read:me:connected_accounts",
             "delete:me:connected_accounts"]
LOGTO_SCOPES = "openid offline_access profile email phone address custom_data identities urn:logto:scope:sessions"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))


def call(method, path, body=None, token=None, form=False):
    data = None
    headers = {}
    if body is not None:
        data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
        headers["content-type"] = "application/x-www-form-urlencoded" if form else "application/json"
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(path if path.startswith("http") else BASE + path, data, headers, method=method)
    try:
        res = opener.open(req)
    except urllib.error.HTTPError as e:
        res = e
    text = res.read().decode()
    return res.status, res.headers, (json.loads(text) if text.startswith(("{", "[")) else text)


out = open(OUT).read()
cid = re.search(r"client_id:\s+(\S+)", out).group(1)
secret = re.search(r"client_secret:\s+(\S+)", out).group(1)
_, _, t = call("POST", "/oauth/token", {"grant_type": "client_credentials", "client_id": cid,
                                        "client_secret": secret, "audience": f"{BASE}/api/v2/"})
mgmt = t["access_token"]
call("PATCH", "/api/v2/tenants/settings", {"account_policy": {"rate_limits": {
    "user_reads_per_minute": 1000000, "user_writes_per_minute": 1000000, "tenant_reads_per_second": 1000000,
    "tenant_writes_per_second": 1000000, "anonymous_ip_burst": 1000000, "anonymous_ip_per_second": 1000000}}}, mgmt)
fields = {f: "Edit" for f in ["name", "avatar", "profile", "email", "phone", "password", "username", "social",
                              "customData", "mfa", "passkey", "session"]}
call("PATCH", "/api/account-center", {"enabled": True, "fields": fields}, mgmt)
_, _, spa = call("POST", "/api/v2/clients", {"name": "SPA", "app_type": "spa", "callbacks": [CALLBACK],
                                              "grant_types": ["authorization_code", "refresh_token"]}, mgmt)
spa_id = spa["client_id"]
call("POST", "/api/v2/client-grants", {"client_id": spa_id, "audience": f"{BASE}/me/", "subject_type": "user",
                                       "scope": ME_SCOPES}, mgmt)
call("POST", "/api/v2/users", {"email": EMAIL, "password": PASSWORD, "name": "Ada"}, mgmt)


def sign_in(scope, audience=None):
    jar.clear()  # no single sign-on: each token comes from its own sign-in
    params = {"response_type": "code", "client_id": spa_id, "redirect_uri": CALLBACK, "scope": scope,
              "code_challenge": CHALLENGE, "code_challenge_method": "S256"}
    if audience:
        params["audience"] = audience
    _, _, page = call("GET", "/authorize?" + urllib.parse.urlencode(params))
    flow = re.search(r'name="flow" value="([^"]+)"', page).group(1).replace("&amp;", "&")
    _, headers, _ = call("POST", "/u/login", {"flow": flow, "identifier": EMAIL, "password": PASSWORD}, form=True)
    code = urllib.parse.parse_qs(urllib.parse.urlparse(headers["location"]).query)["code"][0]
    _, _, tokens = call("POST", "/oauth/token", {"grant_type": "authorization_code", "client_id": spa_id,
                                                 "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER})
    return tokens["access_token"]


print(f"MGMT_TOKEN={mgmt}")
print(f"ME_TOKEN={sign_in('openid ' + ' '.join(ME_SCOPES), BASE + '/me/')}")
print(f"LOGTO_TOKEN={sign_in(LOGTO_SCOPES)}")
