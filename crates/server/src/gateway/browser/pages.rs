//! The HTML pages of DingTalk's browser sign-in (`GET /oauth2/auth`): sign-in, consent and error.
//!
//! Pure functions from a view to a whole document, std only. Every interpolated value goes through
//! [`escape`], attributes included. The pages are self-contained (inline CSS, no script, no fonts or
//! images from the network) so they work offline, and all their UI text lives here, in Simplified
//! Chinese and English.

/// Page language, chosen by the caller from Accept-Language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    /// Simplified Chinese.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Picks Zh when the Accept-Language header's first language tag that is zh* or en* is zh*,
    /// else En. `None` header -> Zh (DingTalk's default).
    pub(crate) fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Self::Zh;
        };
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            // `q=0` means "not acceptable" (RFC 9110 §12.5.4), so such a tag cannot pick the page.
            let refused = parts.any(|param| {
                let param = param.trim();
                let (name, value) = param.split_once('=').unwrap_or((param, ""));
                name.trim().eq_ignore_ascii_case("q") && value.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            let primary = tag.split('-').next().unwrap_or("");
            if primary.eq_ignore_ascii_case("zh") {
                return Self::Zh;
            }
            if primary.eq_ignore_ascii_case("en") {
                return Self::En;
            }
        }
        Self::En
    }

    fn html_tag(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }
}

/// A person offered as a one-click choice (only in `dingdir dev`).
pub(crate) struct DemoPerson<'a> {
    /// Shown in bold, e.g. the nick `zhangsan`.
    pub(crate) label: &'a str,
    /// Shown under the label, e.g. `150****9144 · Demo Co`.
    pub(crate) detail: &'a str,
    /// Submitted as form field `demo_person`.
    pub(crate) value: &'a str,
}

/// What the sign-in page shows.
pub(crate) struct SignInView<'a> {
    pub(crate) lang: Lang,
    pub(crate) app_name: &'a str,
    /// Scope names the app will receive, e.g. `openid`, `corpid`, `Contact.User.Read`.
    pub(crate) scopes: &'a [&'a str],
    /// Form action URL (POST).
    pub(crate) action: &'a str,
    /// Hidden inputs `(name, value)`, e.g. the flow and CSRF tokens.
    pub(crate) hidden: &'a [(&'a str, &'a str)],
    /// An error shown above the form, already localised by the caller.
    pub(crate) error: Option<&'a str>,
    /// Prefilled into the mobile field (may be empty).
    pub(crate) mobile: &'a str,
    /// One-click people; empty outside `dingdir dev`.
    pub(crate) demo_people: &'a [DemoPerson<'a>],
}

/// What the consent page shows.
pub(crate) struct ConsentView<'a> {
    pub(crate) lang: Lang,
    pub(crate) app_name: &'a str,
    /// Who is signed in.
    pub(crate) person_name: &'a str,
    /// The organisation the sign-in is for, when known.
    pub(crate) corp_name: Option<&'a str>,
    pub(crate) scopes: &'a [&'a str],
    /// Form action URL (POST).
    pub(crate) action: &'a str,
    pub(crate) hidden: &'a [(&'a str, &'a str)],
}

/// What the error page shows; title and message are already localised by the caller.
pub(crate) struct ErrorView<'a> {
    pub(crate) lang: Lang,
    pub(crate) title: &'a str,
    pub(crate) message: &'a str,
    /// Shown small at the bottom, for support.
    pub(crate) request_id: &'a str,
}

/// Localised text the handlers need, so that all UI text lives in this file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Text {
    /// The mobile number and password do not match a person.
    WrongPassword,
    /// Slowed down after repeated wrong passwords.
    TooManyAttempts,
    /// An internal app only signs in members of its own organisation.
    NotAMember,
    /// The error page's title for a bad authorisation request.
    InvalidRequest,
    /// No app has this `client_id`.
    UnknownClient,
    /// The `redirect_uri` is not registered for this app.
    BadRedirectUri,
    /// `response_type` is not `code`.
    BadResponseType,
    /// `scope` is neither `openid` nor `openid corpid`.
    BadScope,
    /// The CSRF or flow token is invalid or expired.
    ExpiredForm,
    /// The store failed or the server is over its limits.
    Busy,
    /// A handler failed unexpectedly.
    Internal,
}

