// Copyright 2026 Cloudflare, Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

use crate::*;
use bytes::Bytes;
use http::header;
use pingora_error::{ErrorType, OrErr};

#[derive(Debug, Clone)]
pub struct CaseHeaderName(Bytes);

impl CaseHeaderName {
    pub fn new(name: String) -> Self {
        CaseHeaderName(name.into())
    }
}

impl CaseHeaderName {
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub fn from_slice(buf: &[u8]) -> Self {
        CaseHeaderName(Bytes::copy_from_slice(buf))
    }
}

/// A trait that converts into case-sensitive header names.
pub trait IntoCaseHeaderName {
    fn into_case_header_name(self) -> CaseHeaderName;

    /// The parsed name together with its case-preserved form.
    ///
    /// The default parses the case-preserved form, which costs a validation
    /// and, for a name that is not a standard header, an allocation on every
    /// call. Types that already hold the parsed name ([`PreparedHeaderName`],
    /// [`HeaderName`]) override it so that no parse happens per insert.
    fn into_header_names(self) -> Result<(HeaderName, CaseHeaderName)>
    where
        Self: Sized,
    {
        let case = self.into_case_header_name();
        let name = HeaderName::try_from(case.as_slice())
            .or_err(ErrorType::InvalidHTTPHeader, "invalid header name")?;
        Ok((name, case))
    }
}

/// A header name parsed once (typically at start-up) together with the case
/// it is written in on the wire, so that inserting it per request neither
/// parses nor allocates.
///
/// ```
/// use pingora_http::{PreparedHeaderName, RequestHeader};
///
/// let name = PreparedHeaderName::from_static("X-Request-Owner").unwrap();
/// let mut req = RequestHeader::build("GET", b"/", None).unwrap();
/// req.insert_header(&name, "alice").unwrap();
/// assert_eq!(req.headers["x-request-owner"], "alice");
/// ```
#[derive(Debug, Clone)]
pub struct PreparedHeaderName {
    name: HeaderName,
    case: CaseHeaderName,
}

impl PreparedHeaderName {
    /// `case` is the name as it should appear on the wire; it is parsed here,
    /// once. Fails if it is not a valid header name.
    pub fn from_static(case: &'static str) -> Result<Self> {
        let name = HeaderName::from_bytes(case.as_bytes())
            .or_err(ErrorType::InvalidHTTPHeader, "invalid header name")?;
        // A clone of a custom name made by `from_bytes` allocates the first
        // time (its buffer is promoted to a shared one); clone once here so
        // that every later clone is a reference count.
        let name = name.clone();
        Ok(PreparedHeaderName {
            name,
            case: CaseHeaderName(Bytes::from_static(case.as_bytes())),
        })
    }

    /// The parsed (lower-case) name.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }
}

impl IntoCaseHeaderName for &PreparedHeaderName {
    fn into_case_header_name(self) -> CaseHeaderName {
        self.case.clone()
    }

    fn into_header_names(self) -> Result<(HeaderName, CaseHeaderName)> {
        Ok((self.name.clone(), self.case.clone()))
    }
}

impl IntoCaseHeaderName for CaseHeaderName {
    fn into_case_header_name(self) -> CaseHeaderName {
        self
    }
}

impl IntoCaseHeaderName for String {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(self.into())
    }
}

impl IntoCaseHeaderName for &'static str {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(self.into())
    }
}

impl IntoCaseHeaderName for HeaderName {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(titled_header_name(&self))
    }

    fn into_header_names(self) -> Result<(HeaderName, CaseHeaderName)> {
        let case = CaseHeaderName(titled_header_name(&self));
        Ok((self, case))
    }
}

impl IntoCaseHeaderName for &HeaderName {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(titled_header_name(self))
    }

    fn into_header_names(self) -> Result<(HeaderName, CaseHeaderName)> {
        Ok((self.clone(), CaseHeaderName(titled_header_name(self))))
    }
}

impl IntoCaseHeaderName for Bytes {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(self)
    }
}

fn titled_header_name(header_name: &HeaderName) -> Bytes {
    titled_header_name_str(header_name).map_or_else(
        || Bytes::copy_from_slice(header_name.as_str().as_bytes()),
        |s| Bytes::from_static(s.as_bytes()),
    )
}

pub(crate) fn titled_header_name_str(header_name: &HeaderName) -> Option<&'static str> {
    Some(match *header_name {
        header::ACCEPT_RANGES => "Accept-Ranges",
        header::AGE => "Age",
        header::CACHE_CONTROL => "Cache-Control",
        header::CONNECTION => "Connection",
        header::CONTENT_TYPE => "Content-Type",
        header::CONTENT_ENCODING => "Content-Encoding",
        header::CONTENT_LENGTH => "Content-Length",
        header::DATE => "Date",
        header::TRANSFER_ENCODING => "Transfer-Encoding",
        header::HOST => "Host",
        header::SERVER => "Server",
        header::SET_COOKIE => "Set-Cookie",
        // TODO: add more const header here to map to their titled case
        // TODO: automatically upper case the first letter?
        _ => {
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_case_header_name() {
        assert_eq!("FoO".into_case_header_name().as_slice(), b"FoO");
        assert_eq!("FoO".to_string().into_case_header_name().as_slice(), b"FoO");
        assert_eq!(header::SERVER.into_case_header_name().as_slice(), b"Server");
    }

    #[test]
    fn prepared_name_keeps_its_case_and_parses_once() {
        let p = PreparedHeaderName::from_static("X-Auth-User").unwrap();
        assert_eq!(p.name().as_str(), "x-auth-user");
        let (name, case) = (&p).into_header_names().unwrap();
        assert_eq!(name, "x-auth-user");
        assert_eq!(case.as_slice(), b"X-Auth-User");
        assert!(PreparedHeaderName::from_static("bad name").is_err());
        assert!(PreparedHeaderName::from_static("").is_err());
    }

    #[test]
    fn every_name_type_gives_the_same_pair_as_the_default() {
        // The overrides must agree with what the default (parse the case form) gives.
        let (n, c) = header::HOST.into_header_names().unwrap();
        assert_eq!((n.as_str(), c.as_slice()), ("host", &b"Host"[..]));
        let (n, c) = (&header::CONTENT_LENGTH).into_header_names().unwrap();
        assert_eq!((n.as_str(), c.as_slice()), ("content-length", &b"Content-Length"[..]));
        let (n, c) = "X-Foo".into_header_names().unwrap();
        assert_eq!((n.as_str(), c.as_slice()), ("x-foo", &b"X-Foo"[..]));
        assert!("bad name".into_header_names().is_err());
    }
}
