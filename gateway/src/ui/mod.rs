//! The auth UI's building blocks: HTML pages and the pages the proxy itself shows.

pub mod html;
pub mod lang;
pub mod markup;
pub mod pages;
