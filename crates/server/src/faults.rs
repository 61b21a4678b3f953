//! Scripted faults: rules a tester arms through the admin API so that matching gateway requests
//! answer a DingTalk error, wait, lose their connection or get half an answer, which real
//! DingTalk only does at the worst moment.
//!
//! The rules live in this node's memory, are tried in the order they were added, and the first
//! one that fires decides. With no rule armed, a request pays one atomic load
//! ([`Faults::armed`]); with rules armed, the inspected path (`tap.rs`) reads the body and names
//! the caller first, which is why matching is not on the hot path.

use crate::request::Gateway;
use dingdir_proto::admin::{FaultAction, FaultFire, FaultList, FaultRule, FaultView};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// The longest delay a fault may hold a request: past it a client has long given up.
const MAX_DELAY_MS: u64 = 600_000;
/// The gateway that serves an endpoint, by its name.
pub(crate) type GatewayOf = fn(&str) -> Option<Gateway>;

/// How many rules one node holds.
pub(crate) const MAX_RULES: usize = 1_000;

/// One node's fault rules.
#[derive(Default)]
pub(crate) struct Faults {
    rules: RwLock<Vec<Arc<Armed>>>,
    armed: AtomicBool,
    next_id: AtomicU64,
}

/// A rule with its counters.
struct Armed {
    id: u64,
    rule: FaultRule,
    matched: AtomicU64,
    fired: AtomicU64,
}

/// What a request shows the rules.
#[derive(Debug)]
pub(crate) struct Probe<'a> {
    /// The legacy gateway (`true`) or the new one.
    pub(crate) legacy: bool,
    /// The endpoint's name, when a route serves the path.
    pub(crate) endpoint: Option<&'a str>,
    /// The calling app's key.
    pub(crate) app: Option<&'a str>,
    /// The corp the call acts in.
    pub(crate) corp: Option<&'a str>,
    /// The member the call names.
    pub(crate) user: Option<&'a str>,
    /// Query and body parameters.
    pub(crate) params: &'a HashMap<String, String>,
}

impl Faults {
    /// Whether any rule is armed: the only cost a request pays when none is.
    pub(crate) fn armed(&self) -> bool {
        self.armed.load(Ordering::Relaxed)
    }

    /// How many rules are armed.
    pub(crate) fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether a rule names an app or a corp, so the request's token must be looked up.
    pub(crate) fn needs_caller(&self) -> bool {
        self.read()
            .iter()
            .any(|a| a.rule.app.is_some() || a.rule.corp.is_some())
    }

    /// Arms `rule` after every rule already armed, or says why it cannot be; `gateway_of` names
    /// the gateway of an endpoint, or `None` for a name no gateway serves.
    pub(crate) fn add(&self, rule: FaultRule, gateway_of: GatewayOf) -> Result<FaultView, String> {
        check(&rule, gateway_of)?;
        let mut rules = self.write();
        if rules.len() >= MAX_RULES {
            return Err(format!("at most {MAX_RULES} fault rules; clear some first"));
        }
        let armed = Arc::new(Armed {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            rule,
            matched: AtomicU64::new(0),
            fired: AtomicU64::new(0),
        });
        rules.push(armed.clone());
        self.armed.store(true, Ordering::Relaxed);
        Ok(armed.view())
    }

    /// Every rule with its counters, in the order they are tried.
    pub(crate) fn list(&self) -> FaultList {
        FaultList {
            faults: self.read().iter().map(|a| a.view()).collect(),
        }
    }

