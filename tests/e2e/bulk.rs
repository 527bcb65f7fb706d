//! Bulk work at the command line, on the real binary: lines and networks
//! imported from CSV with a per-row report, exported and read back; tenants
//! and users listed, shown and removed (with the sessions of a removed user
//! refused at once by a running gateway).

use crate::on_both_databases;
use crate::support::*;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(env: &Env, name: &str, text: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, text).expect("write csv");
    path_of(&path)
}

fn show(env: &Env, tenant: &str) -> serde_json::Value {
    serde_json::from_str(&env.ok(&["tenant", "show", tenant, "--json"])).expect("tenant show --json")
}

fn audit_events(env: &Env, tenant: &str, event: &str) -> usize {
    env.ok(&["audit", "--tenant", tenant]).lines().filter(|l| l.contains(event)).count()
}

async fn lines_import(db: Db) {
    let Some(env) = Env::new(db).await else { return };
    env.seed_tenant("acme", "bob@acme.example", "user");
    env.ok(&["tenant", "create", "beta", "--owner", "owner@beta.example"]);
    env.ok(&["tenant", "lines", "add", "beta", "CAF9999999999"]);

    // Good rows, a header, comments, a label column, a duplicate, two bad rows
    // and one registered to another tenant.
    let csv = "line,label\n\
               CAF0000000001,head office\n\
               # the branch\n\
               \n\
               caf0000000002,branch\n\
               CAF0000000001,again\n\
               0120-abc\n\
               CAF9999999999\n\
               COP00000001\n\
               CAF12\n";
    let file = write(&env, "lines.csv", csv);
    let out = env.cli(&["tenant", "lines", "import", "acme", "--file", &file], None);
    assert!(!out.status.success(), "refused rows fail the import");
    let err = stderr(&out);
    assert!(err.contains("row 7: \"0120-abc\": a line number may contain only"), "{err}");
    assert!(err.contains("row 8: \"CAF9999999999\": registered to another tenant"), "{err}");
    assert!(err.contains("row 10: \"CAF12\": a CAF line number has 13 characters"), "{err}");
    let report = stdout(&out);
    assert!(report.contains("3 added, 0 already registered, 1 duplicates in the input, 3 refused"), "{report}");
    assert!(report.contains("nothing written"), "{report}");
    assert_eq!(show(&env, "acme")["lines"], 0, "a refused row writes nothing");

    // A dry run reports the same and writes nothing, even with --skip-invalid.
    let out = env.cli(&["tenant", "lines", "import", "acme", "--file", &file, "--dry-run", "--skip-invalid"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("3 added") && stdout(&out).contains("dry run"), "{}", stdout(&out));
    assert_eq!(show(&env, "acme")["lines"], 0);

    // --skip-invalid writes the good rows; the others are still reported.
    let out = env.cli(&["tenant", "lines", "import", "acme", "--file", &file, "--skip-invalid"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("row 7:"), "{}", stderr(&out));
    assert_eq!(show(&env, "acme")["lines"], 3);
    assert_eq!(show(&env, "beta")["lines"], 1, "the other tenant's line stays theirs");
    assert_eq!(audit_events(&env, "acme", "lines_imported"), 1, "one audit event per import");

    // Again, from standard input: everything is already there.
    let good = "CAF0000000001\nCAF0000000002\nCOP00000001\n";
    let out = env.cli(&["tenant", "lines", "import", "acme", "--file", "-"], Some(good));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 added, 3 already registered"), "{}", stdout(&out));

    // Export reads back: into another tenant, the same lines.
    let exported = env.ok(&["tenant", "lines", "export", "acme"]);
    assert_eq!(exported, "line\nCAF0000000001\nCAF0000000002\nCOP00000001\n");
    env.ok(&["tenant", "lines", "remove", "acme", "CAF0000000001", "CAF0000000002", "COP00000001"]);
    let back = write(&env, "back.csv", &exported);
    env.ok(&["tenant", "lines", "import", "acme", "--file", &back]);
    let out_file = env.dir.path().join("again.csv");
    env.ok(&["tenant", "lines", "export", "acme", "--file", &path_of(&out_file)]);
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), exported);

    // Mixed-up arguments are refused before anything happens.
    for args in [
        &["tenant", "lines", "import", "acme"][..],
        &["tenant", "lines", "import", "acme", "CAF0000000003", "--file", &back],
        &["tenant", "lines", "add", "acme", "CAF0000000003", "--dry-run"],
        &["tenant", "lines", "add", "acme"],
        &["tenant", "lines", "export", "acme", "--dry-run"],
    ] {
        assert!(!env.cli(args, None).status.success(), "{args:?}");
    }
    assert_eq!(show(&env, "acme")["lines"], 3);

    // A large import shows its progress on standard error (lines, not a bar, off a terminal).
    let big: String = (100_000..106_000).map(|i| format!("CAF{i:010}\n")).collect();
    let out = env.cli(&["tenant", "lines", "import", "beta", "--file", "-"], Some(&big));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("6000/6000 rows written (100%)"), "{}", stderr(&out));
    assert!(!stderr(&out).contains('\r'), "no bar without a terminal");
    assert_eq!(show(&env, "beta")["lines"], 6001);
    env.cleanup().await;
}
on_both_databases!(lines_import);

