//! From a parsed seed to a checked plan: every rule that can be decided from the file alone runs
//! in [`Plan::build`]; the rules that need the store (references to stored corps, mobiles and
//! userids held by people the file does not name) run in [`Plan::check_against`].

use super::{FieldPath, LineCol, Locator, SeedDoc, SeedError};
use crate::ident::{app_key_for, corp_id_for, person_id_for, person_number, userid_for};
use crate::mobile::{Mobile, MobileError};
use crate::model::{
    App, AppKind, ContactRange, Corp, Department, Departure, DeptVisibility, Directory, Member, MemberDept,
    MemberDetails, MemberStatus, Membership, Person, PersonId, ROOT_DEPT, Role,
};
use crate::secret::{self, SecretError};
use crate::store::DirectoryStore;
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The longest login name an exclusive account takes (**guess**: DingTalk states no bound; the
/// userid's 64 is borrowed).
const MAX_LOGIN_ID: usize = 64;

/// A place in the seed file.
#[derive(Clone, Debug)]
struct Place {
    at: LineCol,
    field: FieldPath,
}

#[derive(Clone, Debug)]
enum SecretInput {
    Plain(String),
    Hash(String),
}

#[derive(Debug)]
struct PlannedApp {
    app: App,
    secret: SecretInput,
    callback: Option<crate::callback::Callback>,
}

#[derive(Debug)]
struct PlannedPerson {
    person: Person,
    password: Option<SecretInput>,
    place: Place,
    mobile_place: Place,
    login_place: Place,
    memberships: Vec<(Member, Place)>,
}

/// A seed that passed every rule the file alone can decide.
#[derive(Debug)]
pub struct Plan {
    file: String,
    corps: Vec<Corp>,
    /// The file's departments, every defined corp's root included, with where each is defined.
    departments: Vec<(Department, Place)>,
    apps: Vec<PlannedApp>,
    people: Vec<PlannedPerson>,
    /// Corps the file refers to without defining them: they must exist in the store.
    corp_refs: Vec<(CorpId, Place)>,
    /// Departments the file refers to without defining them: they must exist in the store.
    dept_refs: Vec<((CorpId, i64), Place)>,
    /// Members named by userid (managers, permitted users, contact-range users), with what
    /// names them: each must be a member of the same corp, in the file or stored.
    member_refs: Vec<((CorpId, UserId), Place, &'static str)>,
    /// The roles the file defines.
    roles: Vec<Role>,
    /// Roles members hold that the file does not define: they must exist in the store.
    role_refs: Vec<((CorpId, i64), Place)>,
    /// The rate limits the file sets, when it sets them.
    rate_limits: Option<Vec<dingdir_proto::admin::RateLimit>>,
    /// The fault rules the file arms, with where each is.
    faults: Vec<(dingdir_proto::admin::FaultRule, Place)>,
    /// Where each rate limit is.
    rate_limit_places: Vec<Place>,
    /// The custom group robots the file adds.
    robots: Vec<crate::robot::WebhookRobot>,
    /// The group chats the file adds or replaces.
    groups: Vec<crate::group::Group>,
    /// App robots groups name that the file does not define: each must be stored and installed
    /// in the group's corp.
    bot_refs: Vec<(AppKey, CorpId, Place)>,
}

/// How many levels a department may sit below the root; a longer chain of parents is a loop.
const MAX_DEPT_DEPTH: usize = 64;
/// The group a seeded role sits in when it names none (**guess**: the console's first group).
const DEFAULT_ROLE_GROUP: &str = "默认";
/// `extension`'s bound in DingTalk's member record, as JSON characters (docs/wire/directory-read.md §2.1).
const MAX_EXTENSION_CHARS: usize = 2_000;

struct Ctx<'a> {
    file: &'a str,
    locator: &'a Locator,
}

impl Ctx<'_> {
    fn place(&self, field: FieldPath) -> Place {
        Place {
            at: self.locator.find(&field),
            field,
        }
    }

    fn err(&self, field: FieldPath, message: impl Into<String>) -> SeedError {
        let place = self.place(field);
        self.err_at(&place, message)
    }

    fn err_at(&self, place: &Place, message: impl Into<String>) -> SeedError {
        SeedError {
            file: self.file.to_owned(),
            at: place.at,
            field: place.field.to_string(),
            message: message.into(),
        }
    }
}

fn is_id(s: &str, extra: &[u8], max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

fn is_corp_id(s: &str) -> bool {
    s.strip_prefix("ding").is_some_and(|rest| is_id(rest, b"", 60))
}

fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !s.contains(char::is_whitespace)
    })
}

fn non_empty(s: &str) -> bool {
    !s.trim().is_empty()
}

