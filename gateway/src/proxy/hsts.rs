//! `Strict-Transport-Security` on every answer to a request that came over
//! TLS: those the gateway writes itself and those of the origin. A Pingora
//! downstream module sees both, as every response header written to the
//! client passes through it; `early_request_filter` switches it on for TLS
//! connections only (HSTS over plain HTTP is meaningless and ignored by browsers).

use std::any::Any;

use async_trait::async_trait;
use http::HeaderValue;
use pingora::modules::http::{HttpModule, HttpModuleBuilder, Module};
use pingora::prelude::*;
use pingora::protocols::http::ServerSession;

pub struct Hsts {
    value: HeaderValue,
    on: bool,
}

impl Hsts {
    /// Switches the header on when `session` arrived over TLS.
    pub fn mark(modules: &mut pingora::modules::http::HttpModuleCtx, session: &ServerSession) {
        let tls = session.digest().is_some_and(|d| d.ssl_digest.is_some());
        if tls && let Some(m) = modules.get_mut::<Hsts>() {
            m.on = true;
        }
    }
}

#[async_trait]
impl HttpModule for Hsts {
    async fn response_header_filter(&mut self, resp: &mut ResponseHeader, _end_of_stream: bool) -> Result<()> {
        if self.on {
            // Ours replaces any the origin sent: the policy is the gateway's.
            resp.insert_header(http::header::STRICT_TRANSPORT_SECURITY, self.value.clone())?;
        }
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

pub struct HstsBuilder {
    pub value: HeaderValue,
}

impl HttpModuleBuilder for HstsBuilder {
    fn init(&self) -> Module {
        Box::new(Hsts { value: self.value.clone(), on: false })
    }
}
