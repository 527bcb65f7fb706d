//! The texts of every mail the gateway sends, in Japanese and English.
//!
//! Each link stands alone on its line between blank lines, so that no mail
//! client joins it with a word or breaks it.

use super::Message;
use crate::ui::lang::Lang;

/// What a mail is about, with what it needs to say it.
pub enum Notice<'a> {
    /// 10 wrong passwords locked the account; the link unlocks it.
    Locked { unlock_link: &'a str },
    /// Forgot password: the link sets a new one.
    Reset { link: &'a str },
    /// An invitation to register (set a password) for the tenant.
    Invite { link: &'a str, tenant: &'a str },
    /// Instead of an invitation, to an address that already has an account in
    /// another tenant: nothing changed (the inviting admin is told nothing of it).
    InviteHasAccount { tenant: &'a str },
    /// Sent to the NEW address: confirm the email change (password users then set their password again).
    EmailChangeConfirm { link: &'a str, new_email: &'a str },
    /// Sent to the OLD address after the change happened.
    EmailChanged { new_email: &'a str },
    /// The password was changed (or reset); what to do if it wasn't you.
    PasswordChanged,
    /// A second factor was set up (`sms` or `totp`).
    SecondFactorEnrolled { method: &'a str },
    /// The user registered a new phone (`sms`) or authenticator app (`totp`).
    SecondFactorChanged { method: &'a str },
    /// 2-step verification was reset: it is set up again at the next sign-in.
    SecondFactorReset,
    /// The recovery code was used to sign in; a new one replaced it.
    RecoveryCodeUsed,
    /// Too many wrong second-factor codes locked the user's 2-step verification; the link unlocks it.
    SecondFactorLocked { unlock_link: &'a str },
    /// Break-glass: the one-time code the owner enters after the password (valid 10 minutes).
    BreakGlassCode { code: &'a str },
    /// Break-glass was used: to the owner and every admin of the tenant.
    BreakGlassUsed { owner: &'a str, from: &'a str },
    /// The user's login method changed; `method` is a provider's label (or
    /// "email and password"), in the mail's language.
    LoginMethodChanged { method: &'a str },
    /// An administrator (or the user's own email form, unchanged) sent a
    /// link to choose a new login method.
    LoginMethodLink { link: &'a str },
    /// To the owner: the tenant's directory connection exists; the two
    /// sign-in URLs and the connection id to hand to its users.
    DirectoryCreated { connection_id: &'a str, ordinary_url: &'a str, line_auth_url: &'a str },
}

impl Notice<'_> {
    /// A stable name for logs and metrics; never the content.
    pub fn name(&self) -> &'static str {
        match self {
            Notice::Locked { .. } => "locked",
            Notice::Reset { .. } => "reset",
            Notice::Invite { .. } => "invite",
            Notice::InviteHasAccount { .. } => "invite_has_account",
            Notice::EmailChangeConfirm { .. } => "email_change_confirm",
            Notice::EmailChanged { .. } => "email_changed",
            Notice::PasswordChanged => "password_changed",
            Notice::SecondFactorEnrolled { .. } => "second_factor_enrolled",
            Notice::SecondFactorChanged { .. } => "second_factor_changed",
            Notice::SecondFactorReset => "second_factor_reset",
            Notice::RecoveryCodeUsed => "recovery_code_used",
            Notice::SecondFactorLocked { .. } => "second_factor_locked",
            Notice::BreakGlassCode { .. } => "break_glass_code",
            Notice::BreakGlassUsed { .. } => "break_glass_used",
            Notice::LoginMethodChanged { .. } => "login_method_changed",
            Notice::LoginMethodLink { .. } => "login_method_link",
            Notice::DirectoryCreated { .. } => "directory_created",
        }
    }
}

/// The mail for `notice`. `validity_days` is how long a link works.
pub fn render(notice: &Notice<'_>, lang: Lang, product: &str, validity_days: u64) -> Message {
    let p = &one_line(product);
    let (subject, paragraphs) = match lang {
        Lang::Ja => ja(notice, p, &ja_validity(validity_days)),
        Lang::En => en(notice, p, &en_validity(validity_days)),
    };
    let footer = match lang {
        Lang::Ja => {
            "※このメールは送信専用のアドレスからお送りしています。ご返信いただいてもお答えできませんので、あらかじめご了承ください。"
        }
        Lang::En => "This message was sent automatically. Replies to it are not read.",
    };
    let mut text = paragraphs.join("\n\n");
    text.push_str("\n\n");
    text.push_str(footer);
    text.push('\n');
    text.push_str(p);
    text.push('\n');
    Message { subject, text }
}

fn ja(notice: &Notice<'_>, p: &str, v: &str) -> (String, Vec<String>) {
    let greeting = format!("いつも{p}をご利用いただき、ありがとうございます。");
    match notice {
        Notice::Locked { unlock_link } => (
            format!("【{p}】アカウントをロックしました"),
            vec![
                greeting,
                "パスワードの入力誤りが10回続いたため、安全のためにお客様のアカウントをロックしました。\n下記のリンクを開くと、ロックを解除できます。".to_owned(),
                one_line(unlock_link),
                format!("このリンクの有効期限は{v}です。ご利用いただけるのは一度限りです。"),
                "ログインを試みたお心当たりがない場合は、第三者がお客様のパスワードを推測しようとした可能性があります。ロックを解除したうえでパスワードを変更し、ご所属の組織の管理者にもお知らせください。".to_owned(),
            ],
        ),
        Notice::Reset { link } => (
            format!("【{p}】パスワード再設定のご案内"),
            vec![
                greeting,
                "パスワード再設定のご依頼を受け付けました。\n下記のリンクを開き、新しいパスワードを設定してください。".to_owned(),
                one_line(link),
                format!("このリンクの有効期限は{v}です。ご利用いただけるのは一度限りです。\n新しいパスワードを設定すると、アカウントのロックは解除されます。あわせて、すべての端末からログアウトし、2段階認証の設定もリセットされますので、次回ログイン時に改めて設定してください。"),
                "お心当たりのない場合は、このメールを破棄してください。パスワードは変更されません。".to_owned(),
            ],
        ),
        Notice::Invite { link, tenant } => (
            format!("【{p}】ご登録のご案内"),
            vec![
                format!("{}の管理者が、お客様を{p}の利用者として登録しました。\n下記のリンクを開いてパスワードを設定すると、ご利用いただけるようになります。", one_line(tenant)),
                one_line(link),
                format!("このリンクの有効期限は{v}です。期限が過ぎた場合は、管理者に招待の再送をご依頼ください。"),
                "お心当たりのない場合は、このメールを破棄してください。パスワードを設定しない限り、アカウントは利用できません。".to_owned(),
            ],
        ),
        Notice::InviteHasAccount { tenant } => (
            format!("【{p}】ご登録のご案内について"),
            vec![
                format!("{}の管理者が、このメールアドレスを{p}の利用者として招待しようとしました。", one_line(tenant)),
                "このアドレスはすでに別の組織のアカウントで使用されているため、登録は行われず、お客様のアカウントにも変更はありません。招待した側には、このことは伝えていません。".to_owned(),
                "その組織で利用する必要がある場合は、別のメールアドレスでの招待を依頼してください。お心当たりのない場合は、このメールを破棄してください。".to_owned(),
            ],
        ),
        Notice::EmailChangeConfirm { link, new_email } => (
            format!("【{p}】メールアドレス変更のご確認"),
            vec![
                greeting,
                format!("{p}のアカウントのメールアドレスを、このアドレス（{}）に変更するお手続きを受け付けました。\n下記のリンクを開き、変更を完了してください。", one_line(new_email)),
                one_line(link),
                format!("このリンクの有効期限は{v}です。ご利用いただけるのは一度限りです。\nパスワードでログインしている場合は、変更の完了時にパスワードを改めて設定していただきます。また、2段階認証の設定はリセットされます。"),
                "お心当たりのない場合は、このメールを破棄してください。メールアドレスは変更されません。".to_owned(),
            ],
        ),
        Notice::EmailChanged { new_email } => (
            format!("【{p}】メールアドレスを変更しました"),
            vec![
                greeting,
                format!("{p}のアカウントのメールアドレスが {} に変更されました。今後のお知らせは新しいアドレスにお送りします。\nこのメールは、変更前のアドレスにお送りしています。", one_line(new_email)),
                "お心当たりのない場合は、第三者によって変更された可能性があります。至急、ご所属の組織の管理者にご連絡ください。".to_owned(),
            ],
        ),
        Notice::LoginMethodChanged { method } => (
            format!("【{p}】ログイン方法を変更しました"),
            vec![
                greeting,
                format!("{p}のアカウントのログイン方法が「{}」に変更されました。以前のログイン方法ではログインできません。", one_line(method)),
                "ご自身で変更された場合は、このメールへの対応は不要です。\nお心当たりのない場合は、ご所属の組織の管理者にすぐにご連絡ください。".to_owned(),
            ],
        ),
        Notice::LoginMethodLink { link } => (
            format!("【{p}】ログイン方法変更のご案内"),
            vec![
                greeting,
                format!("{p}のアカウントのログイン方法を変更するためのリンクをお送りします。\n下記のリンクを開き、新しいログイン方法を選んでください。"),
                one_line(link),
                format!("このリンクの有効期限は{v}です。ご利用いただけるのは一度限りです。\n変更すると、以前のログイン方法ではログインできなくなります。別のアカウントに切り替える場合は、先に認証サービスからログアウトしてください。"),
                "お心当たりのない場合は、このメールを破棄してください。ログイン方法は変更されません。".to_owned(),
            ],
        ),
        Notice::DirectoryCreated { connection_id, ordinary_url, line_auth_url } => (
            format!("【{p}】Active Directory 接続を作成しました"),
            vec![
                greeting,
                format!("{p}の Active Directory 接続を作成しました。ご利用になるユーザーに、次の接続IDとログイン用URLをお知らせください。"),
                format!("接続ID：{}", one_line(connection_id)),
                "ログイン用URL（通常）：".to_owned(),
                one_line(ordinary_url),
                "ログイン用URL（回線認証）：".to_owned(),
                one_line(line_auth_url),
                "ユーザーが Active Directory で登録・変更する際には、この接続IDの入力が必要です。契約者ご本人は Active Directory でログインすることはできません。".to_owned(),
                "お心当たりのない場合は、第三者が設定メニューを操作した可能性があります。至急パスワードを再設定してください。".to_owned(),
            ],
        ),
        Notice::PasswordChanged => (
            format!("【{p}】パスワードを変更しました"),
            vec![
                greeting,
                format!("{p}のアカウントのパスワードが変更されました。"),
                "ご自身で変更された場合は、このメールへの対応は不要です。\nお心当たりのない場合は、第三者がパスワードを変更した可能性があります。ログイン画面からパスワードを再設定し、ご所属の組織の管理者にもご連絡ください。".to_owned(),
            ],
        ),
        Notice::SecondFactorEnrolled { method } => (
            format!("【{p}】2段階認証を設定しました"),
            vec![
                greeting,
                format!("{p}のアカウントに2段階認証（{}）が設定されました。", ja_method(method)),
                "お心当たりのない場合は、第三者がアカウントを使用している可能性があります。至急パスワードを再設定し、ご所属の組織の管理者にご連絡ください。".to_owned(),
            ],
        ),
        Notice::SecondFactorChanged { method } => (
            format!("【{p}】2段階認証の{}を変更しました", ja_changed(method)),
            vec![
                greeting,
                format!("{p}のアカウントで、2段階認証に使用する{}が変更されました。", ja_changed(method)),
                "お心当たりのない場合は、第三者がアカウントを使用している可能性があります。至急パスワードを再設定し、ご所属の組織の管理者にご連絡ください。".to_owned(),
            ],
        ),
        Notice::SecondFactorReset => (
            format!("【{p}】2段階認証がリセットされました"),
            vec![
                greeting,
                format!("{p}のアカウントの2段階認証の設定がリセットされました。次回のログイン時に、あらためて設定していただきます。"),
                "お心当たりのない場合は、ご所属の組織の管理者にご連絡ください。".to_owned(),
            ],
        ),
        Notice::RecoveryCodeUsed => (
            format!("【{p}】リカバリーコードが使用されました"),
            vec![
                greeting,
                format!("{p}のアカウントへのログインに、リカバリーコードが使用されました。使用済みのコードは無効になり、新しいコードが発行されています。"),
                "お心当たりのない場合は、至急パスワードを再設定し、ご所属の組織の管理者にご連絡ください。".to_owned(),
            ],
        ),
        Notice::SecondFactorLocked { unlock_link } => (
            format!("【{p}】2段階認証をロックしました"),
            vec![
                greeting,
                "2段階認証のコードの入力誤りが続いたため、安全のためにお客様の2段階認証をロックしました。ロック中は、正しいコードを入力してもログインできません。\n下記のリンクを開くと、ロックを解除できます。".to_owned(),
                one_line(unlock_link),
                format!("このリンクの有効期限は{v}です。ご利用いただけるのは一度限りです。パスワードの再設定、または管理者による2段階認証のリセットでも解除されます。"),
                "お心当たりのない場合は、第三者がお客様のパスワードを知っている可能性があります。至急パスワードを再設定し、ご所属の組織の管理者にご連絡ください。".to_owned(),
            ],
        ),
        Notice::BreakGlassCode { code } => (
            format!("【{p}】設定変更のための確認コード"),
            vec![
                greeting,
                format!("登録済みの回線・ネットワーク以外から、{p}の設定メニューへのアクセス（アクセス経路の変更）が要求されました。\n確認コード：{}", one_line(code)),
                "このコードの有効期限は10分間です。ご利用いただけるのは一度限りです。このコードを他人に教えないでください。".to_owned(),
                "お心当たりのない場合は、第三者がお客様のパスワードを知っている可能性があります。このコードは入力せず、至急パスワードを再設定してください。".to_owned(),
            ],
        ),
        Notice::BreakGlassUsed { owner, from } => (
            format!("【{p}】回線外から設定メニューが開かれました"),
            vec![
                greeting,
                format!("組織のアクセス経路は「回線認証のみ」ですが、契約者（{}）が登録済みの回線・ネットワーク以外（接続元：{}）から、パスワードと確認コードで設定メニューを開きました。この接続からは、アクセス経路の変更のみが可能です。", one_line(owner), one_line(from)),
                "お心当たりのない場合は、至急契約者ご本人に確認し、パスワードを再設定してください。".to_owned(),
            ],
        ),
    }
}

fn en(notice: &Notice<'_>, p: &str, v: &str) -> (String, Vec<String>) {
    match notice {
        Notice::Locked { unlock_link } => (
            format!("{p}: your account is locked"),
            vec![
                format!("Your {p} account was locked because a wrong password was entered 10 times in a row.\nOpen this link to unlock it:"),
                one_line(unlock_link),
                format!("The link is valid for {v} and works only once."),
                "If you did not try to sign in, someone may be guessing your password. Unlock the account, change your password and tell your administrator.".to_owned(),
            ],
        ),
        Notice::Reset { link } => (
            format!("{p}: reset your password"),
            vec![
                format!("We received a request to reset the password of your {p} account.\nOpen this link to choose a new one:"),
                one_line(link),
                format!("The link is valid for {v} and works only once. A new password also unlocks the account, signs you out everywhere and resets 2-step verification, which you set up again at your next sign-in."),
                "If you did not ask for this, ignore this email. Your password stays as it is.".to_owned(),
            ],
        ),
        Notice::Invite { link, tenant } => (
            format!("{p}: you are invited"),
            vec![
                format!("An administrator of {} has registered you as a user of {p}.\nOpen this link and set a password to start:", one_line(tenant)),
                one_line(link),
                format!("The link is valid for {v}. If it expires, ask your administrator to send a new invitation."),
                "If you did not expect this, ignore this email. The account cannot be used until a password is set.".to_owned(),
            ],
        ),
        Notice::InviteHasAccount { tenant } => (
            format!("{p}: about an invitation"),
            vec![
                format!("An administrator of {} tried to invite this address as a user of {p}.", one_line(tenant)),
                "This address already belongs to an account of another organisation, so nobody was registered and your account is unchanged. The inviting side was not told this.".to_owned(),
                "If you need to work in that organisation, ask them to invite a different address. If you did not expect this, ignore this email.".to_owned(),
            ],
        ),
        Notice::EmailChangeConfirm { link, new_email } => (
            format!("{p}: confirm your new address"),
            vec![
                format!("A change of the email address of your {p} account to this address ({}) was requested.\nOpen this link to confirm it:", one_line(new_email)),
                one_line(link),
                format!("The link is valid for {v} and works only once. If you sign in with a password, you will set it again when you confirm. 2-step verification is reset."),
                "If you did not ask for this, ignore this email. The address stays as it is.".to_owned(),
            ],
        ),
        Notice::EmailChanged { new_email } => (
            format!("{p}: email address changed"),
            vec![
                format!("The email address of your {p} account was changed to {}. This notice goes to the previous address; from now on we write to the new one.", one_line(new_email)),
                "If you did not make this change, contact your administrator right away.".to_owned(),
            ],
        ),
        Notice::LoginMethodChanged { method } => (
            format!("{p}: your sign-in method changed"),
            vec![
                format!("The sign-in method of your {p} account is now \"{}\". The previous method no longer signs you in.", one_line(method)),
                "If you made this change, there is nothing more to do. If you did not, tell your organisation's administrator at once.".to_owned(),
            ],
        ),
        Notice::LoginMethodLink { link } => (
            format!("{p}: sign-in method change"),
            vec![
                format!("Here is a link to change how you sign in to your {p} account.\nOpen it and choose the new sign-in method:"),
                one_line(link),
                format!("The link is valid for {v} and works only once. After the change, the previous method no longer signs you in. To switch to another account of a sign-in service, sign out of that service first."),
                "If you did not expect this, ignore this email. Your sign-in method stays as it is.".to_owned(),
            ],
        ),
        Notice::DirectoryCreated { connection_id, ordinary_url, line_auth_url } => (
            format!("{p}: Active Directory connected"),
            vec![
                format!("The Active Directory connection of your {p} organisation is created. Give your users this connection ID and these sign-in URLs."),
                format!("Connection ID: {}", one_line(connection_id)),
                "Sign-in URL:".to_owned(),
                one_line(ordinary_url),
                "Sign-in URL for line authentication:".to_owned(),
                one_line(line_auth_url),
                "Users type the connection ID when they register or switch to Active Directory. The contract holder cannot sign in through Active Directory.".to_owned(),
                "If you did not set this up, someone else may be using your settings: reset your password at once.".to_owned(),
            ],
        ),
        Notice::PasswordChanged => (
            format!("{p}: password changed"),
            vec![
                format!("The password of your {p} account was changed."),
                "If you made this change, there is nothing to do. If not, someone else may know your password: reset it from the sign-in page and tell your administrator.".to_owned(),
            ],
        ),
        Notice::SecondFactorEnrolled { method } => (
            format!("{p}: 2-step verification set up"),
            vec![
                format!("2-step verification ({}) was set up for your {p} account.", en_method(method)),
                "If you did not set this up, someone else may be using your account: reset your password from the sign-in page and tell your administrator.".to_owned(),
            ],
        ),
        Notice::SecondFactorChanged { method } => (
            format!("{p}: {} for 2-step verification changed", en_changed(method)),
            vec![
                format!("The {} your {p} account uses for 2-step verification was changed.", en_changed(method)),
                "If you did not change it, someone else may be using your account: reset your password from the sign-in page and tell your administrator.".to_owned(),
            ],
        ),
        Notice::SecondFactorReset => (
            format!("{p}: 2-step verification reset"),
            vec![
                format!("2-step verification of your {p} account was reset. You will set it up again at your next sign-in."),
                "If you did not expect this, tell your administrator.".to_owned(),
            ],
        ),
        Notice::RecoveryCodeUsed => (
            format!("{p}: recovery code used"),
            vec![
                format!("Your recovery code was used to sign in to your {p} account. It no longer works; a new one was issued."),
                "If you did not sign in, reset your password from the sign-in page and tell your administrator.".to_owned(),
            ],
        ),
        Notice::SecondFactorLocked { unlock_link } => (
            format!("{p}: 2-step verification locked"),
            vec![
                "Too many wrong 2-step verification codes were entered for your account, so its 2-step verification is locked: even a right code is refused until it is unlocked.\nOpen this link to unlock it:".to_owned(),
                one_line(unlock_link),
                format!("The link is valid for {v} and works only once. A password reset, or an administrator resetting your 2-step verification, also unlocks it."),
                "If you did not try to sign in, someone else knows your password: reset it from the sign-in page and tell your administrator.".to_owned(),
            ],
        ),
        Notice::BreakGlassCode { code } => (
            format!("{p}: your confirmation code"),
            vec![
                format!("Someone asked to open the {p} settings (to change the access route) from outside your organisation's registered lines and networks.\nConfirmation code: {}", one_line(code)),
                "The code works for 10 minutes and only once. Never share it.".to_owned(),
                "If you did not ask for this, someone else knows your password: do not enter the code, and reset your password right away.".to_owned(),
            ],
        ),
        Notice::BreakGlassUsed { owner, from } => (
            format!("{p}: break-glass used"),
            vec![
                format!("Your organisation allows line authentication only, but its owner ({}) opened the settings from outside the registered lines and networks (from {}), with the password and a confirmation code. From there only the access route can be changed.", one_line(owner), one_line(from)),
                "If you did not expect this, check with the owner at once and have the password reset.".to_owned(),
            ],
        ),
    }
}

fn ja_method(method: &str) -> &'static str {
    match method {
        "sms" => "SMS",
        "totp" => "認証アプリ",
        _ => "その他の方法",
    }
}

fn ja_changed(method: &str) -> &'static str {
    match method {
        "sms" => "電話番号",
        _ => "認証アプリ",
    }
}

fn en_changed(method: &str) -> &'static str {
    match method {
        "sms" => "phone number",
        _ => "authenticator app",
    }
}

fn en_method(method: &str) -> &'static str {
    match method {
        "sms" => "SMS",
        "totp" => "authenticator app",
        _ => "another method",
    }
}

fn ja_validity(days: u64) -> String {
    match days {
        0 => "1日未満".to_owned(),
        n => format!("{n}日間"),
    }
}

fn en_validity(days: u64) -> String {
    match days {
        0 => "less than a day".to_owned(),
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    }
}

/// Values come from settings and user input; a line break in one must not
/// break a link off its line or forge a paragraph.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

// ---- A source network was registered (SPEC section 11) ----

/// Who added a network, and from where, as the owner's notice tells it.
pub struct NetworkAdded<'a> {
    pub tenant: &'a str,
    pub network: &'a str,
    /// The signed-in user's address, or "the command line".
    pub by: &'a str,
    /// The client address and hostname, or the machine the command ran on.
    pub from: &'a str,
}

/// The notice to a tenant's owner that a source network now counts as one of
/// its registered lines: every address inside it passes line checks.
pub fn network_added(n: &NetworkAdded<'_>, lang: Lang, product: &str) -> Message {
    let p = &one_line(product);
    let (tenant, network, by, from) = (one_line(n.tenant), one_line(n.network), one_line(n.by), one_line(n.from));
    let (subject, paragraphs, footer) = match lang {
        Lang::Ja => (
            format!("【{p}】接続元ネットワークが登録されました"),
            vec![
                format!("いつも{p}をご利用いただき、ありがとうございます。"),
                format!("{tenant}の接続元ネットワークとして {network} が登録されました。このネットワーク内のアドレスからのアクセスは、登録済みの回線からのアクセスとして扱われます。"),
                format!("登録した人：{by}\n登録元：{from}"),
                "お心当たりのない場合は、至急、設定メニューの「回線番号・ネットワーク」でこのネットワークを削除し、登録した人にご確認ください。".to_owned(),
            ],
            "※このメールは送信専用のアドレスからお送りしています。ご返信いただいてもお答えできませんので、あらかじめご了承ください。",
        ),
        Lang::En => (
            format!("{p}: a source network was registered"),
            vec![
                format!("The network {network} was registered as a source network of {tenant}. Every address inside it now counts as coming from one of your registered lines."),
                format!("Added by: {by}\nFrom: {from}"),
                "If you did not expect this, remove the network at once under \"Lines and networks\" in the settings, and ask the person who added it.".to_owned(),
            ],
            "This message was sent automatically. Replies to it are not read.",
        ),
    };
    let mut text = paragraphs.join("\n\n");
    text.push_str("\n\n");
    text.push_str(footer);
    text.push('\n');
    text.push_str(p);
    text.push('\n');
    Message { subject, text }
}