impl Plan {
    /// Checks every rule that the file alone decides and derives the ids it leaves out.
    pub fn build(file: &str, doc: &SeedDoc, locator: &Locator) -> Result<Self, SeedError> {
        let cx = Ctx { file, locator };
        let root = FieldPath::default();

        let mut corps = Vec::new();
        let mut departments: Vec<(Department, Place)> = Vec::new();
        let mut dept_lines: HashMap<(CorpId, i64), u64> = HashMap::new();
        let mut corp_lines: HashMap<CorpId, u64> = HashMap::new();
        // Departments and members named by hidden departments' permits, checked once every
        // department of the file is known.
        let mut permit_depts: Vec<((CorpId, i64), Place)> = Vec::new();
        let mut member_refs: Vec<((CorpId, UserId), Place, &'static str)> = Vec::new();
        let mut roles: Vec<Role> = Vec::new();
        let mut role_lines: HashMap<(CorpId, i64), u64> = HashMap::new();
        for (i, c) in doc.corps.iter().enumerate() {
            let at = root.key("corps").index(i);
            if !non_empty(&c.name) {
                return Err(cx.err(at.key("name"), "must not be empty"));
            }
            let id = match &c.id {
                Some(id) if is_corp_id(id) => CorpId(id.clone()),
                Some(_) => return Err(cx.err(at.key("id"), "must be `ding` followed by 1 to 60 letters or digits")),
                None => corp_id_for(&c.name),
            };
            let line = locator.find(&at).line;
            if let Some(first) = corp_lines.insert(id.clone(), line) {
                return Err(cx.err(at.key("id"), format!("duplicate corp {id} (first at line {first})")));
            }
            corps.push(Corp {
                id: id.clone(),
                name: c.name.clone(),
            });
            departments.push((
                Department {
                    corp_id: id.clone(),
                    id: ROOT_DEPT,
                    name: c.name.clone(),
                    parent_id: None,
                    order: 0,
                    hidden: None,
                },
                cx.place(at.key("name")),
            ));
            for (j, r) in c.roles.iter().enumerate() {
                let rat = at.key("roles").index(j);
                if r.id < 1 {
                    return Err(cx.err(rat.key("id"), "must be 1 or more"));
                }
                if !non_empty(&r.name) {
                    return Err(cx.err(rat.key("name"), "must not be empty"));
                }
                if r.group.as_deref().is_some_and(|g| !non_empty(g)) {
                    return Err(cx.err(rat.key("group"), "must not be empty; leave it out for 默认"));
                }
                if let Some(first) = role_lines.insert((id.clone(), r.id), locator.find(&rat).line) {
                    return Err(cx.err(
                        rat.key("id"),
                        format!("duplicate role {} in corp {id} (first at line {first})", r.id),
                    ));
                }
                roles.push(Role {
                    corp_id: id.clone(),
                    id: r.id,
                    name: r.name.clone(),
                    group: r.group.clone().unwrap_or_else(|| DEFAULT_ROLE_GROUP.to_owned()),
                });
            }
            for (j, d) in c.departments.iter().enumerate() {
                let dat = at.key("departments").index(j);
                if d.id <= ROOT_DEPT {
                    return Err(cx.err(dat.key("id"), "must be 2 or more (1 is the root)"));
                }
                if !non_empty(&d.name) {
                    return Err(cx.err(dat.key("name"), "must not be empty"));
                }
                let line = locator.find(&dat).line;
                if let Some(first) = dept_lines.insert((id.clone(), d.id), line) {
                    return Err(cx.err(
                        dat.key("id"),
                        format!("duplicate department {} in corp {id} (first at line {first})", d.id),
                    ));
                }
                let parent = d.parent.unwrap_or(ROOT_DEPT);
                if parent == d.id {
                    return Err(cx.err(dat.key("parent"), "a department cannot be its own parent"));
                }
                if !d.hide_dept && (!d.dept_permits.is_empty() || !d.user_permits.is_empty()) {
                    return Err(cx.err(
                        dat.key(if d.dept_permits.is_empty() {
                            "user_permits"
                        } else {
                            "dept_permits"
                        }),
                        "only a hidden department (`hide_dept: true`) has permits",
                    ));
                }
                let hidden = if d.hide_dept {
                    let mut visible = DeptVisibility::default();
                    for (k, &p) in d.dept_permits.iter().enumerate() {
                        let pat = dat.key("dept_permits").index(k);
                        if p < ROOT_DEPT {
                            return Err(cx.err(pat, "must be a department id, 1 or more"));
                        }
                        if p != ROOT_DEPT {
                            permit_depts.push(((id.clone(), p), cx.place(pat)));
                        }
                        visible.departments.push(p);
                    }
                    for (k, u) in d.user_permits.iter().enumerate() {
                        let uid = userid_ref(&cx, u, dat.key("user_permits").index(k))?;
                        member_refs.push((
                            (id.clone(), uid.clone()),
                            cx.place(dat.key("user_permits").index(k)),
                            "permitted user",
                        ));
                        visible.users.push(uid);
                    }
                    visible.departments.sort_unstable();
                    visible.departments.dedup();
                    visible.users.sort();
                    visible.users.dedup();
                    Some(visible)
                } else {
                    None
                };
                departments.push((
                    Department {
                        corp_id: id.clone(),
                        id: d.id,
                        name: d.name.clone(),
                        parent_id: Some(parent),
                        order: d.order,
                        hidden,
                    },
                    cx.place(dat.key("parent")),
                ));
            }
        }

        let mut corp_refs: Vec<(CorpId, Place)> = Vec::new();
        let mut corp_ref = |value: &str, field: FieldPath| -> Result<CorpId, SeedError> {
            if !is_corp_id(value) {
                return Err(cx.err(
                    field,
                    format!("`{value}` is not a corp id (`ding` + letters or digits)"),
                ));
            }
            let id = CorpId(value.to_owned());
            if !corp_lines.contains_key(&id) {
                corp_refs.push((id.clone(), cx.place(field)));
            }
            Ok(id)
        };

        let mut apps: Vec<PlannedApp> = Vec::new();
        let mut app_lines: HashMap<AppKey, u64> = HashMap::new();
        for (i, a) in doc.apps.iter().enumerate() {
            let at = root.key("apps").index(i);
            if !non_empty(&a.name) {
                return Err(cx.err(at.key("name"), "must not be empty"));
            }
            let key = match &a.key {
                Some(k) if is_id(k, b"", 64) && k.len() >= 4 => AppKey(k.clone()),
                Some(_) => return Err(cx.err(at.key("key"), "must be 4 to 64 letters or digits")),
                None => app_key_for(&a.name),
            };
            if let Some(first) = app_lines.insert(key.clone(), locator.find(&at).line) {
                return Err(cx.err(at.key("key"), format!("duplicate app {key} (first at line {first})")));
            }
            let secret = match (&a.secret, &a.secret_hash) {
                (Some(s), None) if !s.is_empty() => SecretInput::Plain(s.clone()),
                (Some(_), None) => return Err(cx.err(at.key("secret"), "must not be empty")),
                (None, Some(h)) if secret::is_valid_hash(h) => SecretInput::Hash(h.clone()),
                (None, Some(_)) => return Err(cx.err(at.key("secret_hash"), "is not an Argon2 PHC string")),
                (Some(_), Some(_)) => {
                    return Err(cx.err(at.key("secret_hash"), "give `secret` or `secret_hash`, not both"));
                }
                (None, None) => return Err(cx.err(at, "missing `secret` (or `secret_hash`)")),
            };
            let corp_id = match (a.kind, &a.corp) {
                (AppKind::Internal, Some(c)) => Some(corp_ref(c, at.key("corp"))?),
                (AppKind::Internal, None) => return Err(cx.err(at, "an internal app needs `corp`, its owning corp")),
                (_, Some(_)) => {
                    return Err(cx.err(
                        at.key("corp"),
                        "only an internal app has an owning corp; use `authorized_corps`",
                    ));
                }
                (_, None) => None,
            };
            let isv = match (a.kind, &a.isv) {
                (AppKind::Internal, Some(_)) => {
                    return Err(cx.err(at.key("isv"), "an internal app's developer is its corp, not an ISV"));
                }
                (AppKind::Internal, None) => None,
                (_, Some(isv)) if is_id(isv, b"_.-", 64) => Some(isv.clone()),
                (_, Some(_)) => return Err(cx.err(at.key("isv"), "must be 1 to 64 letters, digits, `_`, `.` or `-`")),
                (_, None) => Some(key.0.clone()),
            };
            if a.kind != AppKind::ThirdPartyEnterprise {
                if !a.authorized_corps.is_empty() {
                    return Err(cx.err(
                        at.key("authorized_corps"),
                        "only a third_party_enterprise app is authorised into corps",
                    ));
                }
                if a.suite_ticket.is_some() {
                    return Err(cx.err(
                        at.key("suite_ticket"),
                        "only a third_party_enterprise app has a suite ticket",
                    ));
                }
            }
            let mut authorized = Vec::new();
            for (j, c) in a.authorized_corps.iter().enumerate() {
                authorized.push(corp_ref(c, at.key("authorized_corps").index(j))?);
            }
            authorized.sort();
            authorized.dedup();
            let mut scopes = Vec::new();
            for (j, s) in a.scopes.iter().enumerate() {
                if !is_id(s, b"_.", 128) {
                    return Err(cx.err(at.key("scopes").index(j), format!("`{s}` is not a scope name")));
                }
                scopes.push(s.clone());
            }
            scopes.sort();
            scopes.dedup();
            let mut redirect_uris = Vec::new();
            for (j, u) in a.redirect_uris.iter().enumerate() {
                if !is_http_url(u) || u.contains('#') {
                    return Err(cx.err(
                        at.key("redirect_uris").index(j),
                        format!("`{u}` is not an absolute http(s) URL without a fragment"),
                    ));
                }
                redirect_uris.push(u.clone());
            }
            redirect_uris.sort();
            redirect_uris.dedup();
            if a.agent_id.is_some_and(|id| id < 1) {
                return Err(cx.err(at.key("agent_id"), "must be a positive number"));
            }
            if a.suite_ticket.as_deref().is_some_and(|t| !non_empty(t)) {
                return Err(cx.err(at.key("suite_ticket"), "must not be empty"));
            }
            let mut contact_ranges: Vec<ContactRange> = Vec::new();
            for (j, r) in a.contact_range.iter().enumerate() {
                let rat = at.key("contact_range").index(j);
                let corp = match (a.kind, &r.corp, &corp_id) {
                    (AppKind::ThirdPartyPersonal, _, _) => {
                        return Err(cx.err(rat, "a third_party_personal app reads no corp's directory"));
                    }
                    (AppKind::Internal, None, Some(own)) => own.clone(),
                    (AppKind::Internal, Some(c), Some(own)) if c == &own.0 => own.clone(),
                    (AppKind::Internal, Some(_), _) => {
                        return Err(cx.err(rat.key("corp"), "an internal app's range is in its own corp"));
                    }
                    (_, Some(c), _) if authorized.iter().any(|x| x.0 == *c) => CorpId(c.clone()),
                    (_, Some(_), _) => {
                        return Err(cx.err(rat.key("corp"), "not one of the app's `authorized_corps`"));
                    }
                    (_, None, _) => return Err(cx.err(rat, "missing `corp`: which corp the range is in")),
                };
                if contact_ranges.iter().any(|x| x.corp_id == corp) {
                    return Err(cx.err(rat, format!("a second range in corp {corp}; give one per corp")));
                }
                let mut range = ContactRange {
                    corp_id: corp.clone(),
                    departments: Vec::new(),
                    users: Vec::new(),
                };
                for (k, &d) in r.departments.iter().enumerate() {
                    let dat = rat.key("departments").index(k);
                    if d < ROOT_DEPT {
                        return Err(cx.err(dat, "must be a department id, 1 or more"));
                    }
                    if d != ROOT_DEPT && !dept_lines.contains_key(&(corp.clone(), d)) {
                        permit_depts.push(((corp.clone(), d), cx.place(dat)));
                    }
                    range.departments.push(d);
                }
                for (k, u) in r.users.iter().enumerate() {
                    let uat = rat.key("users").index(k);
                    let uid = userid_ref(&cx, u, uat.clone())?;
                    member_refs.push(((corp.clone(), uid.clone()), cx.place(uat), "contact-range user"));
                    range.users.push(uid);
                }
                range.departments.sort_unstable();
                range.departments.dedup();
                range.users.sort();
                range.users.dedup();
                contact_ranges.push(range);
            }
            contact_ranges.sort_by(|x, y| x.corp_id.cmp(&y.corp_id));
            let callback = match &a.callback {
                Some(c) => {
                    let callback = crate::callback::Callback {
                        app_key: key.clone(),
                        url: c.url.clone(),
                        token: c.token.clone(),
                        aes_key: c.aes_key.clone(),
                        events: c.events.clone(),
                        receive_id: c.receive_id,
                    };
                    crate::callback::check(&callback).map_err(|e| cx.err(at.key("callback"), e))?;
                    Some(callback)
                }
                None => None,
            };
            let agent_id = a.agent_id.unwrap_or_else(|| crate::model::derived_agent_id(&key));
            let bot_callback = match &a.bot_callback {
                None => None,
                Some(b) => {
                    let bat = at.key("bot_callback");
                    if !is_http_url(&b.url) {
                        return Err(cx.err(bat.key("url"), format!("`{}` is not an absolute http(s) URL", b.url)));
                    }
                    let secret = b.secret.clone().or_else(|| a.secret.clone()).ok_or_else(|| {
                        cx.err(bat.key("secret"), "give it: the app's secret is given only as a hash")
                    })?;
                    if secret.is_empty() {
                        return Err(cx.err(bat.key("secret"), "must not be empty"));
                    }
                    Some(crate::model::BotCallback {
                        url: b.url.clone(),
                        secret,
                    })
                }
            };
            apps.push(PlannedApp {
                callback,
                app: App {
                    key,
                    name: a.name.clone(),
                    secret_hash: String::new(),
                    kind: a.kind,
                    corp_id,
                    isv,
                    scopes,
                    redirect_uris,
                    authorized_corps: authorized,
                    suite_ticket: a.suite_ticket.clone(),
                    contact_ranges,
                    agent_id,
                    bot_callback,
                },
                secret,
            });
        }

        let mut role_refs: Vec<((CorpId, i64), Place)> = Vec::new();
        let mut dept_refs: Vec<((CorpId, i64), Place)> = permit_depts
            .into_iter()
            .filter(|(key, _)| !dept_lines.contains_key(key))
            .collect();
        let mut people: Vec<PlannedPerson> = Vec::new();
        let mut person_lines: HashMap<PersonId, u64> = HashMap::new();
        let mut mobile_lines: HashMap<Mobile, u64> = HashMap::new();
        let mut login_lines: HashMap<(CorpId, String), u64> = HashMap::new();
        let mut userid_lines: HashMap<(CorpId, UserId), u64> = HashMap::new();
        for (i, p) in doc.people.iter().enumerate() {
            let at = root.key("people").index(i);
            if !non_empty(&p.nick) {
                return Err(cx.err(at.key("nick"), "must not be empty"));
            }
            let mobile = match (&p.mobile, &p.state_code) {
                (None, None) => None,
                (None, Some(_)) => return Err(cx.err(at.key("state_code"), "given without `mobile`")),
                (Some(m), sc) => {
                    let parsed = match (m.trim().starts_with('+'), sc) {
                        (true, Some(sc)) => Mobile::parse(m.trim()).and_then(|mob| {
                            if mob.state_code() == sc {
                                Ok(mob)
                            } else {
                                Err(MobileError::Malformed)
                            }
                        }),
                        (false, Some(sc)) => Mobile::from_parts(sc, m.trim()),
                        (_, None) => Mobile::parse(m.trim()),
                    };
                    match parsed {
                        Ok(mob) => Some(mob),
                        Err(e) => return Err(cx.err(at.key("mobile"), format!("`{m}`: {e}"))),
                    }
                }
            };
            let exclusive_of = match &p.exclusive_of {
                Some(c) => Some(corp_ref(c, at.key("exclusive_of"))?),
                None => None,
            };
            if exclusive_of.is_none() && mobile.is_none() {
                return Err(cx.err(at, "a normal account needs `mobile`"));
            }
            if let Some(l) = &p.login_id {
                if exclusive_of.is_none() {
                    return Err(cx.err(
                        at.key("login_id"),
                        "only an exclusive account (`exclusive_of`) has a login name",
                    ));
                }
                if l.is_empty() || l.chars().count() > MAX_LOGIN_ID || l.contains(char::is_whitespace) {
                    return Err(cx.err(
                        at.key("login_id"),
                        format!("must be 1 to {MAX_LOGIN_ID} characters without whitespace"),
                    ));
                }
            }
            if let Some(e) = &p.email {
                if !e.contains('@') || e.contains(char::is_whitespace) {
                    return Err(cx.err(at.key("email"), format!("`{e}` is not an email address")));
                }
            }
            if let Some(u) = &p.avatar_url {
                if !is_http_url(u) {
                    return Err(cx.err(at.key("avatar_url"), format!("`{u}` is not an absolute http(s) URL")));
                }
            }
            let password = match (&p.password, &p.password_hash) {
                (Some(pw), None) if !pw.is_empty() => Some(SecretInput::Plain(pw.clone())),
                (Some(_), None) => return Err(cx.err(at.key("password"), "must not be empty")),
                (None, Some(h)) if secret::is_valid_hash(h) => Some(SecretInput::Hash(h.clone())),
                (None, Some(_)) => return Err(cx.err(at.key("password_hash"), "is not an Argon2 PHC string")),
                (Some(_), Some(_)) => {
                    return Err(cx.err(at.key("password_hash"), "give `password` or `password_hash`, not both"));
                }
                (None, None) => None,
            };

            let mut member_corps: Vec<(CorpId, Option<UserId>)> = Vec::new();
            for (j, m) in p.memberships.iter().enumerate() {
                let mat = at.key("memberships").index(j);
                let corp = corp_ref(&m.corp, mat.key("corp"))?;
                if member_corps.iter().any(|(c, _)| *c == corp) {
                    return Err(cx.err(mat.key("corp"), format!("the person is already a member of {corp}")));
                }
                if exclusive_of.as_ref().is_some_and(|owner| *owner != corp) {
                    return Err(cx.err(
                        mat.key("corp"),
                        "an exclusive account can only be a member of the corp that owns it",
                    ));
                }
                let userid = match &m.userid {
                    Some(u) if is_id(u, b"_.@-", 64) => Some(UserId(u.clone())),
                    Some(_) => {
                        return Err(cx.err(
                            mat.key("userid"),
                            "must be 1 to 64 letters, digits, `_`, `.`, `@` or `-`",
                        ));
                    }
                    None => None,
                };
                if m.name.as_deref().is_some_and(|n| !non_empty(n)) {
                    return Err(cx.err(mat.key("name"), "must not be empty"));
                }
                member_corps.push((corp, userid));
            }

            let id =
                match (&p.id, &exclusive_of, &mobile) {
                    (Some(id), _, _) if is_id(id, b"_-", 64) => PersonId(id.clone()),
                    (Some(_), _, _) => return Err(cx.err(at.key("id"), "must be 1 to 64 letters, digits, `_` or `-`")),
                    (None, None, Some(m)) => person_id_for(&["mobile", &m.to_string()]),
                    (None, Some(owner), _) => match member_corps.iter().find(|(c, _)| c == owner) {
                        Some((_, Some(u))) => person_id_for(&["exclusive", &owner.0, &u.0]),
                        _ => return Err(cx.err(
                            at,
                            "an exclusive account without `id` needs a membership with a `userid` in its owning corp",
                        )),
                    },
                    (None, None, None) => return Err(cx.err(at, "a normal account needs `mobile`")),
                };
            if let Some(first) = person_lines.insert(id.clone(), locator.find(&at).line) {
                return Err(cx.err(at.key("id"), format!("duplicate person {id} (first at line {first})")));
            }
            if let (Some(owner), Some(l)) = (&exclusive_of, &p.login_id) {
                let key = (owner.clone(), l.clone());
                if let Some(first) = login_lines.insert(key, locator.find(&at.key("login_id")).line) {
                    return Err(cx.err(
                        at.key("login_id"),
                        format!("duplicate login name {l} in corp {owner} (first at line {first})"),
                    ));
                }
            }
            if let (None, Some(m)) = (&exclusive_of, &mobile) {
                if let Some(first) = mobile_lines.insert(m.clone(), locator.find(&at.key("mobile")).line) {
                    return Err(cx.err(
                        at.key("mobile"),
                        format!("mobile {} is already a normal account's (line {first})", m.seed_form()),
                    ));
                }
            }

            let mut memberships = Vec::new();
            for (j, (corp, userid)) in member_corps.into_iter().enumerate() {
                let mat = at.key("memberships").index(j);
                let userid = userid.unwrap_or_else(|| userid_for(&corp, &id));
                let key = (corp.clone(), userid.clone());
                if let Some(first) = userid_lines.insert(key, locator.find(&mat).line) {
                    return Err(cx.err(
                        mat.key("userid"),
                        format!("duplicate userid {userid} in corp {corp} (first at line {first})"),
                    ));
                }
                let seed = &p.memberships[j];
                let mut details =
                    member_details(&cx, seed, &corp, &mat, &dept_lines, &mut dept_refs, &mut member_refs)?;
                for (k, &role) in seed.roles.iter().enumerate() {
                    let rat = mat.key("roles").index(k);
                    if seed.roles[..k].contains(&role) {
                        return Err(cx.err(rat, format!("role {role} is listed twice")));
                    }
                    if !role_lines.contains_key(&(corp.clone(), role)) {
                        role_refs.push(((corp.clone(), role), cx.place(rat)));
                    }
                }
                details.roles = seed.roles.clone();
                memberships.push((
                    Member {
                        membership: Membership {
                            corp_id: corp,
                            userid,
                            person_id: id.clone(),
                            name: seed.name.clone(),
                            status: seed.status,
                        },
                        details,
                    },
                    cx.place(mat.key("userid")),
                ));
            }
            memberships.sort_by(|a, b| a.0.membership.corp_id.cmp(&b.0.membership.corp_id));

            people.push(PlannedPerson {
                person: Person {
                    number: person_number(&id),
                    id,
                    nick: p.nick.clone(),
                    mobile,
                    email: p.email.clone(),
                    avatar_url: p.avatar_url.clone(),
                    password_hash: None,
                    exclusive_of,
                    login_id: p.login_id.clone(),
                },
                password,
                place: cx.place(at.clone()),
                mobile_place: cx.place(at.key("mobile")),
                login_place: cx.place(at.key("login_id")),
                memberships,
            });
        }

        // A parent outside the file is checked against the store; loops through the store too.
        for (d, place) in &departments {
            if let Some(parent) = d.parent_id {
                if !dept_lines.contains_key(&(d.corp_id.clone(), parent)) && parent != ROOT_DEPT {
                    dept_refs.push(((d.corp_id.clone(), parent), place.clone()));
                }
            }
        }

        let limits_at = root.key("rate_limits");
        if let Some(limits) = &doc.rate_limits {
            if let Err(why) = crate::rate::check(limits) {
                return Err(cx.err(limits_at, why));
            }
        }
        let rate_limit_places = (0..doc.rate_limits.as_ref().map_or(0, Vec::len))
            .map(|i| cx.place(limits_at.index(i)))
            .collect();
        let faults = doc
            .faults
            .iter()
            .enumerate()
            .map(|(i, rule)| (rule.clone(), cx.place(root.key("faults").index(i))))
            .collect();
        let mut robots = Vec::new();
        let mut robot_tokens = HashMap::new();
        for (i, r) in doc.robots.iter().enumerate() {
            let at = root.key("robots").index(i);
            let robot = crate::robot::WebhookRobot {
                token: r.token.clone(),
                corp_id: corp_ref(&r.corp, at.key("corp"))?,
                name: r.name.clone(),
                group: r.group.clone(),
                secret: r.secret.clone(),
                keywords: r.keywords.clone(),
                ip_ranges: r.ip_ranges.clone(),
                blocked_until: 0,
            };
            if let Err(why) = crate::robot::check_settings(&robot) {
                return Err(cx.err(at, why));
            }
            if let Some(first) = robot_tokens.insert(r.token.clone(), i) {
                return Err(cx.err(at.key("token"), format!("the token of robots[{first}] too")));
            }
            robots.push(robot);
        }
        let mut groups: Vec<crate::group::Group> = Vec::new();
        let mut bot_refs = Vec::new();
        for (i, g) in doc.groups.iter().enumerate() {
            let at = root.key("groups").index(i);
            let corp = corp_ref(&g.corp, at.key("corp"))?;
            let mut members = Vec::new();
            for (k, u) in g.members.iter().enumerate() {
                let uat = at.key("members").index(k);
                let uid = userid_ref(&cx, u, uat.clone())?;
                member_refs.push(((corp.clone(), uid.clone()), cx.place(uat), "group member"));
                members.push(uid);
            }
            let owner = match &g.owner {
                Some(o) => {
                    let uid = userid_ref(&cx, o, at.key("owner"))?;
                    member_refs.push(((corp.clone(), uid.clone()), cx.place(at.key("owner")), "group owner"));
                    Some(uid)
                }
                None => None,
            };
            let mut bots = Vec::new();
            for (k, b) in g.bots.iter().enumerate() {
                let bat = at.key("bots").index(k);
                let key = AppKey(b.clone());
                match apps.iter().find(|p| p.app.key == key) {
                    Some(p) if !p.app.installed_in().contains(&corp) => {
                        return Err(cx.err(bat, format!("app {b} is not installed in corp {corp}")));
                    }
                    Some(_) => {}
                    None => bot_refs.push((key.clone(), corp.clone(), cx.place(bat))),
                }
                bots.push(key);
            }
            let group = crate::group::Group::new(corp, g.name.clone(), owner, members, bots);
            crate::group::check(&group).map_err(|why| cx.err(at.clone(), why))?;
            if let Some(j) = groups
                .iter()
                .position(|x| x.corp_id == group.corp_id && x.name == group.name)
            {
                return Err(cx.err(at.key("name"), format!("the name of groups[{j}] too, in the same corp")));
            }
            groups.push(group);
        }
        // A member the file itself names needs no store check.
        member_refs.retain(|(key, _, _)| !userid_lines.contains_key(key));
        Ok(Self {
            file: file.to_owned(),
            corps,
            departments,
            apps,
            people,
            corp_refs,
            dept_refs,
            member_refs,
            roles,
            role_refs,
            rate_limits: doc.rate_limits.clone(),
            faults,
            rate_limit_places,
            robots,
            groups,
            bot_refs,
        })
    }

    /// The group chats the seed adds or replaces.
    pub fn groups(&self) -> &[crate::group::Group] {
        &self.groups
    }

    /// The custom group robots the seed adds or replaces.
    pub fn robots(&self) -> &[crate::robot::WebhookRobot] {
        &self.robots
    }

    /// The rate limits the seed sets, when it sets them.
    pub fn rate_limits(&self) -> Option<&[dingdir_proto::admin::RateLimit]> {
        self.rate_limits.as_deref()
    }

    /// The fault rules the seed arms, in order.
    pub fn faults(&self) -> impl Iterator<Item = &dingdir_proto::admin::FaultRule> {
        self.faults.iter().map(|(rule, _)| rule)
    }

    /// Refuses the seed for its `i`th fault rule, at that rule's place: for the checks only the
    /// server can make (endpoint names, actions the endpoint's gateway can answer).
    pub fn refuse_fault(&self, i: usize, message: impl Into<String>) -> SeedError {
        self.refuse(self.faults.get(i).map(|(_, place)| place), "faults", message)
    }

    /// Refuses the seed for its `i`th rate limit, the same way.
    pub fn refuse_rate_limit(&self, i: usize, message: impl Into<String>) -> SeedError {
        self.refuse(self.rate_limit_places.get(i), "rate_limits", message)
    }

    fn refuse(&self, place: Option<&Place>, field: &str, message: impl Into<String>) -> SeedError {
        SeedError {
            file: self.file.clone(),
            at: place.map_or(LineCol { line: 1, column: 1 }, |p| p.at),
            field: place.map_or_else(|| field.to_owned(), |p| p.field.to_string()),
            message: message.into(),
        }
    }

    /// How many corps, apps, people and memberships the seed names.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let memberships = self.people.iter().map(|p| p.memberships.len()).sum();
        // Roots are implied by corps; departments are not counted apart.
        (self.corps.len(), self.apps.len(), self.people.len(), memberships)
    }