async fn networks_import(db: Db) {
    let Some(env) = Env::new(db).await else { return };
    env.ok(&["tenant", "create", "acme", "--owner", "owner@acme.example"]);
    env.ok(&["tenant", "networks", "add", "acme", "198.51.100.0/24"]);
    let csv = "network\n203.0.113.0/24\n2001:db8:1::/48\n127.0.0.0/8\n10.0.0.0/8\n198.51.100.128/25\nnot-a-net\n203.0.113.9/24\n";
    let file = write(&env, "nets.csv", csv);
    let out = env.cli(&["tenant", "networks", "import", "acme", "--file", &file], None);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("row 4: \"127.0.0.0/8\": 127.0.0.0/8 takes in loopback"), "{err}");
    assert!(err.contains("row 5: \"10.0.0.0/8\": 10.0.0.0/8 is wider than the allowed /16"), "{err}");
    assert!(
        err.contains("row 6: \"198.51.100.128/25\": already covered by the registered network 198.51.100.0/24"),
        "{err}"
    );
    assert!(err.contains("row 7: \"not-a-net\""), "{err}");
    assert!(
        stdout(&out).contains("2 added, 0 already registered, 1 duplicates in the input, 4 refused"),
        "{}",
        stdout(&out)
    );
    assert_eq!(show(&env, "acme")["networks"], 1);

    let out = env.cli(&["tenant", "networks", "import", "acme", "--file", &file, "--skip-invalid"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        env.ok(&["tenant", "networks", "export", "acme"]),
        "network\n198.51.100.0/24\n2001:db8:1::/48\n203.0.113.0/24\n"
    );
    // The owner is told of the new networks, as when one is added alone.
    assert!(!env.mails_to("owner@acme.example").is_empty());
    env.cleanup().await;
}
on_both_databases!(networks_import);

