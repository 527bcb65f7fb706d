//! SPEC 11: "SMS goes only to allowed country codes, within a per-tenant daily
//! budget." A stranger who has one password (or an insider) reaches the SMS
//! enrolment page; from there, codes to premium numbers abroad, or without end,
//! would be toll fraud paid by the operator. Refused sends write no SMS, are
//! audited and counted in `gateway_sms_refused_total{reason}`.

use crate::support::*;

fn add_user(env: &Env, tenant: &str, email: &str) {
    let out = env.cli(
        &["user", "add", email, "--tenant", tenant, "--role", "user", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
}

/// Signs `email` in (password only) and asks for an enrolment code to `phone`.
async fn enrol(env: &Env, from: &str, email: &str, phone: &str) -> (u16, String) {
    let c = env.client(from);
    assert_eq!(login(&c, env, ORDINARY, email, PASSWORD, &[]).await.status(), 303, "{email} signs in");
    let r = post_form(&c, env, "/auth/2fa/sms", &[("phone", phone), ("rd", "/files")]).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn sms_abuse(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.tweak_config("  hash_concurrency: 2\n", "  hash_concurrency: 2\n  throttle_per_minute: 0\n");
    env.tweak_config("  dir: sms\n", "  dir: sms\n  daily_budget_per_tenant: 2\n");
    env.seed_tenant("acme", "u0@acme.example", "user");
    for i in 1..=4 {
        add_user(&env, "acme", &format!("u{i}@acme.example"));
    }
    env.seed_tenant("beta", "b0@beta.example", "user");
    env.start().await;

    // Countries: only +81 (the default) is sent to, whatever the spelling.
    let countries: &[(&str, &str, &str)] = &[
        ("satellite (premium)", "+882 1234 5678", "+88212345678"),
        ("Caribbean premium", "+1 (876) 555-1234", "+18765551234"),
        ("United Kingdom", "+44 7700 900123", "+447700900123"),
    ];
    for (i, (case, typed, e164)) in countries.iter().enumerate() {
        let before = env.metric("gateway_sms_refused_total{reason=\"country\"}").await;
        let (status, page) = enrol(&env, "127.0.0.1", &format!("u{}@acme.example", i % 2), typed).await;
        assert_eq!(status, 400, "{case}: refused");
        assert!(page.contains("+81"), "{case}: the page says where codes can go");
        assert!(env.sms_codes(e164).is_empty(), "{case}: nothing sent");
        assert_eq!(env.metric("gateway_sms_refused_total{reason=\"country\"}").await, before + 1.0, "{case}: counted");
    }

    // Budget: two SMS a day for acme, whoever sends them; beta has its own.
    for i in 0..2 {
        let phone = format!("090-0000-000{i}");
        assert_eq!(
            enrol(&env, "127.0.0.1", &format!("u{i}@acme.example"), &phone).await.0,
            200,
            "SMS {i} within budget"
        );
    }
    assert_eq!(env.sms_codes("+819000000000").len() + env.sms_codes("+819000000001").len(), 2);
    let before = env.metric("gateway_sms_refused_total{reason=\"budget\"}").await;
    let (status, page) = enrol(&env, "127.0.0.1", "u2@acme.example", "090-0000-0002").await;
    assert_eq!(status, 429, "over budget");
    assert!(page.contains("authenticator app"), "the page offers another way: {page}");
    assert!(env.sms_codes("+819000000002").is_empty(), "over budget: nothing sent");
    assert_eq!(env.metric("gateway_sms_refused_total{reason=\"budget\"}").await, before + 1.0);
    assert_eq!(enrol(&env, "127.0.0.1", "b0@beta.example", "090-0000-0003").await.0, 200, "another tenant's budget");
    assert_eq!(env.sms_codes("+819000000003").len(), 1);

    // Both kinds of refusal are in the tenant's audit log.
    let audit = env.ok(&["audit", "--tenant", "acme"]);
    assert!(audit.contains("sms_refused_country"), "{audit}");
    assert!(audit.contains("sms_refused_budget"), "{audit}");
    env.cleanup().await;
}
on_both_databases!(sms_abuse);