    fn err_at(&self, place: &Place, message: String) -> SeedError {
        SeedError {
            file: self.file.clone(),
            at: place.at,
            field: place.field.to_string(),
            message,
        }
    }

    /// Checks the rules that involve what is already stored.
    pub(super) async fn check_against(
        &self,
        store: &dyn DirectoryStore,
        prior: super::Prior<'_>,
    ) -> Result<(), super::ApplyError> {
        let mut checked: HashSet<&CorpId> = HashSet::new();
        for (corp, place) in &self.corp_refs {
            if checked.insert(corp) && store.corp(corp).await?.is_none() {
                return Err(self
                    .err_at(place, format!("unknown corp {corp}: not in this file nor in the store"))
                    .into());
            }
        }
        let mut seen: HashSet<&(CorpId, i64)> = HashSet::new();
        for (key, place) in &self.dept_refs {
            if seen.insert(key) && store.department(&key.0, key.1).await?.is_none() {
                return Err(self
                    .err_at(
                        place,
                        format!(
                            "unknown department {} in corp {}: not in this file nor in the store",
                            key.1, key.0
                        ),
                    )
                    .into());
            }
        }
        self.check_department_tree(store).await?;
        let mut stored_roles: HashMap<&CorpId, Vec<i64>> = HashMap::new();
        for ((corp, role), place) in &self.role_refs {
            if !stored_roles.contains_key(corp) {
                let ids = store.roles(corp).await?.into_iter().map(|r| r.id).collect();
                stored_roles.insert(corp, ids);
            }
            if !stored_roles.get(corp).is_some_and(|ids| ids.contains(role)) {
                return Err(self
                    .err_at(
                        place,
                        format!("unknown role {role} in corp {corp}: not in this file nor in the store"),
                    )
                    .into());
            }
        }
        for (key, corp, place) in &self.bot_refs {
            let installed = store.app(key).await?.is_some_and(|a| a.installed_in().contains(corp));
            if !installed {
                return Err(self
                    .err_at(
                        place,
                        format!("unknown app {key} installed in corp {corp}: not in this file nor in the store"),
                    )
                    .into());
            }
        }
        for ((corp, userid), place, what) in &self.member_refs {
            if store.membership(corp, userid).await?.is_none() {
                return Err(self
                    .err_at(
                        place,
                        format!("unknown {what} {userid} in corp {corp}: not in this file nor in the store"),
                    )
                    .into());
            }
        }
        let named: HashSet<&PersonId> = self.people.iter().map(|p| &p.person.id).collect();
        for p in &self.people {
            if let (None, Some(m)) = (&p.person.exclusive_of, &p.person.mobile) {
                if let Some(other) = prior.read(|s| s.person_by_mobile(m)).await? {
                    if other.id != p.person.id && !named.contains(&other.id) {
                        return Err(self
                            .err_at(
                                &p.mobile_place,
                                format!("mobile {} already belongs to person {}", m.seed_form(), other.id),
                            )
                            .into());
                    }
                }
            }
            if let (Some(owner), Some(l)) = (&p.person.exclusive_of, &p.person.login_id) {
                if let Some(other) = prior.read(|s| s.person_by_login_id(owner, l)).await? {
                    if other.id != p.person.id && !named.contains(&other.id) {
                        return Err(self
                            .err_at(
                                &p.login_place,
                                format!("login name {l} in corp {owner} already belongs to person {}", other.id),
                            )
                            .into());
                    }
                }
            }
            for (m, place) in &p.memberships {
                let m = &m.membership;
                if let Some(other) = prior.read(|s| s.membership(&m.corp_id, &m.userid)).await? {
                    if other.person_id != p.person.id && !named.contains(&other.person_id) {
                        return Err(self
                            .err_at(
                                place,
                                format!(
                                    "userid {} in corp {} already belongs to person {}",
                                    m.userid, m.corp_id, other.person_id
                                ),
                            )
                            .into());
                    }
                }
            }
            if let Some(stored) = prior.read(|s| s.person(&p.person.id)).await? {
                if stored.exclusive_of != p.person.exclusive_of {
                    return Err(self
                        .err_at(
                            &p.place,
                            format!(
                                "person {} cannot switch between a normal and an exclusive account",
                                p.person.id
                            ),
                        )
                        .into());
                }
            }
        }
        Ok(())
    }