/// The text for `key` in `lang`.
pub(crate) fn text(lang: Lang, key: Text) -> &'static str {
    let (zh, en) = match key {
        Text::WrongPassword => ("手机号或密码错误", "Wrong mobile number or password"),
        Text::TooManyAttempts => ("尝试次数过多，请稍后再试", "Too many attempts; try again in a moment"),
        Text::NotAMember => (
            "该应用仅限其所属组织的成员登录",
            "This app only signs in members of its own organisation",
        ),
        Text::InvalidRequest => ("请求无效", "Invalid request"),
        Text::UnknownClient => ("找不到该应用，请检查 client_id", "No app has this client_id"),
        Text::BadRedirectUri => (
            "该应用未登记此 redirect_uri",
            "This redirect_uri is not registered for the app",
        ),
        Text::BadResponseType => ("response_type 必须为 code", "response_type must be code"),
        Text::BadScope => (
            "scope 必须为 openid 或 openid corpid",
            "scope must be openid or openid corpid",
        ),
        Text::ExpiredForm => (
            "页面已过期，请重新打开登录链接",
            "This page has expired; open the sign-in link again",
        ),
        Text::Busy => ("系统繁忙，请稍后再试", "System busy; try again later"),
        Text::Internal => ("系统错误", "Internal error"),
    };
    pick(lang, zh, en)
}

/// The sign-in page: mobile and password, plus one-click demo people in `dingdir dev`.
pub(crate) fn sign_in_page(v: &SignInView<'_>) -> String {
    let lang = v.lang;
    let app = escape(v.app_name);
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n",
        pick(lang, "登录钉钉", "Sign in with DingTalk"),
        match lang {
            Lang::Zh => format!("以继续使用 <strong>{app}</strong>"),
            Lang::En => format!("to continue to <strong>{app}</strong>"),
        }
    ));
    let described_by = if let Some(error) = v.error {
        body.push_str(&format!(
            "<p class=\"alert\" id=\"form-error\" role=\"alert\">{}</p>\n",
            escape(error)
        ));
        " aria-describedby=\"form-error\""
    } else {
        ""
    };
    // Back from a wrong password the mobile is already there, so the cursor goes to the password.
    let (mobile_focus, password_focus) = if v.mobile.is_empty() {
        (" autofocus", "")
    } else {
        ("", " autofocus")
    };
    body.push_str(&format!("<form method=\"post\" action=\"{}\">\n", escape(v.action)));
    push_hidden(&mut body, v.hidden);
    body.push_str(&format!(
        "<div class=\"field\">\n<label for=\"mobile\">{}</label>\n\
         <input id=\"mobile\" name=\"mobile\" type=\"tel\" inputmode=\"tel\" \
         autocomplete=\"username\" autocapitalize=\"off\" spellcheck=\"false\" required \
         value=\"{}\"{described_by}{mobile_focus}>\n</div>\n",
        pick(lang, "手机号", "Mobile number"),
        escape(v.mobile),
    ));
    body.push_str(&format!(
        "<div class=\"field\">\n<label for=\"password\">{}</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required{described_by}{password_focus}>\n</div>\n",
        pick(lang, "密码", "Password"),
    ));
    // The sign-in button comes first so that Enter in a field submits it, not a demo person.
    body.push_str(&format!(
        "<button class=\"btn primary\" type=\"submit\">{}</button>\n",
        pick(lang, "登录", "Sign in")
    ));
    if !v.demo_people.is_empty() {
        body.push_str(&format!(
            "<div class=\"demo\" role=\"group\" aria-labelledby=\"demo-h\">\n\
             <p class=\"or\" id=\"demo-h\">{}</p>\n<ul class=\"people\">\n",
            pick(lang, "或一键登录演示账号", "Or sign in as a demo person")
        ));
        for person in v.demo_people {
            body.push_str(&format!(
                "<li><button class=\"person\" type=\"submit\" name=\"demo_person\" value=\"{}\" \
                 formnovalidate>{}<span class=\"who\"><b>{}</b><small>{}</small></span>\
                 <span class=\"chev\" aria-hidden=\"true\">›</span></button></li>\n",
                escape(person.value),
                avatar(person.label),
                escape(person.label),
                escape(person.detail),
            ));
        }
        body.push_str("</ul>\n</div>\n");
    }
    body.push_str("</form>\n");
    push_scopes(
        &mut body,
        lang,
        pick(
            lang,
            "登录后，该应用将获得：",
            "After you sign in, this app will receive:",
        ),
        v.scopes,
    );
    let title = match lang {
        Lang::Zh => format!("登录 · {}", v.app_name),
        Lang::En => format!("Sign in · {}", v.app_name),
    };
    document(lang, &title, &body)
}