    /// Disarms rule `id`; `false` if there is none.
    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut rules = self.write();
        let before = rules.len();
        rules.retain(|a| a.id != id);
        self.armed.store(!rules.is_empty(), Ordering::Relaxed);
        rules.len() != before
    }

    /// Disarms every rule; returns how many there were.
    pub(crate) fn clear(&self) -> usize {
        let mut rules = self.write();
        let n = rules.len();
        rules.clear();
        self.armed.store(false, Ordering::Relaxed);
        n
    }

    /// The id and action of the first rule that matches `probe` and fires, counting every rule
    /// that matched on the way.
    pub(crate) fn decide(&self, probe: &Probe<'_>) -> Option<(u64, FaultAction)> {
        let rules: Vec<Arc<Armed>> = self.read().clone();
        for armed in rules {
            if !matches(&armed.rule, probe) {
                continue;
            }
            let n = armed.matched.fetch_add(1, Ordering::Relaxed);
            if fires(&armed.rule.fire, n) {
                armed.fired.fetch_add(1, Ordering::Relaxed);
                return Some((armed.id, armed.rule.action.clone()));
            }
        }
        None
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Armed>>> {
        self.rules.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<Armed>>> {
        self.rules.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Armed {
    fn view(&self) -> FaultView {
        FaultView {
            id: self.id,
            rule: self.rule.clone(),
            matched: self.matched.load(Ordering::Relaxed),
            fired: self.fired.load(Ordering::Relaxed),
        }
    }
}

/// Refuses a rule that could never do what it says.
pub(crate) fn check(rule: &FaultRule, gateway_of: GatewayOf) -> Result<(), String> {
    let legacy = match rule.endpoint.as_deref() {
        Some(name) => Some(gateway_of(name).map(|g| g == Gateway::Oapi).ok_or_else(|| {
            format!("unknown endpoint `{name}`: give a name from docs/COMPATIBILITY.md, such as V2UserGetByMobile or GetUser")
        })?),
        None => None,
    };
    match &rule.action {
        FaultAction::Errcode { .. } if legacy == Some(false) => {
            return Err("an `errcode` fault answers the legacy gateway; the new gateway's is `error`".to_owned());
        }
        FaultAction::Errcode { errcode, errmsg: None } if *errcode != dingdir_proto::oapi::errcode::SYSTEM_BUSY => {
            return Err(format!(
                "errcode {errcode} needs an `errmsg` (only -1 has a default, 系统繁忙)"
            ));
        }
        FaultAction::Error { .. } if legacy == Some(true) => {
            return Err("an `error` fault answers the new gateway; the legacy gateway's is `errcode`".to_owned());
        }
        FaultAction::Error { status, .. } if !(400..=599).contains(status) => {
            return Err(format!("status {status}: an error's status is 400 to 599"));
        }
        FaultAction::Error { code, .. } if code.trim().is_empty() => {
            return Err("an error needs a `code`".to_owned());
        }
        FaultAction::Delay { ms } if *ms > MAX_DELAY_MS => {
            return Err(format!("a delay is at most {MAX_DELAY_MS} ms"));
        }
        _ => {}
    }
    if let FaultFire::Probability { p, .. } = rule.fire {
        if !(0.0..=1.0).contains(&p) {
            return Err(format!("probability {p}: give one between 0 and 1"));
        }
    }
    Ok(())
}

fn matches(rule: &FaultRule, probe: &Probe<'_>) -> bool {
    let gateway_fits = match rule.action {
        FaultAction::Errcode { .. } => probe.legacy,
        FaultAction::Error { .. } => !probe.legacy,
        FaultAction::Delay { .. } | FaultAction::Drop | FaultAction::Truncate => true,
    };
    let same = |want: &Option<String>, got: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == got);
    gateway_fits
        && same(&rule.endpoint, probe.endpoint)
        && same(&rule.app, probe.app)
        && same(&rule.corp, probe.corp)
        && same(&rule.user, probe.user)
        && rule.params.iter().all(|(k, v)| probe.params.get(k) == Some(v))
}

/// Whether a rule fires on its match number `n` (0 for the first).
fn fires(fire: &FaultFire, n: u64) -> bool {
    match *fire {
        FaultFire::Always => true,
        FaultFire::Next(k) => n < k,
        FaultFire::After(k) => n >= k,
        FaultFire::Probability { p, seed } => unit(splitmix(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))) < p,
    }
}

/// SplitMix64's output function: a fixed, well-mixed draw per (seed, match number).
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A draw as a number in [0, 1).
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two endpoint names the tests use.
    fn gateway_of(name: &str) -> Option<Gateway> {
        match name {
            "V2UserGetByMobile" => Some(Gateway::Oapi),
            "GetUser" => Some(Gateway::Api),
            _ => None,
        }
    }

    fn rule(fire: FaultFire) -> FaultRule {
        FaultRule {
            endpoint: Some("V2UserGetByMobile".to_owned()),
            app: None,
            corp: None,
            user: None,
            params: Default::default(),
            action: FaultAction::Errcode {
                errcode: -1,
                errmsg: None,
            },
            fire,
        }
    }

    fn decisions(faults: &Faults, n: usize) -> Vec<bool> {
        let params = HashMap::new();
        let probe = Probe {
            legacy: true,
            endpoint: Some("V2UserGetByMobile"),
            app: None,
            corp: None,
            user: None,
            params: &params,
        };
        (0..n).map(|_| faults.decide(&probe).is_some()).collect()
    }

    #[test]
    fn next_and_after_count_matches() {
        let faults = Faults::default();
        faults.add(rule(FaultFire::Next(2)), gateway_of).unwrap();
        assert_eq!(decisions(&faults, 4), [true, true, false, false]);
        faults.clear();
        faults.add(rule(FaultFire::After(2)), gateway_of).unwrap();
        assert_eq!(decisions(&faults, 4), [false, false, true, true]);
        let view = &faults.list().faults[0];
        assert_eq!((view.matched, view.fired), (4, 2));
    }

    #[test]
    fn a_probability_replays_with_its_seed() {
        let run = |seed| {
            let faults = Faults::default();
            faults
                .add(rule(FaultFire::Probability { p: 0.3, seed }), gateway_of)
                .unwrap();
            decisions(&faults, 200)
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let fired = run(7).iter().filter(|f| **f).count();
        assert!((40..=80).contains(&fired), "{fired} of 200 at p = 0.3");
    }

    #[test]
    fn rules_that_cannot_work_are_refused() {
        let faults = Faults::default();
        let mut r = rule(FaultFire::Always);
        r.endpoint = Some("NoSuchThing".to_owned());
        assert!(
            faults
                .add(r, gateway_of)
                .unwrap_err()
                .starts_with("unknown endpoint `NoSuchThing`")
        );
        let mut r = rule(FaultFire::Always);
        r.endpoint = Some("GetUser".to_owned());
        assert!(
            faults
                .add(r, gateway_of)
                .unwrap_err()
                .contains("the new gateway's is `error`")
        );
        let mut r = rule(FaultFire::Always);
        r.action = FaultAction::Errcode {
            errcode: 90018,
            errmsg: None,
        };
        assert!(faults.add(r, gateway_of).unwrap_err().contains("needs an `errmsg`"));
        let r = rule(FaultFire::Probability { p: 1.5, seed: 1 });
        assert!(faults.add(r, gateway_of).unwrap_err().starts_with("probability 1.5"));
        assert!(!faults.armed());
    }
}