    /// Turns the plan into directory entries, hashing plain secrets unless the stored hash matches.
    pub(super) async fn resolve(&self, store: &dyn DirectoryStore) -> Result<Directory, super::ApplyError> {
        let mut apps = Vec::with_capacity(self.apps.len());
        for planned in &self.apps {
            let stored = match &planned.secret {
                SecretInput::Plain(_) => store.app(&planned.app.key).await?.map(|a| a.secret_hash),
                SecretInput::Hash(_) => None,
            };
            let mut app = planned.app.clone();
            app.secret_hash = resolve_secret(&planned.secret, stored.as_deref())?;
            apps.push(app);
        }
        let mut people = Vec::with_capacity(self.people.len());
        let mut cache: BTreeMap<&PersonId, Option<String>> = BTreeMap::new();
        for planned in &self.people {
            let mut person = planned.person.clone();
            if let Some(input) = &planned.password {
                let stored = match input {
                    SecretInput::Plain(_) => store.person(&person.id).await?.and_then(|p| p.password_hash),
                    SecretInput::Hash(_) => None,
                };
                person.password_hash = Some(resolve_secret(input, stored.as_deref())?);
            }
            cache.insert(&planned.person.id, person.password_hash.clone());
            people.push((person, planned.memberships.iter().map(|(m, _)| m.clone()).collect()));
        }
        Ok(Directory {
            corps: self.corps.clone(),
            departments: self.departments.iter().map(|(d, _)| d.clone()).collect(),
            roles: self.roles.clone(),
            apps,
            people,
            callbacks: self.apps.iter().filter_map(|a| a.callback.clone()).collect(),
        })
    }

