//! Client-sent identity headers (SPEC section 3, step 8): in every spelling they
//! never reach the origin; the origin hears only what the gateway established.

use crate::kit::*;
use crate::support::*;

/// Header names a client might use to claim an identity, in the spellings that
/// proxies and frameworks fold together (case, `_` for `-`).
const FORGED: &[&str] = &[
    "X-Auth-User",
    "x-auth-user",
    "X_Auth_User",
    "x_auth_user",
    "X-AUTH-USER",
    "X-Auth-Tenant",
    "X_Auth_Tenant",
    "X-Auth-Role",
    "x_auth_role",
    "X-Auth-Method",
    "X-Auth-Line",
    "X_Auth_Line",
    "X-Auth-Anything",
    "Remote-User",
    "Remote_User",
    "REMOTE-USER",
    "Remote-Groups",
    "Remote-Email",
    "Remote-Name",
    "X-Forwarded-User",
    "X_Forwarded_User",
    "X-Line-Id",
    "X_Line_Id",
    "x-line-id",
    "X-Line-Region",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_identity_headers_never_reach_the_origin() {
    let Some((env, c)) = signed_in(Db::Sqlite).await else { return };
    for name in FORGED {
        // Signed in: the request is proxied, but with our values only.
        let r = c
            .get(env.url(ORDINARY, "/files/a"))
            .header(*name, "mallory@evil.example")
            .header(*name, "owner")
            .send()
            .await
            .unwrap();
        let echo = Echo::from(r).await;
        assert_eq!(echo.all("x-auth-user"), vec![USER], "{name}: {:?}", echo.headers);
        assert_eq!(echo.all("x-auth-role"), vec!["user"], "{name}");
        assert_eq!(echo.all("x-auth-tenant"), vec!["acme"], "{name}");
        assert_eq!(echo.all("x-auth-method"), vec!["password"], "{name}");
        assert!(echo.all("x-auth-line").is_empty(), "{name}: a line was invented");
        assert!(
            !echo.headers.iter().any(|(_, v)| v.contains("mallory") || v == "owner"),
            "{name}: a forged value reached the origin: {:?}",
            echo.headers
        );
        assert!(!echo.has_any(|k| k.contains('_')), "{name}: an underscore header reached the origin");

        // Not signed in: the forged identity opens nothing.
        let before = env.origin_count();
        let r = bare(&env).get(env.url(ORDINARY, "/files/a")).header(*name, USER).send().await.unwrap();
        assert_eq!(r.status(), 401, "{name} without a session");
        nothing_reached_origin(&env, before, name);
    }
    env.cleanup().await;
}
