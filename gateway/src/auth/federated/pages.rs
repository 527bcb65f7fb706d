//! The pages a sign-in through a provider ends on when it signs nobody in.
//! Each says what happened in both languages and reveals nothing about
//! whose account an identity might be.

use super::super::views::federated::FederatedNotice;
use crate::web::{Outcome, Visit, page};

/// Why a callback signed nobody in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No state, or one we never issued or already used.
    UnknownState,
    /// Started in another browser.
    OtherBrowser,
    Expired,
    /// The provider said no (the person cancelled, or it refused).
    ProviderError,
    /// The provider's answer failed a check (token, nonce, issuer…).
    BadAnswer,
    /// The account at the provider is bound to nobody.
    Unbound,
    /// The account is bound to someone else already.
    TakenByOther,
    /// Another account of the provider the user already signs in with.
    SameProviderOtherAccount,
    /// The link the sign-in was finishing is no longer live.
    DeadLink,
    /// The owner chose the tenant's directory.
    OwnerDirectory,
    /// The re-authentication came back as someone else.
    WrongPerson,
    /// Locked, or the tenant is gone: nothing more is said.
    NotNow,
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Refused::UnknownState => "unknown_state",
            Refused::OtherBrowser => "other_browser",
            Refused::Expired => "expired",
            Refused::ProviderError => "provider_error",
            Refused::BadAnswer => "bad_answer",
            Refused::Unbound => "unbound",
            Refused::TakenByOther => "taken",
            Refused::SameProviderOtherAccount => "same_provider_other_account",
            Refused::DeadLink => "dead_link",
            Refused::OwnerDirectory => "owner_directory",
            Refused::WrongPerson => "wrong_person",
            Refused::NotNow => "not_now",
        }
    }
}

pub fn refused(v: &Visit<'_>, why: Refused) -> Outcome {
    let (status, title, text, advise_sign_out) = match why {
        Refused::UnknownState | Refused::OtherBrowser | Refused::Expired => (
            400,
            v.t("This sign-in cannot be finished", "このログインは完了できません"),
            v.t(
                "This sign-in was not started in this browser, has already been used, or took longer than 10 minutes. Start again from the sign-in page.",
                "このログインは、このブラウザーで開始されたものではないか、すでに使用済みか、10分以上経過しています。ログイン画面からもう一度お試しください。",
            ),
            false,
        ),
        Refused::ProviderError => (
            400,
            v.t("Sign-in was not completed", "ログインは完了しませんでした"),
            v.t(
                "The sign-in service did not confirm your sign-in. You can start again from the sign-in page.",
                "認証サービスでログインが確認されませんでした。ログイン画面からもう一度お試しいただけます。",
            ),
            false,
        ),
        Refused::BadAnswer => (
            502,
            v.t("Sign-in could not be verified", "ログインを確認できませんでした"),
            v.t(
                "The answer from the sign-in service could not be verified, so nobody was signed in. Try again; if it keeps happening, tell your administrator.",
                "認証サービスからの応答を確認できなかったため、ログインしていません。もう一度お試しください。繰り返し発生する場合は、管理者にお知らせください。",
            ),
            false,
        ),
        Refused::Unbound => (
            403,
            v.t("This account is not registered", "このアカウントは登録されていません"),
            v.t(
                "The account you signed in with at the sign-in service is not registered for this service. Ask your organisation's administrator to invite you, or to send you a link to change your sign-in method.",
                "認証サービスでログインしたアカウントは、このサービスに登録されていません。組織の管理者に、招待またはログイン方法変更のリンクの送付を依頼してください。",
            ),
            true,
        ),
        Refused::TakenByOther => (
            409,
            v.t("This account cannot be used", "このアカウントは使用できません"),
            v.t(
                "The account you signed in with at the sign-in service cannot be registered here. Choose another account or another sign-in method.",
                "認証サービスでログインしたアカウントは、ここでは登録できません。別のアカウントまたは別のログイン方法を選んでください。",
            ),
            true,
        ),
        Refused::SameProviderOtherAccount => (
            409,
            v.t("Switch through another sign-in method", "別のログイン方法を経由して変更してください"),
            v.t(
                "You cannot move directly from one account of a sign-in service to another account of the same service. Change to another sign-in method first (for example email and password), then to the new account.",
                "同じ認証サービスの別のアカウントへ直接変更することはできません。いったん別のログイン方法(メールアドレスとパスワードなど)に変更してから、新しいアカウントに変更してください。",
            ),
            true,
        ),
        Refused::DeadLink => (
            410,
            v.t("This link no longer works", "このリンクは無効です"),
            v.t(
                "The link has expired, has been used, or was replaced by a newer one. Ask your administrator for a new link.",
                "リンクの有効期限が切れているか、使用済みか、新しいリンクに置き換えられています。管理者に新しいリンクを依頼してください。",
            ),
            false,
        ),
        Refused::OwnerDirectory => (
            403,
            v.t("Not available to the contract holder", "契約者はご利用いただけません"),
            v.t(
                "The contract holder of an organisation cannot sign in through Active Directory. Choose email and password or another sign-in service.",
                "組織の契約者は Active Directory でログインすることはできません。メールアドレスとパスワード、または別の認証サービスを選んでください。",
            ),
            false,
        ),
        Refused::WrongPerson => (
            403,
            v.t("That was another account", "別のアカウントでした"),
            v.t(
                "You confirmed your identity with another account than the one you are signed in with. Nothing was changed.",
                "現在ログイン中とは別のアカウントで本人確認が行われました。何も変更していません。",
            ),
            true,
        ),
        Refused::NotNow => (
            403,
            v.t("You cannot sign in right now", "現在ログインできません"),
            v.t(
                "Your account cannot be used right now. Ask your organisation's administrator.",
                "現在このアカウントはご利用いただけません。組織の管理者にお問い合わせください。",
            ),
            false,
        ),
    };
    page(status, &FederatedNotice { ui: v.ui(), title, text, advise_sign_out })
}

/// The provider could not be reached or is misconfigured.
pub fn provider_unavailable(v: &Visit<'_>) -> Outcome {
    let view = FederatedNotice {
        ui: v.ui(),
        title: v.t("The sign-in service cannot be reached", "認証サービスに接続できません"),
        text: v.t(
            "The sign-in service does not answer right now. Try again in a few minutes, or sign in another way.",
            "現在、認証サービスが応答しません。しばらくしてからもう一度お試しいただくか、別の方法でログインしてください。",
        ),
        advise_sign_out: false,
    };
    page(502, &view)
}