    /// Every department of the file reaches its corp's root within [`MAX_DEPT_DEPTH`] parents,
    /// through the file's own departments first and the stored ones after.
    async fn check_department_tree(&self, store: &dyn DirectoryStore) -> Result<(), super::ApplyError> {
        let parents: HashMap<(&CorpId, i64), Option<i64>> = self
            .departments
            .iter()
            .map(|(d, _)| ((&d.corp_id, d.id), d.parent_id))
            .collect();
        for (d, place) in &self.departments {
            let mut at = d.parent_id;
            let mut steps = 0;
            while let Some(id) = at {
                if id == ROOT_DEPT {
                    break;
                }
                steps += 1;
                if steps > MAX_DEPT_DEPTH || id == d.id {
                    return Err(self
                        .err_at(
                            place,
                            format!(
                                "department {} of corp {} does not reach the root: its parents loop",
                                d.id, d.corp_id
                            ),
                        )
                        .into());
                }
                at = match parents.get(&(&d.corp_id, id)) {
                    Some(parent) => *parent,
                    None => store.department(&d.corp_id, id).await?.and_then(|p| p.parent_id),
                };
            }
        }
        Ok(())
    }
}

/// A userid that names another member.
fn userid_ref(cx: &Ctx<'_>, value: &str, field: FieldPath) -> Result<UserId, SeedError> {
    if is_id(value, b"_.@-", 64) {
        Ok(UserId(value.to_owned()))
    } else {
        Err(cx.err(field, "must be a userid: 1 to 64 letters, digits, `_`, `.`, `@` or `-`"))
    }
}