/// The consent page: who is signed in, what the app will receive, and allow or deny.
pub(crate) fn consent_page(v: &ConsentView<'_>) -> String {
    let lang = v.lang;
    let app = escape(v.app_name);
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n",
        match lang {
            Lang::Zh => format!("授权 <strong>{app}</strong>"),
            Lang::En => format!("Authorise <strong>{app}</strong>"),
        },
        pick(
            lang,
            "该应用申请访问你的钉钉账号",
            "This app wants to access your DingTalk account"
        ),
    ));
    let signed_in = pick(lang, "已登录", "Signed in");
    let detail = match v.corp_name {
        Some(corp) => format!("{signed_in} · {}", escape(corp)),
        None => signed_in.to_owned(),
    };
    body.push_str(&format!(
        "<div class=\"account\">{}<span class=\"who\"><b>{}</b><small>{detail}</small></span></div>\n",
        avatar(v.person_name),
        escape(v.person_name),
    ));
    push_scopes(
        &mut body,
        lang,
        pick(lang, "将获得以下权限：", "It will receive:"),
        v.scopes,
    );
    body.push_str(&format!(
        "<form class=\"decide\" method=\"post\" action=\"{}\">\n",
        escape(v.action)
    ));
    push_hidden(&mut body, v.hidden);
    body.push_str(&format!(
        "<button class=\"btn primary\" type=\"submit\" name=\"decision\" value=\"approve\">{}</button>\n\
         <button class=\"btn secondary\" type=\"submit\" name=\"decision\" value=\"deny\">{}</button>\n\
         </form>\n",
        pick(lang, "同意授权", "Allow"),
        pick(lang, "拒绝", "Deny"),
    ));
    let title = match lang {
        Lang::Zh => format!("授权 · {}", v.app_name),
        Lang::En => format!("Authorise · {}", v.app_name),
    };
    document(lang, &title, &body)
}

/// The error page, for a request that cannot be redirected back to the app.
pub(crate) fn error_page(v: &ErrorView<'_>) -> String {
    let body = format!(
        "<div class=\"icon\" aria-hidden=\"true\">!</div>\n<h1>{}</h1>\n\
         <p class=\"message\">{}</p>\n<p class=\"rid\">{}<code>{}</code></p>\n",
        escape(v.title),
        escape(v.message),
        pick(v.lang, "请求 ID：", "Request ID: "),
        escape(v.request_id),
    );
    document(v.lang, &format!("{} · dingdir", v.title), &body)
}

/// Escapes `s` for HTML text and for quoted attribute values alike.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pick(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// A readable line for a scope; `None` for a scope we have no words for.
fn scope_description(lang: Lang, scope: &str) -> Option<&'static str> {
    let (zh, en) = match scope {
        "openid" => ("获取你的身份信息（unionId、openId）", "Your identity (unionId, openId)"),
        "corpid" => ("获取你选择的组织", "The organisation you sign in to"),
        "Contact.User.Read" => (
            "读取你的个人信息（昵称、头像、邮箱）",
            "Your profile (nickname, avatar, email)",
        ),
        "Contact.User.mobile" => ("读取你的手机号", "Your mobile number"),
        "qyapi_get_member_by_mobile" => ("通过手机号查找成员", "Find members by mobile number"),
        _ => return None,
    };
    Some(pick(lang, zh, en))
}

