//! A minimal browser for the hosted pages: keeps cookies, does not follow redirects, and reads
//! the sign-in form's hidden fields.

use std::collections::HashMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

/// One browser (one cookie jar).
pub struct Browser {
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

/// A page or redirect.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub html: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// A response header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of the hidden input `name`.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self.html.find(&needle)? + needle.len();
        let end = self.html[start..].find('"')? + start;
        Some(self.html[start..end].replace("&amp;", "&").replace("&quot;", "\""))
    }

    /// The value of attribute `attr` of the element with id `id`.
    pub fn attr(&self, id: &str, attr: &str) -> Option<String> {
        let start = self.html.find(&format!("id=\"{id}\""))?;
        let tag_end = self.html[start..].find('>')? + start;
        let tag = &self.html[start..tag_end];
        let needle = format!("{attr}=\"");
        let v0 = tag.find(&needle)? + needle.len();
        let v1 = tag[v0..].find('"')? + v0;
        Some(
            tag[v0..v1]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&#39;", "'")
                .replace("&amp;", "&"),
        )
    }

    /// A query (or fragment) parameter of the redirect location.
    pub fn param(&self, name: &str) -> Option<String> {
        let loc = self.location.as_ref()?;
        let query = loc.split_once(['?', '#'])?.1;
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

impl Browser {
    pub fn new(port: u16) -> Self {
        Self::with_headers(port, reqwest::header::HeaderMap::new())
    }

    /// A browser whose every request carries `headers` (say, a proxy's `X-Forwarded-Proto`).
    pub fn with_headers(port: u16, headers: reqwest::header::HeaderMap) -> Self {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .default_headers(headers)
            .resolve("tenant2.test", std::net::SocketAddr::from(([127, 0, 0, 1], port)))
            .build()
            .unwrap();
        Self { client, cookies: HashMap::new() }
    }

    pub fn cookie(&self, name: &str) -> Option<&String> {
        self.cookies.get(name)
    }

    pub fn forget(&mut self, name: &str) {
        self.cookies.remove(name);
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Page {
        for v in resp.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
        let status = resp.status().as_u16();
        let location = resp.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string());
        let headers = resp.headers().clone();
        Page { status, location, headers, html: resp.text().await.unwrap() }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let resp = self.client.get(url).header(COOKIE, self.cookie_header()).send().await.unwrap();
        self.finish(resp).await
    }

    /// Posts a form from client IP `ip` (as `X-Forwarded-For`, for a server that trusts it) with
    /// this browser's cookies, without taking the answer's: many can run at once, as in a burst.
    pub async fn post_form_from(&self, url: &str, form: &[(&str, &str)], ip: &str) -> Page {
        let resp = self
            .client
            .post(url)
            .header(COOKIE, self.cookie_header())
            .header("x-forwarded-for", ip)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let location = resp.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string());
        let headers = resp.headers().clone();
        Page { status, location, headers, html: resp.text().await.unwrap() }
    }

    /// Posts a form as the page's script does and reads a JSON answer.
    pub async fn post_form_json(&mut self, url: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let page = self.post_form(url, form).await;
        assert_eq!(page.status, 200, "{}", page.html);
        serde_json::from_str(&page.html).unwrap()
    }

    pub async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(form).unwrap();
        let resp = self
            .client
            .post(url)
            .header(COOKIE, self.cookie_header())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }
}