/// A membership's record from its seed entry: departments (the root when none are given, each
/// defined in the file or left to check against the store), the manager, and the plain fields.
fn member_details(
    cx: &Ctx<'_>,
    seed: &super::MembershipSeed,
    corp: &CorpId,
    mat: &FieldPath,
    dept_lines: &HashMap<(CorpId, i64), u64>,
    dept_refs: &mut Vec<((CorpId, i64), Place)>,
    member_refs: &mut Vec<((CorpId, UserId), Place, &'static str)>,
) -> Result<MemberDetails, SeedError> {
    let mut departments = Vec::new();
    for (k, d) in seed.departments.iter().enumerate() {
        let dat = mat.key("departments").index(k);
        if d.id < ROOT_DEPT {
            return Err(cx.err(dat.key("id"), "must be 1 (the root) or more"));
        }
        if departments.iter().any(|x: &MemberDept| x.dept_id == d.id) {
            return Err(cx.err(dat.key("id"), format!("department {} is listed twice", d.id)));
        }
        if d.id != ROOT_DEPT && !dept_lines.contains_key(&(corp.clone(), d.id)) {
            dept_refs.push(((corp.clone(), d.id), cx.place(dat.key("id"))));
        }
        departments.push(MemberDept {
            dept_id: d.id,
            order: d.order,
            leader: d.leader,
        });
    }
    if departments.is_empty() {
        departments.push(MemberDept {
            dept_id: ROOT_DEPT,
            order: 0,
            leader: false,
        });
    }
    let manager_userid = match &seed.manager {
        Some(u) => {
            let uid = userid_ref(cx, u, mat.key("manager"))?;
            member_refs.push(((corp.clone(), uid.clone()), cx.place(mat.key("manager")), "manager"));
            Some(uid)
        }
        None => None,
    };
    for (name, value) in [
        ("title", &seed.title),
        ("job_number", &seed.job_number),
        ("work_place", &seed.work_place),
        ("telephone", &seed.telephone),
        ("org_email", &seed.org_email),
        ("remark", &seed.remark),
    ] {
        if value.as_deref().is_some_and(|v| !non_empty(v)) {
            return Err(cx.err(mat.key(name), "must not be empty; leave it out instead"));
        }
    }
    if seed
        .org_email
        .as_deref()
        .is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace))
    {
        return Err(cx.err(mat.key("org_email"), "is not an email address"));
    }
    if seed.hired_date.is_some_and(|t| t < 0) {
        return Err(cx.err(mat.key("hired_date"), "must be epoch milliseconds, 0 or more"));
    }
    if seed
        .extension
        .keys()
        .chain(seed.extension.values())
        .any(|v| !non_empty(v))
    {
        return Err(cx.err(mat.key("extension"), "names and values must not be empty"));
    }
    let extension_chars = serde_json::to_string(&seed.extension).map_or(0, |j| j.chars().count());
    if extension_chars > MAX_EXTENSION_CHARS {
        return Err(cx.err(
            mat.key("extension"),
            format!("is {extension_chars} characters as JSON; DingTalk allows {MAX_EXTENSION_CHARS}"),
        ));
    }
    let departed = seed.status == MemberStatus::Departed;
    for (name, given) in [
        ("left_at", seed.left_at.is_some()),
        ("leave_reason", seed.leave_reason.is_some()),
    ] {
        if given && !departed {
            return Err(cx.err(mat.key(name), "is only for a departed member (status: departed)"));
        }
    }
    if seed.left_at.is_some_and(|t| t < 0) {
        return Err(cx.err(mat.key("left_at"), "must be epoch milliseconds, 0 or more"));
    }
    let departure = departed.then(|| Departure {
        left_at: seed.left_at,
        reason: seed.leave_reason.unwrap_or_default(),
    });
    Ok(MemberDetails {
        departments,
        title: seed.title.clone(),
        job_number: seed.job_number.clone(),
        hired_date: seed.hired_date,
        work_place: seed.work_place.clone(),
        telephone: seed.telephone.clone(),
        org_email: seed.org_email.clone(),
        remark: seed.remark.clone(),
        manager_userid,
        admin: seed.admin || seed.main_admin,
        main_admin: seed.main_admin,
        boss: seed.boss,
        senior: seed.senior,
        hide_mobile: seed.hide_mobile,
        departure,
        extension: seed.extension.clone(),
        // The caller adds the roles: they are checked against the corp's.
        roles: Vec::new(),
    })
}

fn resolve_secret(input: &SecretInput, stored: Option<&str>) -> Result<String, SecretError> {
    match input {
        SecretInput::Hash(h) => Ok(h.clone()),
        SecretInput::Plain(p) => match stored {
            Some(h) if secret::verify(p, h) => Ok(h.to_owned()),
            _ => secret::hash(p),
        },
    }
}
