//! Every admin operation, and the facts about it.

use axum::http::Method;
use dingdir_proto::admin::path;

/// One admin operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `GET /_dingdir/health`: live and ready.
    Health,
    /// `GET /_dingdir/health/live`.
    HealthLive,
    /// `GET /_dingdir/health/ready`.
    HealthReady,
    /// `POST /_dingdir/seed`: apply a YAML seed.
    ApplySeed,
    /// `GET /_dingdir/export`: the directory as a YAML seed.
    Export,
    /// `POST /_dingdir/reset`: back to the startup seed (`dev` only).
    Reset,
    /// `POST /_dingdir/tokens/user`: a user token for an (app, person) pair, without the browser.
    MintUserToken,
    /// `POST /_dingdir/clock`: move the clock forward (test clock only).
    AdvanceClock,
    /// `PUT /_dingdir/apps/{appKey}/suite-ticket`: set a suite's ticket.
    SetSuiteTicket,
    /// `GET /_dingdir/metrics`: requests served and store reads made by this node.
    Metrics,
}

impl Endpoint {
    /// Every endpoint, for route and documentation checks.
    pub(crate) const ALL: &[Self] = &[
        Self::Health,
        Self::HealthLive,
        Self::HealthReady,
        Self::ApplySeed,
        Self::Export,
        Self::Reset,
        Self::MintUserToken,
        Self::AdvanceClock,
        Self::SetSuiteTicket,
        Self::Metrics,
    ];

    /// A name for logs and docs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Health => "Health",
            Self::HealthLive => "HealthLive",
            Self::HealthReady => "HealthReady",
            Self::ApplySeed => "ApplySeed",
            Self::Export => "Export",
            Self::Reset => "Reset",
            Self::MintUserToken => "MintUserToken",
            Self::AdvanceClock => "AdvanceClock",
            Self::SetSuiteTicket => "SetSuiteTicket",
            Self::Metrics => "Metrics",
        }
    }

    /// The route path.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Health => path::HEALTH,
            Self::HealthLive => path::HEALTH_LIVE,
            Self::HealthReady => path::HEALTH_READY,
            Self::ApplySeed => path::SEED,
            Self::Export => path::EXPORT,
            Self::Reset => path::RESET,
            Self::MintUserToken => path::USER_TOKENS,
            Self::AdvanceClock => path::CLOCK,
            Self::SetSuiteTicket => path::SUITE_TICKET,
            Self::Metrics => path::METRICS,
        }
    }

    /// The HTTP method.
    pub(crate) fn method(self) -> Method {
        match self {
            Self::Health | Self::HealthLive | Self::HealthReady | Self::Export | Self::Metrics => Method::GET,
            Self::ApplySeed | Self::Reset | Self::MintUserToken | Self::AdvanceClock => Method::POST,
            Self::SetSuiteTicket => Method::PUT,
        }
    }

    /// Whether the admin token is required.
    pub(crate) fn needs_admin_token(self) -> bool {
        !matches!(self, Self::Health | Self::HealthLive | Self::HealthReady)
    }
}