fn push_hidden(out: &mut String, hidden: &[(&str, &str)]) {
    for (name, value) in hidden {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
}

fn push_scopes(out: &mut String, lang: Lang, heading: &str, scopes: &[&str]) {
    if scopes.is_empty() {
        return;
    }
    out.push_str(&format!(
        "<section class=\"scopes\" aria-labelledby=\"scopes-h\">\n<h2 id=\"scopes-h\">{}</h2>\n<ul>\n",
        escape(heading)
    ));
    for scope in scopes {
        // The raw name stays visible under the description: the reader is often the app's developer.
        match scope_description(lang, scope) {
            Some(line) => out.push_str(&format!("<li>{}<code>{}</code></li>\n", escape(line), escape(scope))),
            None => out.push_str(&format!("<li><code class=\"raw\">{}</code></li>\n", escape(scope))),
        }
    }
    out.push_str("</ul>\n</section>\n");
}

/// A round badge with the first letter of `name`; decorative, since the name is shown beside it.
fn avatar(name: &str) -> String {
    let initial: String = name
        .trim()
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!(
        "<span class=\"avatar\" aria-hidden=\"true\">{}</span>",
        escape(&initial)
    )
}

fn document(lang: Lang, title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<main>\n\
         <p class=\"brand\"><span class=\"mark\" aria-hidden=\"true\"></span>dingdir</p>\n\
         {body_html}</main>\n<footer class=\"foot\">{}</footer>\n</body>\n</html>\n",
        lang.html_tag(),
        escape(title),
        pick(lang, "dingdir · 钉钉模拟器", "dingdir · DingTalk emulator"),
    )
}

