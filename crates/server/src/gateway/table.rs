//! A gateway's endpoints as one table: each row names an endpoint once, with its method, path,
//! handler and the gateway's own facts about it (the legacy envelope, the admin access rule),
//! and the table yields the `Endpoint` enum, `ALL`, `name`, `path`, `method`, `facts`, `at` and
//! the route. Adding an endpoint is adding a row; nothing else lists endpoints.
//!
//! ```text
//! endpoint_table! {
//!     /// One legacy operation.
//!     Facts = Envelope;
//!     /// `GET /gettoken`: an app token.
//!     GetToken = GET path::GET_TOKEN => token::get_token, Envelope::Plain;
//! }
//! ```

/// See the [module](self) documentation.
macro_rules! endpoint_table {
    (
        $(#[$meta:meta])*
        Facts = $Facts:ty;
        $(
            $(#[doc = $doc:literal])*
            $Variant:ident = $method:ident $path:expr => $handler:path, $facts:expr;
        )+
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Endpoint {
            $( $(#[doc = $doc])* $Variant, )+
        }

        impl Endpoint {
            /// Every endpoint, in table order.
            pub(crate) const ALL: &[Self] = &[$(Self::$Variant),+];

            /// The endpoint's name, for logs and docs: the official SDKs' operation name where
            /// there is one.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Self::$Variant => stringify!($Variant),)+
                }
            }

            /// The route path.
            pub(crate) fn path(self) -> &'static str {
                match self {
                    $(Self::$Variant => $path,)+
                }
            }

            /// The HTTP method.
            pub(crate) fn method(self) -> axum::http::Method {
                match self {
                    $(Self::$Variant => axum::http::Method::$method,)+
                }
            }

            /// What the gateway knows about the endpoint beyond its route.
            #[allow(dead_code, reason = "not every gateway reads its facts")]
            pub(crate) fn facts(self) -> $Facts {
                match self {
                    $(Self::$Variant => $facts,)+
                }
            }

            /// The endpoint served at `path`, if any.
            #[allow(dead_code, reason = "not every gateway looks endpoints up by path")]
            pub(crate) fn at(path: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|e| e.path() == path)
            }

            /// The only place an endpoint meets its handler.
            pub(super) fn handler(self) -> axum::routing::MethodRouter<crate::state::AppState> {
                match self {
                    $(Self::$Variant => axum::routing::on(axum::routing::MethodFilter::$method, $handler),)+
                }
            }
        }
    };
}

pub(crate) use endpoint_table;