async fn list_show_and_remove(db: Db) {
    let Some(mut env) = Env::new(db).await else { return };
    env.seed_tenant("acme", "bob@acme.example", "user");
    env.ok(&["tenant", "set-2fa", "acme", "off"]);
    env.seed_tenant("beta", "carol@beta.example", "admin");
    env.ok(&["tenant", "lines", "add", "beta", "CAF0000000001", "CAF0000000002"]);

    let tenants: serde_json::Value = serde_json::from_str(&env.ok(&["tenant", "list", "--json"])).unwrap();
    let names: Vec<&str> = tenants.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["acme", "beta"]);
    assert_eq!((tenants[1]["users"].as_i64(), tenants[1]["lines"].as_i64()), (Some(2), Some(2)));
    assert_eq!(tenants[0]["two_factor"], false);
    let text = env.ok(&["tenant", "list"]);
    assert!(text.lines().any(|l| l.starts_with("beta") && l.contains("basic") && l.ends_with("2         0")), "{text}");
    let beta = show(&env, "beta");
    assert_eq!(beta["owner"], "owner@beta.example");
    assert_eq!(beta["first_lines"], serde_json::json!(["CAF0000000001", "CAF0000000002"]));
    assert!(env.ok(&["tenant", "show", "beta"]).contains("owner     owner@beta.example"));
    assert!(!env.cli(&["tenant", "show", "nope"], None).status.success());

    let users: serde_json::Value =
        serde_json::from_str(&env.ok(&["user", "list", "--tenant", "acme", "--json"])).unwrap();
    let emails: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["bob@acme.example", "owner@acme.example"]);
    assert_eq!((users[1]["role"].as_str(), users[1]["invited"].as_bool()), (Some("owner"), Some(true)));
    assert_eq!(users[0]["last_sign_in"], serde_json::Value::Null);
    assert_eq!(env.ok(&["user", "list"]).lines().count(), 5, "a header and four users");

    // Bob signs in; his session works.
    env.start().await;
    let c = env.client(INTERNET);
    assert_eq!(login(&c, &env, ORDINARY, "bob@acme.example", PASSWORD, &[]).await.status(), 303);
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);
    let users: serde_json::Value = serde_json::from_str(&env.ok(&["user", "list", "--json"])).unwrap();
    assert!(users[0]["last_sign_in"].as_i64().is_some(), "{users}");

    // Without a terminal and without --yes nothing is removed; an owner never alone.
    let out = env.cli(&["user", "remove", "bob@acme.example"], None);
    assert!(!out.status.success() && stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(c.get(env.url(ORDINARY, "/files")).send().await.unwrap().status(), 200);
    let out = env.cli(&["user", "remove", "owner@acme.example", "--yes"], None);
    assert!(!out.status.success() && stderr(&out).contains("tenant remove"), "{}", stderr(&out));
    assert!(!env.cli(&["user", "remove", "nobody@acme.example", "--yes"], None).status.success());

    // Removed: the running gateway refuses the session at once, and he cannot sign in.
    let out = env.ok(&["user", "remove", "bob@acme.example", "--yes"]);
    assert!(out.contains("1 session(s) ended"), "{out}");
    eventually("the removed user's session is refused", || async {
        c.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status() == 401).unwrap_or(false)
    })
    .await;
    let again = env.client(INTERNET);
    assert_eq!(login(&again, &env, ORDINARY, "bob@acme.example", PASSWORD, &[]).await.status(), 401);
    assert!(audit_events(&env, "acme", "user_removed") == 1);

    // A tenant: refused without --yes, then gone with its users and lines.
    let c = env.client(INTERNET);
    assert_eq!(login(&c, &env, ORDINARY, "carol@beta.example", PASSWORD, &[]).await.status(), 303);
    let out = env.cli(&["tenant", "remove", "beta"], None);
    assert!(!out.status.success() && stderr(&out).contains("--yes"));
    assert_eq!(show(&env, "beta")["users"], 2);
    env.ok(&["tenant", "remove", "beta", "--yes"]);
    eventually("the removed tenant's sessions are refused", || async {
        c.get(env.url(ORDINARY, "/files")).send().await.map(|r| r.status() == 401).unwrap_or(false)
    })
    .await;
    assert!(!env.cli(&["tenant", "show", "beta"], None).status.success());
    assert_eq!(env.ok(&["user", "list", "--json"]).matches("\"email\"").count(), 1, "only acme's owner is left");
    // Its lines are free for another tenant.
    env.ok(&["tenant", "lines", "add", "acme", "CAF0000000001"]);
    env.cleanup().await;
}
on_both_databases!(list_show_and_remove);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_of_the_policy_file_is_neither_imported_into_nor_removed() {
    let Some(env) = Env::with_policy(Db::Sqlite, "tenants:\n  acme:\n    lines: [CAF0000000001]\n").await else {
        return;
    };
    env.ok(&["tenant", "create", "acme", "--owner", "boss@acme.example"]);
    let file = write(&env, "lines.csv", "CAF0000000002\n");
    for args in [
        &["tenant", "lines", "import", "acme", "--file", &file][..],
        &["tenant", "networks", "import", "acme", "--file", &file],
        &["tenant", "remove", "acme", "--yes"],
    ] {
        let out = env.cli(args, None);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains("managed by the operator"), "{args:?}: {}", stderr(&out));
    }
    assert!(show(&env, "acme")["declared_in_policy_file"].as_bool().unwrap());
    env.cleanup().await;
}