// White on #0089FF is 3.5:1, enough for WCAG AA only as large text, so the primary button's
// label is 19px bold; small text in the brand colour uses the darker --link instead.
const STYLE: &str = r#"
:root{color-scheme:light dark;
--bg:#f2f3f5;--card:#fff;--line:#e3e5e8;--text:#1f2329;--muted:#5c6370;--field:#8a9099;
--brand:#0089ff;--brand-hover:#0077e0;--link:#0066cc;--focus:#0066cc;
--soft:#f6f7f9;--soft-hover:#eaf4ff;--avatar-bg:#dcebff;--avatar-text:#004f9e;
--err-bg:#fef3f2;--err-line:#f5c2bd;--err-text:#b42318}
@media (prefers-color-scheme:dark){:root{
--bg:#111214;--card:#1d1f23;--line:#33363c;--text:#e8eaed;--muted:#a4a9b2;--field:#767c86;
--brand:#0089ff;--brand-hover:#1f97ff;--link:#5cb4ff;--focus:#5cb4ff;
--soft:#24272c;--soft-hover:#1e2b3a;--avatar-bg:#1f3d61;--avatar-text:#d4e8ff;
--err-bg:#3a1d1b;--err-line:#6b2a25;--err-text:#ffb4ab}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;min-height:100dvh;display:flex;flex-direction:column;
align-items:center;justify-content:center;gap:16px;padding:32px 16px;
background:var(--bg);color:var(--text);font-size:16px;line-height:1.5;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"PingFang SC",
"Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC",sans-serif}
main{width:100%;max-width:420px;background:var(--card);border:1px solid var(--line);
border-radius:12px;padding:28px 28px 24px;
box-shadow:0 1px 2px rgb(0 0 0/.04),0 8px 24px rgb(0 0 0/.06)}
.brand{display:flex;align-items:center;gap:8px;margin:0 0 20px;font-size:14px;
font-weight:600;color:var(--muted)}
.mark{width:18px;height:18px;border-radius:5px;background:var(--brand)}
h1{margin:0 0 4px;font-size:22px;line-height:1.35;font-weight:600;overflow-wrap:anywhere;
text-wrap:balance}
h1 strong{font-weight:inherit}
.lead{margin:0 0 24px;color:var(--muted);text-wrap:balance}
.lead strong{color:var(--text);font-weight:600;overflow-wrap:anywhere}
.alert{margin:0 0 20px;padding:10px 12px;border:1px solid var(--err-line);border-radius:8px;
background:var(--err-bg);color:var(--err-text);font-size:15px;overflow-wrap:anywhere}
.field{margin:0 0 16px}
label{display:block;margin:0 0 6px;font-size:14px;font-weight:600}
input{display:block;width:100%;height:44px;padding:0 12px;border:1px solid var(--field);
border-radius:8px;background:var(--card);color:var(--text);font:inherit}
input:hover{border-color:var(--muted)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
input:focus-visible{outline-offset:0;border-color:var(--focus)}
button{font:inherit;cursor:pointer}
.btn{display:block;width:100%;min-height:48px;margin-top:8px;padding:10px 16px;
border:1px solid transparent;border-radius:8px;font-size:19px;line-height:1.3}
.primary{background:var(--brand);color:#fff;font-weight:700}
.primary:hover{background:var(--brand-hover)}
.secondary{margin-top:12px;background:transparent;color:var(--text);border-color:var(--field);
font-weight:600}
.secondary:hover{background:var(--soft)}
.or{display:flex;align-items:center;gap:12px;margin:24px 0 12px;color:var(--muted);
font-size:13px;text-align:center}
.or::before,.or::after{content:"";flex:1 0 24px;height:1px;background:var(--line)}
.people{list-style:none;margin:0;padding:0;display:grid;gap:8px}
.person{display:flex;align-items:center;gap:12px;width:100%;padding:10px 12px;
border:1px solid var(--line);border-radius:8px;background:var(--soft);color:var(--text);
text-align:left}
.person:hover{border-color:var(--brand);background:var(--soft-hover)}
.avatar{flex:none;display:grid;place-items:center;width:36px;height:36px;border-radius:50%;
background:var(--avatar-bg);color:var(--avatar-text);font-weight:700;line-height:1}
.who{display:flex;flex-direction:column;flex:1;min-width:0;line-height:1.35}
.who b{font-weight:600;overflow-wrap:anywhere}
.who small{color:var(--muted);font-size:13px;overflow-wrap:anywhere}
.chev{flex:none;color:var(--muted);font-size:22px;line-height:1}
.account{display:flex;align-items:center;gap:12px;margin:0 0 20px;padding:12px;
border:1px solid var(--line);border-radius:10px;background:var(--soft)}
.scopes{margin:24px 0 0;padding:16px 0 0;border-top:1px solid var(--line)}
.account+.scopes{margin-top:0;padding-top:0;border-top:0}
.scopes h2{margin:0 0 10px;font-size:14px;font-weight:600;color:var(--muted)}
.scopes ul{list-style:none;margin:0;padding:0;display:grid;gap:10px}
.scopes li{position:relative;padding-left:26px;line-height:1.4;overflow-wrap:anywhere}
.scopes li::before{content:"";position:absolute;left:5px;top:3px;width:6px;height:11px;
border:solid var(--link);border-width:0 2px 2px 0;transform:rotate(45deg)}
.scopes code{display:block;margin-top:2px;font-size:12px;color:var(--muted)}
.scopes code.raw{margin-top:0;font-size:14px;color:var(--text)}
.decide{margin-top:24px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
.icon{display:grid;place-items:center;width:48px;height:48px;margin:0 0 16px;border-radius:50%;
background:var(--err-bg);color:var(--err-text);font-size:26px;font-weight:700;line-height:1}
.message{margin:8px 0 24px;overflow-wrap:anywhere}
.rid{margin:0;padding-top:16px;border-top:1px solid var(--line);font-size:12px;
color:var(--muted);overflow-wrap:anywhere}
.foot{margin:0;font-size:13px;color:var(--muted);text-align:center}
@media (max-width:480px){body{justify-content:flex-start;padding:16px 12px}
main{padding:24px 20px 20px}}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(\"x\")</script>'&";
    const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;";

    const ALL_TEXT: [Text; 11] = [
        Text::WrongPassword,
        Text::TooManyAttempts,
        Text::NotAMember,
        Text::InvalidRequest,
        Text::UnknownClient,
        Text::BadRedirectUri,
        Text::BadResponseType,
        Text::BadScope,
        Text::ExpiredForm,
        Text::Busy,
        Text::Internal,
    ];

    // Fails to compile when a `Text` is added, so ALL_TEXT cannot fall behind.
    fn _all_text_is_complete(t: Text) {
        match t {
            Text::WrongPassword
            | Text::TooManyAttempts
            | Text::NotAMember
            | Text::InvalidRequest
            | Text::UnknownClient
            | Text::BadRedirectUri
            | Text::BadResponseType
            | Text::BadScope
            | Text::ExpiredForm
            | Text::Busy
            | Text::Internal => {}
        }
    }

    const SCOPES: &[&str] = &["openid", "corpid", "Contact.User.Read", "Contact.User.mobile"];
    const HIDDEN: &[(&str, &str)] = &[("flow", "f-123"), ("csrf", "c-456")];

    fn sign_in<'a>(lang: Lang, demo: &'a [DemoPerson<'a>]) -> SignInView<'a> {
        SignInView {
            lang,
            app_name: "Demo Internal App",
            scopes: SCOPES,
            action: "/oauth2/auth",
            hidden: HIDDEN,
            error: None,
            mobile: "",
            demo_people: demo,
        }
    }

    fn consent(lang: Lang) -> ConsentView<'static> {
        ConsentView {
            lang,
            app_name: "Demo Internal App",
            person_name: "张三",
            corp_name: Some("Demo Co"),
            scopes: SCOPES,
            action: "/oauth2/auth",
            hidden: HIDDEN,
        }
    }

    fn error(lang: Lang) -> ErrorView<'static> {
        ErrorView {
            lang,
            title: text(lang, Text::InvalidRequest),
            message: text(lang, Text::UnknownClient),
            request_id: "req-1",
        }
    }

    const DEMO: &[DemoPerson<'static>] = &[
        DemoPerson {
            label: "zhangsan",
            detail: "150****9144 · Demo Co",
            value: "p1",
        },
        DemoPerson {
            label: "lisi",
            detail: "139****0000 · Demo Co",
            value: "p2",
        },
    ];

    fn all_pages() -> Vec<String> {
        let mut pages = Vec::new();
        for lang in [Lang::Zh, Lang::En] {
            pages.push(sign_in_page(&sign_in(lang, &[])));
            pages.push(sign_in_page(&SignInView {
                error: Some(text(lang, Text::WrongPassword)),
                mobile: "13800138000",
                ..sign_in(lang, DEMO)
            }));
            pages.push(consent_page(&consent(lang)));
            pages.push(consent_page(&ConsentView {
                corp_name: None,
                scopes: &["openid", "some.Other.scope"],
                ..consent(lang)
            }));
            pages.push(error_page(&error(lang)));
        }
        pages
    }

    fn assert_hostile_escaped(page: &str) {
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("\"x\""), "{page}");
        assert!(page.contains(HOSTILE_ESCAPED), "{page}");
    }

    #[test]
    fn escape_covers_the_five_html_specials() {
        assert_eq!(escape(HOSTILE), HOSTILE_ESCAPED);
        assert_eq!(escape("张三 · ok"), "张三 · ok");
    }

    #[test]
    fn sign_in_page_escapes_every_interpolated_value() {
        let demo = [DemoPerson {
            label: HOSTILE,
            detail: HOSTILE,
            value: HOSTILE,
        }];
        let page = sign_in_page(&SignInView {
            lang: Lang::En,
            app_name: HOSTILE,
            scopes: &[HOSTILE],
            action: HOSTILE,
            hidden: &[(HOSTILE, HOSTILE)],
            error: Some(HOSTILE),
            mobile: HOSTILE,
            demo_people: &demo,
        });
        assert_hostile_escaped(&page);
        assert!(page.contains(&format!("action=\"{HOSTILE_ESCAPED}\"")));
        assert!(page.contains(&format!("value=\"{HOSTILE_ESCAPED}\" formnovalidate")));
        assert!(page.contains(&format!("<title>Sign in · {HOSTILE_ESCAPED}</title>")));
    }

    #[test]
    fn consent_page_escapes_every_interpolated_value() {
        let page = consent_page(&ConsentView {
            lang: Lang::Zh,
            app_name: HOSTILE,
            person_name: HOSTILE,
            corp_name: Some(HOSTILE),
            scopes: &[HOSTILE],
            action: HOSTILE,
            hidden: &[(HOSTILE, HOSTILE)],
        });
        assert_hostile_escaped(&page);
        assert!(page.contains(&format!(
            "<input type=\"hidden\" name=\"{HOSTILE_ESCAPED}\" value=\"{HOSTILE_ESCAPED}\">"
        )));
    }

    #[test]
    fn error_page_escapes_every_interpolated_value() {
        let page = error_page(&ErrorView {
            lang: Lang::En,
            title: HOSTILE,
            message: HOSTILE,
            request_id: HOSTILE,
        });
        assert_hostile_escaped(&page);
        assert!(page.contains(&format!("<title>{HOSTILE_ESCAPED} · dingdir</title>")));
    }

    #[test]
    fn forms_carry_every_hidden_field() {
        let pages = [
            sign_in_page(&sign_in(Lang::Zh, &[])),
            sign_in_page(&sign_in(Lang::En, DEMO)),
            consent_page(&consent(Lang::En)),
        ];
        for page in &pages {
            for (name, value) in HIDDEN {
                let input = format!("<input type=\"hidden\" name=\"{name}\" value=\"{value}\">");
                assert_eq!(page.matches(&input).count(), 1, "{input} in {page}");
            }
            assert!(
                page.contains("<form method=\"post\" action=\"/oauth2/auth\">")
                    || page.contains("<form class=\"decide\" method=\"post\" action=\"/oauth2/auth\">")
            );
        }
    }

    #[test]
    fn sign_in_form_posts_mobile_and_password() {
        let page = sign_in_page(&SignInView {
            mobile: "13800138000",
            ..sign_in(Lang::En, &[])
        });
        assert!(page.contains("<label for=\"mobile\">Mobile number</label>"));
        assert!(page.contains("<label for=\"password\">Password</label>"));
        assert!(page.contains("name=\"mobile\" type=\"tel\" inputmode=\"tel\" autocomplete=\"username\""));
        assert!(page.contains("value=\"13800138000\""));
        assert!(page.contains("name=\"password\" type=\"password\" autocomplete=\"current-password\""));
        assert_eq!(page.matches(" autofocus").count(), 1);
        assert!(page.contains("<html lang=\"en\">"));
    }

    #[test]
    fn sign_in_focuses_mobile_when_empty_and_password_when_prefilled() {
        let empty = sign_in_page(&sign_in(Lang::Zh, &[]));
        assert!(empty.contains("spellcheck=\"false\" required value=\"\" autofocus>"));
        let prefilled = sign_in_page(&SignInView {
            mobile: "13800138000",
            ..sign_in(Lang::Zh, &[])
        });
        assert!(prefilled.contains("autocomplete=\"current-password\" required autofocus>"));
    }

    #[test]
    fn sign_in_error_is_an_alert_described_by_the_fields() {
        let page = sign_in_page(&SignInView {
            error: Some(text(Lang::Zh, Text::WrongPassword)),
            ..sign_in(Lang::Zh, &[])
        });
        assert!(page.contains("<p class=\"alert\" id=\"form-error\" role=\"alert\">手机号或密码错误</p>"));
        assert_eq!(page.matches("aria-describedby=\"form-error\"").count(), 2);
        let clean = sign_in_page(&sign_in(Lang::Zh, &[]));
        assert!(!clean.contains("role=\"alert\""));
        assert!(!clean.contains("aria-describedby"));
    }

    #[test]
    fn demo_buttons_appear_only_when_given_and_skip_validation() {
        let without = sign_in_page(&sign_in(Lang::En, &[]));
        assert!(!without.contains("demo_person"));
        assert!(!without.contains("formnovalidate"));

        let with = sign_in_page(&sign_in(Lang::En, DEMO));
        for person in DEMO {
            let button = format!(
                "<button class=\"person\" type=\"submit\" name=\"demo_person\" value=\"{}\" formnovalidate>",
                person.value
            );
            assert_eq!(with.matches(&button).count(), 1, "{button}");
            assert!(with.contains(&format!("<b>{}</b>", person.label)));
        }
        assert_eq!(with.matches("formnovalidate").count(), DEMO.len());
        // Demo buttons sit inside the one form, after the sign-in button (Enter's default).
        let form = &with[with.find("<form").unwrap()..with.find("</form>").unwrap()];
        let sign_in_at = form.find("<button class=\"btn primary\"").unwrap();
        let first_demo_at = form.find("name=\"demo_person\"").unwrap();
        assert!(sign_in_at < first_demo_at);
        assert_eq!(with.matches("<form").count(), 1);
    }

    #[test]
    fn consent_page_has_both_decision_buttons() {
        for lang in [Lang::Zh, Lang::En] {
            let page = consent_page(&consent(lang));
            assert!(
                page.contains("<button class=\"btn primary\" type=\"submit\" name=\"decision\" value=\"approve\">")
            );
            assert!(page.contains("<button class=\"btn secondary\" type=\"submit\" name=\"decision\" value=\"deny\">"));
            assert!(page.contains("张三"));
            assert!(page.contains("Demo Co"));
        }
    }

    #[test]
    fn scopes_read_as_descriptions_and_unknown_ones_as_their_name() {
        let zh = consent_page(&consent(Lang::Zh));
        assert!(zh.contains("获取你的身份信息（unionId、openId）"));
        assert!(zh.contains("获取你选择的组织"));
        assert!(zh.contains("读取你的个人信息（昵称、头像、邮箱）"));
        assert!(zh.contains("读取你的手机号"));
        let en = consent_page(&ConsentView {
            scopes: &["openid", "qyapi_get_member_by_mobile", "some.Other.scope"],
            ..consent(Lang::En)
        });
        assert!(en.contains("<li>Your identity (unionId, openId)<code>openid</code></li>"));
        assert!(en.contains("<li>Find members by mobile number<code>qyapi_get_member_by_mobile</code></li>"));
        assert!(en.contains("<li><code class=\"raw\">some.Other.scope</code></li>"));
    }

    #[test]
    fn accept_language_picks_the_first_zh_or_en_tag() {
        let cases = [
            (None, Lang::Zh),
            (Some("zh-CN,zh;q=0.9"), Lang::Zh),
            (Some("en-US,en;q=0.8"), Lang::En),
            (Some("fr-FR,en;q=0.5"), Lang::En),
            (Some("fr"), Lang::En),
            (Some("fr-FR,zh-TW;q=0.8,en;q=0.5"), Lang::Zh),
            (Some("ZH-hans"), Lang::Zh),
            (Some(" en-GB , zh;q=0.9"), Lang::En),
            (Some("zh;q=0,en"), Lang::En),
            (Some("*"), Lang::En),
            (Some(""), Lang::En),
            (Some("zha,en"), Lang::En),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
        }
    }

    #[test]
    fn every_text_is_present_in_both_languages() {
        for key in ALL_TEXT {
            let zh = text(Lang::Zh, key);
            let en = text(Lang::En, key);
            assert!(!zh.trim().is_empty(), "{key:?}");
            assert!(!en.trim().is_empty(), "{key:?}");
            assert_ne!(zh, en, "{key:?}");
        }
        assert_eq!(text(Lang::Zh, Text::WrongPassword), "手机号或密码错误");
        assert_eq!(text(Lang::En, Text::WrongPassword), "Wrong mobile number or password");
    }

    #[test]
    fn pages_are_self_contained() {
        for page in all_pages() {
            assert!(page.starts_with("<!doctype html>\n<html lang=\""));
            assert!(page.contains("<meta name=\"viewport\""));
            assert!(page.contains("<style>"));
            for banned in [
                "http://", "https://", "src=", "href=", "<link", "<script", "<img", "url(", "@import",
            ] {
                assert!(!page.contains(banned), "{banned} in {page}");
            }
        }
    }

    #[test]
    fn pages_are_localised() {
        let zh = sign_in_page(&sign_in(Lang::Zh, &[]));
        assert!(zh.contains("<html lang=\"zh-CN\">"));
        assert!(zh.contains("<title>登录 · Demo Internal App</title>"));
        assert!(zh.contains("<label for=\"mobile\">手机号</label>"));
        assert!(zh.contains("dingdir · 钉钉模拟器"));
        let en = error_page(&error(Lang::En));
        assert!(en.contains("<title>Invalid request · dingdir</title>"));
        assert!(en.contains("Request ID: <code>req-1</code>"));
        assert!(en.contains("dingdir · DingTalk emulator"));
    }
}
